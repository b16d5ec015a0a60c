"""The dashboard's short lists and counts run statements built once per process and role
(tracking/dashboard.py `_prepared`): each request gives only its own school, year, member and day, and the
lists still follow the member who asks and the school they ask about."""

import re
import uuid

import sqlalchemy as sa
from markupsafe import escape

from tracker.extensions import db
from tracker.tracking import dashboard, visibility
from tracker.tracking.models import OPEN_STATUSES, Item
from tracker.tracking.visibility import may_see

from .test_tracking_queries import _school_with_items
from .world import sign_in


def _linked_items(client, school):
    html = client.get(f"/s/{school.slug}/").get_data(as_text=True)
    ids = set(re.findall(rf'href="/s/{school.slug}/items/([0-9a-f-]{{36}})"', html))
    return db.session.scalars(sa.select(Item).where(Item.id.in_([uuid.UUID(i) for i in ids]))).all(), ids


def test_short_lists_are_built_once_per_role_and_follow_each_member_and_school(
    app, make_school, make_member, monkeypatch
):
    built = []
    original = dashboard._short_lists_statement

    def counting(school, member):
        built.append(member.role)
        return original(school, member)

    monkeypatch.setattr(visibility, "_per_role", {})
    monkeypatch.setattr(dashboard, "_short_lists_statement", counting)
    schools = [_school_with_items(make_school, make_member, 40) for _ in range(2)]
    for school, members, _ in schools:
        hr = make_member(school, "hr")
        # HR also sees the unassigned items meant for HR: make some
        for item in db.session.scalars(
            sa.select(Item).where(Item.school_id == school.id, Item.owner_id.is_(None))
        ):
            item.owner_role = "hr"
        db.session.commit()
        for membership in (members["lead"], members["staff"], hr):
            items, ids = _linked_items(sign_in(app.test_client(), membership.user), school)
            assert items and len(items) == len(ids), (membership.role, ids)
            assert {item.school_id for item in items} == {school.id}, "another school's items"
            assert all(may_see(membership, item) for item in items), (
                f"{membership.role}: an item it may not see"
            )
            if membership.role == "staff":
                assert {item.owner_id for item in items} == {membership.user_id}
            if membership.role == "hr":
                assert any(item.owner_id is None for item in items), "HR's unassigned HR items"
            today = school.today()
            overdue = [
                str(item.id)
                for item in db.session.scalars(
                    sa.select(Item).where(
                        Item.school_id == school.id, Item.status.in_(OPEN_STATUSES), Item.due_on < today
                    )
                )
                if may_see(membership, item)
            ]
            if len(overdue) <= dashboard.SHORT_LIST_SIZES["overdue"]:
                assert set(overdue) <= ids, f"{membership.role}: an overdue item missing"
    assert sorted(built) == ["hr", "lead", "staff"], "the statement is built once per role, not per request"


def _owner_options(html):
    select = re.search(r'<select[^>]*id="owner"[^>]*>(.*?)</select>', html, re.S).group(1)
    return re.findall(r'<option[^>]*value="([^"]*)"', select)


def test_the_item_lists_empty_bulk_form_is_made_once_per_owner_list(
    app, make_school, make_member, monkeypatch
):
    from tracker.tracking import list_views

    rendered = []
    original = list_views._bulk_actions

    def counting(form):
        rendered.append(form)
        return original(form)

    monkeypatch.setattr(list_views, "_bulk_actions", counting)
    school, members, owners = _school_with_items(make_school, make_member, 12)
    client = sign_in(app.test_client(), members["lead"].user)
    first = client.get(f"/s/{school.slug}/items").get_data(as_text=True)
    again = client.get(f"/s/{school.slug}/items").get_data(as_text=True)
    assert len(rendered) == 1, "the same owner list renders the same fields: once"
    assert _owner_options(first) == _owner_options(again)
    newcomer = make_member(school, "staff", name="Aaron Newcomer")
    after = client.get(f"/s/{school.slug}/items").get_data(as_text=True)
    assert len(rendered) == 2
    assert str(newcomer.user_id) in _owner_options(after), "a new member can be chosen at once"
    assert str(newcomer.user_id) not in _owner_options(first)


def _section_order(html, framework_title):
    """The section titles under one framework's progress bar, in the page's order (escaped as shown)."""
    parts = html.split(f'<span class="progress-title">{escape(framework_title)}</span>', 1)
    if len(parts) == 1:
        return []
    return re.findall(r"<li><span>(.*?)</span>", parts[1].split("</details>", 1)[0])


def test_the_dashboard_reads_a_framework_versions_sections_once_and_again_when_the_version_changes(
    app, make_school, make_member
):
    from tracker.tracking import services

    from .test_tracking_queries import counted_queries

    school, members, _ = _school_with_items(make_school, make_member, 60)
    client = sign_in(app.test_client(), members["lead"].user)
    url = f"/s/{school.slug}/"
    before = client.get(url).get_data(as_text=True)
    with counted_queries() as statements:
        assert client.get(url).status_code == 200
    structure = [s for s in statements if re.search(r"framework_sections|(FROM|JOIN) requirements", s)]
    assert not structure, "sections and references are read once per framework version, not per request"
    year_frameworks = [s for s in statements if "school_year_frameworks" in s]
    assert len(year_frameworks) == 1, "the year's frameworks are read once (their ids, keys and checksums)"

    framework = max(
        services.current_year(school).frameworks, key=lambda f: len(_section_order(before, f.title))
    )
    order = _section_order(before, framework.title)
    assert len(order) > 1
    # the version's file changed: its sections in the opposite order, and a new checksum with them
    for section in framework.sections:
        shown = str(escape(section.title))
        section.position = 1000 - order.index(shown) if shown in order else 2000
    framework.checksum = "a changed file"
    db.session.commit()
    after = client.get(url).get_data(as_text=True)
    assert _section_order(after, framework.title) == list(reversed(order))
