#!/usr/bin/python
# Copyright: the pm maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import annotations

DOCUMENTATION = r"""
module: pm_provider
short_description: Register the host as a Ray compute provider and onboard it with pm
description:
  - V(registered) is C(pm provider register) (an id made once, the username, the platform detected).
  - V(onboarded) is C(pm provider onboard), the resumable plan of C(provider.steps) (prerequisites, network, the
    Python environment with the pinned Ray, the cluster join, verification); each step is checked first and acted
    only when needed, and a failed run resumes at its first unfinished step. The host must be registered first.
  - V(absent) is C(pm provider leave), which stops this provider's Ray node (and no other Ray process) and marks
    it inactive.
  - The settings below are pm's C(provider.*) config keys, handed to pm as E(PM_PROVIDER_*) variables for this
    task; unset, pm's config file decides.
version_added: 0.1.0
author: the pm maintainers (!UNKNOWN)
extends_documentation_fragment:
  - pm.platform.pm
  - pm.platform.pm.vault
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: pm runs with C(--dry-run); every step is checked and reports V(would_act) or V(already_done).
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  state:
    description:
      - What the provider should be.
    type: str
    choices: [registered, onboarded, absent]
    default: onboarded
  username:
    description:
      - The provider's username (O(state=registered); C(provider.username)).
    type: str
  cluster_address:
    description:
      - The Ray head's GCS address, V(HOST:PORT) (C(provider.cluster_address)).
    type: str
  token_item:
    description:
      - The vault item holding the cluster's token (C(provider.token_item)).
    type: str
  steps:
    description:
      - The onboarding plan (C(provider.steps)), from V(prereqs), V(net), V(python-env), V(ray-join), V(verify).
    type: list
    elements: str
  from_step:
    description:
      - Start the onboarding at this step, evaluating it and every later one (pm's C(--from)).
    type: str
    choices: [prereqs, net, python-env, ray-join, verify]
  only_step:
    description:
      - Evaluate only this step (pm's C(--only)).
    type: str
    choices: [prereqs, net, python-env, ray-join, verify]
notes:
  - The cluster token never passes through Ansible; pm reads it from the vault and gives it to Ray in a 0600 file.
  - An unreachable head fails with C(code=ray_head_unreachable) and C(retryable=true); a refused token
    (C(ray_auth_failed)) or versions unlike the head's (C(ray_version_mismatch)) are not retryable.
seealso:
  - module: pm.platform.pm_net
"""

EXAMPLES = r"""
- name: Register the provider
  pm.platform.pm_provider:
    state: registered
    username: "{{ provider_user }}"

- name: Onboard into the Ray cluster (resumes where a failed run stopped)
  pm.platform.pm_provider:
    cluster_address: "{{ ray_head }}:6379"
  register: onboard
  until: onboard is succeeded or not onboard.retryable
  retries: 5
  delay: 60

- name: Take the host out of the cluster
  pm.platform.pm_provider:
    state: absent
  when: decommission | default(false)
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
provider:
  description: The provider record (C(id), C(username), C(status), C(platform), ...).
  returned: when a provider is registered
  type: dict
status:
  description: The provider's status afterwards, V(active) once every onboarding step is done.
  returned: when O(state) is V(onboarded) or V(absent)
  type: str
steps:
  description: Each onboarding step with its C(key) and C(outcome) (V(acted), V(already_done), V(would_act), ...).
  returned: when O(state=onboarded)
  type: list
  elements: dict
node:
  description: The provider's Ray node (C(node_id), C(node_ip), C(cluster_address), C(alive), ...).
  returned: when O(state=onboarded)
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.pm.platform.plugins.module_utils.pm import (
    COMMON_ARGUMENT_SPEC,
    VAULT_ARGUMENT_SPEC,
    Pm,
    config_env,
    vault_env,
)

STEPS = ["prereqs", "net", "python-env", "ray-join", "verify"]


def command(params):
    state = params["state"]
    if state == "registered":
        args = ["provider", "register"]
        if params["username"]:
            args += ["--username", params["username"]]
        return args
    if state == "onboarded":
        args = ["provider", "onboard"]
        if params["from_step"]:
            args += ["--from", params["from_step"]]
        if params["only_step"]:
            args += ["--only", params["only_step"]]
        return args
    return ["provider", "leave"]


def main():
    argument_spec = dict(
        state=dict(type="str", default="onboarded", choices=["registered", "onboarded", "absent"]),
        username=dict(type="str"),
        cluster_address=dict(type="str"),
        token_item=dict(type="str", no_log=False),
        steps=dict(type="list", elements="str"),
        from_step=dict(type="str", choices=STEPS),
        only_step=dict(type="str", choices=STEPS),
    )
    argument_spec.update(COMMON_ARGUMENT_SPEC)
    argument_spec.update(VAULT_ARGUMENT_SPEC)
    module = AnsibleModule(
        argument_spec=argument_spec,
        mutually_exclusive=[("from_step", "only_step")],
        supports_check_mode=True,
    )
    params = module.params
    env = config_env(
        {
            "PM_PROVIDER_CLUSTER_ADDRESS": params["cluster_address"],
            "PM_PROVIDER_TOKEN_ITEM": params["token_item"],
            "PM_PROVIDER_STEPS": params["steps"],
        }
    )
    env.update(vault_env(params["vault_password"], params["vault_password_file"]))
    pm = Pm(module)
    result = pm.run(command(params), env=env)
    picked = dict(
        (key, result.doc[key]) for key in ("provider", "status", "steps", "node") if key in result.doc
    )
    # `provider` in an onboard report is the provider's id; the record is
    # returned as such only by register and leave.
    if not isinstance(picked.get("provider"), dict):
        picked.pop("provider", None)
    pm.exit(result, **picked)


if __name__ == "__main__":
    main()
