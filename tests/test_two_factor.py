"""Two-factor sign-in: an authenticator app (TOTP codes computed here with pyotp from the secret the page
shows), recovery codes, the challenge after the password (wrong codes refused, audited and throttled, a code
never accepted twice, the pending step expiring), a school's "require two-factor" and its gate, turning the
app off, and a lead resetting a member's second factor."""

import re
from datetime import UTC, datetime

import pyotp
import pytest
import sqlalchemy as sa
import time_machine

from tracker import audit
from tracker.auth import recovery_codes, second_factor, totp
from tracker.auth.two_factor_models import RecoveryCode, TotpCredential
from tracker.extensions import db, limiter
from tracker.schools.services import create_school
from tracker.tenancy import School

from .conftest import PASSWORD, login

#: a moment at the start of a 30-second step, so a test knows which code is current
T0 = datetime(2031, 3, 3, 9, 0, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _fresh_limits():
    limiter.reset()
    yield
    limiter.reset()


@pytest.fixture
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


def _code(secret, at=None):
    return pyotp.TOTP(secret).at(at or datetime.now(UTC))


def _actions(user, prefix="auth."):
    return (
        db.session.execute(
            sa.select(audit.AuditEvent.action)
            .where(audit.AuditEvent.subject_id == str(user.id), audit.AuditEvent.action.like(f"{prefix}%"))
            .order_by(audit.AuditEvent.id)
        )
        .scalars()
        .all()
    )


def _text(response):
    return response.get_data(as_text=True)


def _enrol(client, next_url=None):
    """Open the set-up page, read the key shown as text, confirm it with its current code; return the secret
    and the recovery codes shown."""
    page = client.get("/account/two-factor/app" + (f"?next={next_url}" if next_url else ""))
    assert page.status_code == 200
    html = _text(page)
    assert "<svg" in html and "QR code for your authenticator app" in html  # drawn here, no image request
    secret = re.search(r'id="totp-secret"[^>]*>([A-Z2-7 ]+)<', html).group(1).replace(" ", "")
    done = client.post(
        "/account/two-factor/app" + (f"?next={next_url}" if next_url else ""), data={"code": _code(secret)}
    )
    assert done.status_code == 200, _text(done)[:400]
    codes = re.findall(r"<li>([a-z2-9]{5}-[a-z2-9]{5})</li>", _text(done))
    assert len(codes) == 10 and "only time they are shown" in _text(done)
    return secret, codes


def _sign_out(client):
    assert client.post("/logout").status_code == 302


def test_enrol_then_sign_in_asks_for_the_code_and_refuses_wrong_and_reused_ones(
    app, clock, make_school, make_member
):
    school = make_school()
    lead = make_member(school, "lead")
    client = app.test_client()
    assert login(client, lead.user.email).headers["Location"].endswith("/")  # no second factor yet
    secret, codes = _enrol(client)
    assert db.session.get(TotpCredential, lead.user.id).secret == secret
    stored = db.session.execute(sa.select(RecoveryCode.code_hash).where(RecoveryCode.user_id == lead.user.id))
    assert len(set(stored.scalars())) == 10 and not any(c in str(stored) for c in codes)  # only digests
    _sign_out(client)

    clock.shift(30)  # the next step: a new code
    answer = login(client, lead.user.email)
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/login/two-factor")
    assert client.get(f"/s/{school.slug}/").status_code == 302  # no session until the second factor
    page = client.get("/login/two-factor")
    assert page.status_code == 200 and "Use a recovery code" in _text(page)

    wrong = client.post("/login/two-factor", data={"code": "000000"})
    assert wrong.status_code == 400 and "does not match" in _text(wrong)
    assert _actions(lead.user)[-1] == "auth.second_factor_failed"

    right = client.post("/login/two-factor", data={"code": _code(secret)})
    assert right.status_code == 302
    assert client.get(f"/s/{school.slug}/").status_code == 200
    assert _actions(lead.user)[-1] == "auth.second_factor_passed"
    _sign_out(client)

    # the same code, within its window, a second time: refused (the last step used is stored)
    clock.shift(10)
    login(client, lead.user.email)
    replay = client.post("/login/two-factor", data={"code": _code(secret)})
    assert replay.status_code == 400 and "used already" in _text(replay)
    assert client.get(f"/s/{school.slug}/").status_code == 302


def test_a_recovery_code_signs_in_once(app, clock, make_school, make_member):
    school = make_school()
    lead = make_member(school, "lead")
    client = app.test_client()
    login(client, lead.user.email)
    _, codes = _enrol(client)
    _sign_out(client)

    login(client, lead.user.email)
    first = client.post("/login/recovery-code", data={"code": codes[3].upper().replace("-", " ")})
    assert first.status_code == 302
    assert client.get(f"/s/{school.slug}/").status_code == 200
    assert recovery_codes.remaining(lead.user) == 9
    assert "auth.recovery_code_used" in _actions(lead.user)
    _sign_out(client)

    login(client, lead.user.email)
    again = client.post("/login/recovery-code", data={"code": codes[3]})
    assert again.status_code == 400 and "not one of your unused recovery codes" in _text(again)
    assert _actions(lead.user)[-1] == "auth.second_factor_failed"


def test_the_step_after_the_password_expires(app, clock, make_school, make_member):
    school = make_school()
    lead = make_member(school, "lead")
    client = app.test_client()
    login(client, lead.user.email)
    secret, _ = _enrol(client)
    _sign_out(client)
    login(client, lead.user.email)
    clock.shift(app.config["TRACKER_TWO_FACTOR_PENDING_MINUTES"] * 60 + 30)
    late = client.post("/login/two-factor", data={"code": _code(secret)})
    assert late.status_code == 302 and late.headers["Location"].endswith("/login")
    assert client.get(f"/s/{school.slug}/").status_code == 302


def test_wrong_codes_are_throttled_per_account_like_passwords(app, clock, make_school, make_member):
    school = make_school()
    lead = make_member(school, "lead")
    client = app.test_client()
    login(client, lead.user.email)
    secret, _ = _enrol(client)
    _sign_out(client)
    clock.shift(30)
    login(client, lead.user.email)
    limit = int(app.config["TRACKER_LOGIN_LIMIT_ACCOUNT"].split()[0])
    for _ in range(limit):
        assert client.post("/login/two-factor", data={"code": "123456"}).status_code == 400
    # even the right code waits now, from another browser too (the budget is the account's)
    assert client.post("/login/two-factor", data={"code": _code(secret)}).status_code == 429
    other = app.test_client()
    assert login(other, lead.user.email).status_code == 302
    assert other.post("/login/two-factor", data={"code": _code(secret)}).status_code == 429


def test_a_school_that_requires_it_sends_leads_to_enrolment_and_keeps_them_off_its_pages(
    app, clock, make_school, make_member
):
    school = make_school(require_two_factor=True)
    lead = make_member(school, "lead")
    staff = make_member(school, "staff")
    client = app.test_client()
    answer = login(client, lead.user.email)
    assert answer.status_code == 302 and "/account/two-factor/app" in answer.headers["Location"]
    gated = client.get(f"/s/{school.slug}/people/")
    assert gated.status_code == 302 and "/account/two-factor/app" in gated.headers["Location"]
    assert "next=" in gated.headers["Location"]
    refused = client.post(f"/s/{school.slug}/settings", data={"name": "Changed"})
    assert refused.status_code == 403 and "Set up two-factor sign-in first" in _text(refused)
    assert db.session.get(School, school.id).name != "Changed"
    assert client.get("/account").status_code == 200  # pages outside the school stay open
    assert client.get("/account/two-factor").status_code == 200

    _enrol(client, next_url=f"/s/{school.slug}/people/")
    assert client.get(f"/s/{school.slug}/").status_code == 200

    # staff are never asked
    other = app.test_client()
    assert login(other, staff.user.email).headers["Location"].endswith("/")
    assert other.get(f"/s/{school.slug}/").status_code == 200


def test_without_the_setting_nobody_is_sent_to_enrolment(app, make_school, make_member):
    school = make_school(require_two_factor=False)
    lead = make_member(school, "lead")
    client = app.test_client()
    assert "/two-factor" not in login(client, lead.user.email).headers["Location"]
    assert client.get(f"/s/{school.slug}/").status_code == 200


def test_new_schools_require_it_and_a_lead_changes_the_setting_a_head_cannot(
    app, make_school, make_member, login_as
):
    assert create_school(slug="fresh-2fa", name="Fresh School").require_two_factor is True
    db.session.rollback()
    school = make_school()
    lead, head = make_member(school, "lead"), make_member(school, "head")
    data = {"name": school.name, "country": "", "timezone": "UTC", "year_start_month": "8"}
    lead_client = login_as(lead)
    page = _text(lead_client.get(f"/s/{school.slug}/settings"))
    assert "Require two-factor sign-in for leads, heads, HR and accreditors" in page
    assert (
        lead_client.post(f"/s/{school.slug}/settings", data={**data, "require_two_factor": "y"}).status_code
        == 302
    )
    db.session.expire_all()
    assert db.session.get(School, school.id).require_two_factor is True
    assert "school.settings_changed" in [
        e.action
        for e in db.session.execute(
            sa.select(audit.AuditEvent).where(audit.AuditEvent.school_id == school.id)
        ).scalars()
    ]

    head_client = app.test_client()
    login(head_client, head.user.email)  # the head has no second factor: enrol first, then try to turn it off
    _enrol(head_client)
    page = _text(head_client.get(f"/s/{school.slug}/settings"))
    assert "Only a safeguarding lead can change this" in page
    assert head_client.post(f"/s/{school.slug}/settings", data=data).status_code == 302
    db.session.expire_all()
    assert db.session.get(School, school.id).require_two_factor is True


def test_turning_the_app_off_needs_a_code_or_password_and_not_when_the_school_requires_it(
    app, clock, make_school, make_member
):
    optional = make_school(require_two_factor=False)
    lead = make_member(optional, "lead")
    client = app.test_client()
    login(client, lead.user.email)
    _enrol(client)
    wrong = client.post("/account/two-factor/app/off", data={"secret": "nope"})
    assert wrong.status_code == 400 and totp.has_totp(lead.user)
    assert _actions(lead.user)[-1] == "auth.second_factor_failed"
    off = client.post("/account/two-factor/app/off", data={"secret": PASSWORD})
    assert off.status_code == 302
    db.session.expire_all()
    assert not totp.has_totp(lead.user) and recovery_codes.remaining(lead.user) == 0
    assert "auth.totp_disabled" in _actions(lead.user)

    strict = make_school(require_two_factor=True)
    head = make_member(strict, "head")
    other = app.test_client()
    login(other, head.user.email)
    _enrol(other)
    refused = other.post("/account/two-factor/app/off", data={"secret": PASSWORD})
    assert refused.status_code == 400 and "requires two-factor sign-in" in _text(refused)
    assert totp.has_totp(head.user)


def test_a_lead_resets_a_members_second_factor_and_every_method_is_removed(
    app, make_school, make_member, login_as, monkeypatch
):
    school = make_school()
    lead, head, staff = make_member(school, "lead"), make_member(school, "head"), make_member(school, "staff")
    secret = totp.new_secret()
    assert totp.enrol(staff.user, secret, _code(secret))
    recovery_codes.generate(staff.user)
    reset_calls = []  # a method registered by another module (passkeys do the same) is reset too
    monkeypatch.setitem(
        second_factor._METHODS,
        "fake",
        second_factor.Method("fake", "Fake key", lambda u: u.id == staff.user.id, reset_calls.append),
    )
    db.session.commit()

    head_client = login_as(head)
    assert head_client.post(f"/s/{school.slug}/members/{staff.id}/second-factor/reset").status_code == 403
    client = login_as(lead)
    page = _text(client.get(f"/s/{school.slug}/members/{staff.id}"))
    assert "Authenticator app" in page and "Reset" in page
    response = client.post(f"/s/{school.slug}/members/{staff.id}/second-factor/reset")
    assert response.status_code == 302
    db.session.expire_all()
    assert not totp.has_totp(staff.user) and recovery_codes.remaining(staff.user) == 0
    assert [u.id for u in reset_calls] == [staff.user.id]
    event = db.session.execute(
        sa.select(audit.AuditEvent).where(
            audit.AuditEvent.school_id == school.id, audit.AuditEvent.action == "auth.second_factor_reset"
        )
    ).scalar_one()
    assert event.subject_id == str(staff.user.id) and "totp" in str(event.after)
    own = client.post(f"/s/{school.slug}/members/{lead.id}/second-factor/reset")
    assert own.status_code == 302 and "auth.second_factor_reset" not in _actions(lead.user)


def test_schools_made_by_an_operator_require_it_unless_told_not_to(app):
    runner = app.test_cli_runner()
    for slug, flag, expected in (("cli-on", [], True), ("cli-off", ["--no-require-two-factor"], False)):
        result = runner.invoke(args=["schools", "create", "--slug", slug, "--name", f"School {slug}", *flag])
        assert result.exit_code == 0, result.output
        school = db.session.execute(sa.select(School).where(School.slug == slug)).scalar_one()
        assert school.require_two_factor is expected
