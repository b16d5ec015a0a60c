"""A safeguarding lead, in a real browser, from an item: searches the library for "police check", opens the
top result, downloads the document the installation attached to it, and goes back to the item; then the same
at phone width (390 px)."""

import re

import pytest

from .conftest import sign_in

pytestmark = pytest.mark.browser

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@pytest.fixture
def checklist_attached(live_flask, tmp_path):
    """The installation's copy of the safer-recruitment checklist, loaded as an operator would."""
    folder = tmp_path / "library-files"
    folder.mkdir()
    (folder / "safer-recruitment-checklist.pdf").write_bytes(PDF)
    out = live_flask("library", "load-files", str(folder))
    assert "attached  safer-recruitment-checklist.pdf -> safer-recruitment-checklist" in out


def _from_an_item_to_the_checklist_and_back(page, base, tmp_path):
    page.goto(base + "/s/demo/items?framework=action-plan")
    page.locator("table tbody a[href*='/items/']").first.click()
    item_url = page.url
    item_title = page.locator("h1").inner_text()

    page.get_by_label("Search the library").fill("police check")
    page.get_by_role("button", name="Search the library").click()
    results = page.locator("ol.results h2.result-title a")
    assert results.first.inner_text() == "ITFCP Safer Recruitment Checklist"
    results.first.click()
    assert page.locator("h1").inner_text() == "ITFCP Safer Recruitment Checklist"

    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile(r"^Download safer-recruitment-checklist\.pdf")).click()
    saved = tmp_path / "downloaded.pdf"
    download.value.save_as(saved)
    assert saved.read_bytes() == PDF

    page.get_by_role("link", name="← Back to the item").click()
    assert page.url == item_url
    assert page.locator("h1").inner_text() == item_title


def test_a_lead_finds_the_checklist_downloads_it_and_returns_to_the_item(
    live_server, page, checklist_attached, tmp_path
):
    sign_in(page, live_server, "lead@demo.example")
    page.wait_for_url(re.compile(r"/s/demo/$"))
    _from_an_item_to_the_checklist_and_back(page, live_server, tmp_path)

    # the same at phone width, and nothing makes the pages scroll sideways
    page.set_viewport_size({"width": 390, "height": 844})
    _from_an_item_to_the_checklist_and_back(page, live_server, tmp_path)
    pages = ("/s/demo/library/", "/s/demo/library/?q=police+check", "/s/demo/library/r/sexting-in-schools")
    for path in pages:
        page.goto(live_server + path)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, path


def test_the_library_front_page_marks_our_own_choices_and_superseded_guidance(live_server, page):
    sign_in(page, live_server, "lead@demo.example")
    page.goto(live_server + "/s/demo/library/")
    assert "this tracker's own choice, not the portal's" in page.locator("main").inner_text()
    page.goto(live_server + "/s/demo/library/r/sexting-in-schools")
    note = page.get_by_role("note")
    assert "Superseded" in note.inner_text()
    note.get_by_role("link").click()
    assert page.locator("h1").inner_text().startswith("Sharing nudes and semi-nudes")
