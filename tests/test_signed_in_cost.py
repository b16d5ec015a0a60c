"""The fixed cost of a signed-in page (issue #21): the session loader and the memberships read once each, by
statements built once; the school's navigation rendered once per process for each (school, role, page) and
kept (templating.school_nav), and still exactly what each member, school and page should show."""

import re

import pytest

from tracker.extensions import db
from tracker.group_access import GroupMembership, SchoolGroup

from .world import sign_in

NAV = re.compile(r'<nav class="schoolnav".*?</nav>', re.S)


def _selects(statements, table):
    return [s for s in statements if s.startswith("SELECT") and re.search(rf"\bFROM {table}\b", s)]


def _get(client, path, statements=None):
    if statements is not None:
        statements.clear()
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return response.get_data(as_text=True)


def _nav(html):
    found = NAV.search(html)
    return found.group(0) if found else None


def _clear_nav(app):
    app.extensions.get("tracker.school_nav", {}).clear()


@pytest.mark.parametrize("path", ["/account", "/s/{slug}/"])
def test_a_signed_in_page_reads_the_session_and_the_memberships_once_each(
    app, make_school, make_member, statements, path
):
    school = make_school()
    other = make_school()
    member = make_member(school, "staff")
    make_member(other, "lead", user=member.user)  # two schools: the switcher lists both
    names = (school.name, other.name)
    path = path.format(slug=school.slug)
    client = sign_in(app.test_client(), member.user)
    _get(client, path)  # warm-up: per-process caches
    html = _get(client, path, statements)
    seen = list(statements)
    assert 'id="school-switch"' in html and all(name in html for name in names)
    statements[:] = seen
    assert len(_selects(statements, "login_sessions")) == 1, statements
    if path == "/account":
        assert len(_selects(statements, "memberships")) == 1, statements
        memberships = _selects(statements, "memberships")[0]
    else:
        # a school page reads the memberships with the session row: one statement for both
        assert _selects(statements, "memberships") == [], statements
        memberships = _selects(statements, "login_sessions")[0]
        assert "JOIN memberships" in memberships, memberships
    # the user comes with the session row (joined), never by a query of its own; the memberships do not
    # join the user in again
    assert _selects(statements, "users") == [], statements
    assert memberships.count("JOIN users") == (0 if path == "/account" else 1), memberships
    if path == "/account":
        assert len([s for s in statements if s.startswith("SELECT")]) == 2, statements


def test_the_memberships_user_is_the_one_asked_about_without_a_query(
    app, make_school, make_member, statements
):
    from tracker.auth.models import User
    from tracker.tenancy import _all_memberships

    first, second = make_school(), make_school()
    member = make_member(first, "lead")
    make_member(second, "staff", user=member.user)
    user_id, school_ids = member.user.id, {first.id, second.id}
    db.session.expunge_all()
    user = db.session.get(User, user_id)
    with app.test_request_context("/"):
        rows = _all_memberships(user)
        statements.clear()
        assert sorted(m.role for m in rows) == ["lead", "staff"]
        assert all(m.user is user for m in rows)
        assert {m.school.id for m in rows} == school_ids
        assert statements == []
        assert _all_memberships(user) is rows  # kept for the request


def test_the_kept_navigation_follows_the_role_the_school_and_the_page(app, make_school, make_member):
    a, b = make_school(), make_school()
    lead_a = make_member(a, "lead")
    make_member(b, "staff", user=lead_a.user)  # one user, two roles
    accreditor_a = make_member(a, "accreditor")
    client = sign_in(app.test_client(), lead_a.user)
    reader = sign_in(app.test_client(), accreditor_a.user)
    pages = [
        (client, f"/s/{a.slug}/"),
        (client, f"/s/{a.slug}/people/"),
        (client, f"/s/{a.slug}/library/"),
        (client, f"/s/{b.slug}/"),
        (client, f"/s/{b.slug}/library/"),
        (reader, f"/s/{a.slug}/"),
        (reader, f"/s/{a.slug}/library/"),
    ]
    _clear_nav(app)
    # each page drawn afresh (the kept navigation cleared before it) ...
    fresh = {}
    for who, path in pages:
        _clear_nav(app)
        fresh[(id(who), path)] = _nav(_get(who, path))
    # ... and drawn with every other navigation already kept, in another order: the same
    _clear_nav(app)
    for who, path in reversed(pages):
        _get(who, path)
    for who, path in pages:
        assert _nav(_get(who, path)) == fresh[(id(who), path)], path

    lead_home = fresh[(id(client), f"/s/{a.slug}/")]
    staff_home = fresh[(id(client), f"/s/{b.slug}/")]
    reader_home = fresh[(id(reader), f"/s/{a.slug}/")]
    # the role: a lead sees People and Settings, the same user as staff in B sees neither
    assert f'href="/s/{a.slug}/people/"' in lead_home and f"/s/{a.slug}/settings" in lead_home
    assert '/people/"' not in staff_home and "/settings" not in staff_home
    assert f'href="/s/{b.slug}/library/"' in staff_home
    assert lead_home != reader_home
    # the school: every link of B's navigation points into B
    assert f"/s/{a.slug}/" not in staff_home and f"/s/{b.slug}/" in staff_home
    # the page: the current link moves with it
    assert re.search(r'/" aria-current="page">Home<', lead_home)
    people = fresh[(id(client), f"/s/{a.slug}/people/")]
    assert re.search(r'people/" aria-current="page">People<', people)
    assert not re.search(r'aria-current="page">Home<', people)
    # the badge and the name are drawn each time, not kept with the links
    assert "Safeguarding lead" in lead_home and "Staff member" in staff_home


def test_a_changed_role_changes_the_navigation_at_once(app, make_school, make_member):
    school = make_school()
    member = make_member(school, "lead")
    client = sign_in(app.test_client(), member.user)
    assert f'href="/s/{school.slug}/people/"' in _get(client, f"/s/{school.slug}/")
    member.role = "staff"
    db.session.commit()
    html = _get(client, f"/s/{school.slug}/")
    assert f'href="/s/{school.slug}/people/"' not in html
    assert "Staff member" in html


def test_a_group_reader_and_a_member_of_one_school_get_their_own_navigation(app, make_school, make_member):
    from tracker.auth.models import User

    school = make_school()
    lead = make_member(school, "lead")
    group = SchoolGroup(slug=f"g-{school.slug}", name="A Trust")
    db.session.add(group)
    db.session.flush()
    school.group_id = group.id
    viewer = User(email=f"viewer-{school.slug}@example.org", name="Viewer", password_hash="")
    db.session.add(viewer)
    db.session.flush()
    db.session.add(GroupMembership(group_id=group.id, user_id=viewer.id, role="group_viewer"))
    db.session.commit()
    member_nav = _nav(_get(sign_in(app.test_client(), lead.user), f"/s/{school.slug}/"))
    visitor_nav = _nav(_get(sign_in(app.test_client(), viewer), f"/s/{school.slug}/"))
    _clear_nav(app)
    assert visitor_nav == _nav(_get(sign_in(app.test_client(), viewer), f"/s/{school.slug}/"))
    assert visitor_nav != member_nav
    assert "read only" in visitor_nav
    assert f"/s/{school.slug}/settings" in member_nav and f"/s/{school.slug}/settings" not in visitor_nav
