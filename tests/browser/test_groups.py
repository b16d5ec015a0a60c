"""The group lead on a phone: the group dashboard, a figure followed into a school, the read-only banner and
no write buttons there."""

import pytest

from .conftest import sign_in
from .helpers import PHONE, fits, shot

pytestmark = pytest.mark.browser


def test_the_group_lead_reads_a_school_from_the_group_dashboard(live_server, browser, tmp_path):
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    try:
        sign_in(page, live_server, "group@demo.example")
        page.wait_for_load_state()
        page.get_by_role("link", name="Riverside & Lakeside Schools Trust").click()
        page.wait_for_load_state()
        page.get_by_role("heading", name="Riverside & Lakeside Schools Trust").wait_for()
        region = page.get_by_role("region", name="Schools of Riverside & Lakeside Schools Trust")
        assert region.get_by_role("rowheader").count() == 2
        fits(page)  # the table scrolls inside its region, the school name stays in view
        shot(page, tmp_path, "group-dashboard")
        row = region.get_by_role("row").filter(has_text="Riverside International School")
        row.get_by_role("link").nth(1).click()  # the first figure: progress of a framework
        page.wait_for_load_state()
        page.get_by_text("Viewing as group: Riverside & Lakeside Schools Trust — read only").wait_for()
        assert "/s/demo/items?framework=" in page.url
        assert "0 items" not in page.locator("main").inner_text()
        assert page.locator("main form[method=post]").count() == 0
        assert page.get_by_role("link", name="Add an item").count() == 0
        fits(page)
        shot(page, tmp_path, "group-reads-items")
        page.locator("main a[href*='/s/demo/items/']").first.click()
        page.wait_for_load_state()
        page.get_by_text("read only").first.wait_for()
        assert (
            page.locator("main form[method=post]").count() == 0
        )  # no status, answer, comment or evidence form
        assert page.locator("main textarea, main input[type=file]").count() == 0
    finally:
        context.close()
