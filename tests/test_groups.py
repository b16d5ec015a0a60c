"""Groups of schools: the group dashboard (fixed queries, speed, sort and filter, links into the schools), the
read-only school pages, group items, the weekly group digest, the group report (PDF/A) and the operator's
pages."""

import io
import re
import statistics
import time
import uuid
from datetime import UTC, date, datetime, timedelta

import time_machine
from sqlalchemy import event

from tracker import audit, pagecache
from tracker.auth.models import User
from tracker.extensions import db
from tracker.frameworks.models import Framework
from tracker.group_access import GROUP_LEAD, GROUP_VIEWER, GroupMembership, SchoolGroup
from tracker.groups import digest
from tracker.groups.models import GroupItemCopy
from tracker.people.models import Person
from tracker.reminders.models import OutboxMessage
from tracker.review.models import ReviewQuery
from tracker.tenancy import School
from tracker.tracking.models import DONE, NOT_STARTED, Item, ItemKind, SchoolYear

from .conftest import CHEAP_HASHER, PASSWORD, audit_count
from .reports_helpers import xmp
from .world import MARKER, build_worlds, sign_in


def _user(email, admin=False):
    user = User(email=email, name=email.split("@")[0], password_hash=CHEAP_HASHER.hash(PASSWORD))
    user.is_platform_admin = admin
    db.session.add(user)
    db.session.flush()
    return user


def _group_of(n, *, overdue=True):
    """A group of `n` schools, each with a current year, items of a framework (one done, one overdue), a
    person with an overdue check and an open query; and a group lead. Written directly, fast."""
    tag = uuid.uuid4().hex[:6]
    framework = db.session.execute(
        db.select(Framework).order_by(Framework.key, Framework.id).limit(1)
    ).scalar_one()
    group = SchoolGroup(slug=f"grp-{tag}", name=f"Group {tag}")
    db.session.add(group)
    db.session.flush()
    today = date.today()
    for i in range(n):
        school = School(slug=f"s{i}-{tag}", name=f"School {i:02d} {tag}", group_id=group.id, timezone="UTC")
        db.session.add(school)
        db.session.flush()
        year = SchoolYear(
            school_id=school.id,
            label="This year",
            starts_on=today - timedelta(days=100),
            ends_on=today + timedelta(days=200),
        )
        db.session.add(year)
        db.session.flush()
        common = dict(
            school_id=school.id, year_id=year.id, framework_id=framework.id, kind="task", owner_role="lead"
        )
        done = Item(**common, title="Done", due_on=today - timedelta(days=30), status=DONE)
        late = Item(
            **common, title="Late", due_on=today - timedelta(days=3 if overdue else -30), status=NOT_STARTED
        )
        db.session.add_all([done, late])
        person = Person(school_id=school.id, full_name=f"Person {i}", category="teaching", start_on=today)
        db.session.add(person)
        db.session.flush()
        db.session.add(
            Item(
                school_id=school.id,
                kind=ItemKind.CHECK,
                title="Police check",
                person_id=person.id,
                owner_role="hr",
                due_on=today - timedelta(days=2 if overdue else -30),
                status=NOT_STARTED,
            )
        )
        db.session.add(ReviewQuery(school_id=school.id, item_id=late.id, state="open"))
    lead = _user(f"lead-{tag}@example.org")
    db.session.add(GroupMembership(group_id=group.id, user_id=lead.id, role=GROUP_LEAD))
    db.session.commit()
    return group, lead


def _count_queries(app, client, url):
    statements = []

    def count(conn, cursor, statement, *args):
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "BEGIN", "COMMIT", "ROLLBACK")):
            statements.append(statement)

    engine = db.engines[None] if hasattr(db, "engines") else db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        response = client.get(url)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert response.status_code == 200, response.status_code
    return len(statements), response


