# Copyright: the pm maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""How the pm.platform modules and lookup run pm and read what it prints.

Every pm command prints exactly one JSON document with ``--json``: the
result on success (with ``changed`` for a mutating command), or
``{"error": {"code", "message", "hint", "retryable", ...}}`` with a
non-zero exit code. The modules add nothing to pm's logic: they build one
command line, pass ``--dry-run`` in check mode, and hand the document back,
a failure as ``fail_json`` with pm's code, hint and retryable.
"""

from __future__ import annotations

import json
import os

# The environment variable that names the pm binary when pm_path is not set.
PM_ENV = "PM"

# The variable a module hands the vault's master password through: pm is
# told its name (PM_VAULT_PASSWORD_ENV), never the value on its argv.
PASSWORD_VAR = "PM_ANSIBLE_VAULT_PASSWORD"

COMMON_ARGUMENT_SPEC = dict(
    pm_path=dict(type="path"),
    state_file=dict(type="path"),
    config_file=dict(type="path"),
    lock_timeout=dict(type="int"),
)

VAULT_ARGUMENT_SPEC = dict(
    vault_password=dict(type="str", no_log=True),
    vault_password_file=dict(type="path"),
)


def global_args(state_file=None, config_file=None, lock_timeout=None):
    """pm's global options for these settings (``--json`` always)."""
    args = ["--json"]
    if state_file:
        args += ["--state", state_file]
    if config_file:
        args += ["--config", config_file]
    if lock_timeout is not None:
        args += ["--lock-timeout", str(lock_timeout)]
    return args


def parse_document(stdout):
    """The one JSON object pm printed, or None when stdout holds none."""
    text = (stdout or "").strip()
    if not text:
        return None
    try:
        doc = json.loads(text)
    except ValueError:
        return None
    return doc if isinstance(doc, dict) else None


def error_of(doc):
    """pm's error as fail_json's fields, or None when the document is a result."""
    err = doc.get("error") if isinstance(doc, dict) else None
    if not isinstance(err, dict):
        return None
    return dict(
        msg=err.get("message") or "pm failed",
        code=err.get("code") or "unknown",
        hint=err.get("hint"),
        retryable=err.get("retryable") is True,
        error=err,
    )


def vault_env(password=None, password_file=None):
    """The environment that gives pm a master password source, if any."""
    env = {}
    if password:
        env[PASSWORD_VAR] = password
        env["PM_VAULT_PASSWORD_ENV"] = PASSWORD_VAR
    elif password_file:
        env["PM_VAULT_PASSWORD_FILE"] = password_file
    return env


def config_env(settings):
    """PM_* variables for the settings a task gave (None: left to pm's config)."""
    env = {}
    for var, value in settings.items():
        if value is None:
            continue
        if isinstance(value, bool):
            value = "true" if value else "false"
        elif isinstance(value, (list, tuple)):
            value = ",".join(str(v) for v in value)
        env[var] = str(value)
    return env


class Result:
    """One pm run that succeeded: its document, command line and mode."""

    def __init__(self, doc, cmd, rc, dry_run):
        self.doc = doc
        self.cmd = cmd
        self.rc = rc
        self.dry_run = dry_run

    @property
    def changed(self):
        return self.doc.get("changed") is True


class Pm:
    """pm as one module task runs it."""

    def __init__(self, module):
        self.module = module
        params = module.params
        self.binary = self._locate(params.get("pm_path"))
        self.globals = global_args(
            params.get("state_file"), params.get("config_file"), params.get("lock_timeout")
        )

    def _locate(self, pm_path):
        wanted = pm_path or os.environ.get(PM_ENV) or "pm"
        if os.sep in wanted:
            found = wanted if os.path.isfile(wanted) and os.access(wanted, os.X_OK) else None
        else:
            found = self.module.get_bin_path(wanted)
        if not found:
            self.module.fail_json(
                msg="pm was not found at %r" % wanted,
                code="pm_missing",
                hint="install pm, or give its path in pm_path or the PM environment variable",
                retryable=False,
            )
        return found

    def run(self, args, mutating=True, env=None, ok_rcs=(0,)):
        """Runs ``pm --json [globals] ARGS`` (``--dry-run`` in check mode when
        the command mutates) and returns its Result; fails the task with pm's
        error otherwise. ``ok_rcs``: exit codes that are verdicts, not errors
        (``pm doctor`` exits 9 when a check failed)."""
        dry_run = mutating and self.module.check_mode
        cmd = [self.binary] + self.globals + list(args)
        if dry_run:
            cmd.append("--dry-run")
        rc, out, err = self.module.run_command(
            cmd, environ_update=env or {}, expand_user_and_vars=False
        )
        doc = parse_document(out)
        if doc is None:
            self.module.fail_json(
                msg="pm printed no JSON document (exit code %d)" % rc,
                code="pm_output_invalid",
                hint="run the command by hand; a pm older than the JSON contract may be on the path",
                retryable=False,
                rc=rc,
                cmd=cmd,
                stdout=out[-2000:],
                stderr=err.strip()[-4000:],
            )
        failure = error_of(doc)
        if failure is None and rc not in ok_rcs:
            failure = dict(
                msg="pm exited with code %d" % rc,
                code="unknown",
                hint=None,
                retryable=False,
                error=None,
            )
        if failure is not None:
            self.module.fail_json(rc=rc, cmd=cmd, stderr=err.strip()[-4000:], **failure)
        if dry_run and doc.get("dry_run") is not True:
            self.module.fail_json(
                msg="pm did not report a dry run for %s" % " ".join(args[:2]),
                code="dry_run_unsupported",
                hint="check mode needs a pm whose mutating commands take --dry-run",
                retryable=False,
                rc=rc,
                cmd=cmd,
            )
        return Result(doc, cmd, rc, dry_run)

    def exit(self, result, changed=None, **extra):
        """Ends the task with pm's document (``changed`` from it unless given)."""
        self.module.exit_json(
            changed=result.changed if changed is None else changed,
            pm=result.doc,
            cmd=result.cmd,
            dry_run=result.dry_run,
            **extra
        )
