"""The dashboard's rendered part is kept while the school's audit head stands still, and only then.

The cache is on here (the rest of the suite runs with it off, because it changes rows without audit events).
Every change a user can make goes through a service that writes an audit event, so these tests make their
changes over HTTP, as a user would, and check that the next dashboard shows them.
"""

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from tracker import pagecache
from tracker.extensions import db
from tracker.tracking.models import Item

from .test_tracking import _form_version, _page, _start, _update
from .test_tracking_queries import counted_queries
from .world import sign_in

NOW = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)  # 10:00 in Bangkok


pytestmark = pytest.mark.usefixtures("page_cache_on")


def _dashboard(client, school):
    response = client.get(f"/s/{school.slug}/")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _overdue_tile(html):
    return int(re.search(r'<span class="tile-number">(\d+)</span> overdue', html).group(1))


@time_machine.travel(NOW, tick=False)
def test_an_unchanged_school_is_served_from_the_cache_and_a_change_shows_at_once(
    app, make_school, make_member
):
    school = make_school(timezone="Asia/Bangkok")
    lead = make_member(school, "lead")
    client = sign_in(app.test_client(), lead.user)
    year = _start(client, school)
    item = (
        db.session.execute(
            db.select(Item)
            .where(Item.year_id == year.id, Item.due_on < NOW.date(), Item.status == "not_started")
            .order_by(Item.due_on)
        )
        .scalars()
        .first()
    )
    _dashboard(client, school)  # shows (and so clears) the "year started" message
    first = _dashboard(client, school)
    overdue = _overdue_tile(first)
    assert overdue > 0 and item.title in first

    with counted_queries() as cold:
        pagecache.fragments.clear()
        _dashboard(client, school)
    with counted_queries() as warm:
        again = _dashboard(client, school)
    assert again == first
    assert len(warm) < len(cold), (len(warm), len(cold))  # the item queries were not run again

    version = _form_version(_page(client, school, item), item)
    assert _update(client, school, item, version, status="done", completed_on=NOW.date()).status_code == 302
    after = _dashboard(client, school)
    assert _overdue_tile(after) == overdue - 1, "the change wrote an audit event: the dashboard is made again"


@time_machine.travel(NOW, tick=False)
def test_each_member_gets_their_own_dashboard_and_each_school_its_own(app, make_school, make_member):
    school = make_school(timezone="Asia/Bangkok")
    other = make_school(timezone="Asia/Bangkok")
    lead, staff = make_member(school, "lead"), make_member(school, "staff")
    other_lead = make_member(other, "lead")
    lead_client = sign_in(app.test_client(), lead.user)
    _start(lead_client, school)
    _start(sign_in(app.test_client(), other_lead.user), other)

    lead_html = _dashboard(lead_client, school)
    staff_html = _dashboard(sign_in(app.test_client(), staff.user), school)
    assert _overdue_tile(lead_html) > 0
    assert _overdue_tile(staff_html) == 0 and "Nothing is assigned to you" in staff_html, (
        "staff see only their own"
    )
    other_html = _dashboard(sign_in(app.test_client(), other_lead.user), other)
    assert other.name in other_html and school.name not in other_html


def test_the_next_day_the_dashboard_is_made_again(app, make_school, make_member):
    school = make_school(timezone="Asia/Bangkok")
    lead = make_member(school, "lead")
    with time_machine.travel(NOW, tick=False):
        client = sign_in(app.test_client(), lead.user)
        year = _start(client, school)
        due_tomorrow = (
            db.session.execute(
                db.select(Item).where(Item.year_id == year.id, Item.due_on > NOW.date()).order_by(Item.due_on)
            )
            .scalars()
            .first()
        )
        today = _overdue_tile(_dashboard(client, school))
    days = (due_tomorrow.due_on - NOW.date()).days
    with time_machine.travel(NOW + timedelta(days=days + 1), tick=False):
        client = sign_in(app.test_client(), lead.user)  # sessions last hours, not days
        assert _overdue_tile(_dashboard(client, school)) > today, "what fell due in between is overdue now"


def test_the_cache_keeps_a_bounded_number_of_parts():
    cache = pagecache.FragmentCache(size=3)
    for n in range(5):
        cache.put(n, str(n))
    assert [cache.get(n) for n in range(5)] == [None, None, "2", "3", "4"]
