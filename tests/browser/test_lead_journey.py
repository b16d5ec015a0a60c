"""A safeguarding lead, in a real browser: completes an item, uploads evidence, sees the dashboard move."""

import re

import pytest

from .conftest import sign_in

pytestmark = pytest.mark.browser


def _action_plan_done(page):
    text = (
        page.locator("details.progress-block", has_text="Annual Safeguarding Action Plan")
        .locator(".progress-figure")
        .inner_text()
    )
    return int(re.match(r"(\d+) of", text).group(1))


def test_a_lead_completes_an_item_with_evidence_and_the_dashboard_progress_moves(live_server, page, tmp_path):
    sign_in(page, live_server, "lead@demo.example")
    page.wait_for_url(re.compile(r"/s/demo/$"))
    before = _action_plan_done(page)

    page.goto(live_server + "/s/demo/items?framework=action-plan&status=not_started")
    page.locator("table tbody a[href*='/items/']").first.click()  # the first item, not a sort heading
    title = page.locator("h1").inner_text()

    page.get_by_label("Status").select_option("done")
    page.get_by_role("button", name="Save", exact=True).click()
    assert page.locator(".flash-success").inner_text() == "Saved."

    evidence = tmp_path / "Signed attendance.pdf"
    evidence.write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")
    page.get_by_label("Files").set_input_files(str(evidence))
    page.get_by_role("button", name="Add evidence").click()
    assert "Evidence added" in page.locator(".flash-success").inner_text()
    assert page.locator("#evidence").get_by_role("link", name="Signed attendance.pdf").is_visible()
    assert page.locator("#evidence code.hash").first.inner_text().strip() != ""

    page.get_by_role("link", name="Home").click()
    assert _action_plan_done(page) == before + 1
    assert title  # the item we completed had a title on its page


def test_a_staff_member_sees_only_their_own_items(live_server, page):
    sign_in(page, live_server, "staff@demo.example")
    page.goto(live_server + "/s/demo/items")
    owners = page.locator("td[data-label=Owner]").all_inner_texts()
    assert owners and set(owners) == {"Sam Staff"}
