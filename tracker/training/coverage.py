"""Training coverage: audiences, expiry, and who is current, expiring, overdue or never trained.

Date arithmetic goes through tracker/dates.py, so a session stored with an impossible date (before the date
policy) cannot break a page.
"""

from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache

from ..dates import add_days, add_months, add_years
from ..db import db
from ..evidence.models import VERIFIED
from ..frameworks.models import AUDIENCE_LABELS, SCHOOL_YEAR, Requirement
from ..frameworks.services import latest_versions
from ..people.models import Person
from .models import TrainingAttendance, TrainingSession

EXPIRING_DAYS = 30


@lru_cache(maxsize=4096)  # people share a few dozen session dates; the coverage page asks thousands of times
def expiry(completed_on: date, repeat: str) -> date | None:
    """When training done on `completed_on` stops counting, by the activity's repeat rule (None: never)."""
    if repeat == "yearly":
        return add_years(completed_on, 1)
    if repeat == "every_two_years":
        return add_years(completed_on, 2)
    if repeat == "termly":
        return add_months(completed_on, 4)
    return None  # at induction, once


def _new_staff(p, today):
    return p.category in ("teaching", "support") and p.start_on >= add_days(today, -365)


#: who on the register belongs to each training audience (parents and students are not on it)
AUDIENCE_RULES = {
    "all_staff": lambda p, today: p.category in ("teaching", "support"),
    "new_staff": _new_staff,
    "response_team": lambda p, today: "response_team" in (p.groups or []),
    "leadership": lambda p, today: "leadership" in (p.groups or []),
    "board": lambda p, today: p.category == "board",
    "support_staff": lambda p, today: p.category == "support",
    "volunteers": lambda p, today: p.category == "volunteer",
    "contractors": lambda p, today: p.category == "contractor",
}


def in_audience(person, audience, today) -> bool:
    return any(AUDIENCE_RULES[a](person, today) for a in audience if a in AUDIENCE_RULES)


def activities() -> list[Requirement]:
    """Training activities whose audience includes people on the register."""
    plan = next((f for f in latest_versions() if f.scope == SCHOOL_YEAR and f.key == "training-plan"), None)
    if plan is None:
        return []
    return [
        r for r in plan.requirements if r.answer_type == "training" and set(r.audience) & set(AUDIENCE_RULES)
    ]


@dataclass
class Coverage:
    activity: Requirement
    current: list = field(default_factory=list)
    expiring: list = field(default_factory=list)
    overdue: list = field(default_factory=list)
    never: list = field(default_factory=list)

    @property
    def audience_label(self):
        return ", ".join(AUDIENCE_LABELS[a] for a in self.activity.audience)

    @property
    def total(self):
        return len(self.current) + len(self.expiring) + len(self.overdue) + len(self.never)

    @property
    def percent_current(self):
        return round(100 * (len(self.current) + len(self.expiring)) / self.total) if self.total else 100


def latest_completions(school, person_ids=None) -> dict:
    """{(person_id, requirement_key): latest date attended}, in one query. Only verified sessions count: a
    certificate a member submitted themselves counts once HR or the lead has verified it."""
    query = (
        db.select(
            TrainingAttendance.person_id,
            TrainingSession.requirement_key,
            db.func.max(TrainingSession.held_on),
        )
        .join(TrainingSession, TrainingSession.id == TrainingAttendance.session_id)
        .where(TrainingAttendance.school_id == school.id, TrainingSession.verification == VERIFIED)
        .group_by(TrainingAttendance.person_id, TrainingSession.requirement_key)
    )
    if person_ids is not None:
        query = query.where(TrainingAttendance.person_id.in_(person_ids))
    return {(pid, key): held for pid, key, held in db.session.execute(query).all()}


def state(completed_on, repeat, today, soon=None) -> tuple[str, date | None]:
    """(current / expiring / overdue / never, expiry date); `soon` is today + EXPIRING_DAYS, given by callers
    that ask for many people at once."""
    if completed_on is None:
        return "never", None
    expires = expiry(completed_on, repeat)
    if expires is None or expires > (soon or add_days(today, EXPIRING_DAYS)):
        return "current", expires
    if expires >= today:
        return "expiring", expires
    return "overdue", expires


#: what coverage reads of each person: plain rows, not Person objects (a large school has hundreds)
COVERAGE_COLUMNS = (Person.id, Person.full_name, Person.category, Person.groups, Person.start_on)


def coverage(school, only=None) -> list[Coverage]:
    """Coverage of every activity (or of the `only` one) over the people who have not left, three queries in
    all. Each bucket lists (person row, expiry date): a row has the id, name, category, groups and start."""
    today = school.today()
    people = db.session.execute(
        db.select(*COVERAGE_COLUMNS)
        .where(Person.school_id == school.id, (Person.leave_on.is_(None)) | (Person.leave_on >= today))
        .order_by(Person.full_name, Person.id)
    ).all()
    done = latest_completions(school)
    soon = add_days(today, EXPIRING_DAYS)
    audiences = {}  # many activities share an audience: work out who is in each one once
    out = []
    for activity in activities():
        if only is not None and activity.key != only:
            continue
        audience = tuple(activity.audience)
        if audience not in audiences:
            audiences[audience] = [p for p in people if in_audience(p, audience, today)]
        cov = Coverage(activity)
        buckets = {
            "current": cov.current,
            "expiring": cov.expiring,
            "overdue": cov.overdue,
            "never": cov.never,
        }
        key, repeat = activity.key, activity.repeat
        for person in audiences[audience]:
            status, expires = state(done.get((person.id, key)), repeat, today, soon)
            buckets[status].append((person, expires))
        out.append(cov)
    return out


def person_record(school, person) -> list[dict]:
    """Each activity the person's audience calls for, with their latest completion, expiry and state."""
    today = school.today()
    done = latest_completions(school, [person.id])
    rows = []
    for activity in activities():
        if not in_audience(person, activity.audience, today):
            continue
        completed = done.get((person.id, activity.key))
        status, expires = state(completed, activity.repeat, today)
        rows.append({"activity": activity, "completed_on": completed, "expires_on": expires, "state": status})
    return rows
