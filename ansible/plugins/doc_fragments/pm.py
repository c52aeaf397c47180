# Copyright: the pm maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import annotations


class ModuleDocFragment(object):

    # How every module finds and runs pm.
    DOCUMENTATION = r"""
options:
  pm_path:
    description:
      - The pm binary, a path or a name looked up in E(PATH).
      - Defaults to the E(PM) environment variable of the task, then V(pm).
    type: path
  state_file:
    description:
      - pm's SQLite state file (pm's C(--state)).
      - Defaults to what pm's config says (E(PM_STATE), then V(/var/lib/pm/state.db) for root).
    type: path
  config_file:
    description:
      - pm's TOML config file (pm's C(--config)).
      - Defaults to E(PM_CONFIG), then V(/etc/pm/config.toml).
    type: path
  lock_timeout:
    description:
      - Seconds pm waits for its state lock (pm's C(--lock-timeout)); V(0) fails at once.
      - A lock that stays busy fails the task with C(code=lock_busy) and C(retryable=true).
    type: int
notes:
  - Each task runs one C(pm ... --json) command and returns the one JSON document pm printed as C(pm).
  - Other pm settings come from pm's config file or from E(PM_*) variables, for example in the task's C(environment).
  - In check mode the module runs pm with C(--dry-run), which changes nothing and predicts C(changed).
  - A failure returns pm's error C(code), C(hint), C(retryable) and the whole C(error) object, with pm's message as C(msg),
    so a task can retry only what is worth retrying (an C(until) of C(r is succeeded or not r.retryable)).
"""

    # A master password source for commands that may need to unlock the vault.
    VAULT = r"""
options:
  vault_password:
    description:
      - The Bitwarden master password, for a vault that is locked with no session cached.
      - Handed to pm through its environment (pm's C(--password-env)), never on a command line.
    type: str
  vault_password_file:
    description:
      - A file whose first line is the Bitwarden master password (pm's C(vault.password_file)).
      - Ignored when O(vault_password) is given.
    type: path
"""
