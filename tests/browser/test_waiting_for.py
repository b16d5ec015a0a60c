"""Waiting for you, in a real browser: an accreditor raises a query; the lead sees it first on the dashboard,
opens it from there and answers it, and the line goes; at 390 px the panel still comes first."""

import re

import pytest

from .conftest import sign_in

pytestmark = pytest.mark.browser

QUERY = re.compile(r"^(\d+) accreditor quer(y|ies) to answer$")


def _sign_out(page):
    page.get_by_role("button", name="Sign out").click()


def _queries_line(page):
    """(how many queries the lead's "Waiting for you" panel says are waiting, its link), or (0, None)."""
    panel = page.locator("section.waiting")
    assert panel.get_by_role("heading", name="Waiting for you").is_visible()
    for link in panel.get_by_role("link").all():
        found = QUERY.match(link.inner_text().strip())
        if found:
            return int(found.group(1)), link
    return 0, None


def test_the_lead_sees_a_new_query_waiting_opens_it_from_the_dashboard_and_answers_it(live_server, page):
    sign_in(page, live_server, "lead@demo.example")
    page.wait_for_url(re.compile(r"/s/demo/$"))
    before, _ = _queries_line(page)
    _sign_out(page)

    sign_in(page, live_server, "accreditor@demo.example")
    page.wait_for_url(re.compile(r"/s/demo/$"))
    page.locator(".item-list a").first.click()
    page.get_by_label("Raise a query").fill("Where is the record of who attended?")
    page.get_by_role("button", name="Send the query").click()
    assert page.locator(".flash-success").inner_text() == "Query sent to the school."
    thread_path = re.sub(r"^https?://[^/]+", "", page.url)
    _sign_out(page)

    sign_in(page, live_server, "lead@demo.example")
    page.wait_for_url(re.compile(r"/s/demo/$"))
    waiting, link = _queries_line(page)
    assert waiting == before + 1, "the new query waits for the lead on the dashboard"
    link.click()
    if not page.url.endswith(thread_path):  # several waiting: the list of open queries, ours among them
        assert "state=open" in page.url
        page.locator(f'a[href="{thread_path}"]').first.click()
    page.wait_for_url(re.compile(re.escape(thread_path) + "$"))
    assert "Where is the record of who attended?" in page.locator("#thread").inner_text()
    page.get_by_label("Your message").fill("The attendance sheet is attached to the item.")
    page.get_by_role("button", name="Send the answer").click()
    assert page.locator(".flash-success").inner_text() == "Answer sent to the accreditor."

    page.goto(live_server + "/s/demo/")
    after, link = _queries_line(page)
    assert after == before, "answered: the line counts one fewer (or is gone)"
    if before == 0:
        assert link is None

    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    panel = page.locator("section.waiting").bounding_box()
    assert panel is not None and panel["y"] < 844, "the panel is on the first screen of a phone"
    for later in (
        ".tiles",
        "section.panel:has(h2:text('Progress'))",
        "section.panel:has(h2:text('Overdue'))",
    ):
        assert panel["y"] < page.locator(later).first.bounding_box()["y"], later
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, "nothing wider than the phone"
