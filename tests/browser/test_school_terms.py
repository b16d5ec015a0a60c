"""A lead edits a year's term dates in Chromium (in a school of its own) and sees the items move: the flash
says how many moved and the "Items due" counts follow the new dates. At 1280 and 390 px."""

import re
from datetime import date, timedelta

import pytest

from .helpers import DESKTOP, PHONE, accept_invitation, fits, invite, own_school, shot

pytestmark = pytest.mark.browser


def _moved(page):
    text = page.locator(".flash-success").inner_text()
    found = re.search(r"(\d+) open items? moved", text)
    assert found, text
    return int(found.group(1))


def _shift(page, label, days):
    field = page.get_by_label(label)
    new = date.fromisoformat(field.input_value()) + timedelta(days=days)
    field.fill(new.isoformat())
    return new


def test_a_lead_edits_term_dates_and_items_move(live_server, live_flask, browser, page, tmp_path):
    slug = own_school(live_flask, "terms", "Hilltop Terms School", start_month=8)
    accept_invitation(page, live_server, invite(live_flask, slug, "lead"), "Tara Lead")
    page.wait_for_url(re.compile(rf"/s/{slug}/$"))
    page.goto(f"{live_server}/s/{slug}/setup")
    page.get_by_role("button", name="Start the year and continue").click()
    assert "has started" in page.locator(".flash-success").inner_text()

    page.goto(f"{live_server}/s/{slug}/years")
    page.get_by_role("link", name="Term dates").first.click()
    page.get_by_role("heading", name=re.compile("Term dates of")).wait_for()
    assert "default terms" in page.content()
    counts = [int(c.inner_text()) for c in page.locator("[data-term-count]").all()]
    assert len(counts) == 3 and all(counts)
    shot(page, tmp_path, "terms")

    # the last term ends two weeks earlier: its end-of-year items move with it
    ends = _shift(page, "Last day of term 3", -14)
    page.get_by_role("button", name="Save term dates").click()
    assert _moved(page) > 0
    assert page.get_by_label("Last day of term 3").input_value() == ends.isoformat()
    assert "default terms" not in page.content()
    assert ends.strftime("%-d %b %Y") in page.locator("table.terms-now").inner_text()

    # at phone width: the first term starts a week later, its termly item moves; nothing sticks out
    page.set_viewport_size(PHONE)
    fits(page)
    shot(page, tmp_path, "terms")
    _shift(page, "First day of term 1", 7)
    page.get_by_role("button", name="Save term dates").click()
    assert _moved(page) > 0
    fits(page)

    # a term that overlaps the next is refused with a message beside the field; nothing moves
    page.get_by_label("First day of term 2").fill(page.get_by_label("Last day of term 1").input_value())
    page.get_by_role("button", name="Save term dates").click()
    assert "do not overlap" in page.locator(".field-error").first.inner_text()
    fits(page)
    shot(page, tmp_path, "terms-error")
    page.set_viewport_size(DESKTOP)
