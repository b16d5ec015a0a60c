"""Text that cannot go where it is used: one-line fields refuse control characters, text areas refuse all
but new lines and tabs; every form derives from tracker.forms_common.Form, which takes its values from the
request on a submission."""

import inspect

import pytest
from wtforms import PasswordField, StringField, TextAreaField

from tracker.extensions import db
from tracker.forms_common import Form
from tracker.validation import MultiLine, SingleLine, check_text

from .conftest import audit_count
from .test_date_policy import all_form_classes
from .world import build_worlds, sign_in

FORMS = all_form_classes()


def _bound(cls, app, method="GET", data=None):
    kwargs = {"manage": True} if "manage" in inspect.signature(cls.__init__).parameters else {}
    with app.test_request_context("/", method=method, data=data):
        return cls(**kwargs)


def test_every_form_of_the_tracker_derives_from_the_base_form():
    assert len(FORMS) >= 25, [c.__name__ for c in FORMS]
    outside = [f"{c.__module__}.{c.__qualname__}" for c in FORMS if not issubclass(c, Form)]
    assert outside == [], "derive these from tracker.forms_common.Form"


@pytest.mark.parametrize("cls", FORMS, ids=[c.__qualname__ for c in FORMS])
def test_every_text_field_carries_its_control_character_check(app, cls):
    """A new StringField or TextAreaField without the check fails here (the base form adds it)."""
    form = _bound(cls, app)
    for field in form:
        if isinstance(field, TextAreaField):
            assert any(type(v) is MultiLine for v in field.validators), f"{cls.__name__}.{field.name}"
        elif isinstance(field, StringField) and not isinstance(field, PasswordField):
            assert any(type(v) is SingleLine for v in field.validators), f"{cls.__name__}.{field.name}"


def test_the_checks_refuse_control_characters_and_keep_new_lines_in_text_areas():
    for bad in ("a\x00b", "a\x1b[31mb", "a\u2028b", "a\u2029b", "a\nb", "a\tb", "a\x7fb", "a\x85b"):
        assert check_text(bad), repr(bad)
    for bad in ("a\x00b", "a\x07b", "a\x1bb", "a\x7fb"):
        assert check_text(bad, multi_line=True), repr(bad)
    for good in ("Zoë O'Brien-Smith", "École 🏫", "名前", "a b"):
        assert check_text(good) is None
    assert check_text("line one\r\nline two\n\tindented", multi_line=True) is None
    assert "U+0000" in check_text("a\x00b")


def test_a_submitted_form_ignores_the_object_it_was_given(app):
    """On a POST the values come from the request: a field left out is empty, never the stored value."""
    from tracker.people.forms import PersonForm

    class Stored:
        full_name, email, countries, start_on, leave_on = "Stored", "s@example.org", ["Chile"], None, None
        groups, category = ["leadership"], "teaching"

    with app.test_request_context("/", method="POST", data={"full_name": "Posted"}):
        form = PersonForm(obj=Stored())
        assert (form.full_name.data, form.email.data, form.countries.data) == ("Posted", "", "")
        assert form.groups.data in (None, [])
    with app.test_request_context("/"):
        form = PersonForm(obj=Stored())
        assert (form.full_name.data, form.countries.data) == ("Stored", ["Chile"])


def test_a_submitted_form_never_chooses_a_select_the_request_left_out(app):
    """A select left out of a POST is "Not a valid choice", not its declared default (a missing time zone
    silently became UTC); a select that was sent, and a checkbox list left out (nothing ticked), still
    work."""
    from tracker.people.forms import PersonForm
    from tracker.schools.forms import SchoolSettingsForm

    with app.test_request_context(
        "/", method="POST", data={"name": "School", "country": "Chile", "year_start_month": "8"}
    ):
        form = SchoolSettingsForm()
        assert form.timezone.data is None
        assert not form.validate() and form.timezone.errors
    with app.test_request_context(
        "/", method="POST", data={"full_name": "Pat", "category": "teaching", "start_on": "2026-08-01"}
    ):
        form = PersonForm()
        assert form.category.data == "teaching" and form.groups.data in (None, [])


# --- through the pages --------------------------------------------------------------------------------------


def _posts(a):
    """(url, data) with a control character in one field (NUL: tracker/security.py refuses it everywhere)."""
    base = f"/s/{a.school.slug}"
    person = a.objects["person_id"]
    return [
        (f"{base}/people/new", {"full_name": "Pat\x01New", "category": "teaching", "start_on": "2026-08-01"}),
        (
            f"{base}/people/{person}/edit",
            {
                "full_name": "Pat",
                "email": "p\u2028@example.org",
                "category": "teaching",
                "start_on": "2026-08-01",
            },
        ),
        (
            f"{base}/settings",
            {"name": "School\x1b[2J", "country": "Chile", "timezone": "UTC", "year_start_month": "8"},
        ),
        (
            f"{base}/settings",
            {"name": "School", "country": "Chi\nle", "timezone": "UTC", "year_start_month": "8"},
        ),
        (f"{base}/library/new", {"title": "Policy", "sections": "introduction", "tags": "One,\x07Two"}),
        (f"{base}/library/r/{a.objects['key']}/edit", {"title": "Pol\ticy", "sections": "introduction"}),
        (f"{base}/items/{a.objects['item_id']}/comments", {"body": "Fine\nbut \x01 here"}),
        (
            f"{base}/items/{a.objects['item_id']}/evidence",
            {"url": "https://example.org/x", "link_title": "L\x02"},
        ),
        (f"{base}/items/new", {"title": "Do\u2029it", "due_on": "2026-09-01"}),
        ("/account", {"name": "Me\x03"}),
    ]


def test_each_page_refuses_control_characters_with_a_message_and_saves_nothing_but_keeps_new_lines(app):
    a, _ = build_worlds()
    client = sign_in(app.test_client(), a.members["lead"].user)
    for url, data in _posts(a):
        before = audit_count()
        response = client.post(url, data=data)
        db.session.rollback()
        assert response.status_code == 400, (url, response.status_code)
        assert "Remove the invisible control characters" in response.get_data(as_text=True), url
        assert audit_count() == before, url
    # while new lines and tabs in a text area are kept
    from tracker.tracking.models import Comment

    body = "First line\r\n\tSecond line"
    response = client.post(f"/s/{a.school.slug}/items/{a.objects['item_id']}/comments", data={"body": body})
    assert response.status_code == 302
    db.session.expire_all()
    assert (
        db.session.scalar(
            db.select(Comment.body)
            .where(Comment.item_id == a.objects["item_id"])
            .order_by(Comment.created_at.desc())
            .limit(1)
        ).replace("\r\n", "\n")
        == "First line\n\tSecond line"
    )
