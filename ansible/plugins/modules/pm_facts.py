#!/usr/bin/python
# Copyright: the pm maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import annotations

DOCUMENTATION = r"""
module: pm_facts
short_description: Gather pm's view of the host as facts
description:
  - Runs pm's read-only commands and returns their JSON documents as facts. None of them takes a lock, creates
    or migrates the state, or changes anything, so the module behaves the same in check mode.
  - V(inspect) is C(pm inspect) (platform, device-mapper, pool, disks, tools, state, images, network, provider,
    and the checks); V(images) is C(pm image list); V(activations) is C(pm image activations); V(net) is
    C(pm net status); V(provider) is C(pm provider status); V(doctor) is C(pm doctor).
  - The doctor's verdict is a fact, not a failure; a failed check sets C(pm_doctor.status=fail) and the task
    still succeeds; assert on it.
version_added: 0.1.0
author: the pm maintainers (!UNKNOWN)
extends_documentation_fragment:
  - pm.platform.pm
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.facts
attributes:
  check_mode:
    support: full
    details: every command it runs is read-only.
  diff_mode:
    support: none
  facts:
    support: full
  platform:
    platforms: posix
options:
  gather:
    description:
      - Which documents to gather.
    type: list
    elements: str
    choices: [inspect, images, activations, net, provider, doctor]
    default: [inspect]
  doctor_only:
    description:
      - Run only these doctor checks or groups (pm's C(doctor --only)).
    type: list
    elements: str
  doctor_skip:
    description:
      - Skip these doctor checks or groups (pm's C(doctor --skip)).
    type: list
    elements: str
  doctor_strict:
    description:
      - Warnings count as failures in the doctor's verdict (pm's C(doctor --strict)).
    type: bool
    default: false
notes:
  - The lock_timeout option has no effect here; read-only commands never wait for a lock.
seealso:
  - module: pm.platform.pm_image
"""

EXAMPLES = r"""
- name: pm's facts and the doctor's verdict
  pm.platform.pm_facts:
    gather: [inspect, activations, doctor]

- name: Fail the play when a check failed
  ansible.builtin.assert:
    that: ansible_facts.pm_doctor.status != 'fail'
    fail_msg: "{{ ansible_facts.pm_doctor.failed }}"

- name: Pool usage
  ansible.builtin.debug:
    msg: "{{ ansible_facts.pm_inspect.pool.kernel.usage.data_percent | default('no pool') }}"
"""

RETURN = r"""
ansible_facts:
  description: The documents gathered.
  returned: always
  type: complex
  contains:
    pm_inspect:
      description: C(pm inspect --json).
      returned: when V(inspect) is gathered
      type: dict
    pm_images:
      description: The images in the store (C(pm image list)'s C(images)).
      returned: when V(images) is gathered
      type: list
      elements: dict
    pm_activations:
      description: Every activation (C(pm image activations)'s C(activations)).
      returned: when V(activations) is gathered
      type: list
      elements: dict
    pm_net:
      description: C(pm net status --json).
      returned: when V(net) is gathered
      type: dict
    pm_provider:
      description: C(pm provider status --json).
      returned: when V(provider) is gathered
      type: dict
    pm_doctor:
      description: C(pm doctor --json); C(status) is V(pass), V(warn) or V(fail).
      returned: when V(doctor) is gathered
      type: dict
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.pm.platform.plugins.module_utils.pm import (
    COMMON_ARGUMENT_SPEC,
    Pm,
)


def doctor_args(params):
    args = ["doctor"]
    for flag, key in (("--only", "doctor_only"), ("--skip", "doctor_skip")):
        if params[key]:
            args += [flag, ",".join(params[key])]
    if params["doctor_strict"]:
        args.append("--strict")
    return args


def main():
    argument_spec = dict(
        gather=dict(
            type="list",
            elements="str",
            default=["inspect"],
            choices=["inspect", "images", "activations", "net", "provider", "doctor"],
        ),
        doctor_only=dict(type="list", elements="str"),
        doctor_skip=dict(type="list", elements="str"),
        doctor_strict=dict(type="bool", default=False),
    )
    argument_spec.update(COMMON_ARGUMENT_SPEC)
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    pm = Pm(module)
    facts = {}
    # (fact, pm arguments, the document's key to return or None for all of
    # it, exit codes that are answers)
    wanted = dict(
        inspect=("pm_inspect", ["inspect"], None, (0,)),
        images=("pm_images", ["image", "list"], "images", (0,)),
        activations=("pm_activations", ["image", "activations"], "activations", (0,)),
        net=("pm_net", ["net", "status"], None, (0,)),
        provider=("pm_provider", ["provider", "status"], None, (0,)),
        # 9: a check failed, which is the verdict this fact reports.
        doctor=("pm_doctor", doctor_args(params), None, (0, 9)),
    )
    for name in params["gather"]:
        fact, args, key, ok_rcs = wanted[name]
        doc = pm.run(args, mutating=False, ok_rcs=ok_rcs).doc
        facts[fact] = doc if key is None else doc.get(key, [])
    module.exit_json(changed=False, ansible_facts=facts)


if __name__ == "__main__":
    main()
