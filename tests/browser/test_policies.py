"""Read-and-sign in Chromium: the lead publishes a document, a staff member (in another browser context)
opens it from their list of documents to sign and acknowledges it, at phone width (390 px) too, and the lead
sees the coverage move; the demo staff member finds their documents on the dashboard. The signing test works
in a school of its own (the demo school stays as `flask demo load` left it)."""

import re
from datetime import date, timedelta

import pytest

from .conftest import sign_in
from .helpers import DESKTOP, PHONE, accept_invitation, fits, invite, own_school

pytestmark = pytest.mark.browser


def test_a_staff_member_signs_a_published_policy_and_the_lead_sees_coverage_move(
    live_server, live_flask, browser, page
):
    slug = own_school(live_flask, "sign", "Brookside Read and Sign School")
    lead_link, staff_link = invite(live_flask, slug, "lead"), invite(live_flask, slug, "staff")

    other = browser.new_context(viewport=DESKTOP)
    staff = other.new_page()
    accept_invitation(staff, live_server, staff_link, "Sam Signer")
    staff.wait_for_url(re.compile(rf"/s/{slug}/"))

    # the lead publishes the code of conduct for staff members
    accept_invitation(page, live_server, lead_link, "Lena Lead")
    page.wait_for_url(re.compile(rf"/s/{slug}/"))
    page.goto(f"{live_server}/s/{slug}/policies/")
    assert "No documents yet" in page.content()
    page.get_by_role("link", name="Publish a document").first.click()
    page.get_by_label("Title").fill("Code of conduct")
    page.get_by_label("Kind of document").select_option("code_of_conduct")
    page.get_by_label("Staff member").check()
    page.get_by_label("Version label").fill("v1")
    page.get_by_label("Or the text of the document").fill(
        "Put students' safety first. Report concerns the same day."
    )
    page.get_by_label("Read and sign by").fill((date.today() + timedelta(days=10)).isoformat())
    page.get_by_role("button", name="Publish").click()
    assert "Published" in page.locator(".flash-success").inner_text()
    coverage_url = page.url
    assert "0 of 1" in page.locator("[data-coverage]").inner_text()

    # the staff member (signed in, in a browser of their own) finds it and signs it at phone width
    staff.goto(
        f"{live_server}/s/{slug}/"
    )  # a school with no year yet: the nav's "To sign" leads to their list
    staff.get_by_role("link", name="To sign").click()
    staff.wait_for_load_state()  # a click waits for the navigation to start, not for the page to load
    assert "To read and sign (1)" in staff.content()
    staff.set_viewport_size(PHONE)
    fits(staff)
    staff.get_by_role("link", name=re.compile("Read and sign")).first.click()
    staff.wait_for_load_state()
    assert "Put students' safety first." in staff.content()
    fits(staff)
    staff.get_by_role("button", name="I have read and understood").click()
    assert "is recorded" in staff.locator(".flash-success").inner_text()
    assert "Acknowledged" in staff.content()
    fits(staff)
    staff.get_by_role("link", name="To sign").click()
    staff.wait_for_load_state()
    assert "To read and sign (0)" in staff.content() and "you are up to date" in staff.content()
    other.close()

    # the lead sees coverage move
    page.goto(coverage_url)
    assert "1 of 1" in page.locator("[data-coverage]").inner_text()
    assert "Sam Signer" in page.content() and "in the tracker" in page.content()


def test_the_demo_staff_member_sees_the_documents_to_sign_on_the_dashboard(live_server, page):
    """`flask demo load` leaves the demo staff account two documents to sign: the dashboard's "Waiting for
    you" leads to them (nothing is changed here)."""
    sign_in(page, live_server, "staff@demo.example")
    page.goto(f"{live_server}/s/demo/")
    page.get_by_role("link", name="2 documents to read and sign").click()
    page.wait_for_load_state()
    assert "Child protection policy" in page.content() and "Code of conduct" in page.content()
    page.set_viewport_size(PHONE)
    fits(page)