def test_the_dashboard_reads_with_a_fixed_number_of_queries_and_fast(app):
    """3 schools and 60 schools: the same number of queries; p50 under 100 ms for 60 schools."""
    small, small_lead = _group_of(3)
    big, big_lead = _group_of(60)
    small_client = sign_in(app.test_client(), small_lead)
    big_client = sign_in(app.test_client(), big_lead)
    small_client.get(f"/g/{small.slug}/")  # warm caches (templates, the training plan)
    big_client.get(f"/g/{big.slug}/")
    few, _ = _count_queries(app, small_client, f"/g/{small.slug}/")
    many, response = _count_queries(app, big_client, f"/g/{big.slug}/")
    assert few == many, (few, many)
    body = response.get_data(as_text=True)
    assert body.count("<tr>") == 61  # the header and one row per school
    # CPU time of this process (the app and, on SQLite, the database): the machine running the suite may be
    # busy with other work, which wall-clock time would count; both are printed
    cpu, wall = [], []
    for _ in range(9):
        started, started_cpu = time.perf_counter(), time.process_time()
        assert big_client.get(f"/g/{big.slug}/").status_code == 200
        cpu.append(1000 * (time.process_time() - started_cpu))
        wall.append(1000 * (time.perf_counter() - started))
    p50 = statistics.median(cpu)
    wall_p50 = statistics.median(wall)
    print(f"group dashboard, 60 schools: {many} queries, p50 {p50:.1f} ms CPU, {wall_p50:.1f} ms wall")
    assert p50 < 100


def test_each_schools_row_is_kept_until_its_audit_head_moves(app, monkeypatch):
    """With the page cache on: the second read counts nothing again (fewer statements, the same rows, even a
    change made behind the audit chain's back); one audit event of a school (every change writes one) and
    the next read counts that school again, and only it; the statements are the same for 3 and 30 schools."""
    monkeypatch.setitem(app.config, "TRACKER_PAGE_CACHE", True)
    pagecache.fragments.clear()
    try:
        statements = {}
        for n in (3, 30):
            group, lead = _group_of(n)
            client = sign_in(app.test_client(), lead)
            url = f"/g/{group.slug}/"
            counted, first = _count_queries(app, client, url)
            kept, again = _count_queries(app, client, url)
            assert kept < counted and again.get_data(as_text=True).count("<tr>") == n + 1
            statements[n] = (counted, kept)
        assert statements[3] == statements[30], statements
        changed, untouched = (
            db.session.execute(
                db.select(School).where(School.group_id == group.id).order_by(School.name).limit(2)
            )
            .scalars()
            .all()
        )
        cells = {s: f'<a href="/s/{s.slug}/review/">' for s in (changed, untouched)}
        assert all(cell + "1</a>" in first.get_data(as_text=True) for cell in cells.values())
        db.session.execute(
            db.update(ReviewQuery)
            .where(ReviewQuery.school_id.in_([changed.id, untouched.id]))
            .values(state="closed")
        )
        db.session.commit()
        body = client.get(url).get_data(as_text=True)
        assert cells[changed] + "1</a>" in body and cells[untouched] + "1</a>" in body  # no audit event yet
        audit.record("query.closed", school=changed, subject=changed)
        db.session.commit()
        recounted, response = _count_queries(app, client, url)
        body = response.get_data(as_text=True)
        assert cells[changed] + "0</a>" in body and cells[untouched] + "1</a>" in body
        assert recounted == statements[30][0]
    finally:
        pagecache.fragments.clear()


@time_machine.travel(datetime(2026, 11, 23, 12, 0, tzinfo=UTC), tick=False)
def test_overdue_figures_use_each_schools_own_date(app):
    """Noon UTC on 23 November is already the 24th at Kiritimati (UTC+14) and still the 23rd at Pago Pago
    (UTC-11): an item and a check due on the 23rd are overdue in the first school only."""
    group, lead = _group_of(2)
    east, west = (
        db.session.execute(db.select(School).where(School.group_id == group.id).order_by(School.name))
        .scalars()
        .all()
    )
    east.timezone, west.timezone = "Pacific/Kiritimati", "Pacific/Pago_Pago"
    db.session.execute(
        db.update(Item)
        .where(Item.school_id.in_([east.id, west.id]), Item.title.in_(["Late", "Police check"]))
        .values(due_on=date(2026, 11, 23))
    )
    db.session.commit()
    body = sign_in(app.test_client(), lead).get(f"/g/{group.slug}/").get_data(as_text=True)
    for school, overdue in ((east, 1), (west, 0)):
        assert f'href="/s/{school.slug}/items?overdue=1">{overdue}</a>' in body, school.timezone
        gaps_and_checks = re.findall(rf'href="/s/{school.slug}/people/\?filter=incomplete">(\d+)</a>', body)
        assert gaps_and_checks == ["1", str(overdue)], school.timezone


