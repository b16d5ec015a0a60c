"""The browser tests' `flask` commands (tests/browser/flask_commands.py): one process runs them one after
another as `flask <args>` would, with what each printed, its error output and its exit code."""

import os

from .browser.flask_commands import FlaskCommands


def test_commands_run_one_after_another_in_one_process_with_their_output_and_exit_code(tmp_path):
    env = {
        **os.environ,
        "TRACKER_DATABASE_URL": f"sqlite:///{tmp_path / 'commands.sqlite3'}",
        "TRACKER_SECRET_KEY": "commands-test-secret",
        "TRACKER_EVIDENCE_DIR": str(tmp_path / "evidence"),
        "FLASK_APP": "tracker",
    }
    commands = FlaskCommands(env, tmp_path / "commands.log")
    try:
        assert commands.run("db", "upgrade")["code"] == 0
        create = ["schools", "create", "--slug", "one", "--name", "School One", "--timezone", "UTC"]
        made = commands.run(*create)
        assert made == {"code": 0, "stdout": "Created School One at /s/one/\n", "stderr": ""}
        again = commands.run(*create)
        assert again["code"] != 0 and "already exists" in again["stderr"] and again["stdout"] == ""
        assert "School One" in commands.run("schools", "list")["stdout"]
        assert commands.run("no-such-command")["code"] == 2
    finally:
        commands.close()
    assert commands.proc.returncode == 0
