"""Sign-in with Google in Chromium, against the tests' real OpenID Connect provider (tests/oidc_provider): the
lead lists the school's domain, signs out, presses "Sign in with Google" on the sign-in page (390 px wide),
signs in at the provider's login form and comes back signed in. A second tracker process serves the live
server's database with the provider turned on; the school is one of the test's own."""

import re
import subprocess
import time
import urllib.request
import uuid

import pytest

from ..live_server import FLASK, ROOT
from ..oidc_helpers import CLIENT_ID, CLIENT_SECRET, metadata_url, oidc_provider
from ..smtp_server import free_port
from . import conftest
from .helpers import PHONE, accept_invitation, fits, invite, shot

pytestmark = pytest.mark.browser


@pytest.fixture
def tracker_with_google(live_server, tmp_path):
    """(base URL, provider issuer): the live server's database served again with "Google" turned on."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with oidc_provider([f"{base}/login/oidc/google/callback"]) as issuer:
        env = {
            **conftest._LIVE_ENV,
            "TRACKER_BASE_URL": base,
            "TRACKER_OIDC_GOOGLE_CLIENT_ID": CLIENT_ID,
            "TRACKER_OIDC_GOOGLE_CLIENT_SECRET": CLIENT_SECRET,
            "TRACKER_OIDC_GOOGLE_METADATA_URL": metadata_url(issuer),
        }
        with open(tmp_path / "server.log", "w") as log:
            proc = subprocess.Popen(
                FLASK + ["run", "--port", str(port), "--no-reload"],
                env=env,
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            try:
                for _ in range(200):
                    try:
                        urllib.request.urlopen(base + "/healthz", timeout=1)
                        break
                    except OSError:
                        time.sleep(0.1)
                else:
                    raise RuntimeError((tmp_path / "server.log").read_text()[-2000:])
                yield base, issuer
            finally:
                proc.terminate()
                proc.wait(timeout=10)


def test_a_member_signs_in_with_google(browser, live_flask, tracker_with_google, tmp_path):
    base, issuer = tracker_with_google
    slug = f"oidc-{uuid.uuid4().hex[:6]}"
    live_flask(
        "schools", "create", "--slug", slug, "--name", "Provider Sign-in School", "--no-require-two-factor"
    )
    email = f"lead@{slug}.example"
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()

    # the lead joins with a password and lists the school's domain
    accept_invitation(page, base, invite(live_flask, slug, "lead"), "Lena Lead")
    page.wait_for_url(re.compile(rf"/s/{slug}/"))
    page.goto(f"{base}/s/{slug}/settings")
    page.get_by_role("link", name="Sign-in domains").click()
    page.wait_for_url(re.compile(r"/settings/sign-in$"))
    page.get_by_label("E-mail domains").fill(f"{slug}.example")
    page.get_by_role("button", name="Save domains").click()
    page.wait_for_url(re.compile(r"/settings/sign-in$"))
    assert f"Accepted now: {slug}.example" in page.locator("main").inner_text()
    fits(page)
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile(r"/login$"))

    # the sign-in page at 390 px: the provider's button beside the password form
    button = page.get_by_role("button", name="Sign in with Google")
    assert button.is_visible()
    fits(page)
    shot(page, tmp_path, "sign-in-with-google")
    button.click()

    # the provider's own login form
    page.wait_for_url(re.compile(re.escape(issuer) + r"/interaction/"))
    page.locator("input[name=login]").fill(email)
    page.locator("input[name=password]").fill("any password")
    page.get_by_role("button", name="Sign-in").click()

    # back, signed in, at the school
    page.wait_for_url(re.compile(rf"{re.escape(base)}/s/{slug}/"))
    page.goto(f"{base}/account")
    page.wait_for_load_state()
    assert email in page.locator("main").inner_text()
    assert "Provider Sign-in School accepts addresses at" in page.locator("main").inner_text()
    fits(page)
    context.close()
