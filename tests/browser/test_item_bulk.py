"""The lead, in Chromium, searches the item list, selects several items and assigns them to a member in one
go; sees the confirmation and the new owners with the list as it was; the printout shows the table, not the
page around it; and at phone width (390 px) the list and its bulk bar are usable. The school is the test's own
(the demo school stays as it was)."""

import re
from datetime import date

import pytest

from .conftest import sign_in
from .helpers import DESKTOP, PHONE, accept_invitation, invite, own_school, shot

pytestmark = pytest.mark.browser


@pytest.fixture
def school(live_server, live_flask, browser):
    """A school of the test's own, its year started, with a lead (Lee Lead) and a staff member (Stella
    Staff)."""
    today = date.today()
    start_month = (today.month - 4) % 12 + 1  # the year began about three months ago
    slug = own_school(live_flask, "bulk", "Bulkley School", start_month=start_month)
    links = {role: invite(live_flask, slug, role) for role in ("lead", "staff")}
    staff = browser.new_context(viewport=DESKTOP)
    accept_invitation(staff.new_page(), live_server, links["staff"], "Stella Staff")
    staff.close()
    context = browser.new_context(viewport=DESKTOP)  # a fresh one: Stella is signed in in the other
    lead = context.new_page()
    accept_invitation(lead, live_server, links["lead"], "Lee Lead")
    lead.wait_for_url(re.compile(rf"/s/{slug}/"))
    token = lead.locator("input[name=csrf_token]").first.input_value()
    start = today.year if today.month >= start_month else today.year - 1
    response = lead.request.post(
        f"{live_server}/s/{slug}/years/start", form={"csrf_token": token, "start_year": str(start)}
    )
    assert response.ok, response.text()[:2000]
    context.close()
    return slug


def _rows(page):
    """(title, owner) of each row of the list, in order."""
    rows = page.locator("table.item-table tbody tr")
    return [
        (
            rows.nth(n).locator("td[data-label=Item] a").inner_text(),
            rows.nth(n).locator("td[data-label=Owner]").inner_text(),
        )
        for n in range(rows.count())
    ]


def test_lead_searches_selects_and_assigns_several_items_then_prints_the_list(
    live_server, school, page, tmp_path
):
    sign_in(page, live_server, f"lead@{school}.example")
    page.goto(f"{live_server}/s/{school}/items")
    page.get_by_role("searchbox", name="Search").fill("review")
    page.get_by_role("button", name="Show").click()
    assert "q=review" in page.url
    before = _rows(page)
    assert len(before) >= 4
    assert re.match(r"\d+ items matching “review”", page.locator(".list-summary").inner_text())

    boxes = page.locator("input[name=items]")
    for n in range(3):
        boxes.nth(n).check()
    assert page.locator("#bulk-count").inner_text() == "3 selected"
    shot(page, tmp_path, "selected")
    page.get_by_text("Change the selected items").click()
    page.get_by_label("New owner").select_option(label="Stella Staff")
    page.get_by_role("button", name="Assign", exact=True).click()

    assert page.locator(".flash-success").inner_text() == "Assigned 3 items to Stella Staff."
    assert "q=review" in page.url, "the list keeps its search"
    after = _rows(page)
    assert [t for t, _ in after] == [t for t, _ in before], "the same list, in the same order"
    assert [o for _, o in after[:3]] == ["Stella Staff"] * 3
    assert after[3:] == before[3:], "the items not selected are as they were"
    assert page.locator("#bulk-count").inner_text() == "0 selected"
    shot(page, tmp_path, "assigned")

    # Stella's items: exactly those three
    page.locator(".filter-bar select[name=owner]").select_option(label="Stella Staff")
    page.get_by_role("button", name="Show").click()
    assert sorted(t for t, _ in _rows(page)) == sorted(t for t, _ in after[:3])

    # select all on the page with the header box; printing shows the heading and table only
    page.locator("thead [data-select-all]").check()
    assert page.locator("#bulk-count").inner_text() == "3 selected"
    page.emulate_media(media="print")
    for hidden in (".schoolnav", ".filter-bar", ".bulk-bar", "thead .select-col", ".list-actions", ".footer"):
        assert not page.locator(hidden).first.is_visible(), f"{hidden} is printed"
    assert page.locator("h1").is_visible() and page.locator(".list-summary").is_visible()
    assert page.locator("table.item-table").is_visible()
    assert "owned by Stella Staff" in page.locator(".list-summary").inner_text()
    shot(page, tmp_path, "print")


def test_at_phone_width_the_list_and_bulk_bar_are_usable(live_server, school, browser, tmp_path):
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    sign_in(page, live_server, f"lead@{school}.example")
    page.goto(f"{live_server}/s/{school}/items?q=review")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the list is {width}px wide"
    before = _rows(page)

    page.locator("label.select-box").nth(1).click()  # "Select", beside the second item's box
    page.locator("label.select-box").nth(2).click()
    assert page.locator("#bulk-count").inner_text() == "2 selected"
    page.mouse.wheel(0, 1500)  # the bar stays in view while the list scrolls
    page.wait_for_timeout(200)
    bar = page.locator(".bulk-bar").bounding_box()
    assert 0 <= bar["y"] <= 5 and bar["width"] <= PHONE["width"]
    shot(page, tmp_path, "phone-selected")

    page.get_by_text("Change the selected items").click()
    page.get_by_label("Or move by days").fill("7")
    page.get_by_role("button", name="Move", exact=True).click()
    assert page.locator(".flash-success").inner_text() == "Moved 2 items 7 days later."
    assert "q=review" in page.url
    after = _rows(page)
    assert len(after) == len(before)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the list is {width}px wide"
    shot(page, tmp_path, "phone-moved")
    context.close()
