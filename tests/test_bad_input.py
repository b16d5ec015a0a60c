"""Malformed requests get a clear 4xx answer and change nothing; nothing a visitor sends causes a 500."""

import html
import uuid

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from itsdangerous import URLSafeTimedSerializer

from tracker.audit import AuditEvent
from tracker.auth.models import User
from tracker.extensions import db
from tracker.schools.models import Invitation
from tracker.schools.services import invite
from tracker.tenancy import Membership, School

from .conftest import login

NEW_PASSWORD = "a brand new long passphrase"
FUZZ = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def text(response):
    return html.unescape(response.get_data(as_text=True))


def count(model):
    db.session.expire_all()
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def snapshot():
    """Row counts of everything a form could add, and the audit trail's length."""
    return {m.__tablename__: count(m) for m in (AuditEvent, Invitation, Membership, School, User)}


@pytest.fixture
def world(app, make_school, make_member):
    school = make_school(name="Bad Input School", country="Chile", timezone="America/Santiago")
    lead = make_member(school, "lead")
    staff = make_member(school, "staff")
    browser = app.test_client()
    assert login(browser, lead.user.email).status_code == 302
    return school, lead, staff, browser


INVITE_CASES = [
    ({"role": "staff"}, "Enter an e-mail address."),
    ({"email": "", "role": "staff"}, "Enter an e-mail address."),
    ({"email": "not-an-email", "role": "staff"}, "Enter a valid e-mail address."),
    ({"email": "two@@example.org", "role": "staff"}, "Enter a valid e-mail address."),
    ({"email": "x" * 250 + "@example.org", "role": "staff"}, "Enter a valid e-mail address."),
    ({"email": "ok@example.org", "role": "superuser"}, "Not a valid choice"),
    ({"email": "ok@example.org", "role": ""}, "Not a valid choice"),
    (
        {"email": "ok@example.org", "role": "accreditor", "access_until": "2030-02-30"},
        "Not a valid date value",
    ),
    (
        {"email": "ok@example.org", "role": "accreditor", "access_until": "next tuesday"},
        "Not a valid date value",
    ),
    (
        {"email": "ok@example.org", "role": "accreditor", "access_until": "2001-01-01"},
        "The end date of access is in the past.",
    ),
]


@pytest.mark.parametrize("data,message", INVITE_CASES)
def test_a_malformed_invitation_is_refused_with_its_message_and_saves_nothing(world, data, message):
    school, _, _, browser = world
    before = snapshot()
    response = browser.post(f"/s/{school.slug}/members/invite", data=data)
    assert response.status_code == 400
    assert message in text(response)
    assert snapshot() == before


SETTINGS_OK = {
    "name": "Bad Input School",
    "country": "Chile",
    "timezone": "America/Santiago",
    "year_start_month": "3",
}
SETTINGS_CASES = [
    ({"name": ""}, "Enter the school's name."),
    ({"name": "   "}, "Enter the school's name."),
    ({"name": "N" * 201}, "Field cannot be longer than 200 characters."),
    ({"country": "C" * 101}, "Field cannot be longer than 100 characters."),
    ({"timezone": "Mars/Olympus_Mons"}, "Not a valid choice"),
    ({"year_start_month": "13"}, "Not a valid choice"),
    ({"year_start_month": "March"}, "Invalid Choice: could not coerce."),
]


@pytest.mark.parametrize("change,message", SETTINGS_CASES)
def test_malformed_school_settings_are_refused_and_nothing_changes(world, change, message):
    school, _, _, browser = world
    before = snapshot()
    response = browser.post(f"/s/{school.slug}/settings", data={**SETTINGS_OK, **change})
    assert response.status_code == 400
    assert message in text(response)
    assert snapshot() == before
    db.session.expire_all()
    saved = db.session.get(School, school.id)
    assert (saved.name, saved.country, saved.timezone, saved.year_start_month) == (
        "Bad Input School",
        "Chile",
        "America/Santiago",
        8,
    )


def test_a_malformed_role_change_is_refused(world):
    school, _, staff, browser = world
    before = snapshot()
    for data, message in (
        ({"role": "owner"}, "Not a valid choice"),
        ({"role": "accreditor", "access_until": "31/12/2030"}, "Not a valid date value"),
    ):
        response = browser.post(f"/s/{school.slug}/members/{staff.id}", data=data)
        assert response.status_code == 400
        assert message in text(response)
    assert snapshot() == before
    db.session.expire_all()
    assert db.session.get(Membership, staff.id).role == "staff"