def test_dashboard_figures_sort_filter_and_links(app):
    group, lead = _group_of(3)
    client = sign_in(app.test_client(), lead)
    body = client.get(f"/g/{group.slug}/").get_data(as_text=True)
    school = (
        db.session.execute(db.select(School).where(School.group_id == group.id).order_by(School.name))
        .scalars()
        .first()
    )
    # every figure links into the school
    for path in ("/", "/items?overdue=1", "/review/", "/people/?filter=incomplete", "/training/"):
        assert f'href="/s/{school.slug}{path}' in body.replace("&amp;", "&"), path
    assert ": 50%</a>" in body  # one of two framework items done
    framework = db.session.execute(
        db.select(Framework).order_by(Framework.key, Framework.id).limit(1)
    ).scalar_one()
    assert f'href="/s/{school.slug}/items?framework={framework.key}"' in body
    # sort and filter
    one = client.get(f"/g/{group.slug}/?q=School+01").get_data(as_text=True)
    assert "1 of 3 schools shown" in one and "School 00" not in one
    assert "0 of 3 schools shown" in client.get(f"/g/{group.slug}/?q=nothing-like-it").get_data(as_text=True)
    names = client.get(f"/g/{group.slug}/?sort=name").get_data(as_text=True)
    assert names.index("School 00") < names.index("School 02")
    assert client.get(f"/g/{group.slug}/?sort=bogus").status_code == 400
    assert client.get(f"/g/{group.slug}/?attention=1").status_code == 200
    quiet, quiet_lead = _group_of(2, overdue=False)
    quiet_client = sign_in(app.test_client(), quiet_lead)
    quiet_ids = db.select(School.id).where(School.group_id == quiet.id)
    db.session.execute(
        db.update(ReviewQuery).where(ReviewQuery.school_id.in_(quiet_ids)).values(state="closed")
    )
    db.session.execute(
        db.update(Item).where(Item.school_id.in_(quiet_ids), Item.kind == ItemKind.CHECK).values(status=DONE)
    )
    db.session.commit()
    assert "0 of 2 schools shown" in quiet_client.get(f"/g/{quiet.slug}/?attention=1").get_data(as_text=True)


def test_an_empty_group_says_what_to_do(app):
    group = SchoolGroup(slug=f"empty-{uuid.uuid4().hex[:6]}", name="Empty trust")
    db.session.add(group)
    viewer = _user(f"viewer-{uuid.uuid4().hex[:6]}@example.org")
    db.session.flush()
    db.session.add(GroupMembership(group_id=group.id, user_id=viewer.id, role=GROUP_VIEWER))
    db.session.commit()
    client = sign_in(app.test_client(), viewer)
    body = client.get(f"/g/{group.slug}/").get_data(as_text=True)
    assert "No schools in this group yet" in body


