"""The recruitment register in Chromium at phone width: HR filters the register to the people with gaps, runs
the validator ("Check the register"), and follows a gap's link to the check's page; the name column stays in
view while the table scrolls sideways. Reads only, so it uses the demo school."""

import re

import pytest

from .conftest import sign_in
from .helpers import PHONE, fits, shot

pytestmark = pytest.mark.browser


def test_hr_filters_gaps_checks_the_register_and_follows_a_gap(live_server, browser, tmp_path):
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    try:
        sign_in(page, live_server, "hr@demo.example")
        page.wait_for_url(re.compile(r"/s/demo/"))
        page.goto(f"{live_server}/s/demo/people/")
        page.get_by_role("heading", name="Recruitment register").wait_for()
        page.get_by_label("Only people with gaps").check()
        page.get_by_role("button", name="Apply").click()
        page.wait_for_url(re.compile(r"gaps=1"))
        page.get_by_role("heading", name="Recruitment register").wait_for()
        fits(page)

        # the table scrolls sideways inside its frame; the name column stays where it was
        wrap = page.locator(".register-wrap")
        name = page.locator("tbody th.sticky").first
        name.wait_for()
        before = name.bounding_box()["x"]
        wrap.evaluate("el => { el.scrollLeft = 600; }")
        assert wrap.evaluate("el => el.scrollLeft") > 0
        assert abs(name.bounding_box()["x"] - before) < 1 and name.is_visible()
        shot(page, tmp_path, "register-gaps")

        page.get_by_role("link", name="Check the register").click()
        page.get_by_role("heading", name="Check the register").wait_for()
        counts = page.locator(".check-counts").inner_text()
        assert re.search(r"\d+ gaps?", counts) and "people with gaps" in counts
        fits(page)
        shot(page, tmp_path, "register-check")
        link = page.locator("a.gap-link").first
        href = link.get_attribute("href")
        link.click()
        page.wait_for_url(re.compile(re.escape(href) + "$"))
        page.get_by_role("heading").first.wait_for()
        assert "/checks/" in page.url
    finally:
        context.close()
