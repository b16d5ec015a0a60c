"""Retention in Chromium at phone width: the lead adds a leaver whose details are due for removal within the
month, finds them under upcoming removals on the Retention page and puts a hold on them. Works in a school of
its own (the demo school stays as `flask demo load` left it)."""

import re
from datetime import date, timedelta

import pytest

from tracker.dates import add_whole_months
from tracker.retention.rules import KINDS, LEAVERS

from .helpers import PHONE, accept_invitation, fits, invite, own_school, shot

pytestmark = pytest.mark.browser


def test_the_lead_sees_an_upcoming_removal_and_puts_it_on_hold_at_phone_width(
    live_server, live_flask, page, tmp_path
):
    slug = own_school(live_flask, "keep", "Riverbank Retention School")
    accept_invitation(page, live_server, invite(live_flask, slug, "lead"), "Lee Lead")
    page.wait_for_url(re.compile(rf"/s/{slug}/"))
    page.set_viewport_size(PHONE)

    # a leaver whose personal details the default rule removes ten days from now
    left = add_whole_months(date.today() + timedelta(days=10), -KINDS[LEAVERS].default_months)
    page.goto(f"{live_server}/s/{slug}/people/new")
    page.get_by_label("Full name").fill("Morgan Leaver")
    page.get_by_label("Start date").fill("2012-09-01")
    page.get_by_label("Leaving date").fill(left.isoformat())
    page.get_by_label("Countries lived or worked in").fill("France")
    page.get_by_role("button", name="Add to the register").click()
    page.wait_for_load_state()

    page.goto(f"{live_server}/s/{slug}/retention/")
    upcoming = page.locator("section", has=page.get_by_role("heading", name="Removals in the next 30 days"))
    assert "Morgan Leaver" in upcoming.inner_text()
    fits(page)
    page.get_by_label("Reason for a hold on Morgan Leaver").fill("Reference request from the new employer")
    page.get_by_role("button", name="Put on hold").click()
    page.locator(".flash-success").wait_for()
    assert "Hold placed" in page.locator(".flash-success").inner_text()
    assert "On hold: Reference request from the new employer" in upcoming.inner_text()
    holds = page.locator("section", has=page.get_by_role("heading", name="Holds"))
    assert "Reference request from the new employer" in holds.inner_text()
    assert holds.get_by_role("button", name="Lift this hold").is_visible()
    fits(page)
    shot(page, tmp_path, "retention")
