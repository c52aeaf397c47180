#!/usr/bin/python
# Copyright: the pm maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import annotations

DOCUMENTATION = r"""
module: pm_image
short_description: Fetch, validate, activate and remove root-filesystem images with pm
description:
  - Runs one C(pm image) command and reports what pm reported.
  - V(fetched) is C(pm image fetch) (S3, HTTP(S) or a local path, into pm's content-addressed store);
    V(validated) is C(pm image validate) (the image judged as hostile input, the verdict recorded);
    V(activated) is C(pm image activate) (a thin snapshot or a directory copy named O(name));
    V(deactivated) is C(pm image deactivate); V(absent) is C(pm image rm).
  - Every state is idempotent in pm itself; C(changed) is pm's.
version_added: 0.1.0
author: the pm maintainers (!UNKNOWN)
extends_documentation_fragment:
  - pm.platform.pm
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: pm runs with C(--dry-run) and predicts C(changed); what only a real run can know (the digest of an
      image not fetched yet) is null.
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  image:
    description:
      - For O(state=fetched), the source, V(s3://BUCKET/KEY), V(https://URL) or a local path.
      - Otherwise the image, by its short id, its digest (or a prefix of at least 4 hex digits) or a source it was
        fetched from; for O(state=validated) also a file that is not in the store.
      - Not used by O(state=deactivated), which names the activation in O(name).
    type: str
    aliases: [source]
  state:
    description:
      - What the image should be.
    type: str
    choices: [fetched, validated, activated, deactivated, absent]
    default: fetched
  name:
    description:
      - The activation's name. Required for O(state=activated) and O(state=deactivated).
    type: str
  sha256:
    description:
      - The SHA-256 the fetched bytes must have (O(state=fetched)).
    type: str
  max_size:
    description:
      - The largest object to fetch, such as V(16GiB) (O(state=fetched)); refused on HEAD, before any download.
    type: str
  endpoint_url:
    description:
      - An S3-compatible endpoint for O(state=fetched) (path-style addressing).
    type: str
  allow_devices:
    description:
      - Accept device nodes and FIFOs (O(state=validated)).
    type: bool
    default: false
  allow_setuid:
    description:
      - Accept setuid and setgid files and file capabilities (O(state=validated)).
    type: bool
    default: false
  backend:
    description:
      - The activation backend (O(state=activated)); V(auto) picks V(thin) where device-mapper answers.
    type: str
    choices: [auto, thin, dir]
  validate:
    description:
      - Validate the image first if it has no safe verdict yet (O(state=activated)); without it such an image is
        refused with C(image_not_validated).
    type: bool
    default: false
  strict:
    description:
      - Fail with C(not_found) when the activation does not exist (O(state=deactivated)); by default that is
        C(changed=false).
    type: bool
    default: false
  force:
    description:
      - Remove the image even while activations use it (O(state=absent)).
    type: bool
    default: false
notes:
  - A rejected image fails the task with C(code=image_rejected); the violations are in C(error.violations).
seealso:
  - module: pm.platform.pm_facts
"""

EXAMPLES = r"""
- name: Fetch the root filesystem image
  pm.platform.pm_image:
    image: s3://images/web.tar.zst
    sha256: "{{ web_sha256 }}"
  register: fetched

- name: Validate it (hostile until proven safe)
  pm.platform.pm_image:
    image: "{{ fetched.digest }}"
    state: validated

- name: Activate it as web-1
  pm.platform.pm_image:
    image: "{{ fetched.digest }}"
    state: activated
    name: web-1
  register: web

- name: Show where it is
  ansible.builtin.debug:
    msg: "{{ web.device or web.path }}"

- name: Retire the activation
  pm.platform.pm_image:
    state: deactivated
    name: web-1
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
id:
  description: The image's short id (fetched, validated, absent) or the activation's id (activated, deactivated).
  returned: when pm reports one
  type: str
digest:
  description: The image's digest, V(sha256:...); null in check mode for an image not fetched yet.
  returned: when O(state) is V(fetched) or V(validated)
  type: str
path:
  description: The stored image file (fetched) or the activation's directory (activated, dir backend).
  returned: when pm reports one
  type: str
device:
  description: The activation's block device (thin backend).
  returned: when O(state=activated)
  type: str
verdict:
  description: V(safe) for a validated image (a rejected one fails the task).
  returned: when O(state=validated)
  type: str
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.pm.platform.plugins.module_utils.pm import (
    COMMON_ARGUMENT_SPEC,
    Pm,
)


def command(params):
    """The pm image arguments for the task's state."""
    state = params["state"]
    image = params["image"]
    if state == "fetched":
        args = ["image", "fetch", image]
        for flag, key in (("--sha256", "sha256"), ("--max-size", "max_size"), ("--endpoint-url", "endpoint_url")):
            if params[key]:
                args += [flag, params[key]]
        return args
    if state == "validated":
        args = ["image", "validate", image]
        if params["allow_devices"]:
            args.append("--allow-devices")
        if params["allow_setuid"]:
            args.append("--allow-setuid")
        return args
    if state == "activated":
        args = ["image", "activate", image, "--name", params["name"]]
        if params["backend"]:
            args += ["--backend", params["backend"]]
        if params["validate"]:
            args.append("--validate")
        return args
    if state == "deactivated":
        args = ["image", "deactivate", params["name"]]
        if params["strict"]:
            args.append("--strict")
        return args
    args = ["image", "rm", image]
    if params["force"]:
        args.append("--force")
    return args


def main():
    argument_spec = dict(
        image=dict(type="str", aliases=["source"]),
        state=dict(
            type="str",
            default="fetched",
            choices=["fetched", "validated", "activated", "deactivated", "absent"],
        ),
        name=dict(type="str"),
        sha256=dict(type="str"),
        max_size=dict(type="str"),
        endpoint_url=dict(type="str"),
        allow_devices=dict(type="bool", default=False),
        allow_setuid=dict(type="bool", default=False),
        backend=dict(type="str", choices=["auto", "thin", "dir"]),
        validate=dict(type="bool", default=False),
        strict=dict(type="bool", default=False),
        force=dict(type="bool", default=False),
    )
    argument_spec.update(COMMON_ARGUMENT_SPEC)
    module = AnsibleModule(
        argument_spec=argument_spec,
        required_if=[
            ("state", "fetched", ["image"]),
            ("state", "validated", ["image"]),
            ("state", "activated", ["image", "name"]),
            ("state", "deactivated", ["name"]),
            ("state", "absent", ["image"]),
        ],
        supports_check_mode=True,
    )
    pm = Pm(module)
    result = pm.run(command(module.params))
    picked = dict(
        (key, result.doc[key])
        for key in ("id", "digest", "path", "device", "verdict")
        if key in result.doc
    )
    pm.exit(result, **picked)


if __name__ == "__main__":
    main()