def test_group_pages_are_closed_to_others_and_school_pages_read_only(app):
    """(One world for both halves: building it is the slow part.)"""
    a, b = build_worlds()
    assert app.test_client().get(f"/g/{a.group.slug}/").status_code == 302  # sign in first
    member = sign_in(app.test_client(), a.members["head"].user)  # a member of the school, no group role
    assert member.get(f"/g/{a.group.slug}/").status_code == 404
    other = sign_in(app.test_client(), b.group_members[GROUP_LEAD])
    response = other.get(f"/g/{a.group.slug}/")
    assert response.status_code == 404
    viewer = sign_in(app.test_client(), a.group_members[GROUP_VIEWER])
    assert viewer.get(f"/g/{b.group.slug}/").status_code == 404
    assert MARKER not in viewer.get(f"/g/{a.group.slug}/").get_data(as_text=True)
    # on a school page of the group: the banner, no write buttons, writes refused
    body = viewer.get(f"/s/{a.school.slug}/items/{a.item.id}").get_data(as_text=True)
    assert f"Viewing as group: {a.group.name} — read only" in body
    assert f"/s/{a.school.slug}/items/{a.item.id}/comments" not in body  # no comment form
    assert f"/s/{a.school.slug}/items/{a.item.id}/answer" not in body  # no answer form
    assert 'name="status"' not in body
    assert "/people/" not in viewer.get(f"/s/{a.school.slug}/").get_data(as_text=True)  # no register link
    before = audit_count()
    response = viewer.post(f"/s/{a.school.slug}/items/{a.item.id}/comments", data={"body": "hello"})
    assert response.status_code == 403 and audit_count() == before
    # a member who also holds a group role acts as the member: no banner
    lead = sign_in(app.test_client(), a.members["lead"].user)
    assert "Viewing as group" not in lead.get(f"/s/{a.school.slug}/").get_data(as_text=True)


def test_the_group_lead_publishes_an_item_to_every_school(app):
    group, lead = _group_of(2)
    schools = (
        db.session.execute(db.select(School).where(School.group_id == group.id).order_by(School.name))
        .scalars()
        .all()
    )
    # a third school without a year is skipped and named
    bare = School(slug=f"bare-{uuid.uuid4().hex[:6]}", name="Bare school", group_id=group.id, timezone="UTC")
    db.session.add(bare)
    viewer = _user(f"v-{uuid.uuid4().hex[:6]}@example.org")
    db.session.add(GroupMembership(group_id=group.id, user_id=viewer.id, role=GROUP_VIEWER))
    db.session.commit()
    client = sign_in(app.test_client(), lead)
    due = (date.today() + timedelta(days=20)).isoformat()
    form = {
        "title": "Report termly to the board",
        "section_title": "Group items",
        "due_on": due,
        "owner_role": "head",
    }
    before = audit_count()
    response = client.post(f"/g/{group.slug}/items", data=form)
    assert response.status_code == 302
    page = client.get(f"/g/{group.slug}/items").get_data(as_text=True)
    assert "added to 2 school(s)" in page and "Bare school (no school year yet)" in page
    copies = db.session.execute(
        db.select(GroupItemCopy, Item).join(Item, Item.id == GroupItemCopy.item_id)
    ).all()
    mine = [item for copy, item in copies if copy.school_id in {s.id for s in schools}]
    assert (
        len(mine) == 2
        and {i.owner_role for i in mine} == {"head"}
        and {i.section_title for i in mine} == {"Group items"}
    )
    assert audit_count() > before
    assert page.count("Not started") == 2
    # a viewer cannot publish; a bad date re-renders with the values
    viewer_client = sign_in(app.test_client(), viewer)
    assert viewer_client.post(f"/g/{group.slug}/items", data=form).status_code == 403
    assert "Publish an item" not in viewer_client.get(f"/g/{group.slug}/items").get_data(as_text=True)
    bad = client.post(f"/g/{group.slug}/items", data={**form, "due_on": "not a date", "title": "Kept title"})
    assert bad.status_code == 400 and "Kept title" in bad.get_data(as_text=True)


def test_the_weekly_group_digest(app):
    group, lead = _group_of(2)
    quiet, _ = _group_of(1, overdue=False)
    report = digest.queue_group_digests()
    assert group.slug in report.groups and quiet.slug not in report.groups
    messages = (
        db.session.execute(
            db.select(OutboxMessage).where(
                OutboxMessage.kind == digest.KIND, OutboxMessage.to_address == lead.email
            )
        )
        .scalars()
        .all()
    )
    assert len(messages) == 1
    assert (
        "School 00" in messages[0].body_text
        and "1 overdue item(s), 1 overdue recruitment check(s)" in messages[0].body_text
    )
    assert f"/g/{group.slug}/" in messages[0].body_text
    digest.queue_group_digests()  # once a week
    assert (
        db.session.execute(
            db.select(db.func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.to_address == lead.email)
        ).scalar()
        == 1
    )


