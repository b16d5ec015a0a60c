"""Demo schools and accounts for `make run` (a stable contract documented in the README), and the demo year
of tracking; people, reminders and reports come from demo_people.py, demo_reminders.py, demo_reports.py."""

import os
import random
import secrets
from datetime import timedelta

import click
from flask import current_app
from flask.cli import AppGroup

from .. import audit
from ..auth.models import User
from ..auth.services import find_user, set_password
from ..db import db
from ..evidence.services import add_files, add_link
from ..passwords import check_password
from ..schools.services import create_school
from ..tenancy import ACCREDITOR, HEAD, HR, LEAD, STAFF, Membership, School
from ..tracking import services as tracking
from ..tracking.models import DONE, IN_PROGRESS, NOT_APPLICABLE, Item, ItemKind, SchoolYear
from .demo_files import tiny_pdf
from .demo_groups import load_demo_groups
from .demo_people import load_demo_people
from .demo_policies import load_demo_policies
from .demo_reminders import load_demo_reminders
from .demo_reports import load_demo_reports

demo_cli = AppGroup("demo", help="Demo data for trying the tracker.")

DEMO_SCHOOLS = [
    ("demo", "Riverside International School (demo)", "Thailand", "Asia/Bangkok", 8),
    ("demo-two", "Lakeside Academy (demo)", "Kenya", "Africa/Nairobi", 1),
]
DEMO_ACCOUNTS = [
    ("lead@demo.example", "demo", "lead"),
    ("head@demo.example", "demo", "head"),
    ("hr@demo.example", "demo", "hr"),
    ("staff@demo.example", "demo", "staff"),
    ("accreditor@demo.example", "demo", "accreditor"),
    ("lead@demo-two.example", "demo-two", "lead"),
]
NAMES = {
    "lead@demo.example": "Dana Lead",
    "head@demo.example": "Harper Head",
    "hr@demo.example": "Robin Recruiter",
    "staff@demo.example": "Sam Staff",
    "accreditor@demo.example": "Alex Accreditor",
    "lead@demo-two.example": "Lee Lakeside",
}


def demo_password() -> str:
    """TRACKER_DEMO_PASSWORD, else one generated on first use and kept in instance/."""
    if current_app.config.get("TRACKER_DEMO_PASSWORD"):
        return current_app.config["TRACKER_DEMO_PASSWORD"]
    path = os.path.join(current_app.instance_path, "demo_password")
    if os.path.exists(path):
        return open(path).read().strip()
    password = "-".join(secrets.token_hex(3) for _ in range(3))
    os.makedirs(current_app.instance_path, exist_ok=True)
    with open(path, "w") as fh:
        fh.write(password)
    return password


def load_demo() -> tuple[str, bool]:
    """Create the demo schools and accounts if missing; set every demo password. Idempotent."""
    password = demo_password()
    created = False
    schools = {}
    for slug, name, country, tz, month in DEMO_SCHOOLS:
        school = db.session.execute(db.select(School).where(School.slug == slug)).scalar_one_or_none()
        if school is None:
            # the demo accounts sign in with the password alone (README: how to require two-factor)
            school = create_school(
                slug=slug,
                name=name,
                country=country,
                timezone=tz,
                year_start_month=month,
                require_two_factor=False,
            )
            created = True
        schools[slug] = school
    for email, slug, role in DEMO_ACCOUNTS:
        user = find_user(email)
        if user is None:
            user = User(email=email, name=NAMES[email])
            db.session.add(user)
            db.session.flush()
            created = True
        if not check_password(user, password):
            set_password(user, password, reason="set")
        school = schools[slug]
        membership = db.session.execute(
            db.select(Membership).where(Membership.school_id == school.id, Membership.user_id == user.id)
        ).scalar_one_or_none()
        before = membership.audit_view() if membership is not None else None
        if membership is None:
            membership = Membership(school_id=school.id, user_id=user.id)
            db.session.add(membership)
        membership.role = role
        if role == ACCREDITOR:
            membership.access_until = school.today() + timedelta(days=60)
        membership.user, membership.school = user, school
        if before != membership.audit_view():
            audit.record(
                "member.joined" if before is None else "member.role_changed",
                school=school,
                subject=membership,
                before=before,
                after=membership.audit_view(),
            )
    db.session.flush()
    load_demo_tracking(schools["demo"])
    load_demo_people(schools["demo"])
    load_demo_policies(schools["demo"])
    load_demo_reminders(schools["demo"])
    load_demo_reports(
        schools["demo"]
    )  # a signed-off previous year with its frozen report; accreditor queries
    load_demo_groups(schools, password)  # both schools in one trust, with its group lead
    db.session.flush()
    return password, created


