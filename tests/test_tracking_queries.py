"""The dashboard, the item list and the item page run a fixed number of SQL queries, however many items,
comments, answer versions or evidence files a school has (no query per row)."""

import re
import uuid
from contextlib import contextmanager
from datetime import timedelta

import pytest
import sqlalchemy as sa

from tracker.auth.models import User
from tracker.evidence.models import Evidence
from tracker.extensions import db
from tracker.tenancy import Membership
from tracker.tracking import services
from tracker.tracking.models import STATUSES, AnswerVersion, Comment, Item

from .world import sign_in

SMALL, LARGE = 10, 500


@contextmanager
def counted_queries():
    """Collect every SQL statement sent to the database while the block runs."""
    statements = []

    def listener(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", listener)
    try:
        yield statements
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", listener)


def _count_get(client, url):
    client.get(url)  # warm up: anything cached once per process is not counted against either school
    with counted_queries() as statements:
        response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    return len(statements), statements, response


def _users(n, tag):
    users = [
        User(
            email=f"{tag}-{i}-{uuid.uuid4().hex[:6]}@example.org",
            name=f"{tag.title()} {i}",
            password_hash="not-a-real-hash",
        )
        for i in range(n)
    ]
    db.session.add_all(users)
    db.session.flush()
    return users


def _school_with_items(make_school, make_member, n):
    """A school whose current year holds `n` items: framework items and own items, every status, several
    owners (the viewing staff member among them), due dates on both sides of today."""
    school = make_school(timezone="Europe/Madrid", year_start_month=8)
    lead, staff = make_member(school, "lead"), make_member(school, "staff")
    others = _users(max(3, n // 10), "owner")  # a bigger school has more staff: a query per owner would show
    db.session.add_all(Membership(school_id=school.id, user_id=u.id, role="staff") for u in others)
    owners = [lead.user, staff.user, None, *others]
    today = school.today()
    year = services._create_year(school, today.year if today.month >= 8 else today.year - 1)
    requirements = [r for f in year.frameworks for r in f.requirements]
    for i in range(n):
        requirement = requirements[i % len(requirements)] if i % 4 else None
        owner = owners[i % len(owners)]
        status = STATUSES[i % len(STATUSES)]
        db.session.add(
            Item(
                school_id=school.id,
                year_id=year.id,
                framework_id=requirement.framework_id if requirement else None,
                requirement_id=requirement.id if requirement else None,
                requirement_key=requirement.key if requirement else None,
                kind=requirement.answer_type if requirement else "own",
                section_title=requirement.section.title if requirement else "School's own items",
                title=f"Item {i}",
                owner_role="lead",
                owner_id=owner.id if owner else None,
                due_on=today + timedelta(days=(i * 7) % 90 - 45),
                status=status,
                na_reason="Does not apply" if status == "not_applicable" else "",
                completed_on=today if status == "done" else None,
                to_review=i % 5 == 0,
            )
        )
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Item).where(Item.year_id == year.id)) == n
    return school, {"lead": lead, "staff": staff}, owners


@pytest.mark.parametrize("role", ["lead", "staff"])
def test_dashboard_and_item_list_use_the_same_number_of_queries_for_10_and_500_items(
    app, make_school, make_member, role
):
    measured = {}
    for n in (SMALL, LARGE):
        school, members, owners = _school_with_items(make_school, make_member, n)
        client = sign_in(app.test_client(), members[role].user)
        for name, url in (
            ("dashboard", f"/s/{school.slug}/"),
            ("items", f"/s/{school.slug}/items"),
            ("items, page 1, overdue", f"/s/{school.slug}/items?overdue=1"),
        ):
            count, statements, response = _count_get(client, url)
            measured[(name, n)] = (count, statements)
            if name == "items":
                visible = n if role == "lead" else len([i for i in range(n) if i % len(owners) == 1])
                html = response.get_data(as_text=True)
                links = re.findall(rf'href="/s/{school.slug}/items/[0-9a-f-]{{36}}"', html)
                assert len(links) == min(visible, 50), "the list shows the items it is counting"

    report = "; ".join(
        f"{name} with {n} items: {count} queries" for (name, n), (count, _) in measured.items()
    )
    for name in ("dashboard", "items", "items, page 1, overdue"):
        small, large = measured[(name, SMALL)], measured[(name, LARGE)]
        assert small[0] == large[0], f"{role}: {report}\n--- {name}, {LARGE} items:\n" + "\n".join(large[1])
        assert small[0] <= 30, report


def _item_with_history(make_school, make_member, n):
    """An item with `n` comments, `n` earlier answer versions and `n` evidence links, each by a different
    person (none shared between the three lists), so a query per author would show."""
    school = make_school()
    lead = make_member(school, "lead")
    year = services._create_year(school, 2026)
    framework = next(f for f in year.frameworks if f.key == "policy-form")
    requirement = framework.requirements[0]
    item = Item(
        school_id=school.id,
        year_id=year.id,
        framework_id=framework.id,
        requirement_id=requirement.id,
        requirement_key=requirement.key,
        kind="answer",
        section_title=requirement.section.title,
        title=requirement.title,
        owner_role="lead",
        owner_id=lead.user_id,
        due_on=year.starts_on,
        answer="Current answer",
        answer_status="partly",
    )
    db.session.add(item)
    db.session.flush()
    commenters, writers, uploaders = _users(n, "commenter"), _users(n, "writer"), _users(n, "uploader")
    for i in range(n):
        db.session.add(
            Comment(school_id=school.id, item_id=item.id, body=f"Comment {i}", author_id=commenters[i].id)
        )
        db.session.add(
            AnswerVersion(
                school_id=school.id,
                item_id=item.id,
                answer=f"Version {i}",
                answer_status="partly",
                author_id=writers[i].id,
            )
        )
        db.session.add(
            Evidence(
                school_id=school.id,
                item_id=item.id,
                kind="link",
                name=f"Link {i}",
                url=f"https://example.org/{i}",
                uploaded_by_id=uploaders[i].id,
            )
        )
    db.session.commit()
    return school, lead, item


def test_the_item_page_uses_the_same_number_of_queries_with_1_or_30_comments(app, make_school, make_member):
    measured = {}
    for n in (1, 30):
        school, lead, item = _item_with_history(make_school, make_member, n)
        client = sign_in(app.test_client(), lead.user)
        count, statements, response = _count_get(client, f"/s/{school.slug}/items/{item.id}")
        html = response.get_data(as_text=True)
        assert f"Comment {n - 1}" in html and f"Version {n - 1}" in html and f"Link {n - 1}" in html
        assert f"Commenter {n - 1}" in html and f"Writer {n - 1}" in html and f"Uploader {n - 1}" in html
        measured[n] = (count, statements)

    report = f"item page: {measured[1][0]} queries with 1 comment, {measured[30][0]} with 30"
    assert measured[1][0] == measured[30][0], report + "\n--- with 30:\n" + "\n".join(measured[30][1])
    assert measured[1][0] <= 30, report
