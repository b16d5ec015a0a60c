"""The item list's content is kept in the page cache (tracker/tracking/list_views.py) for each member and
query string while the school's audit head and the day stand still, and only then; the bulk form's CSRF token
is each session's own even when the rest of the page comes from the cache.

The cache is on here (the rest of the suite runs with it off). Changes that should show are made over HTTP,
as a user would, so they write audit events; a change made behind the audit trail's back is used only to
prove that a page really came from the cache.
"""

import re
import uuid
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from tracker import pagecache
from tracker.extensions import db
from tracker.tracking import services
from tracker.tracking.models import DONE, NOT_STARTED, Item

from .test_tracking_queries import counted_queries
from .world import sign_in

#: (title, owner key or None, status)
SPECS = [
    ("alpha check", "staff", NOT_STARTED),
    ("bravo review", "lead", NOT_STARTED),
    ("charlie plan", None, DONE),
    ("delta audit", "alex", NOT_STARTED),
    ("echo session", "lead2", NOT_STARTED),
    ("foxtrot survey", "staff", NOT_STARTED),
]
#: the bulk form's token (the page's other forms, from base.html, have their own)
CSRF = re.compile(
    r'id="bulk-form" data-bulk novalidate>\s*<input type="hidden" name="csrf_token" value="([^"]+)">'
)
ANY_CSRF = re.compile(r'name="csrf_token" value="[^"]*"')


class World:
    pass


pytestmark = pytest.mark.usefixtures("page_cache_on")


@pytest.fixture
def world(make_school, make_member):
    w = World()
    w.school = make_school(timezone="UTC", year_start_month=8)
    roles = {"lead": "lead", "lead2": "lead", "head": "head", "hr": "hr", "staff": "staff", "alex": "staff"}
    w.members = {
        key: make_member(
            w.school, role, name=f"Member {key}", email=f"{key}-{uuid.uuid4().hex[:6]}@example.org"
        )
        for key, role in roles.items()
    }
    w.year = services._create_year(w.school, 2026)
    w.items = {}
    for n, (title, owner, status) in enumerate(SPECS):
        item = Item(
            school_id=w.school.id,
            year_id=w.year.id,
            kind="own",
            section_title="Section",
            title=title,
            owner_role="lead",
            owner_id=w.members[owner].user_id if owner else None,
            due_on=w.year.starts_on + timedelta(days=10 + n),
            status=status,
            completed_on=date(2026, 9, 1) if status == DONE else None,
        )
        db.session.add(item)
        w.items[title] = item
    db.session.commit()
    return w


def _client(app, world, key="lead"):
    return sign_in(app.test_client(), world.members[key].user)


def _list(client, world, query=""):
    """The list's HTML, CSRF token values blanked (signed with the time, they change by the second)."""
    response = client.get(f"/s/{world.school.slug}/items?year={world.year.id}{query}")
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    return ANY_CSRF.sub('name="csrf_token" value=""', response.get_data(as_text=True))


def _titles(html, world):
    return set(re.findall(rf'<a href="/s/{world.school.slug}/items/[0-9a-f-]{{36}}">([^<]*)</a>', html))


def _count(html):
    return int(re.search(r'<h2 class="list-summary" id="list-summary">\s*(\d+) item', html).group(1))


def _visible(world, key):
    return {title for title, owner, _ in SPECS if world.members[key].role in ("lead", "head") or owner == key}


