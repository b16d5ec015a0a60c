"""Accreditation in a real browser: the head downloads the report; the accreditor opens evidence and raises a
query; the lead answers it in the same thread."""

import re

import pytest

from .conftest import sign_in

pytestmark = pytest.mark.browser


def _sign_out(page):
    page.get_by_role("button", name="Sign out").click()


def test_head_downloads_the_report_accreditor_raises_a_query_and_lead_answers(live_server, page, tmp_path):
    sign_in(page, live_server, "head@demo.example")
    page.wait_for_url(re.compile(r"/s/demo/$"))
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download the accreditation report (PDF)").click()
    download = download_info.value
    target = tmp_path / "report.pdf"
    download.save_as(target)
    assert target.read_bytes()[:5] == b"%PDF-"
    assert download.suggested_filename.endswith(".pdf")
    page.goto(live_server + "/s/demo/reports/")
    assert (
        page.locator("#signed code.hash").first.inner_text().strip()
    )  # last year's frozen report, with its hash
    _sign_out(page)

    sign_in(page, live_server, "accreditor@demo.example")
    page.wait_for_url(re.compile(r"/s/demo/$"))
    page.goto(live_server + "/s/demo/items?status=done")
    evidence_link = None
    for link in page.locator("table a").all()[:30]:
        page_url = link.get_attribute("href")
        probe = page.context.new_page()
        probe.goto(live_server + page_url)
        if probe.locator("#evidence .evidence-list a[href*='/evidence/']").count():
            evidence_link = page_url
            probe.close()
            break
        probe.close()
    assert evidence_link, "the demo has done items with evidence files"
    page.goto(live_server + evidence_link)
    with page.expect_download() as evidence_download:
        page.locator("#evidence .evidence-list a[href*='/evidence/']").first.click()
    assert evidence_download.value.suggested_filename
    assert page.get_by_role("button", name="Save", exact=True).count() == 0  # read-only everywhere else
    page.get_by_label("Raise a query").fill("Please show the signed attendance sheet for this session.")
    page.get_by_role("button", name="Send the query").click()
    assert page.locator(".flash-success").inner_text() == "Query sent to the school."
    thread_url = page.url
    _sign_out(page)

    sign_in(page, live_server, "lead@demo.example")
    page.wait_for_url(re.compile(r"/s/demo/$"))
    page.goto(live_server + "/s/demo/review/?state=open")
    page.goto(thread_url)
    assert "Please show the signed attendance sheet" in page.locator("#thread").inner_text()
    page.get_by_label("Your message").fill("The signed sheet is now attached to the item.")
    page.get_by_role("button", name="Send the answer").click()
    assert page.locator(".flash-success").inner_text() == "Answer sent to the accreditor."
    assert page.locator(".page-head .tag").inner_text() == "Answered"
    assert "The signed sheet is now attached" in page.locator("#thread").inner_text()
