"""Staff self-service in Chromium: a staff member at phone width sends their own training certificate, it
stays pending (not counted) until HR verifies it, then coverage moves; and the touch-friendly people picker
(search, select all in a group, the live count, pre-filled from a coverage drill-down).

The tests share the live demo school with the other browser tests: the certificate's session is deleted again
at the end, and the picker test records nothing."""

import re
from datetime import date, timedelta

import pytest

from .conftest import sign_in

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
PDF = b"%PDF-1.4\n% a training certificate\n"


@pytest.fixture
def phone_page(browser):
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    yield page
    context.close()


def _signed_in(page, base, email):
    sign_in(page, base, email)
    page.wait_for_url(re.compile(r"/s/demo/$"))


def _not_wider_than_the_screen(page):
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"] + 1


def _training_states(page):
    """{activity title: state text} from the staff member's own page."""
    states = {}
    for text in page.locator("section:has(h2:text-is('My training')) li").all_inner_texts():
        title, _, state = text.rpartition(":")
        states[title.strip()] = state.strip()
    return states


def _current_count(page, base, title):
    page.goto(f"{base}/s/demo/training/")
    row = page.locator("table.coverage tbody tr", has_text=title).first
    return int(row.locator("td[data-label='Current']").inner_text().strip())


def test_staff_sends_a_certificate_at_phone_width_hr_verifies_it_and_coverage_moves(
    browser, live_server, phone_page
):
    base = live_server
    staff = phone_page
    _signed_in(staff, base, "staff@demo.example")
    staff.goto(f"{base}/s/demo/people/me")
    states = _training_states(staff)
    # an activity the staff member is not current in (never, overdue, expiring): a new certificate makes it so
    title = next(t for t, s in states.items() if s.startswith(("Not done yet", "Overdue", "Expires")))

    hr_context = browser.new_context(viewport={"width": 1280, "height": 900})
    hr = hr_context.new_page()
    hr.on("dialog", lambda dialog: dialog.accept())
    _signed_in(hr, base, "hr@demo.example")
    before = _current_count(hr, base, title)

    # the staff member, on a phone, sends the certificate
    staff.get_by_role("link", name="Add a training certificate").click()
    staff.get_by_label("Training activity").select_option(label=title)
    staff.get_by_label("Date of the training").fill((date.today() - timedelta(days=2)).isoformat())
    staff.get_by_label("Provider").fill("Online course")
    staff.get_by_label("Certificate", exact=True).set_input_files(
        files=[{"name": "my-certificate.pdf", "mimeType": "application/pdf", "buffer": PDF}]
    )
    _not_wider_than_the_screen(staff)
    staff.get_by_role("button", name="Send for verification").click()
    staff.wait_for_url(re.compile(r"/people/me"))
    assert "Certificate sent" in staff.locator(".flash-success").inner_text()
    mine = staff.locator("#my-certificates")
    assert "Pending verification" in mine.inner_text() and title in mine.inner_text()
    assert _training_states(staff)[title] == states[title] + " certificate pending verification"  # not yet
    _not_wider_than_the_screen(staff)

    # HR finds it on the "To verify" list: coverage has not moved yet
    assert _current_count(hr, base, title) == before
    hr.get_by_role("link", name=re.compile(r"^To verify \([1-9]")).click()
    hr.wait_for_url(re.compile(r"/training/to-verify$"))
    entry = hr.locator("li[id^='certificate-']", has_text="Sam Staff").filter(has_text=title).first
    session_id = entry.get_attribute("id").removeprefix("certificate-")
    entry.get_by_role("button", name=re.compile(r"^Verify")).click()
    assert "Certificate verified" in hr.locator(".flash-success").inner_text()
    assert _current_count(hr, base, title) == before + 1

    # the staff member sees the outcome, and the training now counts
    staff.reload()
    assert "Verified" in staff.locator("#my-certificates").inner_text()
    assert _training_states(staff)[title] == "Current"

    # restore the demo school: the session goes again (audited), coverage is back where it was
    hr.goto(f"{base}/s/demo/training/sessions/{session_id}/edit")
    hr.get_by_role("button", name="Delete the session").click()
    assert _current_count(hr, base, title) == before
    hr_context.close()


def test_the_people_picker_by_touch_search_select_all_and_drill_down(live_server, phone_page):
    base = live_server
    lead = phone_page
    _signed_in(lead, base, "lead@demo.example")
    lead.goto(f"{base}/s/demo/training/record")
    picker = lead.locator("[data-picker]")
    count = picker.locator("[data-picker-count]")
    assert count.inner_text() == "0 selected"
    assert lead.locator("select[multiple]").count() == 0

    # search narrows the list; "select all" ticks only the people shown in that group
    search = lead.get_by_label("Find by name")
    search.tap()
    search.fill("sam")
    visible = picker.locator("li[data-name]:visible")
    names = visible.all_inner_texts()
    assert names and all("sam" in n.lower() for n in names)
    group = picker.locator("[data-picker-group]:visible").first
    shown_in_group = group.locator("li[data-name]:visible").count()
    group.locator("[data-picker-all]").tap()
    assert count.inner_text() == f"{shown_in_group} selected"
    _not_wider_than_the_screen(lead)

    # clearing the search shows everyone again; the ticks stay; one more by touch
    search.fill("")
    assert picker.locator("li[data-name]:visible").count() > len(names)
    unticked = picker.locator("li[data-name] input[type=checkbox]:not(:checked)").first
    unticked.tap()
    assert count.inner_text() == f"{shown_in_group + 1} selected"
    group.locator("[data-picker-all]").focus()
    lead.keyboard.press("Space")  # the keyboard works too: "select all" of the first group
    assert count.inner_text().endswith("selected")

    # from a coverage drill-down, the people behind the number come ticked
    lead.goto(f"{base}/s/demo/training/")
    link = lead.locator("table.coverage a.tag-muted, table.coverage a.tag-danger").first
    expected = int(link.inner_text())
    link.click()
    lead.get_by_role("link", name=re.compile(r"^Record attendance for these")).click()
    lead.wait_for_url(re.compile(r"/training/record\?activity="))
    assert lead.locator("[data-picker-count]").inner_text() == f"{expected} selected"
    assert lead.locator("li[data-name] input:checked").count() == expected
    assert "already ticked" in lead.locator(".notice").inner_text()
    _not_wider_than_the_screen(lead)