def test_a_sign_in_with_missing_or_malformed_fields_is_refused(client):
    before = snapshot()
    for data, message in (
        ({}, "Enter an e-mail address."),
        ({"email": "someone@example.org"}, "Enter your password."),
        ({"email": "someone", "password": "x"}, "Enter a valid e-mail address."),
    ):
        response = client.post("/login", data=data)
        assert response.status_code == 400
        assert message in text(response)
    assert snapshot() == before


def test_accepting_an_invitation_with_bad_fields_creates_no_account(app, world):
    school, *_ = world
    issued = invite(school, email="picky@example.org", role="staff")
    db.session.commit()
    link = f"/invitations/{issued.token}"
    before = snapshot()
    browser = app.test_client()
    for data, message in (
        ({"name": "", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD}, "Enter your name."),
        (
            {"name": "P" * 201, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
            "Field cannot be longer than 200 characters.",
        ),
        ({"name": "Pat", "password": "short", "confirm": "short"}, "Use at least 10 characters."),
        (
            {"name": "Pat", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD + "!"},
            "The two passwords differ.",
        ),
    ):
        response = browser.post(link, data=data)
        assert response.status_code == 400
        assert message in text(response)
    assert snapshot() == before
    assert browser.get(link).status_code == 200  # the invitation is still usable


def test_a_platform_admin_form_with_a_bad_address_creates_no_school(app, make_user):
    admin = make_user(is_platform_admin=True)
    browser = app.test_client()
    login(browser, admin.email)
    before = snapshot()
    response = browser.post(
        "/admin/schools/new",
        data={
            "name": "Bad School",
            "slug": "Not A Slug!",
            "country": "",
            "timezone": "UTC",
            "year_start_month": "8",
            "lead_email": "lead@example.org",
        },
    )
    assert response.status_code == 400
    assert "Use lower-case letters, digits and dashes" in text(response)
    assert snapshot() == before


# --- addresses that do not exist ---------------------------------------------------------------------------


def test_an_unknown_school_is_404(world):
    *_, browser = world
    for path in ("/s/no-such-school/", "/s/no-such-school/members", "/s/NO%20SUCH/settings"):
        response = browser.get(path)
        assert response.status_code == 404, path
        assert "Page not found" in text(response)


def test_an_unknown_or_malformed_member_id_is_404(world):
    school, *_, browser = world
    for path in (
        f"/s/{school.slug}/members/{uuid.uuid4()}",
        f"/s/{school.slug}/members/not-a-uuid",
        f"/s/{school.slug}/members/1",
        f"/s/{school.slug}/members/{uuid.uuid4()}/remove",
    ):
        method = browser.post if path.endswith("/remove") else browser.get
        response = method(path)
        assert response.status_code == 404, path
        assert "Page not found" in text(response)
    assert browser.post(f"/s/{school.slug}/members/not-a-uuid/remove").status_code == 404


def _link_refused(response):
    return response.status_code == 404 and "no longer works" in text(response)


def test_garbage_invitation_and_reset_tokens_show_the_link_page(app, client, make_user):
    user = make_user()
    forged_key = URLSafeTimedSerializer("not-the-secret", salt="password-reset")
    real_key = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt="password-reset")
    tokens = [
        "x",
        "garbage-token",
        "A" * 300,
        "%E2%98%83",
        "..",
        "%20",
        forged_key.dumps({"u": str(user.id), "p": "0" * 16}),
        real_key.dumps(["not", "a", "dict"]),
        real_key.dumps({"u": "not-a-uuid", "p": "0"}),
        real_key.dumps({"u": 42}),
        real_key.dumps({"u": str(user.id), "p": "wrong-fingerprint"}),
        real_key.dumps({"u": str(uuid.uuid4()), "p": "0"}),
    ]
    for token in tokens:
        for prefix in ("/invitations/", "/password/reset/"):
            assert _link_refused(client.get(prefix + token)), prefix + token
            response = client.post(
                prefix + token, data={"name": "N", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
            )
            assert _link_refused(response), prefix + token
    for path in (
        "/invitations/..%2F..%2Fetc",
        "/password/reset/a%2Fb",
    ):  # a slash is not a token: no such page
        assert client.get(path).status_code == 404


@FUZZ
@given(token=st.text(min_size=1, max_size=80))
def test_no_token_text_breaks_the_link_pages(client, token):
    for prefix in ("/invitations/", "/password/reset/"):
        response = client.get(prefix + token)
        expected = 400 if "\x00" in token else 404
        assert response.status_code == expected, (prefix, token, response.status_code)


# --- NUL bytes (PostgreSQL cannot store them; no form or address legitimately has one) --------------------


@pytest.mark.parametrize("field", ["name", "country"])
def test_a_nul_byte_in_the_settings_form_is_refused_not_a_500(world, field):
    school, _, _, browser = world
    before = snapshot()
    response = browser.post(f"/s/{school.slug}/settings", data={**SETTINGS_OK, field: "Evil\x00Name"})
    assert response.status_code == 400
    assert "NUL character" in text(response)
    assert snapshot() == before
    db.session.expire_all()
    assert db.session.get(School, school.id).name == "Bad Input School"


def test_a_nul_byte_anywhere_in_a_request_is_refused_not_a_500(app, world):
    school, lead, staff, browser = world
    issued = invite(school, email="nul@example.org", role="staff")
    db.session.commit()
    before = snapshot()
    requests = [
        ("get", "/s/a%00b/", None),
        ("get", f"/s/{school.slug}/audit?page=1%00", None),
        ("get", f"/s/{school.slug}/library/r/x%00y", None),
        ("post", f"/s/{school.slug}/members/{staff.id}", {"role": "staff\x00"}),
        (
            "post",
            f"/invitations/{issued.token}",
            {"name": "Nul\x00Name", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
        ),
        ("post", "/account", {"name": "Nul\x00Name"}),
    ]
    for method, url, data in requests:
        response = getattr(browser, method)(url, data=data)
        assert response.status_code == 400, (url, data, response.status_code)
    anonymous = app.test_client()
    response = anonymous.post(
        "/login",
        data={"email": lead.user.email, "password": "correct horse battery"},
        headers={"User-Agent": "Mozilla\x00"},
    )
    assert response.status_code == 400
    assert snapshot() == before
    db.session.expire_all()
    assert db.session.get(User, lead.user_id).name == lead.user.name


# --- sizes and page numbers --------------------------------------------------------------------------------


def test_a_request_body_over_the_limit_is_413(app, world, monkeypatch):
    school, _, _, browser = world
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 2000)
    before = snapshot()
    big = {"email": "big@example.org", "role": "staff", "padding": "p" * 5000}
    response = browser.post(f"/s/{school.slug}/members/invite", data=big)
    assert response.status_code == 413
    assert "Too large" in text(response)
    response = app.test_client().post("/login", data={"email": "big@example.org", "password": "p" * 5000})
    assert response.status_code == 413
    assert snapshot() == before


def test_the_audit_page_number_must_be_a_whole_number_in_range(world):
    school, *_, browser = world
    url = f"/s/{school.slug}/audit"
    assert browser.get(url).status_code == 200
    assert browser.get(url + "?page=1").status_code == 200
    for bad in ("abc", "0", "-1", "1.5", "", "%F0%9F%98%80", "1e3"):
        response = browser.get(f"{url}?page={bad}")
        assert response.status_code == 400, bad
        assert "The page number must be a whole number from 1." in text(response)
    assert browser.get(url + "?page=999").status_code == 404
    assert browser.get(url + "?page=99999999999999999999999").status_code == 404


# --- never a 500 -------------------------------------------------------------------------------------------

ROLE_TEXT = st.one_of(st.sampled_from(["lead", "head", "hr", "staff", "accreditor"]), st.text(max_size=20))
DATE_TEXT = st.one_of(st.dates().map(str), st.text(max_size=20))


@FUZZ
@given(email=st.one_of(st.emails(), st.text(max_size=300)), role=ROLE_TEXT, access_until=DATE_TEXT)
def test_random_text_in_the_invitation_form_never_breaks_it(world, email, role, access_until):
    school, *_, browser = world
    response = browser.post(
        f"/s/{school.slug}/members/invite", data={"email": email, "role": role, "access_until": access_until}
    )
    assert response.status_code in {200, 302, 400}, (email, role, access_until, response.status_code)


@FUZZ
@given(
    name=st.text(max_size=250),
    country=st.text(max_size=120),
    timezone=st.text(max_size=30),
    month=st.one_of(st.integers(-5, 20).map(str), st.text(max_size=5)),
)
def test_random_text_in_the_settings_form_never_breaks_it(world, name, country, timezone, month):
    school, *_, browser = world
    response = browser.post(
        f"/s/{school.slug}/settings",
        data={"name": name, "country": country, "timezone": timezone, "year_start_month": month},
    )
    assert response.status_code in {200, 302, 400}, (name, country, timezone, month, response.status_code)


@FUZZ
@given(name=st.text(max_size=250), password=st.text(max_size=40))
def test_random_text_in_the_invitation_acceptance_form_never_breaks_it(app, world, name, password):
    school, *_ = world
    issued = invite(school, email=f"fuzzed-{uuid.uuid4().hex[:8]}@example.org", role="staff")
    db.session.commit()
    response = app.test_client().post(
        f"/invitations/{issued.token}", data={"name": name, "password": password, "confirm": password}
    )
    assert response.status_code in {200, 302, 400}, (name, password, response.status_code)
