"""The dashboard reads its short lists as plain rows (tracking/dashboard.py `ListRow`), the year's framework
versions as (id, key, checksum) rows, and the shared counts through a statement built once per role
(tracking/shared.py): each must say what the ORM items and the statement built afresh say."""

import sqlalchemy as sa
from sqlalchemy import func

from tracker.extensions import db
from tracker.tracking import dashboard, services, shared, visibility
from tracker.tracking.models import Item
from tracker.tracking.visibility import visible_criteria

from .test_tracking_queries import _school_with_items


def _row_view(row, today):
    owner = row.owner.display_name if row.owner is not None else None
    return (
        row.id,
        row.title,
        row.due_on,
        row.status,
        row.to_review,
        row.updated_at,
        owner,
        row.is_overdue(today),
    )


def test_the_short_lists_rows_read_as_their_items_do(make_school, make_member):
    school, members, owners = _school_with_items(make_school, make_member, 60)
    owners[3].name = ""  # an owner without a name shows their e-mail (User.display_name)
    db.session.commit()
    hr = make_member(school, "hr")
    year = services.current_year(school)
    today = school.today()
    seen = 0
    for membership in (members["lead"], members["staff"], hr):
        lists = dashboard.short_lists(school, year, membership, membership.user_id, today)
        for name, rows in lists.items():
            assert all(isinstance(row, dashboard.ListRow) for row in rows)
            items = {
                i.id: i for i in db.session.scalars(sa.select(Item).where(Item.id.in_([r.id for r in rows])))
            }
            assert len(items) == len(rows), name
            for row in rows:
                assert _row_view(row, today) == _row_view(items[row.id], today), (membership.role, name)
                seen += 1
    assert seen > 20


def test_an_owner_without_a_name_and_an_item_without_an_owner_show_as_before(make_school, make_member):
    school, members, owners = _school_with_items(make_school, make_member, 40)
    year = services.current_year(school)
    today = school.today()
    lead = members["lead"]
    lead.user.name = ""
    db.session.commit()
    rows = [r for rs in dashboard.short_lists(school, year, lead, lead.user_id, today).values() for r in rs]
    by_owner = {r.owner.display_name if r.owner else None for r in rows}
    assert lead.user.email in by_owner
    assert None in by_owner


def _fresh_shared_counts(school, year, membership, refs):
    """shared_counts' grouped count with the statement built here, as it was before it was kept."""
    by_target = shared._by_target(refs)
    return sorted(
        db.session.execute(
            sa.select(Item.framework_id, Item.requirement_key, Item.due_on, Item.status, func.count())
            .where(
                *visible_criteria(school, membership),
                Item.year_id == year.id,
                Item.requirement_key.in_({rk for _, rk in by_target}),
            )
            .group_by(Item.framework_id, Item.requirement_key, Item.due_on, Item.status)
        ).all(),
        key=repr,
    )


def test_the_kept_shared_count_statement_follows_each_school_member_and_year(
    make_school, make_member, monkeypatch
):
    monkeypatch.setattr(visibility, "_per_role", {})
    schools = [_school_with_items(make_school, make_member, n) for n in (40, 80)]
    for school, members, _ in schools:
        year = services.current_year(school)
        frameworks, _, refs = dashboard.framework_shape(year)
        assert refs, "the seeded frameworks share duties (same_as)"
        assert sorted((f.id, f.key, f.checksum) for f in frameworks) == sorted(
            (f.id, f.key, f.checksum) for f in year.frameworks
        )
        for membership in members.values():
            kept = sorted(
                db.session.execute(
                    visibility.per_role("shared.counts", membership.role, shared._counts_statement),
                    {
                        "school_id": school.id,
                        "member_id": membership.user_id,
                        "year_id": year.id,
                        "requirement_keys": sorted({rk for _, rk in shared._by_target(refs)}),
                    },
                ).all(),
                key=repr,
            )
            assert kept == _fresh_shared_counts(school, year, membership, refs), membership.role
            assert sorted(
                shared.shared_counts(school, year, membership, refs, frameworks), key=repr
            ) == sorted(shared.shared_counts(school, year, membership), key=repr)
    assert sorted(k for k in visibility._per_role if k[0] == "shared.counts") == [
        ("shared.counts", "lead"),
        ("shared.counts", "staff"),
    ], "one statement per role, not per request"


def test_the_timeline_texts_are_the_months_own(make_school, make_member):
    school, members, _ = _school_with_items(make_school, make_member, 30)
    year = services.current_year(school)
    today = school.today()
    rows = dashboard.year_counts(school, year, members["lead"])
    months = dashboard.timeline_from(rows, year, today)
    assert len(months) == 12 and sum(m["current"] for m in months) == 1
    for m in months:
        d = m["month"]
        assert (m["label"], m["name"], m["param"]) == (
            d.strftime("%b %Y"),
            d.strftime("%B"),
            d.strftime("%Y-%m"),
        )
        assert m["current"] == ((d.year, d.month) == (today.year, today.month))
