"""Every role, in a real browser, does the writes its policy allows through the pages it is shown: staff (at
phone width), HR, the head, the lead and the accreditor (its one write: a query; refused elsewhere).

The tests share the live demo school with the other browser tests, so each picks its own objects and checks
only what it changed. Set ROLE_SCREENSHOTS=<folder> to keep a screenshot of each role's pages."""

import os
import re
from datetime import date, timedelta
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
    folder = os.environ.get("ROLE_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def _signed_in(page, base, email):
    sign_in(page, base, email)
    page.wait_for_url(re.compile(r"/s/demo/$"))
    page.on("dialog", lambda dialog: dialog.accept())  # the data-confirm questions ("Sign off ...?")


def _flash(page):
    return page.locator(".flash-success").inner_text()


def _open_first(page, base, query):
    """Open the first item of the item list filtered by `query`; return its URL."""
    page.goto(f"{base}/s/demo/items?{query}")
    link = page.locator("table a[href*='/items/']").first
    href = link.get_attribute("href")
    page.goto(base + href)
    return base + href


def _lead_assigns_a_policy_question_to_staff(browser, base):
    """The demo gives staff tasks but no policy question: the lead hands one over first."""
    context = browser.new_context()
    lead = context.new_page()
    _signed_in(lead, base, "lead@demo.example")
    url = _open_first(lead, base, "framework=policy-form&status=in_progress")
    lead.get_by_label("Owner").select_option(label="Sam Staff")
    lead.get_by_role("button", name="Save", exact=True).click()
    assert _flash(lead) == "Saved."
    context.close()
    return url


def test_staff_on_a_phone_marks_their_item_done_comments_answers_and_sets_reminders(
    live_server, phone_page, browser
):
    question = _lead_assigns_a_policy_question_to_staff(browser, live_server)
    page = phone_page
    _signed_in(page, live_server, "staff@demo.example")
    url = _open_first(page, live_server, "status=not_started")
    assert page.get_by_label("Owner").count() == 0 and page.get_by_label("Due date").count() == 0
    page.get_by_label("Status").select_option("done")
    page.get_by_label("Notes").fill("Done at the staff meeting.")
    page.get_by_role("button", name="Save", exact=True).click()
    assert _flash(page) == "Saved."  # what happened, on a phone, at the top of the page
    assert page.url == url
    assert page.locator(".page-head .tag").inner_text() == "Done"
    assert page.locator(".flash-success").bounding_box()["width"] <= PHONE["width"]
    _shot(page, "staff-item-saved-phone")

    page.get_by_label("Add a comment").fill("Slides are on the shared drive.")
    page.get_by_role("button", name="Add comment").click()
    assert _flash(page) == "Comment added."
    assert "Slides are on the shared drive." in page.locator("#comments").inner_text()

    page.goto(question)
    page.get_by_label("Your school's answer").fill("Covered in the staff handbook, section 4.")
    page.get_by_label("Where the school stands").select_option("partly")
    page.locator("#policy-answer").get_by_role("button", name="Save", exact=True).click()  # the one Save
    assert _flash(page) == "Saved."
    answer = page.get_by_label("Your school's answer").input_value()
    assert "Covered in the staff handbook, section 4." in answer

    page.goto(f"{live_server}/s/demo/reminders/")
    page.get_by_label("Once a week, on Monday mornings").check()
    page.get_by_role("button", name="Save", exact=True).click()
    assert _flash(page) == "Reminder setting saved."
    assert page.get_by_label("Once a week, on Monday mornings").is_checked()
    _shot(page, "staff-reminders-phone")


def test_hr_updates_a_check_adds_a_person_records_training_and_saves_its_item(live_server, page):
    _signed_in(page, live_server, "hr@demo.example")
    page.goto(f"{live_server}/s/demo/people/new")
    name = f"Browser Newcomer {date.today():%d%m}"
    page.get_by_label("Full name").fill(name)
    page.get_by_label("E-mail address").fill(f"newcomer-{os.getpid()}@demo.example")
    page.get_by_label("Start date").fill((date.today() + timedelta(days=20)).isoformat())
    page.get_by_label("Countries lived or worked in").fill("Thailand, Kenya")
    page.get_by_role("button", name=re.compile("Save|Add")).click()
    assert "is on the register with their safer-recruitment checklist" in _flash(page)
    person_url = page.url
    _shot(page, "hr-person-added")

    # each check has a page of its own (status, date, document seen, evidence, risk assessment)
    page.locator("li[id^=check-] a").first.click()
    page.get_by_role("heading", name="Record this check").wait_for()
    page.get_by_label("Stage").select_option("requested")
    page.get_by_role("button", name="Save the check").click()
    assert re.search(r": Requested\.$", _flash(page))
    assert page.url.startswith(person_url)

    page.goto(f"{live_server}/s/demo/training/record")
    page.get_by_label("Date").fill((date.today() - timedelta(days=1)).isoformat())
    page.get_by_label("Provider").fill("Regional safeguarding trainer")
    page.get_by_role("checkbox", name=name, exact=True).check()  # the people picker (training/_people_picker)
    page.get_by_role("button", name=re.compile("Record")).click()
    assert _flash(page) == "Recorded for 1 person."
    _shot(page, "hr-training-recorded")

    # an item of HR's own, saved from the fields HR's page shows
    _open_first(page, live_server, "owner=me&status=not_started&framework=action-plan")
    assert page.get_by_label("Owner").count() == 0
    page.get_by_label("Status").select_option("in_progress")
    page.get_by_role("button", name="Save", exact=True).click()
    assert _flash(page) == "Saved."
    assert page.get_by_label("Status").input_value() == "in_progress"  # the tag may say "Overdue" instead


def test_head_signs_a_risk_assessment_saves_an_item_and_opens_the_year_sign_off(live_server, page, browser):
    # HR records a risk assessment for a check that cannot be had; the head signs it
    hr_context = browser.new_context()
    hr = hr_context.new_page()
    _signed_in(hr, live_server, "hr@demo.example")
    hr.goto(f"{live_server}/s/demo/people/?filter=incomplete")
    hr.locator("table a[href*='/people/']").first.click()
    hr.get_by_role("heading", name="Safer-recruitment checklist").wait_for()
    links = [
        hr.url.split("/s/")[0] + a
        for a in hr.locator("li[id^=check-] a").evaluate_all(
            "links => links.map(a => a.getAttribute('href'))"
        )
    ]
    check_url = None
    for url in links:  # an open check with no risk assessment yet
        hr.goto(url)
        if hr.locator("#risk textarea[name=summary]").count() and "None." in hr.locator("#risk").inner_text():
            check_url = url
            break
    assert check_url, "an open check without a risk assessment on an incomplete person"
    hr.locator("#risk textarea[name=summary]").fill(
        "The former employer has closed; two references followed up by telephone."
    )
    hr.get_by_role("button", name="Record the risk assessment").click()
    assert _flash(hr) == "Risk assessment recorded. The head now needs to sign it."
    hr_context.close()

    _signed_in(page, live_server, "head@demo.example")
    page.goto(check_url)
    page.locator("#risk").get_by_role("button", name="Sign the risk assessment").click()
    assert _flash(page) == "Risk assessment signed. The checklist shows it in place of the missing check."
    assert "Signed by Harper Head" in page.locator("#risk").inner_text()

    _open_first(page, live_server, "status=not_started&framework=action-plan")
    page.get_by_label("Status").select_option("in_progress")
    page.get_by_label("Notes").fill("Agreed with the board.")
    page.get_by_role("button", name="Save", exact=True).click()
    assert _flash(page) == "Saved."

    # the head may sign off the current year (the last is signed): the sign-off page shows what is still open
    # and asks for a comment (and the password, unless confirmed recently); signing it is
    # tests/browser/test_sign_off.py's, in a school of
    # its own, so the demo year stays open for the other browser tests
    page.goto(f"{live_server}/s/demo/years")
    _shot(page, "head-years")
    page.get_by_role("link", name=re.compile(r"^Review and sign off ")).click()
    page.get_by_role("heading", name="What is still open").wait_for()  # is_visible() does not wait
    # signed in minutes ago (step-up): no password is asked again; a stale confirmation asks for it
    assert page.get_by_text("You confirmed it's you a few minutes ago").is_visible()
    assert page.get_by_label("Your password").count() == 0
    assert page.get_by_role("button", name=re.compile(r"^Sign off ")).count() == 1

    # the head manages members, but not leads, and not their own role
    page.goto(f"{live_server}/s/demo/members")
    page.get_by_role("link", name="View Dana Lead").click()
    assert "Only a safeguarding lead can change a lead's role" in page.locator("main").inner_text()
    assert page.get_by_role("button", name="Save role").count() == 0
    _shot(page, "head-lead-member-page")


def test_lead_assigns_an_owner_and_a_due_date_and_invites_an_accreditor_for_a_visit(live_server, page):
    _signed_in(page, live_server, "lead@demo.example")
    url = _open_first(page, live_server, "status=not_started&framework=training-plan")
    due = (date.today() + timedelta(days=40)).isoformat()
    page.get_by_label("Owner").select_option(label="Sam Staff")
    page.get_by_label("Due date").fill(due)
    page.get_by_role("button", name="Save", exact=True).click()
    assert _flash(page) == "Saved."
    assert page.url == url
    facts = page.locator("p.muted").first.inner_text()
    assert "owner: Sam Staff" in facts
    assert date.fromisoformat(due).strftime("%-d %B %Y") in facts
    _shot(page, "lead-item-assigned")

    page.goto(f"{live_server}/s/demo/members")
    page.get_by_label("E-mail address of the person to invite").fill("visitor@cis.example")
    page.get_by_label("Role").select_option("accreditor")
    page.get_by_label("Access ends on").fill((date.today() + timedelta(days=200)).isoformat())
    page.get_by_role("button", name="Send invitation").click()
    error = page.locator("#access_until-error").inner_text()
    assert "An accreditor's access can last at most 90 days" in error
    _shot(page, "lead-invite-too-long")
    page.get_by_label("Access ends on").fill((date.today() + timedelta(days=30)).isoformat())
    page.get_by_role("button", name="Send invitation").click()
    assert "Invitation created for visitor@cis.example" in _flash(page)


def test_accreditor_raises_a_query_is_refused_elsewhere_and_its_downloads_are_audited(
    live_server, page, browser
):
    _signed_in(page, live_server, "accreditor@demo.example")
    url = _open_first(page, live_server, "status=done")
    assert page.get_by_role("button", name="Save", exact=True).count() == 0
    assert page.get_by_role("button", name="Add comment").count() == 0
    assert page.get_by_role("button", name="Add evidence").count() == 0
    page.get_by_label("Raise a query").fill("Which staff attended? Please attach the register.")
    page.get_by_role("button", name="Send the query").click()
    assert _flash(page) == "Query sent to the school."
    _shot(page, "accreditor-query")

    # a write it is not shown is refused, with the reason: through the item form with a valid CSRF token
    page.goto(url)
    token = page.locator("input[name=csrf_token]").first.get_attribute("value")
    response = page.request.post(url, form={"csrf_token": token, "status": "done", "version": "1"})
    assert response.status == 403
    assert "Your role in this school does not allow this." in response.text()
    for path in ("/s/demo/members", "/s/demo/people/new", "/s/demo/training/record"):
        response = page.goto(live_server + path)
        assert response.status == 403, path
    _shot(page, "accreditor-refused")

    page.goto(f"{live_server}/s/demo/people/")
    with page.expect_download() as export:
        page.get_by_role("link", name=re.compile("CSV")).first.click()
    assert export.value.suggested_filename.endswith(".csv")
    context = browser.new_context()
    lead = context.new_page()
    _signed_in(lead, live_server, "lead@demo.example")
    lead.goto(f"{live_server}/s/demo/audit")
    latest = lead.locator("table.audit tbody tr").first.inner_text()
    assert "accreditor@demo.example" in latest and "register.exported" in latest
    context.close()
