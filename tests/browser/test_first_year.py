"""A lead of a new school walks the first-year setup in Chromium: the year, who holds each role, what already
happened, whom to invite; then the dashboard shows owners and nothing overdue. The year and role steps are
also checked at phone width (390 px). The school is the test's own (the demo school stays as it was)."""

import re
from datetime import date, timedelta

import pytest

from .helpers import DESKTOP, PHONE, accept_invitation, fits, invite, own_school, shot

pytestmark = pytest.mark.browser


def test_a_new_schools_lead_sets_up_the_first_year(live_server, live_flask, browser, page, tmp_path):
    today = date.today()
    start_month = (today.month - 5) % 12 + 1  # the school's year began about four months ago
    slug = own_school(live_flask, "first", "Hillside First School", start_month=start_month)
    lead_link, head_link = invite(live_flask, slug, "lead"), invite(live_flask, slug, "head")

    other = browser.new_context(viewport=DESKTOP)
    accept_invitation(other.new_page(), live_server, head_link, "Hugo Head")
    other.close()

    accept_invitation(page, live_server, lead_link, "Lena Lead")
    page.wait_for_url(re.compile(rf"/s/{slug}/$"))
    page.get_by_role("link", name="Set up your first year").click()

    # step 1: the year containing today is offered first and chosen
    assert "Step 1 of 4" in page.locator(".setup-steps").inner_text()
    assert page.get_by_role("radio", name=re.compile("the current year")).is_checked()
    shot(page, tmp_path, "1-year")
    page.set_viewport_size(PHONE)
    fits(page)
    shot(page, tmp_path, "1-year")
    page.get_by_role("button", name="Start the year and continue").click()
    assert "has started" in page.locator(".flash-success").inner_text()

    # step 2: the lead holds the lead role (suggested), the head the head's
    assert "Step 2 of 4" in page.locator(".setup-steps").inner_text()
    fits(page)
    shot(page, tmp_path, "2-roles")
    page.set_viewport_size(DESKTOP)
    assert page.get_by_label("Safeguarding lead").locator("option:checked").inner_text() == "Lena Lead"
    page.get_by_label("Head of school").select_option(label="Hugo Head")
    assert page.get_by_label(re.compile("Also give each holder")).is_checked()
    shot(page, tmp_path, "2-roles")
    page.get_by_role("button", name="Save and continue").click()
    assert "open items now have an owner" in page.locator(".flash-success").inner_text()

    # step 3: a whole group done before we started, with a date; one item to catch up
    assert "Step 3 of 4" in page.locator(".setup-steps").inner_text()
    first_group = page.locator("fieldset.past-group").first
    in_group = first_group.locator('input[name="items"]').count()
    assert in_group > 0
    first_group.locator("[data-select-group]").check()
    assert page.locator("[data-selected-count]").inner_text() == f"{in_group} selected"
    shot(page, tmp_path, "3-past")
    page.get_by_label("Done before we started").check()
    page.get_by_label("Done on").fill((today - timedelta(days=3)).isoformat())
    page.get_by_role("button", name="Apply to the selected items").click()
    assert f"Marked {in_group} item" in page.locator(".flash-success").inner_text()
    if page.locator('input[name="items"]').count():
        page.locator('input[name="items"]').first.check()
        page.get_by_label("Still to do: catch up by a date").check()
        page.get_by_role("button", name="Apply to the selected items").click()
        assert "to catch up by" in page.locator(".flash-success").inner_text()
    page.set_viewport_size(PHONE)
    fits(page)
    shot(page, tmp_path, "3-past")
    page.set_viewport_size(DESKTOP)
    page.get_by_role("link", name="Continue: invite your team").click()

    # step 4: invite someone, then the dashboard
    assert "Step 4 of 4" in page.locator(".setup-steps").inner_text()
    page.get_by_label("E-mail address of person 1").fill(f"sam@{slug}.example")
    page.get_by_label("Role of person 1").select_option(label="Staff member")
    shot(page, tmp_path, "4-invite")
    page.set_viewport_size(PHONE)
    fits(page)
    shot(page, tmp_path, "4-invite")
    page.set_viewport_size(DESKTOP)
    page.get_by_role("button", name="Send the invitations and finish").click()
    page.wait_for_url(re.compile(rf"/s/{slug}/\?year="))
    flashes = page.locator(".flash-success").all_inner_texts()
    assert any(f"sam@{slug}.example" in f and "/invitations/" in f for f in flashes)
    assert any("is set up" in f for f in flashes)

    overdue_tile = page.locator("a.tile", has_text="overdue").first
    assert overdue_tile.locator(".tile-number").inner_text().strip() == "0"
    owners = page.locator(".item-list").all_inner_texts()
    assert any("Lena Lead" in text for text in owners)
    assert "Overdue" not in " ".join(owners)
    shot(page, tmp_path, "5-dashboard")
