"""What a digest says: the reminder days, and the lines each member of a school is sent (digest.py builds and
queues the digests; digest_mail.py writes them as e-mail).

`load_schools_data` reads everything a batch of schools' digests need in four queries; `collect_lines` is
then pure. Items of a signed-off year are left out: the year is closed, nothing in it is waiting any more.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

from flask import current_app
from sqlalchemy import func, or_, select

from ..access import policy_of
from ..auth.models import User
from ..db import db
from ..evidence.models import VERIFIED
from ..frameworks.models import Framework
from ..people.models import Person
from ..tenancy import ACCREDITOR, HR, LEAD, Membership
from ..tracking.models import OPEN_STATUSES, Item, SchoolYear
from ..tracking.visibility import sees_unassigned
from ..training import services as training
from ..training.models import TrainingAttendance, TrainingSession
from .models import DAILY, ReminderSetting

#: an open item is mentioned this many days before it is due, and on the day
ITEM_DAYS_BEFORE = (14, 7, 0)
#: training is mentioned when its expiry is this many days away
TRAINING_DAYS_BEFORE = (30, 14, 7, 0)
#: open pre-start checks are listed every day once the person starts within this many days
CHECK_WINDOW = 14
#: after a pause, reminder days missed up to this many days back are covered by today's digest
CATCH_UP_DAYS = 6
WEEKLY_DAY = 0  # Monday


@dataclass(frozen=True)
class Line:
    """One reminder. `group` and `group_key` say what a long section groups it under (an item's framework
    title and key, "own" for the school's own items; a training activity's title and key), `year_id` the
    item's school year and `owner_id` its owner, so that a grouped line can link to the filtered item list;
    `count` how many things the line stands for (a person's open checks)."""

    section: str
    title: str
    detail: str
    on: date
    endpoint: str
    args: tuple
    group: str = ""
    group_key: str = ""
    year_id: object = None
    owner_id: object = None
    count: int = 1


@dataclass
class Recipient:
    user_id: object
    email: str
    name: str
    role: str
    frequency: str


def _d(days):
    return timedelta(days=days)


def reminded(days_before, target: date, since: date, today: date) -> bool:
    """True when one of `target - k` (k in days_before) falls in [since, today]."""
    # since <= target - k <= today, as whole days: no date arithmetic per k (called for every item and person)
    nearest, furthest = (target - today).days, (target - since).days
    return any(nearest <= k <= furthest for k in days_before)


def overdue_reminded(due: date, since: date, today: date) -> bool:
    """Overdue reminders fall on the first day after the due date, then every seventh day."""
    first = max(since, due + _d(1))
    if first > today:
        return False
    wait = (-((first - due).days - 1)) % 7
    return first + _d(wait) <= today


@lru_cache(maxsize=4096)  # a digest run formats the same few dozen dates tens of thousands of times
def _day(d: date) -> str:
    return f"{d.day} {d:%B %Y}"


def item_section(due: date, today: date) -> str:
    if due < today:
        return "overdue"
    if due == today:
        return "today"
    return "week" if due <= today + _d(7) else "fortnight"


@dataclass(frozen=True)
class Activity:
    key: str
    title: str
    audience: tuple
    repeat: str


def training_activities() -> list[Activity]:
    """The training activities (global framework data), copied once per run rather than loaded per school."""
    return [Activity(a.key, a.title, tuple(a.audience or ()), a.repeat) for a in training.activities()]


def load_school_data(school, today: date) -> dict:
    """Everything a school's digests need, in four queries whatever the number of items or people."""
    return load_schools_data({school.id: today})[school.id]


def _in(column, school_ids):
    return column == school_ids[0] if len(school_ids) == 1 else column.in_(school_ids)


def load_schools_data(todays: dict) -> dict:
    """{school id: what `load_school_data` gives} for many schools ({school id: its today}): four queries for
    the schools that share a date (a batch of the digest job), whatever the number of schools, items or
    people."""
    by_day = defaultdict(list)
    for school_id, today in todays.items():
        by_day[today].append(school_id)
    out = {}
    for today, school_ids in by_day.items():
        out.update(_load(school_ids, today))
    return out


def _load(school_ids, today):
    members = db.session.execute(
        select(
            Membership.school_id,
            Membership.user_id,
            Membership.role,
            Membership.access_until,
            User.email,
            User.name,
            User.active,
            ReminderSetting.frequency,
        )
        .join(User, User.id == Membership.user_id)
        .outerjoin(
            ReminderSetting,
            (ReminderSetting.school_id == Membership.school_id)
            & (ReminderSetting.user_id == Membership.user_id),
        )
        .where(_in(Membership.school_id, school_ids))
    ).all()
    out = {sid: {"recipients": {}, "items": [], "people": [], "completions": {}} for sid in school_ids}
    for m in members:
        if m.active and m.role != ACCREDITOR and (m.access_until is None or today <= m.access_until):
            out[m.school_id]["recipients"][m.user_id] = Recipient(
                m.user_id, m.email, m.name or m.email, m.role, m.frequency or DAILY
            )
    items = db.session.execute(
        select(
            Item.school_id,
            Item.id,
            Item.title,
            Item.kind,
            Item.due_on,
            Item.owner_id,
            Item.owner_role,
            Item.person_id,
            Item.year_id,
            Framework.key.label("framework_key"),
            Framework.title.label("framework_title"),
            Person.full_name,
            Person.start_on,
            Person.leave_on,
        )
        .outerjoin(Person, Person.id == Item.person_id)
        .outerjoin(Framework, Framework.id == Item.framework_id)
        .outerjoin(SchoolYear, SchoolYear.id == Item.year_id)
        .where(
            _in(Item.school_id, school_ids),
            Item.status.in_(OPEN_STATUSES),
            Item.due_on <= today + _d(14),
            _year_open(),
        )
        .order_by(Item.due_on, Item.title)
    ).all()
    for row in items:
        out[row.school_id]["items"].append(row)
    # plain rows, not Person objects: what the training lines read of a person (and its audience rules)
    people = db.session.execute(
        select(
            Person.school_id,
            Person.id,
            Person.full_name,
            Person.category,
            Person.groups,
            Person.start_on,
            Person.user_id,
        )
        .where(_in(Person.school_id, school_ids), or_(Person.leave_on.is_(None), Person.leave_on >= today))
        .order_by(Person.full_name)
    ).all()
    for row in people:
        out[row.school_id]["people"].append(row)
    with_people = [sid for sid in school_ids if out[sid]["people"]]
    if with_people:
        # what training.latest_completions reads of each school, for the batch's schools at once
        completions = db.session.execute(
            select(
                TrainingAttendance.school_id,
                TrainingAttendance.person_id,
                TrainingSession.requirement_key,
                func.max(TrainingSession.held_on),
            )
            .join(TrainingSession, TrainingSession.id == TrainingAttendance.session_id)
            .where(_in(TrainingAttendance.school_id, with_people), TrainingSession.verification == VERIFIED)
            .group_by(
                TrainingAttendance.school_id, TrainingAttendance.person_id, TrainingSession.requirement_key
            )
        ).all()
        for school_id, person_id, key, held in completions:
            out[school_id]["completions"][(person_id, key)] = held
    return out


def _year_open():
    """Criterion: the item belongs to no school year (recruitment checks) or to one not signed off (nor being
    signed off, where years have that state)."""
    still_open = SchoolYear.signed_off_at.is_(None)
    if hasattr(SchoolYear, "sign_off_state"):
        still_open = still_open & (SchoolYear.sign_off_state == "open")
    return or_(Item.year_id.is_(None), still_open)


OWN_GROUP = "School's own items"


def _readers(endpoint) -> tuple:
    """The roles whose members may open `endpoint` (its stated policy, tracker/access.py)."""
    policy = policy_of(current_app, endpoint)
    return policy[1] if isinstance(policy, tuple) else ()


def _holders(recipients, roles):
    return [uid for uid, r in recipients.items() if r.role in roles]


def collect_lines(data, since: date, today: date, activities) -> dict:
    """{user_id: [Line]} for the reminder days in [since, today]."""
    recipients = data["recipients"]
    out = defaultdict(set)
    checks = defaultdict(list)
    by_role = {role: _holders(recipients, (role,)) for role in {r.role for r in recipients.values()}}
    lead_and_hr = _holders(recipients, (LEAD, HR)) or _holders(recipients, (LEAD,))
    leads = _holders(recipients, (LEAD,))
    # A check is worked on the person's page, which not every role may open: an owner who cannot (a member of
    # staff given a check) is sent to the check's own item page instead, never to a page that answers 403.
    register_readers = _readers("people.person")
    for row in data["items"]:
        if row.person_id is not None and row.leave_on is not None and row.leave_on < today:
            continue  # a person who has left needs no more checks
        owner_reads = row.owner_id in recipients and recipients[row.owner_id].role in register_readers
        starting_soon = row.person_id is not None and today <= row.start_on <= today + _d(CHECK_WINDOW)
        if starting_soon and row.due_on <= row.start_on:
            for uid in set(lead_and_hr) | ({row.owner_id} if owner_reads else set()):
                checks[(uid, row.person_id)].append(row)
            if row.owner_id not in recipients or owner_reads:
                continue
        if row.due_on < today:
            if not overdue_reminded(row.due_on, since, today):
                continue
        elif not reminded(ITEM_DAYS_BEFORE, row.due_on, since, today):
            continue
        detail = f"{row.full_name}: due {_day(row.due_on)}" if row.full_name else f"due {_day(row.due_on)}"
        if row.person_id is not None and (owner_reads or row.owner_id not in recipients):
            endpoint, args = "people.person", (("person_id", row.person_id),)
        else:
            endpoint, args = "tracking.item", (("item_id", row.id),)
        line = Line(
            item_section(row.due_on, today),
            row.title,
            detail,
            row.due_on,
            endpoint,
            args,
            group=row.framework_title or OWN_GROUP,
            group_key=row.framework_key or "own",
            year_id=row.year_id,
            owner_id=row.owner_id,
        )
        if row.owner_id in recipients:
            targets = {row.owner_id}
        else:  # nobody assigned: the role's holders if they can open it, else the leads, who assign owners
            targets = set((by_role.get(row.owner_role) if sees_unassigned(row.owner_role) else None) or leads)
        for uid in targets:
            out[uid].add(line)
    for (uid, person_id), rows in checks.items():
        first = rows[0]
        count = len(rows)
        out[uid].add(
            Line(
                "checks",
                f"{first.full_name}: {count} check{'s' if count != 1 else ''} still open",
                f"starts {_day(first.start_on)}; "
                + ", ".join(r.title for r in rows[:3])
                + (f" and {count - 3} more" if count > 3 else ""),
                first.start_on,
                "people.person",
                (("person_id", person_id),),
                count=count,
            )
        )
    if data["people"] and activities:
        _training_lines(data, since, today, activities, lead_and_hr, recipients, out)
    return {uid: sorted(lines, key=lambda ln: (ln.on, ln.title)) for uid, lines in out.items()}


def _training_lines(data, since, today, activities, lead_and_hr, recipients, out):
    # Walk the completions there are, not every person against every activity: most people have done few
    # of the activities (the 1,000-school profile found the full cross product was most of the job).
    people = {p.id: p for p in data["people"]}
    by_key = {a.key: a for a in activities}
    expiring = {}  # (date done, activity key): the expiry date if reminded of in [since, today], else None
    for (person_id, key), done in data["completions"].items():
        person, activity = people.get(person_id), by_key.get(key)
        if person is None or activity is None or done is None:
            continue
        if (done, key) in expiring:  # a school's people share a few session dates
            expires = expiring[(done, key)]
        else:
            expires = training.expiry(done, activity.repeat)
            if (
                expires is None
                or expires < today
                or not reminded(TRAINING_DAYS_BEFORE, expires, since, today)
            ):
                expires = None
            expiring[(done, key)] = expires
        if expires is None:
            continue
        if not training.in_audience(person, activity.audience, today):
            continue
        if lead_and_hr:
            line = Line(
                "training",
                activity.title,
                f"{person.full_name}: expires {_day(expires)}",
                expires,
                "people.person",
                (("person_id", person.id),),
                group=activity.title,
                group_key=activity.key,
            )
            for uid in lead_and_hr:
                out[uid].add(line)
        if person.user_id in recipients and person.user_id not in lead_and_hr:
            out[person.user_id].add(
                Line("training", activity.title, f"Yours: expires {_day(expires)}", expires, "people.me", ())
            )
