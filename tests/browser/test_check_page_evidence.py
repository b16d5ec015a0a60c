"""A staff upload on a recruitment check, in Chromium at phone width: the school's office assistant (a staff
member) holds the HR role's items, so the checks of a new hire are theirs; they add a scan to a check from its
item page, where it waits for verification. HR sees it on the check's page as pending (HR verifies
certificates, not evidence: no button for them); the safeguarding lead verifies it on the same page and comes
back to it, and HR sees it counted. Screenshots of the check page and of the validator ("Check the register")
at both widths. Runs in a school of its own (it adds a person)."""

import re
from datetime import date, timedelta

import pytest

from .helpers import DESKTOP, PHONE, accept_invitation, fits, invite, own_school, shot

pytestmark = pytest.mark.browser

CHECK = "Identity verified in person or by video"


def _phone(browser):
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    return context, page


def test_hr_sees_a_staff_upload_pending_on_the_check_page_and_the_lead_verifies_it_there(
    live_server, live_flask, browser, tmp_path
):
    slug = own_school(live_flask, "chkev", "Checkley Evidence School")
    links = {role: invite(live_flask, slug, role) for role in ("staff", "lead", "hr")}
    contexts = {}
    pages = {}
    try:
        for role, name in (("staff", "Stella Office"), ("lead", "Lee Lead"), ("hr", "Hari Records")):
            contexts[role], pages[role] = _phone(browser)
            accept_invitation(pages[role], live_server, links[role], name)
            pages[role].wait_for_url(re.compile(rf"/s/{slug}/"))
        staff, lead, hr = pages["staff"], pages["lead"], pages["hr"]

        # the lead names the office assistant as the holder of the HR role's items
        lead.goto(f"{live_server}/s/{slug}/roles")
        lead.get_by_label("HR / recruitment").select_option(label="Stella Office")
        lead.get_by_role("button", name="Save", exact=True).click()
        lead.get_by_role("heading", name="Who holds each role?").wait_for()

        # HR adds a hire: the new checks belong to the holder
        hr.goto(f"{live_server}/s/{slug}/people/new")
        hr.get_by_label("Full name").fill("Nora Newhire")
        hr.get_by_label("Start date").fill((date.today() + timedelta(days=10)).isoformat())
        hr.get_by_label("Countries lived or worked in").fill("Kenya")
        hr.get_by_role("button", name="Add to the register").click()
        hr.get_by_role("heading", name="Nora Newhire").wait_for()
        hr.get_by_role("link", name=CHECK).click()
        hr.get_by_role("heading", name=CHECK).wait_for()
        check_url = hr.url.split("#")[0]
        item_id = re.search(r"/checks/([0-9a-f-]+)$", check_url).group(1)
        assert "Stella Office" in hr.locator("main").inner_text()  # the owner

        # the office assistant adds a scan from the check's item page: it is pending
        staff.goto(f"{live_server}/s/{slug}/items/{item_id}")
        staff.get_by_role("heading", name=CHECK).wait_for()
        staff.get_by_label("Files").set_input_files(
            files=[{"name": "nora-passport.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4\n%\n"}]
        )
        staff.get_by_role("button", name="Add evidence").click()
        staff.locator(".flash-success").wait_for()
        assert "sent for verification" in staff.locator(".flash-success").inner_text()
        fits(staff)

        # HR, on the check page: the upload shows as pending, with nothing for HR to press
        hr.goto(check_url)
        evidence = hr.locator("#evidence")
        row = evidence.locator("li", has_text="nora-passport.pdf")
        assert "Pending verification" in row.inner_text()
        assert "Not counted until the safeguarding lead or the head verifies it" in row.inner_text()
        assert row.get_by_role("button").count() == 0
        fits(hr)
        shot(hr, tmp_path, "check-pending")

        # the lead verifies it on the check page and is back on it
        lead.goto(check_url)
        row = lead.locator("#evidence li", has_text="nora-passport.pdf")
        assert "Pending verification" in row.inner_text()
        fits(lead)
        shot(lead, tmp_path, "check-pending-lead")
        row.get_by_role("button", name=re.compile(r"^Verify")).click()
        lead.locator(".flash-success").wait_for()
        assert lead.url.split("#")[0] == check_url
        assert "verified. It now counts" in lead.locator(".flash-success").inner_text()
        assert "Pending verification" not in lead.locator("#evidence").inner_text()
        assert lead.get_by_role("link", name="nora-passport.pdf").is_visible()
        fits(lead)

        hr.reload()
        assert "Pending verification" not in hr.locator("#evidence").inner_text()
        assert hr.get_by_role("link", name="nora-passport.pdf").is_visible()
        shot(hr, tmp_path, "check-verified")

        # the validator, by person, at both widths
        hr.goto(f"{live_server}/s/{slug}/people/check?view=process")
        group = hr.locator("tbody.gap-group", has_text="Nora Newhire")
        assert re.search(r"\d+ gaps?", group.locator("tr.gap-person").inner_text())
        fits(hr)
        shot(hr, tmp_path, "register-check")
        hr.set_viewport_size(DESKTOP)
        fits(hr)
        shot(hr, tmp_path, "register-check")
        hr.goto(check_url)
        fits(hr)
        shot(hr, tmp_path, "check-verified")
    finally:
        for context in contexts.values():
            context.close()
