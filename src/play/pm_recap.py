# pm_recap: the per-host recap of a playbook run as JSON, for `pm play`.
#
# pm writes this file into a private directory it puts first on
# ANSIBLE_CALLBACK_PLUGINS, and names the output file in PM_PLAY_RECAP_FILE.
# It is an aggregate callback that needs no enabling, so the normal output
# (the stdout callback) is untouched: pm streams that to stderr, and reads
# the recap from here rather than from the text.
from __future__ import annotations

import json
import os

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
    name: pm_recap
    type: aggregate
    short_description: writes the play recap as JSON for pm play
    description:
      - Writes the per-host stats and the failed tasks to the file named by PM_PLAY_RECAP_FILE.
"""


def _names(result):
    # ansible-core 2.19 hands a CallbackTaskResult; older ones a TaskResult.
    host = getattr(result, "host", None) or result._host
    task = getattr(result, "task", None) or result._task
    return host.get_name(), task.get_name().strip()


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "pm_recap"
    CALLBACK_NEEDS_ENABLED = False

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._failed = []

    def _note(self, result, status):
        host, task = _names(result)
        self._failed.append({"host": host, "task": task, "status": status})

    def v2_runner_on_failed(self, result, ignore_errors=False):
        if not ignore_errors:
            self._note(result, "failed")

    def v2_runner_on_unreachable(self, result):
        self._note(result, "unreachable")

    def v2_playbook_on_stats(self, stats):
        path = os.environ.get("PM_PLAY_RECAP_FILE")
        if not path:
            return
        hosts = {host: stats.summarize(host) for host in sorted(stats.processed)}
        tmp = path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump({"hosts": hosts, "failed_tasks": self._failed}, f)
        os.replace(tmp, path)
