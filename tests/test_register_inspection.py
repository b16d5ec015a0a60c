"""The register's inspection view, column sets and combined filters, the validator ("Check the register"), and
the page's fixed number of queries."""

import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from markupsafe import escape

from tracker.extensions import db
from tracker.people import register
from tracker.people import services as people
from tracker.people.models import Person, RiskAssessment
from tracker.policies import services as policies
from tracker.policies.services import register_acknowledgements
from tracker.tracking.models import Item

from .test_tracking_queries import counted_queries
from .world import sign_in


def _items(person):
    return (
        db.session.execute(
            sa.select(Item).where(Item.person_id == person.id).order_by(Item.requirement_key, Item.country)
        )
        .scalars()
        .all()
    )


def _set(item, **values):
    db.session.execute(sa.update(Item).where(Item.id == item.id).values(**values))


@pytest.fixture
def seeded(make_school, make_member):
    """A register of nine teachers, every check verified, then one known gap (or a filled edge case) per
    person. Returns (school, hr, {(person name, item id or requirement key, problem start)})."""
    school = make_school(country="Thailand", timezone="Asia/Bangkok")
    hr = make_member(school, "hr")
    head = make_member(school, "head")
    today = school.today()
    persons = {}
    for n in range(9):
        persons[n] = people.add_person(
            school,
            full_name=f"Person {n}",
            email=f"p{n}@example.org",
            category="teaching",
            start_on=today - timedelta(days=100 + n),
            countries=["Kenya"],
        )
    db.session.execute(
        sa.update(Item)
        .where(Item.school_id == school.id)
        .values(
            check_status="verified",
            status="done",
            verified_on=today - timedelta(days=5),
            completed_on=today - timedelta(days=5),
        )
    )
    db.session.expire_all()
    expected = set()

    def item(n, k=0):
        return _items(persons[n])[k]

    # 0: clean. 1: blank, due later. 2: requested and overdue. 3: verified without a date.
    i = item(1)
    _set(
        i,
        check_status="not_started",
        status="not_started",
        verified_on=None,
        due_on=today + timedelta(days=9),
    )
    expected.add(("Person 1", i.id, "Blank: not started, due"))
    i = item(2)
    _set(
        i, check_status="requested", status="in_progress", verified_on=None, due_on=today - timedelta(days=3)
    )
    expected.add(("Person 2", i.id, "Overdue since"))
    i = item(3)
    _set(i, verified_on=None)
    expected.add(("Person 3", i.id, "Verified, but the date is missing"))
    # 4: not required without a reason (a gap) and with one (filled)
    i, j = item(4, 0), item(4, 1)
    _set(i, check_status="not_required", status="not_applicable", verified_on=None, na_reason="")
    _set(
        j,
        check_status="not_required",
        status="not_applicable",
        verified_on=None,
        na_reason="Not for this role.",
    )
    expected.add(("Person 4", i.id, "Not required, but no reason is given"))
    # 5: expired today
    i = item(5)
    _set(i, expires_on=today)
    expected.add(("Person 5", i.id, "Expired on"))
    # 6: an open check covered by a signed risk assessment (filled), another by an unsigned one (a gap)
    i, j = item(6, 0), item(6, 1)
    for x in (i, j):
        _set(
            x,
            check_status="not_started",
            status="not_started",
            verified_on=None,
            due_on=today - timedelta(days=1),
        )
    db.session.add_all(
        [
            RiskAssessment(
                school_id=school.id,
                item_id=i.id,
                summary="Fine.",
                signed_at=today_utc(),
                signed_by_id=head.user_id,
            ),
            RiskAssessment(school_id=school.id, item_id=j.id, summary="Pending."),
        ]
    )
    expected.add(("Person 6", j.id, "Overdue since"))
    # 7: a check missing from the checklist altogether
    i = item(7)
    db.session.execute(sa.delete(Item).where(Item.id == i.id))
    expected.add(("Person 7", i.requirement_key, "Missing from the person's checklist"))
    # 8: a per-country police check blank and overdue
    i = next(x for x in _items(persons[8]) if x.country == "Kenya")
    _set(
        i,
        check_status="not_started",
        status="not_started",
        verified_on=None,
        due_on=today - timedelta(days=40),
    )
    expected.add(("Person 8", i.id, "Overdue since"))
    db.session.commit()
    return school, hr, expected


