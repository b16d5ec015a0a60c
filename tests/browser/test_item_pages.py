"""The item and policy pages in Chromium: on a phone the status form comes before evidence and comments; a
policy question is saved with its one Save and the history says so in a sentence; a PDF download shows that it
is working instead of a silent wait. Whatever a test changes in the demo school it puts back."""

import os
import re
from pathlib import Path

import pytest

from .conftest import sign_in

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def phone_page(browser):
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    yield page
    context.close()


def _shot(page, name):
    folder = os.environ.get("ITEM_PAGE_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def _first_item(page, base, query):
    page.goto(f"{base}/s/demo/items?{query}")
    href = page.locator("table a[href*='/items/']").first.get_attribute("href")
    page.goto(base + href)
    return base + href


def _top(page, selector):
    return page.locator(selector).first.bounding_box()["y"]


def test_on_a_phone_the_status_form_comes_before_evidence_and_comments(live_server, phone_page, page):
    sign_in(phone_page, live_server, "lead@demo.example")
    url = _first_item(phone_page, live_server, "framework=action-plan")
    update = phone_page.get_by_role("heading", name="Update")
    assert update.is_visible()
    assert _top(phone_page, ".item-side") < _top(phone_page, "#evidence") < _top(phone_page, "#comments")
    # keyboard order follows: the status select is reached before the evidence form's first field
    order = phone_page.evaluate(
        """() => {
            const all = [...document.querySelectorAll('main select, main input, main textarea, main button')];
            return [all.indexOf(document.querySelector('#status')),
                    all.indexOf(document.querySelector('#evidence input, #evidence button'))];
        }"""
    )
    assert 0 <= order[0] < order[1], order
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    _shot(phone_page, "item-phone")

    # on a wide screen the update form sits in the right-hand column, beside the guidance and evidence
    sign_in(page, live_server, "lead@demo.example")
    page.goto(url)
    side = page.locator(".item-side").bounding_box()
    main = page.locator(".item-main").bounding_box()
    assert side["x"] > main["x"] + main["width"] - 1 and abs(side["y"] - main["y"]) < 2
    history = page.locator("#history").bounding_box()
    assert history["x"] == pytest.approx(side["x"], abs=2) and history["y"] > side["y"]
    _shot(page, "item-wide")


def test_a_lead_on_a_phone_saves_a_policy_answer_with_one_save_and_the_history_says_so(
    live_server, phone_page
):
    page = phone_page
    sign_in(page, live_server, "lead@demo.example")
    url = _first_item(page, live_server, "framework=policy-form&status=in_progress")
    form = page.locator("#policy-answer form")
    assert form.get_by_role("button").count() == 1, "one Save"
    assert page.get_by_label("Status", exact=True).count() == 0, "one status: where the school stands"
    assert page.locator("form[action$='/answer']").count() == 1
    answer = page.get_by_label("Your school's answer")
    assert answer.bounding_box()["height"] >= 150, "a text box sized for an answer"
    assert answer.bounding_box()["x"] + answer.bounding_box()["width"] <= PHONE["width"]
    # the answer form comes before the evidence
    assert _top(page, "#policy-answer") < _top(page, "#evidence") < _top(page, "#comments")
    original = answer.input_value()

    try:
        answer.fill(original + "\nChecked again with the board in the browser test.")
        before = answer.bounding_box()["height"]
        answer.fill((original + "\n") * 12)  # the box grows with what is written
        assert answer.bounding_box()["height"] > before
        answer.fill(original + "\nChecked again with the board in the browser test.")
        form.get_by_role("button", name="Save", exact=True).click()
        assert page.locator(".flash-success").inner_text() == "Saved."
        first = page.locator("#history li").first.inner_text()
        assert re.match(r"^Dana Lead updated the answer, \d{1,2} [A-Z][a-z]{2}( \d{4})? \d\d:\d\d$", first), (
            first
        )
        assert "Checked again with the board" in page.get_by_label("Your school's answer").input_value()
        page.locator("summary", has_text="Earlier versions").click()
        earlier = page.locator(".earlier-versions").inner_text()
        assert "Checked again with the board" not in earlier, "the current answer is not an earlier version"
        _shot(page, "policy-phone")
    finally:
        page.goto(url)  # put the demo answer back as it was
        page.get_by_label("Your school's answer").fill(original)
        page.locator("#policy-answer").get_by_role("button", name="Save", exact=True).click()
        assert page.locator(".flash-success").inner_text() == "Saved."
    assert page.get_by_label("Your school's answer").input_value() == original


#: records every message the page's aria-live status region says, however quickly it changes
WATCH_STATUS = """
window.__said = [];
document.addEventListener('DOMContentLoaded', () => {
  let last = null;
  new MutationObserver(() => {
    const live = document.getElementById('pdf-status');
    const now = live ? live.textContent : null;
    if (now && now !== last) window.__said.push(now);
    last = now;
  }).observe(document.body, {childList: true, characterData: true, subtree: true});
});
"""


def _download_with_progress(page, link, label):
    """Click a PDF link: a progress box shows at once, the status region says it is working and then that the
    file was saved, and the page stays where it is."""
    url = page.url
    with page.expect_download(timeout=120_000) as download:
        link.click()
        assert page.locator("[data-pdf-box]").is_visible(), "the click shows a progress box at once"
    assert download.value.suggested_filename.endswith(".pdf")
    page.wait_for_function("window.__said.some(s => s.startsWith('Ready'))")
    said = page.evaluate("window.__said")
    assert said[0].startswith(f"Making “{label}”"), said
    assert said[-1].startswith("Ready: ") and said[-1].endswith(".pdf was downloaded."), said
    assert page.locator("[data-pdf-text]").inner_text() == said[-1]
    assert not page.locator("[data-pdf-box] progress").is_visible(), "the bar goes once the file is saved"
    assert page.locator("#pdf-status").get_attribute("aria-live") == "polite"
    assert page.url == url, "the page stays, the file is saved"


@pytest.mark.parametrize("width", [1280, PHONE["width"]])
def test_a_pdf_download_shows_progress_instead_of_a_silent_wait(live_server, browser, width):
    context = browser.new_context(viewport={"width": width, "height": 900}, accept_downloads=True)
    page = context.new_page()
    try:
        page.add_init_script(WATCH_STATUS)
        sign_in(page, live_server, "lead@demo.example")
        page.goto(f"{live_server}/s/demo/reports/")
        label = "Accreditation report (PDF)"
        _download_with_progress(page, page.get_by_role("link", name=label), label)
        box = page.locator("[data-pdf-box]").bounding_box()
        assert box["x"] + box["width"] <= width
        _shot(page, f"pdf-progress-{width}")

        # the dashboard's download button says it is working too
        page.goto(f"{live_server}/s/demo/")
        page.evaluate("window.__said = []")
        label = "Download the accreditation report (PDF)"
        _download_with_progress(page, page.get_by_role("link", name=label), label)
    finally:
        context.close()
