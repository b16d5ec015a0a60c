"""My sessions in Chromium: one person signed in from two browser contexts sees both devices (this one
marked), signs the other out, and the other context is sent to sign in at its next page; at 390 px and at
desktop width. Works in a school of its own (made with the CLI), so the demo accounts' sessions are
untouched."""

import re

import pytest

from .conftest import sign_in
from .helpers import DESKTOP, PHONE, accept_invitation, fits, invite, own_school, shot

pytestmark = pytest.mark.browser


def _rows(page):
    return page.locator("#sessions tbody tr")


def _sign_out_the_other(page, base):
    page.goto(f"{base}/account/sessions")
    assert _rows(page).count() == 2
    this = page.locator("#sessions tbody tr.current-session")
    assert this.count() == 1 and "This device" in this.inner_text()
    assert "Chrome on Linux" in page.locator("#sessions").inner_text()
    other = page.locator("#sessions tbody tr:not(.current-session)")
    other.get_by_role("button", name=re.compile(r"^Sign out")).click()
    page.wait_for_url(re.compile(r"/account/sessions$"))
    assert "is signed out" in page.locator(".flash-success").inner_text()
    assert _rows(page).count() == 1
    assert "Only this device is signed in" in page.content()


def test_signing_out_another_device_sends_it_to_sign_in(browser, live_server, live_flask, tmp_path):
    base = live_server
    slug = own_school(live_flask, "sessions", "Sessions Test School")
    email = f"staff@{slug}.example"

    desk_context = browser.new_context(viewport=DESKTOP)
    desk = desk_context.new_page()
    accept_invitation(desk, base, invite(live_flask, slug, "staff"), "Desk Person")
    desk.wait_for_url(re.compile(rf"/s/{slug}/"))

    phone_context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    phone = phone_context.new_page()
    sign_in(phone, base, email)
    phone.wait_for_url(re.compile(rf"/s/{slug}/"))

    # the account page links to My sessions
    phone.goto(f"{base}/account")
    phone.get_by_role("link", name="My sessions").click()
    phone.wait_for_url(re.compile(r"/account/sessions$"))
    fits(phone)
    shot(phone, tmp_path, "my-sessions")

    # at 390 px: the phone signs out the desk
    _sign_out_the_other(phone, base)
    fits(phone)
    desk.goto(f"{base}/account")
    desk.wait_for_url(re.compile(r"/login"))
    assert desk.get_by_role("button", name="Sign in").is_visible()

    # at desktop width: the desk signs in again and signs out the phone
    sign_in(desk, base, email)
    desk.wait_for_url(re.compile(rf"/s/{slug}/"))
    _sign_out_the_other(desk, base)
    fits(desk)
    shot(desk, tmp_path, "my-sessions")
    phone.goto(f"{base}/s/{slug}/")
    phone.wait_for_url(re.compile(r"/login"))

    desk_context.close()
    phone_context.close()
