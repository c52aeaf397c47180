# Copyright: the pm maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import annotations

DOCUMENTATION = r"""
name: pm_vault_lookup
short_description: Read secrets from the Bitwarden vault through pm
version_added: 0.1.0
author: the pm maintainers (!UNKNOWN)
description:
  - Runs C(pm vault get ITEM --field FIELD --json) on the controller for each term and returns the values.
  - pm drives the Bitwarden CLI itself, with the session it cached (C(pm vault unlock)); with a password source
    given it unlocks a locked vault first. Items are matched by exact name or id, never by bw's substring search.
  - Nothing secret is put on pm's command line; a master password is handed to pm through its environment.
options:
  _terms:
    description: The items, by exact name (case-sensitive) or id.
    required: true
    type: list
    elements: str
  field:
    description: V(password), V(username), V(notes), V(uri), V(totp) or the name of a custom field.
    type: str
    default: password
  sync:
    description: Pull the vault from the server first (C(bw sync)), to see secrets rotated elsewhere.
    type: bool
    default: false
  master_password:
    description:
      - The master password, for a vault that is locked with no session cached.
      - Handed to pm in an environment variable (pm's C(--password-env)).
    type: str
  password_file:
    description: A file whose first line is the master password (pm's C(--password-file)).
    type: path
  pm_path:
    description: The pm binary, a path or a name looked up in E(PATH).
    type: path
    default: pm
    env:
      - name: PM
  config_file:
    description: pm's config file (pm's C(--config)); defaults to pm's own (E(PM_CONFIG), then V(/etc/pm/config.toml)).
    type: path
notes:
  - Lookups run on the controller, with the controller's environment (E(PM_VAULT_*) settings included).
  - The values are secrets; set C(no_log=true) on every task that uses them, so they stay out of logs and
    callbacks.
  - A failure raises an error naming pm's code, whether it is retryable and pm's hint, never the value.
seealso:
  - module: pm.platform.pm_net
"""

EXAMPLES = r"""
- name: Deploy the registry credential
  ansible.builtin.copy:
    dest: /etc/app/registry-password
    content: "{{ lookup('pm.platform.pm_vault_lookup', 'registry') }}"
    mode: "0600"
  no_log: true

- name: A custom field, unlocking with a password file if the vault is locked
  ansible.builtin.set_fact:
    tailnet: "{{ lookup('pm.platform.pm_vault_lookup', 'tailscale-authkey', field='tailnet',
                 password_file='/etc/pm/bw-master') }}"
"""

RETURN = r"""
_raw:
  description: The value of the field of each item, in the order of the terms.
  type: list
  elements: str
"""

import os
import subprocess

from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase
from ansible_collections.pm.platform.plugins.module_utils.pm import (
    PASSWORD_VAR,
    error_of,
    global_args,
    parse_document,
)


class LookupModule(LookupBase):

    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        pm = self.get_option("pm_path") or "pm"
        field = self.get_option("field")
        env = dict(os.environ)
        password = self.get_option("master_password")
        flags = []
        if password:
            env[PASSWORD_VAR] = password
            flags += ["--password-env", PASSWORD_VAR]
        elif self.get_option("password_file"):
            flags += ["--password-file", self.get_option("password_file")]
        if self.get_option("sync"):
            flags.append("--sync")
        values = []
        for item in terms:
            cmd = [pm] + global_args(config_file=self.get_option("config_file"))
            cmd += ["vault", "get", item, "--field", field] + flags
            values.append(self._get(cmd, item, field, env))
        return values

    @staticmethod
    def _get(cmd, item, field, env):
        try:
            # stdin is not a terminal, so pm never prompts for a password.
            done = subprocess.run(
                cmd, stdin=subprocess.DEVNULL, capture_output=True, env=env, check=False
            )
        except OSError as e:
            raise AnsibleLookupError(
                "pm_vault_lookup: cannot run %s (pm_missing, retryable: false): %s. "
                "Hint: install pm, or set pm_path or the PM environment variable" % (cmd[0], e.strerror)
            )
        doc = parse_document(done.stdout.decode("utf-8", "replace"))
        failure = error_of(doc) if doc is not None else None
        if failure is not None:
            hint = " Hint: %s" % failure["hint"] if failure["hint"] else ""
            raise AnsibleLookupError(
                "pm_vault_lookup: %s (%s, retryable: %s)%s"
                % (failure["msg"], failure["code"], str(failure["retryable"]).lower(), hint)
            )
        value = doc.get("value") if doc is not None and done.returncode == 0 else None
        if not isinstance(value, str):
            # Never quote stdout here: it may hold the secret.
            raise AnsibleLookupError(
                "pm_vault_lookup: pm vault get %s --field %s printed no value (exit code %d)"
                % (item, field, done.returncode)
            )
        return value