def today_utc():
    from tracker.db import utcnow

    return utcnow()


def _found(gaps):
    out = set()
    for gap in gaps:
        ref = gap.item.id if gap.item is not None else gap.column.key
        out.add((gap.person.full_name, ref, gap.problem))
    return out


def _matches(found, expected):
    """Each found gap matches one expected (person, item, problem start) and each expected is found."""
    assert len(found) == len(expected), (found, expected)
    for name, ref, start in expected:
        assert any(f[0] == name and f[1] == ref and f[2].startswith(start) for f in found), (name, ref, start)


def test_the_validator_finds_every_seeded_gap_and_nothing_else(app, seeded):
    school, hr, expected = seeded
    cols, rows, _ = register.build(school)
    _matches(_found(register.gaps(school, cols, rows)), expected)
    # the gap filter keeps exactly the people the validator names
    _, with_gaps, _ = register.build(school, gaps_only=True)
    assert sorted(r.person.full_name for r in with_gaps) == sorted({name for name, _, _ in expected})
    client = sign_in(app.test_client(), hr.user)
    page = client.get(f"/s/{school.slug}/people/check?view=process").get_data(as_text=True)
    assert f"{len(expected)} gaps" in page and "8 of 9 people with gaps" in page
    for _name, ref, start in expected:
        assert str(escape(start)) in page
        if not isinstance(ref, str):
            assert f"/checks/{ref}" in page  # a link to the check's page


def test_a_register_without_gaps_says_so(app, make_school, make_member):
    school = make_school()
    hr = make_member(school, "hr")
    person = people.add_person(
        school, full_name="All Done", email=None, category="teaching", start_on=school.today(), countries=[]
    )
    for item in _items(person):
        people.update_check(
            school,
            item,
            version=item.version,
            check_status="verified",
            verified_on=school.today(),
            user=hr.user,
        )
    db.session.commit()
    client = sign_in(app.test_client(), hr.user)
    for path in ("people/check?view=process", "people/?gaps=1&view=process"):
        page = client.get(f"/s/{school.slug}/{path}").get_data(as_text=True)
        assert "No gaps — every cell is filled" in page, path


def test_the_inspection_view_process_order_and_a_custom_set_of_columns(app, seeded):
    school, hr, _ = seeded
    client = sign_in(app.test_client(), hr.user)
    base = f"/s/{school.slug}/people/"

    def headers(query=""):
        page = client.get(base + query).get_data(as_text=True)
        head = re.search(r"<thead>(.*?)</thead>", page, re.S).group(1)
        return re.findall(r'<th scope="col"[^>]*>([^<]+)</th>', head)

    inspection = headers()
    assert inspection[0] == "Person"
    assert inspection[1:4] == [
        "Identity verified in person or by video",
        "Right to work confirmed",
        "Qualifications verified",
    ]
    assert "Police check from the host country" in inspection
    assert "Safeguarding commitment in the advert and job description" not in inspection
    process = headers("?view=process")
    assert process[1] == "Safeguarding commitment in the advert and job description"
    assert len(process) > len(inspection)
    assert headers("?view=custom&cols=right-to-work&cols=identity-verified") == [
        "Person",
        "Identity verified in person or by video",
        "Right to work confirmed",
    ]
    assert client.get(base + "?view=custom&cols=no-such-check").status_code == 400
    assert client.get(base + "?view=sideways").status_code == 400
    page = client.get(base + "?view=custom").get_data(as_text=True)
    assert "No columns chosen" in page and 'name="cols"' in page


def test_joiners_since_and_gaps_only_combine_and_a_bad_date_is_shown_with_the_value(app, seeded):
    school, hr, _ = seeded
    client = sign_in(app.test_client(), hr.user)
    base = f"/s/{school.slug}/people/"
    since = (school.today() - timedelta(days=104)).isoformat()  # Person 0 to Person 4 joined since then

    def names(query):
        page = client.get(base + query).get_data(as_text=True)
        return sorted(re.findall(r">(Person \d)</a>", page))

    assert names(f"?since={since}") == [f"Person {n}" for n in range(5)]
    assert names(f"?since={since}&gaps=1&view=process") == [f"Person {n}" for n in range(1, 5)]
    assert names("?gaps=1&view=process") == [f"Person {n}" for n in range(1, 9)]
    response = client.get(base + "?since=1900-01-01")
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and 'value="1900-01-01"' in page and "check the year" in page
    response = client.get(base + "?since=yesterday")
    assert response.status_code == 400 and "is not a date" in response.get_data(as_text=True)
    export = client.get(f"/s/{school.slug}/people/export.csv?since={since}&gaps=1")
    assert export.status_code == 200
    lines = export.data.decode("utf-8-sig").splitlines()
    assert sorted(line.split(",")[0] for line in lines[1:]) == [f"Person {n}" for n in range(1, 5)]


