"""A tracker served by `flask run` in a subprocess, for tests that need a real server."""

import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

from .smtp_server import free_port

ROOT = Path(__file__).resolve().parent.parent
FLASK = [sys.executable, "-m", "flask", "--app", "tracker"]


@contextmanager
def serving(env: dict, log_path: Path, threads: bool = False, tries: int = 200):
    """Serve the app with `env` on a free port until the block ends; yield its base URL."""
    port = free_port()
    args = ["run", "--port", str(port), "--no-reload"] + (["--with-threads"] if threads else [])
    with open(log_path, "w") as log:
        proc = subprocess.Popen(FLASK + args, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(tries):
                try:
                    urllib.request.urlopen(base + "/healthz", timeout=1)
                    break
                except OSError:
                    time.sleep(0.1)
            else:
                raise RuntimeError("live server did not start: " + log_path.read_text()[-2000:])
            yield base
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