DEMO_ANSWERS = {
    "in_place": "The policy was reviewed by the safeguarding team in August and approved by the board; "
    "it is on the staff portal and the public website, with the date of the next review.",
    "partly": "Most of this is in place. The secondary handbook is updated; the primary handbook still "
    "uses last year's wording and is being revised by the deputy head.",
    "not_yet": "Not yet in place. The leadership team will draft it this term with the board liaison.",
    "not_applicable": "The school has no boarding provision, so this does not apply.",
}


def load_demo_tracking(school) -> bool:
    """Give the demo school a lived-in year: done items with evidence, work in progress, overdue items,
    policy answers in every status with earlier versions, comments. Skipped if the school has a year."""
    if db.session.execute(db.select(SchoolYear.id).where(SchoolYear.school_id == school.id)).first():
        return False
    rng = random.Random(20261122)  # the same demo every time
    today = school.today()
    start = today.year if today.month >= school.year_start_month else today.year - 1
    year = tracking.start_year(school, start)
    by_role = {
        m.role: m.user
        for m in db.session.execute(db.select(Membership).where(Membership.school_id == school.id)).scalars()
    }
    owners = {"lead": by_role[LEAD], "head": by_role[HEAD], "hr": by_role[HR], "staff": by_role[STAFF]}
    items = (
        db.session.execute(db.select(Item).where(Item.year_id == year.id).order_by(Item.due_on))
        .scalars()
        .all()
    )
    answer_cycle = ["in_place", "partly", "not_yet", "in_place", "partly", "not_applicable"]
    for n, item in enumerate(items):
        item.owner_id = owners.get(item.owner_role, by_role[LEAD]).id
        if item.kind in (ItemKind.TASK, ItemKind.TRAINING) and n % 6 == 0:
            item.owner_id = by_role[STAFF].id  # so the demo staff member has work of their own
        past = item.due_on < today
        if item.kind == ItemKind.ANSWER:
            status = answer_cycle[n % len(answer_cycle)]
            if n % 3 == 0:  # an earlier version first, so the history shows how the answer grew
                tracking.save_answer(
                    school,
                    item,
                    version=item.version,
                    answer=DEMO_ANSWERS["not_yet"],
                    answer_status="not_yet",
                    review_on=None,
                    author=by_role[LEAD],
                )
            tracking.save_answer(
                school,
                item,
                version=item.version,
                answer=DEMO_ANSWERS[status],
                answer_status=status,
                review_on=year.ends_on,
                author=by_role[LEAD],
            )
            if status == "not_applicable":
                tracking.update_item(
                    school,
                    item,
                    version=item.version,
                    status=NOT_APPLICABLE,
                    na_reason=DEMO_ANSWERS["not_applicable"],
                    manage=False,
                )
            continue
        roll = rng.random()
        if past and roll < 0.75:
            done_on = min(today, item.due_on + timedelta(days=rng.randint(-5, 3)))
            tracking.update_item(
                school,
                item,
                version=item.version,
                status=DONE,
                completed_on=done_on,
                notes="Done as planned.",
                manage=False,
            )
            if rng.random() < 0.7:
                add_files(
                    school,
                    item,
                    [
                        (
                            f"{item.title[:60].strip()}.pdf".replace("/", "-"),
                            tiny_pdf(f"Evidence: {item.title}"),
                        )
                    ],
                    applies_on=done_on,
                    user=owners.get(item.owner_role, by_role[LEAD]),
                )
            elif rng.random() < 0.5:
                add_link(
                    school,
                    item,
                    url="https://intranet.example/safeguarding",
                    title="Record on the intranet",
                    applies_on=done_on,
                    user=by_role[LEAD],
                )
        elif roll < 0.9 and item.due_on <= today + timedelta(days=45):
            tracking.update_item(
                school,
                item,
                version=item.version,
                status=IN_PROGRESS,
                notes="Started; dates agreed with the team.",
                manage=False,
            )
        if n % 9 == 0:
            tracking.add_comment(
                school,
                item,
                body="Booked the session for the staff meeting; slides shared.",
                author=by_role[LEAD],
            )
    return True


@demo_cli.command("load")
def demo_load_cmd():
    """Create (or refresh) the demo schools and accounts; prints how to sign in."""
    password, created = load_demo()
    db.session.commit()
    click.echo("Demo data created." if created else "Demo data already present; accounts refreshed.")
    click.echo(f"Sign in at /login with any of these accounts; the password is: {password}")
    for email, slug, role in DEMO_ACCOUNTS:
        click.echo(f"  {email:28} {role:11} in {slug}")
