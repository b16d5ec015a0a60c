"""Step-up: changing a member's role, removing a member and signing off a year ask who you are again when the
last confirmation (signing in, or the confirmation page) is older than TRACKER_STEP_UP_MINUTES; with an
authenticator app the code is asked, without one the password."""

from datetime import UTC, datetime, timedelta

import pyotp
import pytest
import sqlalchemy as sa
import time_machine

from tracker import audit
from tracker.auth import totp
from tracker.extensions import db, limiter
from tracker.tenancy import Membership
from tracker.tracking import sign_off_views

from .conftest import PASSWORD, login
from .world import build_worlds

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


def _minutes(app):
    return app.config["TRACKER_STEP_UP_MINUTES"]


def _events(user, action):
    return (
        db.session.execute(
            sa.select(audit.AuditEvent).where(
                audit.AuditEvent.subject_id == str(user.id), audit.AuditEvent.action == action
            )
        )
        .scalars()
        .all()
    )


def _role(member_id):
    db.session.expire_all()
    return db.session.get(Membership, member_id)


def test_a_stale_confirmation_sends_a_role_change_to_the_confirmation_page_and_back(app, clock):
    a, _ = build_worlds()
    db.session.commit()
    lead, target = a.members["lead"], a.target_member
    client = app.test_client()
    assert login(client, lead.user.email).status_code == 302
    member_page = f"/s/{a.school.slug}/members/{target.id}"

    clock.shift(timedelta(minutes=_minutes(app) - 1))  # signing in counts as a confirmation, for a while
    assert client.post(member_page, data={"role": "hr"}).status_code == 302
    assert _role(target.id).role == "hr"

    clock.shift(timedelta(minutes=2))
    assert client.get(member_page).status_code == 200  # looking needs no confirmation
    stale = client.post(member_page, data={"role": "staff"})
    assert stale.status_code == 302
    assert stale.headers["Location"].startswith("/account/confirm?next=")
    assert member_page in stale.headers["Location"].replace("%2F", "/")
    assert _role(target.id).role == "hr"
    removed = client.post(f"{member_page}/remove")
    assert removed.status_code == 302 and "/account/confirm" in removed.headers["Location"]
    assert _role(target.id) is not None

    page = client.get(stale.headers["Location"])
    assert page.status_code == 200 and "Your password" in page.get_data(as_text=True)
    wrong = client.post(stale.headers["Location"], data={"secret": "not my password"})
    assert wrong.status_code == 400 and len(_events(lead.user, "auth.step_up_failed")) == 1
    right = client.post(stale.headers["Location"], data={"secret": PASSWORD})
    assert right.status_code == 302 and right.headers["Location"] == member_page
    assert [e.after["method"] for e in _events(lead.user, "auth.step_up")] == ["password"]
    assert client.post(member_page, data={"role": "staff"}).status_code == 302
    assert _role(target.id).role == "staff"


def test_someone_with_an_authenticator_app_confirms_with_a_code(app, clock):
    a, _ = build_worlds()
    lead = a.members["lead"]
    secret = totp.new_secret()
    assert totp.enrol(lead.user, secret, pyotp.TOTP(secret).now())
    db.session.commit()
    client = app.test_client()
    login(client, lead.user.email)
    clock.shift(30)
    assert client.post("/login/two-factor", data={"code": pyotp.TOTP(secret).now()}).status_code == 302

    clock.shift(timedelta(minutes=_minutes(app) + 1))
    target = f"/s/{a.school.slug}/members/{a.target_member.id}"
    assert "/account/confirm" in client.post(target, data={"role": "hr"}).headers["Location"]
    # replacing the app, and new recovery codes, ask too
    assert "/account/confirm" in client.get("/account/two-factor/app").headers["Location"]
    assert "/account/confirm" in client.post("/account/two-factor/recovery-codes").headers["Location"]
    page = client.get(f"/account/confirm?next={target}").get_data(as_text=True)
    assert "Code from your authenticator app" in page
    assert client.post(f"/account/confirm?next={target}", data={"secret": PASSWORD}).status_code == 400
    done = client.post(f"/account/confirm?next={target}", data={"secret": pyotp.TOTP(secret).now()})
    assert done.status_code == 302 and done.headers["Location"] == target
    assert [e.after["method"] for e in _events(lead.user, "auth.step_up")] == ["totp"]


def test_the_heads_sign_off_asks_for_the_code_only_when_the_confirmation_is_stale(app, clock, monkeypatch):
    a, _ = build_worlds()
    head = a.members["head"]
    secret = totp.new_secret()
    assert totp.enrol(head.user, secret, pyotp.TOTP(secret).now())
    db.session.commit()
    signed = []
    monkeypatch.setattr(sign_off_views.services, "sign_off", lambda *args, **kw: signed.append(kw) or [])
    client = app.test_client()
    login(client, head.user.email)
    clock.shift(30)
    assert client.post("/login/two-factor", data={"code": pyotp.TOTP(secret).now()}).status_code == 302
    url = f"/s/{a.school.slug}/years/{a.objects['year_id']}/signoff"

    fresh = client.get(url).get_data(as_text=True)
    assert 'name="password"' not in fresh and "no password or code is needed now" in fresh
    assert client.post(url, data={"reviewed": "y"}).status_code == 302 and len(signed) == 1

    clock.shift(timedelta(minutes=_minutes(app) + 1))
    stale = client.get(url).get_data(as_text=True)
    assert 'name="password"' in stale and "Code from your authenticator app" in stale
    missing = client.post(url, data={"reviewed": "y"})
    assert missing.status_code == 400 and "Enter the code" in missing.get_data(as_text=True)
    wrong = client.post(url, data={"reviewed": "y", "password": PASSWORD})
    assert wrong.status_code == 400 and "does not match" in wrong.get_data(as_text=True)
    assert len(signed) == 1
    clock.shift(30)
    assert client.post(url, data={"reviewed": "y", "password": pyotp.TOTP(secret).now()}).status_code == 302
    assert len(signed) == 2
