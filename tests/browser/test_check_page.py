"""A recruitment check in Chromium, at phone width: HR adds a hire starting in ten days (a late hire: nothing
is overdue, the pre-start checks say "needed before day one"), completes a check with its document and
evidence on the check's one page, and sees the register show it. Runs in a school of its own (it adds a
person)."""

import re
from datetime import date, timedelta

import pytest

from .helpers import PHONE, accept_invitation, fits, invite, own_school, shot

pytestmark = pytest.mark.browser


def test_hr_adds_a_hire_and_completes_a_check_with_evidence_on_one_page(
    live_server, live_flask, browser, tmp_path
):
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    try:
        slug = own_school(live_flask, "checks", "Riverside Checks School")
        accept_invitation(page, live_server, invite(live_flask, slug, "hr"), "Hari Records")
        page.wait_for_url(re.compile(rf"/s/{slug}/$"))

        page.goto(f"{live_server}/s/{slug}/people/new")
        page.get_by_label("Full name").fill("Nora Newhire")
        page.get_by_label("Start date").fill((date.today() + timedelta(days=10)).isoformat())
        page.get_by_label("Countries lived or worked in").fill("Brasil")
        page.get_by_role("button", name="Add to the register").click()
        page.get_by_role("heading", name="Nora Newhire").wait_for()
        summary = page.locator(".check-summary").inner_text()
        assert "0 overdue" in summary and "needed before day one" in summary and "Next action:" in summary
        assert "Brazil" in page.content()  # "Brasil" matched forgivingly
        fits(page)
        shot(page, tmp_path, "person")

        page.get_by_role("link", name="Identity verified in person or by video").click()
        page.get_by_role("heading", name="Identity verified in person or by video").wait_for()
        fits(page)
        page.get_by_label("Stage").select_option("verified")
        page.get_by_label("Document seen").select_option("passport")
        page.get_by_label("Document reference").fill("ends 4821")
        page.get_by_label("Evidence files").set_input_files(
            files=[{"name": "identity-check.txt", "mimeType": "text/plain", "buffer": b"Seen on video."}]
        )
        page.get_by_role("button", name="Save the check").click()
        page.locator(".flash-success").wait_for()
        assert "Evidence added (1)" in page.locator(".flash-success").inner_text()
        assert page.get_by_role("link", name="identity-check.txt").is_visible()
        assert "Verified on" in page.locator("#update").inner_text()
        assert "Hari Records" in page.locator("#update").inner_text()
        fits(page)
        shot(page, tmp_path, "check")

        page.goto(f"{live_server}/s/{slug}/people/")
        row = page.locator("tr", has_text="Nora Newhire").first
        row.wait_for()
        assert "Verified" in row.inner_text()
    finally:
        context.close()