def _many(school, n):
    framework = people.recruitment_framework()
    today = school.today()
    rows = [
        Person(
            school_id=school.id,
            full_name=f"Many {i:04}",
            email=f"m{i}@example.org",
            category="teaching",
            start_on=date(2025, 8, 1),
            countries=["Kenya"],
        )
        for i in range(n)
    ]
    db.session.add_all(rows)
    db.session.flush()
    values = []
    for p in rows:
        for req in framework.requirements:
            for country in ["Kenya"] if req.per_country else [""]:
                values.append(
                    dict(
                        school_id=school.id,
                        person_id=p.id,
                        framework_id=framework.id,
                        requirement_id=req.id,
                        requirement_key=req.key,
                        kind="check",
                        section_title=req.section.title,
                        title=req.title,
                        country=country,
                        owner_role=req.owner_role,
                        due_on=today,
                        check_status="verified",
                        status="done",
                        verified_on=today,
                    )
                )
    db.session.execute(sa.insert(Item), values)
    db.session.commit()


@pytest.mark.parametrize("path", ["people/", "people/?view=process&gaps=1", "people/check"])
def test_the_register_and_the_validator_use_the_same_number_of_queries_for_20_or_200_people(
    app, make_school, make_member, path
):
    counts = []
    for n in (20, 200):
        school = make_school()
        lead = make_member(school, "lead")
        _many(school, n)
        client = sign_in(app.test_client(), lead.user)
        client.get(f"/s/{school.slug}/{path}")  # warm-up: per-process caches are not counted
        with counted_queries() as statements:
            response = client.get(f"/s/{school.slug}/{path}")
        assert response.status_code == 200
        counts.append(len(statements))
    assert counts[0] == counts[1], counts


def test_a_row_has_a_cell_for_every_check_even_those_not_read_and_no_other(app, make_school):
    school = make_school()
    _many(school, 2)
    cols, rows, _ = register.build(school, keys=["right-to-work"])
    row = rows[0]
    assert row.cells["right-to-work"].items
    for c in cols:
        if c.key != "right-to-work":
            assert row.cells[c.key].items == [] and row.cells[c.key].risk == row.cells["right-to-work"].risk
    with pytest.raises(KeyError):
        row.cells["no-such-check"]


def _table(html):
    """The register's table and what follows it (the page around it has a form token that changes)."""
    return html[html.index("<table") : html.index("</main>")]


def _reads_items(statements):
    return any(re.search(r"\bFROM items\b", s) for s in statements)


def test_the_register_is_kept_while_the_school_stands_still_per_query_and_a_change_shows(
    app, make_school, make_member, page_cache_on
):
    school = make_school()
    lead = make_member(school, "lead")
    _many(school, 3)
    client = sign_in(app.test_client(), lead.user)
    url = f"/s/{school.slug}/people/"
    with counted_queries() as cold:
        first = client.get(url).get_data(as_text=True)
    with counted_queries() as warm:
        again = client.get(url).get_data(as_text=True)
    assert _table(again) == _table(first) and "Many 0002" in first
    assert _reads_items(cold) and not _reads_items(warm), "the second page was served from the cache"
    assert len(warm) < len(cold)
    process = client.get(url + "?view=process").get_data(as_text=True)
    assert "Every gap in employment explained" in process and "Every gap" not in first  # that view's only
    assert _table(client.get(url + "?view=process").get_data(as_text=True)) == _table(process)
    for _ in range(2):  # the error is the request's, not the cached part's
        response = client.get(url + "?since=2020-13-01")
        assert response.status_code == 400 and "is not a date" in response.get_data(as_text=True)

    people.add_person(  # writes an audit event: the school's data changed
        school,
        full_name="Aaron Added",
        email=None,
        category="teaching",
        start_on=date(2025, 8, 1),
        countries=["Kenya"],
    )
    db.session.commit()
    with counted_queries() as after_change:
        changed = client.get(url).get_data(as_text=True)
    assert "Aaron Added" in changed and _reads_items(after_change)


