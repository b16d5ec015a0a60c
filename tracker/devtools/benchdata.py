"""Realistic large schools for benchmarks: `flask --app tracker bench generate --schools N --staff M`.

Everything goes through the same services the app uses (so audit history, checklists and items are the
real thing), except the bulk status changes, which set columns directly to keep generation quick.
"""

import random
from datetime import timedelta
from functools import lru_cache

import click
from flask.cli import AppGroup

from ..auth.models import User
from ..db import db
from ..evidence import services as evidence
from ..passwords import hash_password
from ..people import services as people
from ..schools.services import create_school
from ..tenancy import Membership, School
from ..tracking import services as tracking
from ..tracking.models import DONE, IN_PROGRESS, Comment, Item, ItemKind
from ..tracking.state import set_status
from ..training import services as training

bench_cli = AppGroup("bench", help="Benchmark data.")

CATEGORIES = ["teaching"] * 6 + ["support"] * 2 + ["volunteer", "contractor"]
COUNTRIES = ["Thailand", "United Kingdom", "Kenya", "Canada", "India", "Australia", "Spain", "Japan"]
BENCH_PASSWORD = "bench-password-123"


@lru_cache(maxsize=1)
def _bench_hash():
    """One argon2 hash for every bench lead: hashing is deliberately slow, and a thousand schools need it."""
    return hash_password(BENCH_PASSWORD)


def generate_school(slug, *, staff, seed=1, lead_email=None):
    """One school with a current and a previous year of every framework, `staff` people with checklists in
    every state, training sessions, comments, evidence files on half the completed items and the audit history
    all of that writes. Returns the school; idempotent on `slug`."""
    school = db.session.execute(db.select(School).where(School.slug == slug)).scalar_one_or_none()
    if school is not None:
        return school
    rng = random.Random(seed)
    school = create_school(
        slug=slug,
        name=f"Bench school {slug}",
        country="Thailand",
        timezone="Asia/Bangkok",
        year_start_month=8,
        require_two_factor=False,
    )
    lead = User(email=lead_email or f"lead@{slug}.bench", name="Bench Lead", password_hash=_bench_hash())
    db.session.add(lead)
    db.session.flush()
    db.session.add(Membership(school_id=school.id, user_id=lead.id, role="lead"))
    today = school.today()
    previous = tracking.start_year(school, today.year - 1 if today.month >= 8 else today.year - 2)
    current = tracking.roll_over(school, previous)
    db.session.flush()
    items = (
        db.session.execute(db.select(Item).where(Item.school_id == school.id, Item.year_id == current.id))
        .scalars()
        .all()
    )
    for n, item in enumerate(items):
        if item.due_on < today:
            if rng.random() < 0.8:
                set_status(item, DONE, on=item.due_on)
            else:
                set_status(item, IN_PROGRESS)
            if (
                item.status == DONE and rng.random() < 0.5
            ):  # a small real file, checked and stored as uploads are
                evidence.add_files(
                    school,
                    item,
                    [(f"minutes-{n:03}.txt", _evidence_text(slug, item.title))],
                    applies_on=item.due_on,
                    user=lead,
                )
        if rng.random() < 0.3:
            db.session.add(
                Comment(
                    school_id=school.id,
                    item_id=item.id,
                    author_id=lead.id,
                    body="Discussed at the safeguarding team meeting; next step agreed.",
                )
            )
    persons = []
    for i in range(staff):
        persons.append(
            people.add_person(
                school,
                full_name=f"Staff member {i:04}",
                email=f"staff{i}@{slug}.bench",
                category=rng.choice(CATEGORIES),
                groups=["response_team"] if i % 40 == 0 else [],
                start_on=today - timedelta(days=rng.randint(-40, 2000)),
                countries=rng.sample(COUNTRIES, rng.randint(1, 3)),
            )
        )
    checks = db.session.execute(
        db.select(Item).where(Item.school_id == school.id, Item.kind == ItemKind.CHECK)
    ).scalars()
    for item in checks:
        roll = rng.random()
        item.check_status = "verified" if roll < 0.85 else ("requested" if roll < 0.95 else "not_started")
        if item.check_status == "verified":
            item.verified_on, item.verified_by_id = item.due_on, lead.id
            set_status(item, DONE, on=item.verified_on)
    for activity in training.activities():
        audience = [p for p in persons if training.in_audience(p, activity.audience, today)]
        for age in (60, 350, 500):
            group = [p for p in audience if rng.random() < 0.3]
            if group:
                training.record_session(
                    school,
                    activity=activity,
                    held_on=today - timedelta(days=age),
                    provider="Bench",
                    notes="",
                    people=group,
                    user=lead,
                )
    db.session.flush()
    return school


def _evidence_text(slug, title) -> bytes:
    return (
        f"Bench school {slug}\nMinutes: {title}\nDiscussed, agreed and recorded by the safeguarding team.\n"
    ).encode()


@bench_cli.command("generate")
@click.option("--schools", default=1, show_default=True, help="How many schools")
@click.option("--staff", default=500, show_default=True, help="People on each school's register")
@click.option(
    "--prefix", default="bench", show_default=True, help="Slug prefix; schools are PREFIX-1, PREFIX-2, ..."
)
def generate_cmd(schools, staff, prefix):
    """Build realistic schools for benchmarks (idempotent per slug); the lead is lead@SLUG.bench."""
    for n in range(1, schools + 1):
        generate_school(f"{prefix}-{n}", staff=staff, seed=n)
        db.session.commit()
        if n % 50 == 0 or n == schools:
            click.echo(f"{n} school(s) ready")
    click.echo(f"Sign in as lead@{prefix}-1.bench with password {BENCH_PASSWORD}")
