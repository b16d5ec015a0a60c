"""A head signs off a year in Chromium: the sign-off page shows what is still open, the head adds a comment,
ticks that they reviewed it (just signed in, no password is asked again: step-up), watches the report being
frozen and downloads the signed report, whose sign-off section carries the comment. The summary is also
checked at phone width (390 px). The school is the test's own: the demo school's year is never signed off."""

import io
import re
from datetime import date
from pathlib import Path

import pytest
from pypdf import PdfReader

from .helpers import DESKTOP, PHONE, accept_invitation, fits, invite, own_school, shot

pytestmark = pytest.mark.browser

COMMENT = "Two recruitment files are still being completed; the governors will review them in March."


def test_a_head_reviews_what_is_open_comments_confirms_and_downloads_the_signed_report(
    live_server, live_flask, page, tmp_path
):
    slug = own_school(live_flask, "signoff", "Brookside Sign-off School")
    accept_invitation(page, live_server, invite(live_flask, slug, "head"), "Hana Head")
    page.wait_for_url(re.compile(rf"/s/{slug}/"))

    # a year with open work (the plain start form's POST; the guided setup is another test's business)
    today = date.today()
    page.goto(f"{live_server}/s/{slug}/years")
    token = page.locator("input[name=csrf_token]").first.get_attribute("value")
    started = page.request.post(
        f"{live_server}/s/{slug}/years/start",
        form={"csrf_token": token, "start_year": str(today.year if today.month >= 8 else today.year - 1)},
    )
    assert started.ok, started.status
    page.goto(f"{live_server}/s/{slug}/years")
    page.get_by_role("link", name=re.compile("Review and sign off")).click()
    page.wait_for_url(re.compile(r"/years/[0-9a-f-]+/signoff$"))

    # the summary: what is still open, each with a link to the list behind it
    assert page.get_by_role("heading", name="What is still open").is_visible()
    open_items = page.locator("section.sign-off-group:has(#open-open) a").first
    assert re.search(r"\d+ open items? in ", open_items.inner_text())
    assert "/items?" in open_items.get_attribute("href")
    shot(page, tmp_path, "1-summary")
    page.set_viewport_size(PHONE)
    fits(page)
    shot(page, tmp_path, "1-summary")
    page.set_viewport_size(DESKTOP)

    # nothing is signed without ticking the review; the head signed in minutes ago, so no password is asked
    # (tests/test_step_up.py: after TRACKER_STEP_UP_MINUTES it is)
    page.get_by_label("Comment for the report (optional)").fill(COMMENT)
    assert page.get_by_label("Your password").count() == 0
    assert "no password or code is needed now" in page.locator("main").inner_text()
    page.get_by_role("button", name=re.compile("^Sign off ")).click()
    assert "I have reviewed what is still open" in page.locator(".error-summary").inner_text()
    page.get_by_label("I have reviewed what is still open").check()
    assert page.get_by_label("Comment for the report (optional)").input_value() == COMMENT
    page.get_by_role("button", name=re.compile("^Sign off ")).click()

    # signing: the page follows the job until the report is stored, then says who signed off
    page.wait_for_selector("text=Signed off by Hana Head", timeout=120_000)
    shot(page, tmp_path, "2-signed")
    assert COMMENT in page.locator("#sign-off-done").inner_text()
    with page.expect_download() as info:
        page.get_by_role("link", name="Download the signed report (PDF)").click()
    pdf = Path(info.value.path()).read_bytes()
    text = "".join("".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages).split())
    assert "SignedoffbyHanaHead" in text and "".join(COMMENT.split()) in text
    assert "Audittrailatsign-off" in text

    # the years page says so too, with the comment
    page.goto(f"{live_server}/s/{slug}/years")
    body = page.locator("main").inner_text()
    assert "Signed off by Hana Head" in body and "Two recruitment files" in body
    page.set_viewport_size(PHONE)
    fits(page)
    shot(page, tmp_path, "3-years")
