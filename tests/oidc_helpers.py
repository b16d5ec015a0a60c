"""A real OpenID Connect provider for the tests: `node tests/oidc_provider/server.mjs` (the npm package
`oidc-provider`) on 127.0.0.1, and a person signing in at it with `requests` (its development login form).

Locally the tests skip when Node.js or tests/oidc_provider/node_modules is missing; in CI (CI=true) that is a
failure (`make test` runs `npm ci --prefix tests/oidc_provider` first).
"""

import os
import re
import shutil
import subprocess
import threading
import time
from contextlib import contextmanager
from html import unescape
from pathlib import Path
from urllib.parse import urljoin

import pytest
import requests

PROVIDER_DIR = Path(__file__).resolve().parent / "oidc_provider"
CLIENT_ID = "tracker-tests"
CLIENT_SECRET = "tracker-tests-secret-" + "x" * 24


def require_node():
    """Fail in CI, skip elsewhere, when the provider cannot run here."""
    problem = None
    if shutil.which("node") is None:
        problem = "Node.js (node) is not installed"
    elif not (PROVIDER_DIR / "node_modules" / "oidc-provider").is_dir():
        problem = "tests/oidc_provider/node_modules is missing (npm ci --prefix tests/oidc_provider)"
    if problem is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"{problem}: CI must run the OpenID Connect tests (make test installs the provider)")
    pytest.skip(f"{problem}; CI runs these tests")


@contextmanager
def oidc_provider(redirect_uris, port=0):
    """Run the provider with our client and `redirect_uris`; yield its issuer (http://127.0.0.1:<port>)."""
    require_node()
    env = {
        **os.environ,
        "OIDC_PORT": str(port),
        "OIDC_CLIENT_ID": CLIENT_ID,
        "OIDC_CLIENT_SECRET": CLIENT_SECRET,
        "OIDC_REDIRECT_URIS": " ".join(redirect_uris),
        "NODE_NO_WARNINGS": "1",
    }
    proc = subprocess.Popen(
        ["node", str(PROVIDER_DIR / "server.mjs")],
        env=env,
        cwd=PROVIDER_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        issuer = _issuer(proc)
        _wait_for_discovery(issuer)
        # keep reading its output so a full pipe never blocks it
        threading.Thread(target=proc.stdout.read, daemon=True).start()
        yield issuer
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def _issuer(proc) -> str:
    seen = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        seen.append(line)
        match = re.match(r"listening (http://127\.0\.0\.1:\d+)", line)
        if match:
            return match.group(1)
    raise RuntimeError("the OpenID Connect provider did not start:\n" + "".join(seen)[-2000:])


def _wait_for_discovery(issuer):
    for _ in range(100):
        try:
            if requests.get(issuer + "/.well-known/openid-configuration", timeout=2).ok:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise RuntimeError("the OpenID Connect provider serves no discovery document")


def metadata_url(issuer):
    return issuer + "/.well-known/openid-configuration"


_FORM = re.compile(r"<form[^>]*action=\"([^\"]+)\"[^>]*>(.*?)</form>", re.S)
_HIDDEN = re.compile(r"<input[^>]*type=\"hidden\"[^>]*name=\"([^\"]+)\"[^>]*value=\"([^\"]*)\"", re.S)


def sign_in_at_provider(authorization_url, login, back_to, steps=10):
    """Follow the provider's pages from `authorization_url` as a browser would, signing in as `login` at its
    login form (and agreeing to any consent page), until it sends the browser to `back_to`; return that URL
    (our callback, with `code` and `state`)."""
    browser = requests.Session()
    response = browser.get(authorization_url, allow_redirects=False, timeout=10)
    for _ in range(steps):
        if response.is_redirect:
            target = urljoin(response.url, response.headers["Location"])
            if target.startswith(back_to):
                return target
            response = browser.get(target, allow_redirects=False, timeout=10)
            continue
        match = _FORM.search(response.text)
        assert match, f"no form on the provider's page ({response.status_code}): {response.text[:500]}"
        action, body = urljoin(response.url, unescape(match.group(1))), match.group(2)
        data = {name: unescape(value) for name, value in _HIDDEN.findall(body)}
        if 'name="login"' in body:
            data.update(login=login, password="any password")
        response = browser.post(action, data=data, allow_redirects=False, timeout=10)
    raise AssertionError("the provider never sent the browser back")
