"""Two-factor sign-in in Chromium, at 390 px: the lead of a school that requires it joins through their
invitation, is taken straight to setting up an authenticator app (the QR code and the key as text fit the
phone), types the code computed here with pyotp from the key the page shows, keeps the ten recovery codes and
reaches the school's dashboard; signing in again asks for the second factor after the password, and a
recovery code answers it. The school is the test's own."""

import re

import pyotp
import pytest

from .conftest import sign_in
from .helpers import PHONE, accept_invitation, fits, invite, own_school, shot

pytestmark = pytest.mark.browser


def test_a_lead_who_must_enrol_sets_up_an_app_and_signs_in_with_a_recovery_code(
    browser, live_server, live_flask, tmp_path
):
    base = live_server
    slug = own_school(live_flask, "twofactor", "Two-Factor Hill School", two_factor=True)
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()

    accept_invitation(page, base, invite(live_flask, slug, "lead"), "Tara Lead")
    page.wait_for_url(re.compile(r"/account/two-factor/app"))
    assert "asks you to sign in with a second factor" in page.locator(".flashes").inner_text()
    assert page.locator("svg.qr-code").is_visible()
    fits(page)
    shot(page, tmp_path, "1-set-up")
    # the school's pages stay shut until it is done
    page.goto(f"{base}/s/{slug}/people/")
    page.wait_for_url(re.compile(r"/account/two-factor/app"))

    secret = page.locator("#totp-secret").inner_text().replace(" ", "")
    page.get_by_label("6-digit code from your authenticator app").fill("000000")
    page.get_by_role("button", name="Turn on two-factor sign-in").click()
    page.wait_for_load_state()
    assert "does not match" in page.locator(".error-summary").inner_text()
    page.get_by_label("6-digit code from your authenticator app").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Turn on two-factor sign-in").click()

    page.get_by_role("heading", name="Save your recovery codes").wait_for()
    codes = page.locator("#recovery-code-list li").all_inner_texts()
    assert len(codes) == 10 and all(re.fullmatch(r"[a-z2-9]{5}-[a-z2-9]{5}", c) for c in codes)
    assert page.get_by_role("link", name="Download as a text file").is_visible()
    fits(page)
    shot(page, tmp_path, "2-recovery-codes")
    page.get_by_role("link", name="I have saved my recovery codes").click()
    page.wait_for_url(re.compile(rf"/s/{slug}/people/$"))

    # next time: the password, then the second factor
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile(r"/login"))
    sign_in(page, base, f"lead@{slug}.example")
    page.wait_for_url(re.compile(r"/login/two-factor$"))
    assert page.get_by_label("6-digit code from your authenticator app").is_visible()
    fits(page)
    shot(page, tmp_path, "3-challenge")
    page.get_by_role("link", name="Use a recovery code").click()
    page.wait_for_url(re.compile(r"/login/recovery-code$"))
    page.get_by_label("Recovery code").fill(codes[0])
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(rf"/s/{slug}/$"))
    assert "9 left" in page.locator(".flashes").inner_text()
    context.close()
