"""Passkeys in Chromium with its virtual authenticator (through Playwright's CDP session): a member adds a
passkey on the two-factor page (and gets recovery codes with it), signs out, signs in with the password and
passes the challenge with the passkey; at 390 px. WebAuthn refuses an IP address as the site's id, so the
browser opens the live server as http://localhost (a secure context, like 127.0.0.1). Works in a school of
its own."""

import re

import pytest

from .conftest import sign_in
from .helpers import PHONE, accept_invitation, fits, invite, own_school, shot

pytestmark = pytest.mark.browser


def test_a_member_adds_a_passkey_and_signs_in_with_it(browser, live_server, live_flask, tmp_path):
    base = live_server.replace("127.0.0.1", "localhost")
    slug = own_school(live_flask, "passkeys", "Passkey Test School")
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    authenticator = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
            }
        },
    )["authenticatorId"]
    try:
        accept_invitation(page, base, invite(live_flask, slug, "staff"), "Key Person")
        page.wait_for_url(re.compile(rf"/s/{slug}/"))

        page.goto(f"{base}/account/two-factor")
        assert "You have no passkey or security key yet" in page.content()
        page.get_by_role("button", name="Add a passkey").click()  # no name yet: said, nothing sent
        assert "name first" in page.locator("#passkey-add-status").inner_text()
        page.get_by_label("Name for the new passkey").fill("Phone screen lock")
        page.get_by_role("button", name="Add a passkey").click()
        # the first second factor comes with recovery codes, shown once
        page.get_by_role("heading", name="Save your recovery codes").wait_for()
        assert "Passkey “Phone screen lock” added" in page.content()
        assert page.locator("#recovery-code-list li").count() == 10
        page.get_by_role("link", name="I have saved my recovery codes").click()
        page.locator("#passkeys").wait_for()
        assert "Phone screen lock" in page.locator("#passkeys").inner_text()
        assert "Not used yet" in page.locator("#passkeys").inner_text()
        fits(page)
        shot(page, tmp_path, "passkeys-listed")
        stored = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})["credentials"]
        assert len(stored) == 1

        page.get_by_role("button", name="Sign out").click()
        page.wait_for_url(re.compile(r"/login"))
        sign_in(page, base, f"staff@{slug}.example")
        page.wait_for_url(re.compile(r"/login/two-factor"))
        fits(page)
        shot(page, tmp_path, "passkey-challenge")
        page.get_by_role("button", name="Use my passkey").click()
        page.wait_for_url(re.compile(rf"/s/{slug}/"))

        page.goto(f"{base}/account/two-factor")
        assert "Not used yet" not in page.locator("#passkeys").inner_text()
    finally:
        context.close()
