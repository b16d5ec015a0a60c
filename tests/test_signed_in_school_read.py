"""A school page reads the session row, its user and the user's memberships in one statement
(auth.services._session_row, tenancy.wants_memberships): still every refusal of the session loader, and the
memberships the page then uses are the right ones (issue #21)."""

from datetime import date, timedelta

import sqlalchemy as sa

from tracker.auth.models import LoginSession
from tracker.db import utcnow
from tracker.extensions import db

from .world import sign_in


def _session_rows(user_id):
    return db.session.execute(sa.select(LoginSession).where(LoginSession.user_id == user_id)).scalars().all()


def _refused(response):
    return response.status_code == 302 and "/login" in response.headers["Location"]


def test_one_statement_reads_the_session_and_every_membership_by_school_name(
    app, make_school, make_member, statements
):
    zulu, alpha = make_school(name="Zulu school"), make_school(name="Alpha school")
    member = make_member(zulu, "lead")
    make_member(alpha, "staff", user=member.user)
    client = sign_in(app.test_client(), member.user)
    client.get(f"/s/{zulu.slug}/")
    statements.clear()
    html = client.get(f"/s/{zulu.slug}/").get_data(as_text=True)
    first = [s for s in statements if s.startswith("SELECT")][0]
    assert "FROM login_sessions" in first and "JOIN memberships" in first, first
    assert not [s for s in statements if s.startswith("SELECT") and "FROM memberships" in s], statements
    # the switcher lists both schools, by name, the page's own selected
    switcher = html[html.index('id="school-switch"') :]
    assert switcher.index("Alpha school") < switcher.index("Zulu school")
    assert f'value="{zulu.slug}" selected' in switcher


def test_a_page_that_is_no_school_page_reads_no_membership_with_the_session(
    app, make_school, make_member, statements
):
    member = make_member(make_school(), "lead")
    client = sign_in(app.test_client(), member.user)
    client.get("/account")
    statements.clear()
    assert client.get("/account").status_code == 200
    sessions = [s for s in statements if s.startswith("SELECT") and "FROM login_sessions" in s]
    assert len(sessions) == 1 and "memberships" not in sessions[0], statements


def test_a_revoked_session_is_refused_on_a_school_page(app, make_school, make_member):
    school = make_school()
    member = make_member(school, "lead")
    client = sign_in(app.test_client(), member.user)
    assert client.get(f"/s/{school.slug}/").status_code == 200
    db.session.execute(sa.delete(LoginSession).where(LoginSession.user_id == member.user.id))
    db.session.commit()
    assert _refused(client.get(f"/s/{school.slug}/"))


def test_a_disabled_user_is_refused_on_a_school_page(app, make_school, make_member):
    school = make_school()
    member = make_member(school, "lead")
    client = sign_in(app.test_client(), member.user)
    assert client.get(f"/s/{school.slug}/").status_code == 200
    member.user.active = False
    db.session.commit()
    assert _refused(client.get(f"/s/{school.slug}/"))


def test_an_expired_session_is_refused_and_deleted_on_a_school_page(app, make_school, make_member):
    school = make_school()
    member = make_member(school, "lead")
    user_id = member.user.id
    client = sign_in(app.test_client(), member.user)
    assert client.get(f"/s/{school.slug}/").status_code == 200
    (row,) = _session_rows(user_id)
    row.last_seen_at = utcnow() - timedelta(days=400)
    db.session.commit()
    assert _refused(client.get(f"/s/{school.slug}/"))
    db.session.expire_all()
    assert _session_rows(user_id) == []


def test_a_school_the_user_is_not_a_member_of_or_no_longer_is_is_a_404(app, make_school, make_member):
    mine, theirs, ended = make_school(), make_school(), make_school()
    member = make_member(mine, "lead")
    make_member(ended, "accreditor", user=member.user, access_until=date(2000, 1, 1))
    make_member(theirs, "lead")
    client = sign_in(app.test_client(), member.user)
    assert client.get(f"/s/{mine.slug}/").status_code == 200
    assert client.get(f"/s/{theirs.slug}/").status_code == 404
    assert client.get(f"/s/{ended.slug}/").status_code == 404
    assert client.get("/s/no-such-school/").status_code == 404


def test_a_user_with_no_membership_gets_a_404_not_an_error(app, make_school, make_member, make_user):
    school = make_school()
    make_member(school, "lead")
    client = sign_in(app.test_client(), make_user())
    assert client.get(f"/s/{school.slug}/").status_code == 404
    assert client.get("/account").status_code == 200


def test_the_request_that_moves_the_last_seen_time_reads_the_memberships_afresh_once(
    app, make_school, make_member, statements
):
    """The loader's own commit (last seen, every TOUCH_EVERY) expires what the session holds: the memberships
    read with the session row are then not used (each would be refreshed one by one), but read again, once."""
    first, second = make_school(name="Alpha school"), make_school(name="Beta school")
    member = make_member(first, "lead")
    make_member(second, "staff", user=member.user)
    user_id = member.user.id
    client = sign_in(app.test_client(), member.user)
    assert client.get(f"/s/{first.slug}/").status_code == 200
    (row,) = _session_rows(user_id)
    row.last_seen_at = utcnow() - timedelta(minutes=10)
    db.session.commit()
    statements.clear()
    html = client.get(f"/s/{first.slug}/").get_data(as_text=True)
    assert "Alpha school" in html and "Beta school" in html
    memberships = [s for s in statements if s.startswith("SELECT") and "FROM memberships" in s]
    assert len(memberships) == 1, statements
    db.session.expire_all()
    (row,) = _session_rows(user_id)
    assert utcnow() - row.last_seen_at < timedelta(minutes=1)
