"""`flask` commands for the browser tests' live server, run one after another in this one process.

Started by tests/browser/conftest.py with the live server's environment; reads one JSON list of arguments a
line (e.g. ["schools", "create", "--slug", ...]) and answers each with one JSON line: the exit code, what
the command printed and its error output. A `flask` subprocess per command spent seconds importing and
building the app each time; here that happens once. Each command runs as `flask <args>` would (its own app
context and click context, so SQLite transactions begin as the CLI's do).
"""

import json
import logging
import os
import select
import subprocess
import sys
import traceback
from pathlib import Path

from flask.cli import FlaskGroup

from tracker import create_app

ROOT = Path(__file__).resolve().parent.parent.parent


class FlaskCommands:
    """`flask` commands run with `env` by one process (this file, run as a script), one at a time: a
    `flask` subprocess per command spent seconds starting the app each time."""

    TIMEOUT = 300  # seconds a command may take

    def __init__(self, env, log_path):
        self.log_path = log_path
        with open(log_path, "w") as log:
            self.proc = subprocess.Popen(
                [sys.executable, str(Path(__file__).resolve())],
                env=env,
                cwd=ROOT,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
            )

    def run(self, *args) -> dict:
        """{"code": exit code, "stdout": what it printed, "stderr": its error output} of `flask <args>`."""
        self.proc.stdin.write(json.dumps([str(arg) for arg in args]) + "\n")
        self.proc.stdin.flush()
        ready, _, _ = select.select([self.proc.stdout], [], [], self.TIMEOUT)
        line = self.proc.stdout.readline() if ready else ""
        if not line:
            self.proc.kill()
            raise RuntimeError(f"flask {' '.join(map(str, args))} gave no answer: {self._log_tail()}")
        return json.loads(line)

    def _log_tail(self):
        return Path(self.log_path).read_text()[-3000:]

    def close(self):
        self.proc.stdin.close()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def main():
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "w")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # anything else written to stdout goes to the log
    app = create_app()
    flask = FlaskGroup(create_app=lambda: app)  # the `flask` command: its own commands (db) and the app's
    runner = app.test_cli_runner()
    for line in sys.stdin:
        result = runner.invoke(flask, args=json.loads(line))
        errors = result.stderr
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            errors += "".join(traceback.format_exception(*result.exc_info))
        answers.write(
            json.dumps({"code": result.exit_code, "stdout": result.stdout, "stderr": errors}) + "\n"
        )
        answers.flush()
        _enable_loggers()


def _enable_loggers():
    """`db upgrade` configures logging from alembic.ini, which turns off every logger made before it; in a
    process of its own that ended with the command, so here the next command gets them back."""
    for logger in logging.root.manager.loggerDict.values():
        if isinstance(logger, logging.Logger):
            logger.disabled = False


if __name__ == "__main__":
    main()