def test_the_acknowledged_column_of_any_few_people_is_what_coverage_says_of_them(
    app, make_school, make_member
):
    school = make_school()
    today = school.today()
    lead, hr, staff = (make_member(school, role) for role in ("lead", "hr", "staff"))

    def person(name, category, email=None, start_on=date(2024, 8, 1)):
        return people.add_person(
            school, full_name=name, email=email, category=category, start_on=start_on, countries=["Kenya"]
        )

    in_hr = person("Hana HR", "support", hr.user.email)  # in the first document's audience by their role
    in_staff = person("Sam Staff", "teaching", staff.user.email)
    teacher = person("Tara Teacher", "teaching")
    starter = person("Nia New", "teaching", start_on=today + timedelta(days=40))
    volunteer = person("Vic Volunteer", "volunteer")
    leaver = person("Lee Leaver", "teaching")
    db.session.execute(
        sa.update(Person).where(Person.id == leaver.id).values(leave_on=today - timedelta(days=1))
    )
    db.session.commit()
    first, second = (
        policies.publish(
            school,
            title=title,
            kind="child_protection",
            roles=roles,
            categories=categories,
            button_text="",
            label="v1",
            body="Keep children safe.",
            upload=None,
            deadline=deadline,
            user=lead.user,
            stored=[],
        )
        for title, roles, categories, deadline in (
            ("Child protection policy", ["hr"], ["teaching"], today + timedelta(days=10)),
            ("Code of conduct", [], ["teaching", "volunteer"], today - timedelta(days=3)),
        )
    )
    db.session.commit()
    policies.acknowledge(school, first, user=staff.user, person=in_staff)
    policies.acknowledge(school, second, user=staff.user, person=None)  # found by their account
    policies.acknowledge(school, second, user=hr.user, person=None)  # not in its audience: not shown
    policies.record_sheet(school, second, people=[teacher], signed_on=today, user=lead.user)
    db.session.commit()

    expected = {p.id: [] for p in (in_hr, in_staff, teacher, starter, volunteer, leaver)}
    for cov in policies.coverage(school):
        for e in cov.entries:
            if e.reader.person_id in expected:
                name = f"{cov.document.title} {cov.version.label}"
                state = e.ack.signed_on.isoformat() if e.ack else f"{'overdue' if e.overdue else 'not yet'}"
                expected[e.reader.person_id].append((name, state))
    assert expected[leaver.id] == [] and len(expected[in_hr.id]) == 1 and len(expected[teacher.id]) == 2
    assert [state for _, state in expected[in_staff.id]] == [today.isoformat()] * 2

    def shown(text):
        return [(part.split(": ")[0], part.split(": ")[1].split(" (due")[0]) for part in text.split("; ")]

    everyone = register_acknowledgements(school, people=list(db.session.get(Person, pid) for pid in expected))
    for pid, parts in expected.items():
        one = register_acknowledgements(school, people=[db.session.get(Person, pid)])
        column = one[policies.REGISTER_COLUMN][pid]
        assert column == everyone[policies.REGISTER_COLUMN][pid]
        assert (shown(column) if parts else column) == (parts or "—"), pid


def test_the_kept_register_is_made_again_when_the_framework_file_changes(
    app, make_school, make_member, page_cache_on
):
    from tracker.frameworks.models import Framework, Requirement

    school = make_school()
    lead = make_member(school, "lead")
    _many(school, 2)
    client = sign_in(app.test_client(), lead.user)
    url = f"/s/{school.slug}/people/"
    assert "Right to work confirmed" in client.get(url).get_data(as_text=True)
    framework = people.recruitment_framework()
    # what loading a changed file does (frameworks.services.load_framework): new titles, a new checksum
    db.session.execute(
        sa.update(Requirement)
        .where(Requirement.framework_id == framework.id, Requirement.key == "right-to-work")
        .values(title="Right to work checked")
    )
    db.session.execute(sa.update(Framework).where(Framework.id == framework.id).values(checksum="changed"))
    db.session.commit()
    page = client.get(url).get_data(as_text=True)
    assert "Right to work checked" in page and "Right to work confirmed" not in page
