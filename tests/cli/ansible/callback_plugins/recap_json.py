# recap_json: a stdout callback for the tests, printing one JSON document at
# the end of the run: every task result (status, changed, and pm's error
# fields when it failed) and the per-host recap. ansible-core 2.19 ships no
# JSON stdout callback (ansible.posix.json is a collection Galaxy would
# supply), and the recap must be read as data, not from the text.
#
# Results of no_log tasks arrive censored, as for any callback.
from __future__ import annotations

import json
import sys
import time

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
    name: recap_json
    type: stdout
    short_description: one JSON document with every task result and the recap
    description:
      - For pm's tests; selected with ANSIBLE_STDOUT_CALLBACK=recap_json.
"""

# What a failed task's result may tell a reader about the failure.
KEPT = ("msg", "assertion", "evaluated_to", "rc", "code", "hint", "retryable", "error", "attempts", "stderr", "stdout", "cmd", "censored")


def _names(result):
    host = getattr(result, "host", None) or result._host
    task = getattr(result, "task", None) or result._task
    return host.get_name(), task.get_name().strip()


def _fields(result):
    return getattr(result, "result", None) or result._result


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "stdout"
    CALLBACK_NAME = "recap_json"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._tasks = []
        self._started = time.monotonic()

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._started = time.monotonic()

    def _record(self, result, status):
        host, task = _names(result)
        fields = _fields(result)
        entry = {"host": host, "task": task, "status": status,
                 "changed": bool(fields.get("changed", False)),
                 "secs": round(time.monotonic() - self._started, 2)}
        if status in ("failed", "ignored", "unreachable"):
            entry.update((k, fields[k]) for k in KEPT if k in fields)
        self._tasks.append(entry)

    def v2_runner_on_ok(self, result):
        changed = bool(_fields(result).get("changed", False))
        self._record(result, "changed" if changed else "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._record(result, "ignored" if ignore_errors else "failed")

    def v2_runner_on_skipped(self, result):
        self._record(result, "skipped")

    def v2_runner_on_unreachable(self, result):
        self._record(result, "unreachable")

    def v2_playbook_on_stats(self, stats):
        hosts = {host: stats.summarize(host) for host in sorted(stats.processed)}
        json.dump({"tasks": self._tasks, "stats": hosts}, sys.stdout)
        sys.stdout.write("\n")
        sys.stdout.flush()