def test_an_unchanged_list_comes_from_the_cache_and_an_audited_change_shows_at_once(app, world):
    client = _client(app, world)
    first = _list(client, world)
    assert "Not started" in first and _count(first) == len(SPECS)
    with counted_queries() as cold:
        pagecache.fragments.clear()
        assert _list(client, world) == first
    with counted_queries() as warm:
        assert _list(client, world) == first
    assert len(warm) < len(cold), (len(warm), len(cold))  # the year and the items were not read again

    # a change behind the audit trail's back does not show: the page really is the cached one
    item = world.items["alpha check"]
    db.session.execute(sa.update(Item).where(Item.id == item.id).values(title="renamed quietly"))
    db.session.commit()
    assert "renamed quietly" not in _list(client, world)

    # an audited change (a bulk status change) moves the audit head: the next list is made again
    response = client.post(
        f"/s/{world.school.slug}/items/bulk?year={world.year.id}",
        data={"items": [str(world.items["bravo review"].id)], "change": "status", "status": DONE},
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    after = _list(client, world)
    assert "renamed quietly" in after
    done = _list(client, world, "&status=done")
    assert _titles(done, world) == {"bravo review", "charlie plan"}


def test_a_filtered_list_and_a_page_are_kept_apart(app, world):
    client = _client(app, world)
    everything = _list(client, world)
    done = _list(client, world, "&status=done")
    assert _titles(done, world) == {"charlie plan"}
    assert _titles(everything, world) == {title for title, _, _ in SPECS}
    assert _list(client, world) == everything
    assert _titles(_list(client, world, "&sort=title&dir=desc"), world) == _titles(everything, world)


@pytest.mark.parametrize(
    "first,second", [("lead", "staff"), ("staff", "lead"), ("head", "hr"), ("hr", "head")]
)
def test_a_member_never_gets_another_roles_cached_list(app, world, first, second):
    for key in (first, second, first):
        html = _list(_client(app, world, key), world)
        assert _titles(html, world) == _visible(world, key), key
        assert ('name="items"' in html) == (world.members[key].role in ("lead", "head")), key


def test_members_of_one_role_who_see_different_items_do_not_share_a_list(app, world):
    staff = _list(_client(app, world, "staff"), world)
    alex = _list(_client(app, world, "alex"), world)
    assert _titles(staff, world) == {"alpha check", "foxtrot survey"}
    assert _titles(alex, world) == {"delta audit"}
    # two leads see every item, but "owned by me" is each one's own
    assert _titles(_list(_client(app, world, "lead"), world, "&owner=me"), world) == {"bravo review"}
    assert _titles(_list(_client(app, world, "lead2"), world, "&owner=me"), world) == {"echo session"}


def test_the_csrf_token_is_each_sessions_own_when_the_list_is_cached(app, world, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    one, two = _client(app, world), _client(app, world)
    url = f"/s/{world.school.slug}/items?year={world.year.id}"
    first, second = (c.get(url).get_data(as_text=True) for c in (one, two))  # the second from the cache
    token_one, token_two = CSRF.findall(first), CSRF.findall(second)
    assert len(token_one) == 1 and len(token_two) == 1
    assert token_one != token_two
    assert ANY_CSRF.sub("", first) == ANY_CSRF.sub("", second)  # the rest is the same cached list
    # each session's token is the one its own bulk form accepts
    url = f"/s/{world.school.slug}/items/bulk?year={world.year.id}"
    data = {"items": [str(world.items["bravo review"].id)], "change": "status", "status": DONE}
    refused = two.post(url, data={**data, "csrf_token": token_one[0]})
    assert refused.status_code == 400
    assert db.session.get(Item, world.items["bravo review"].id).status == NOT_STARTED
    assert two.post(url, data={**data, "csrf_token": token_two[0]}).status_code == 302


def test_a_bulk_form_sent_back_with_errors_is_not_kept(app, world):
    client = _client(app, world)
    plain = _list(client, world)
    response = client.post(
        f"/s/{world.school.slug}/items/bulk?year={world.year.id}",
        data={"items": [str(world.items["bravo review"].id)], "change": "status", "status": ""},
    )
    assert response.status_code == 400
    assert "Choose the new status." in response.get_data(as_text=True)
    assert _list(client, world) == plain


def test_bad_requests_stay_errors_with_the_cache_on(app, world):
    client = _client(app, world)
    base = f"/s/{world.school.slug}/items"
    for _ in range(2):
        assert client.get(f"{base}?year={world.year.id}&status=bogus").status_code == 400
        assert client.get(f"{base}?year={uuid.uuid4()}").status_code == 404
        assert client.get(f"{base}?year={world.year.id}&sort=nope").status_code == 400