def test_the_group_report_is_a_pdf_with_a_page_per_school(app):
    from pypdf import PdfReader

    group, lead = _group_of(2)
    client = sign_in(app.test_client(), lead)
    response = client.get(f"/g/{group.slug}/report.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(response.data))
    assert len(reader.pages) >= 3
    text = [page.extract_text() for page in reader.pages]
    assert "Summary" in text[0] and "School 00" in text[0] and "School 01" in text[0]
    assert any("School 01" in t and "Progress per framework" in t for t in text[1:])
    meta = xmp(response.data)  # PDF/A-3b, as every report
    assert 'pdfaid:part="3"' in meta and 'pdfaid:conformance="B"' in meta


def test_the_operator_makes_a_group(app):
    tag = uuid.uuid4().hex[:6]
    admin = _user(f"admin-{tag}@example.org", admin=True)
    person = _user(f"person-{tag}@example.org")
    one = School(slug=f"one-{tag}", name=f"One {tag}")
    two = School(slug=f"two-{tag}", name=f"Two {tag}")
    db.session.add_all([one, two])
    db.session.commit()
    client = sign_in(app.test_client(), admin)
    before = audit_count()
    response = client.post("/admin/groups/", data={"name": "North trust", "slug": f"north-{tag}"})
    assert response.status_code == 302
    group = db.session.execute(db.select(SchoolGroup).where(SchoolGroup.slug == f"north-{tag}")).scalar_one()
    base = f"/admin/groups/{group.id}"
    assert client.post(f"{base}/schools", data={"school": one.slug}).status_code == 302
    again = client.post(f"{base}/schools", data={"school": "no-such-school"})
    assert again.status_code == 400 and "no-such-school" in again.get_data(as_text=True)
    assert client.post(f"{base}/roles", data={"email": person.email, "role": GROUP_LEAD}).status_code == 302
    unknown = client.post(f"{base}/roles", data={"email": f"nobody-{tag}@example.org", "role": GROUP_LEAD})
    assert unknown.status_code == 400 and "No account uses that e-mail address" in unknown.get_data(
        as_text=True
    )
    # a school belongs to one group
    other = client.post("/admin/groups/", data={"name": "South trust", "slug": f"south-{tag}"})
    south = db.session.execute(db.select(SchoolGroup).where(SchoolGroup.slug == f"south-{tag}")).scalar_one()
    assert other.status_code == 302
    refused = client.post(f"/admin/groups/{south.id}/schools", data={"school": one.slug})
    assert refused.status_code == 400 and "already in another group" in refused.get_data(as_text=True)
    page = client.get(base).get_data(as_text=True)
    assert one.name in page and person.email in page
    assert audit_count() >= before + 5
    # the new group lead reads the school, read only
    lead = sign_in(app.test_client(), person)
    assert lead.get(f"/g/north-{tag}/").status_code == 200
    assert lead.get(f"/s/{one.slug}/").status_code == 200
    assert lead.get(f"/s/{two.slug}/").status_code == 404
    # removing the school closes the way in
    assert client.post(f"{base}/schools/{one.id}/remove").status_code == 302
    assert lead.get(f"/s/{one.slug}/").status_code == 404
    gm = db.session.execute(
        db.select(GroupMembership).where(GroupMembership.user_id == person.id)
    ).scalar_one()
    assert client.post(f"{base}/roles/{gm.id}/remove").status_code == 302
    assert lead.get(f"/g/north-{tag}/").status_code == 404
    # not for anyone else
    assert sign_in(app.test_client(), person).get("/admin/groups/").status_code == 403
