#!/usr/bin/python
# Copyright: the pm maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import annotations

DOCUMENTATION = r"""
module: pm_net
short_description: Join, disconnect or leave the tailnet with pm
description:
  - V(up) is C(pm net up), a self-healing join that starts tailscaled when none answers, heals settings, and logs
    in with the auth key pm reads from the vault itself (retrying with a key fetched again when the server rejects
    it). A node already Running with the wanted settings is C(changed=false) and the vault is not touched.
  - V(down) is C(pm net down) (disconnect, keep the login); V(absent) is C(pm net leave) (log the node out).
  - The settings below are pm's C(net.*) config keys, handed to pm as E(PM_NET_*) variables for this task; unset,
    pm's config file decides.
version_added: 0.1.0
author: the pm maintainers (!UNKNOWN)
extends_documentation_fragment:
  - pm.platform.pm
  - pm.platform.pm.vault
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: pm runs with C(--dry-run) and says what it would do in RV(actions).
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  state:
    description:
      - What the node should be.
    type: str
    choices: [up, down, absent]
    default: up
  auth_key_item:
    description:
      - The vault item holding the auth key (C(net.auth_key_item)).
    type: str
  hostname:
    description:
      - The node's name (C(net.hostname)).
    type: str
  tags:
    description:
      - Tags to advertise, such as V(tag:ci) (C(net.tags)).
    type: list
    elements: str
  login_server:
    description:
      - The coordination server (C(net.login_server)).
    type: str
  accept_routes:
    description:
      - Accept other nodes' subnet routes (C(net.accept_routes)).
    type: bool
  accept_dns:
    description:
      - Use the tailnet's DNS (C(net.accept_dns)).
    type: bool
  ssh:
    description:
      - Run the Tailscale SSH server (C(net.ssh)).
    type: bool
notes:
  - The auth key never passes through Ansible; pm reads it from the vault item and gives it to tailscale in a
    0600 file.
  - A rejected key fails with C(code=net_auth_failed) (replace the key in the vault); a server or daemon that did
    not answer in time fails with C(retryable=true).
seealso:
  - module: pm.platform.pm_provider
"""

EXAMPLES = r"""
- name: Join the tailnet
  pm.platform.pm_net:
    hostname: "{{ inventory_hostname_short }}"
    tags: [tag:compute]
  register: net
  until: net is succeeded or not net.retryable
  retries: 3
  delay: 30

- name: Log the node out before decommissioning
  pm.platform.pm_net:
    state: absent
"""

RETURN = r"""
pm:
  description: The JSON document pm printed.
  returned: success
  type: dict
cmd:
  description: The pm command line that ran.
  returned: success
  type: list
  elements: str
dry_run:
  description: Whether pm ran with C(--dry-run) (check mode).
  returned: success
  type: bool
backend_state:
  description: tailscale's backend state afterwards, such as V(Running) or V(Stopped).
  returned: success
  type: str
ips:
  description: The node's Tailscale IPs.
  returned: when O(state=up)
  type: list
  elements: str
actions:
  description: What pm did (or in check mode would do), such as V(start_daemon), V(login), V(resume).
  returned: when O(state=up)
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.pm.platform.plugins.module_utils.pm import (
    COMMON_ARGUMENT_SPEC,
    VAULT_ARGUMENT_SPEC,
    Pm,
    config_env,
    vault_env,
)

VERBS = dict(up="up", down="down", absent="leave")


def main():
    argument_spec = dict(
        state=dict(type="str", default="up", choices=list(VERBS)),
        auth_key_item=dict(type="str", no_log=False),
        hostname=dict(type="str"),
        tags=dict(type="list", elements="str"),
        login_server=dict(type="str"),
        accept_routes=dict(type="bool"),
        accept_dns=dict(type="bool"),
        ssh=dict(type="bool"),
    )
    argument_spec.update(COMMON_ARGUMENT_SPEC)
    argument_spec.update(VAULT_ARGUMENT_SPEC)
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    env = config_env(
        {
            "PM_NET_AUTH_KEY_ITEM": params["auth_key_item"],
            "PM_NET_HOSTNAME": params["hostname"],
            "PM_NET_TAGS": params["tags"],
            "PM_NET_LOGIN_SERVER": params["login_server"],
            "PM_NET_ACCEPT_ROUTES": params["accept_routes"],
            "PM_NET_ACCEPT_DNS": params["accept_dns"],
            "PM_NET_SSH": params["ssh"],
        }
    )
    env.update(vault_env(params["vault_password"], params["vault_password_file"]))
    pm = Pm(module)
    result = pm.run(["net", VERBS[params["state"]]], env=env)
    picked = dict(
        (key, result.doc[key]) for key in ("backend_state", "ips", "actions") if key in result.doc
    )
    pm.exit(result, **picked)


if __name__ == "__main__":
    main()
