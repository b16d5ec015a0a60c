"""Digests: who must hear about what, decided once per school and local day and written to the outbox.

A run looks at every school; a school whose local time has reached 07:00 and whose digests for today are not
built yet gets them built in one transaction (claim the day, insert the messages). After a pause, only today's
digest is built, covering the reminder days missed since the last one (at most a week back).
"""
import logging
import zoneinfo
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask import current_app, url_for
from sqlalchemy import or_, select, update

from ..auth.models import User
from ..db import db, new_id, utcnow
from ..people.models import Person
from ..tenancy import ACCREDITOR, HR, LEAD, Membership, School
from ..tracking.models import OPEN_STATUSES, Item
from ..templating import url_pattern
from ..tracking.queries import sees_unassigned
from ..training import services as training
from .models import DAILY, FAILED, OFF, PENDING, WEEKLY, DigestState, OutboxMessage, ReminderSetting
from .outbox import with_write_retries

log = logging.getLogger(__name__)

REMINDER_HOUR = 7
#: an open item is mentioned this many days before it is due, and on the day
ITEM_DAYS_BEFORE = (14, 7, 0)
#: training is mentioned when its expiry is this many days away
TRAINING_DAYS_BEFORE = (30, 14, 7, 0)
#: open pre-start checks are listed every day once the person starts within this many days
CHECK_WINDOW = 14
#: after a pause, reminder days missed up to this many days back are covered by today's digest
CATCH_UP_DAYS = 6
WEEKLY_DAY = 0  # Monday

SECTIONS = (
    ("overdue", "Overdue"),
    ("today", "Due today"),
    ("week", "Due in the next 7 days"),
    ("fortnight", "Due in the next 14 days"),
    ("checks", "Recruitment checks still open for people starting soon"),
    ("training", "Training expiring within 30 days"),
)


@dataclass(frozen=True)
class Line:
    section: str
    title: str
    detail: str
    on: date
    endpoint: str
    args: tuple


@dataclass
class Recipient:
    user_id: object
    email: str
    name: str
    role: str
    frequency: str


@dataclass
class RunReport:
    schools: int = 0
    messages: int = 0
    skipped: list = field(default_factory=list)


def _d(days):
    return timedelta(days=days)


def reminded(days_before, target: date, since: date, today: date) -> bool:
    """True when one of `target - k` (k in days_before) falls in [since, today]."""
    return any(since <= target - _d(k) <= today for k in days_before)


def overdue_reminded(due: date, since: date, today: date) -> bool:
    """Overdue reminders fall on the first day after the due date, then every seventh day."""
    first = max(since, due + _d(1))
    if first > today:
        return False
    wait = (-((first - due).days - 1)) % 7
    return first + _d(wait) <= today


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


@dataclass(frozen=True)
class SchoolInfo:
    """What a digest needs of a school, copied so that commits between schools cause no reloading."""
    id: object
    slug: str
    name: str
    timezone: str


def training_activities() -> list[Activity]:
    """The training activities (global framework data), copied once per run rather than loaded per school."""
    return [Activity(a.key, a.title, tuple(a.audience or ()), a.repeat) for a in training.activities()]


def _insert(model):
    if db.session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(model)


def local_now(school, now: datetime) -> datetime:
    return now.astimezone(zoneinfo.ZoneInfo(school.timezone))


def run_daily_digests(now: datetime | None = None) -> RunReport:
    """Build today's digests for every school whose morning has come and whose digests are not built yet."""
    now = now or utcnow()
    report = RunReport()
    activities = training_activities()
    schools = [(SchoolInfo(row.id, row.slug, row.name, row.timezone), row.last_digest_on)
               for row in db.session.execute(
                   select(School.id, School.slug, School.name, School.timezone, DigestState.last_digest_on)
                   .outerjoin(DigestState, DigestState.school_id == School.id).order_by(School.slug))]
    db.session.rollback()  # nothing is held open while schools are worked through one by one
    with current_app.test_request_context(base_url=base_url()):
        for school, last in schools:
            local = local_now(school, now)
            if local.hour < REMINDER_HOUR or (last is not None and last >= local.date()):
                continue
            try:
                # built and committed; tried again while SQLite says another builder holds the lock
                count = with_write_retries(lambda: build_school_digests(school, now, activities))
            except Exception:  # one school's problem must not stop the others' reminders
                db.session.rollback()
                log.exception("digests for %s failed", school.slug)
                report.skipped.append(school.slug)
                continue
            if count is not None:
                report.schools += 1
                report.messages += count
    return report


def base_url() -> str:
    import os

    configured = current_app.config.get("TRACKER_BASE_URL") or os.environ.get("TRACKER_BASE_URL")
    if configured:
        return configured.rstrip("/")
    if current_app.config.get("SERVER_NAME"):
        return f"{current_app.config.get('PREFERRED_URL_SCHEME', 'http')}://{current_app.config['SERVER_NAME']}"
    return "http://127.0.0.1:5000"


def _claim_day(school, today: date):
    """Record today as built for the school; return (claimed, previous date). Compare-and-set, so two runs
    at once cannot both claim it (the loser's update matches no row)."""
    row = db.session.execute(select(DigestState.last_digest_on).where(DigestState.school_id == school.id)).first()
    if row is None:
        inserted = db.session.execute(
            _insert(DigestState).values(id=new_id(), school_id=school.id, last_digest_on=today, updated_at=utcnow())
            .on_conflict_do_nothing(index_elements=["school_id"]).returning(DigestState.id)).first()
        if inserted is not None:
            return True, None
        row = db.session.execute(select(DigestState.last_digest_on).where(DigestState.school_id == school.id)).one()
    previous = row[0]
    if previous is not None and previous >= today:
        return False, previous
    same = DigestState.last_digest_on.is_(None) if previous is None else DigestState.last_digest_on == previous
    claimed = db.session.execute(
        update(DigestState).where(DigestState.school_id == school.id, same)
        .values(last_digest_on=today, updated_at=utcnow()).execution_options(synchronize_session=False))
    return claimed.rowcount == 1, previous


def build_school_digests(school, now: datetime, activities=None) -> int | None:
    """Claim the school's day and queue its digests; None when another run already built them. Flushes only."""
    today = local_now(school, now).date()
    claimed, previous = _claim_day(school, today)
    if not claimed:
        return None
    since = today if previous is None else max(previous + _d(1), today - _d(CATCH_UP_DAYS))
    if activities is None:
        activities = training_activities()
    data = load_school_data(school, today)
    recipients = data["recipients"]
    daily = collect_lines(data, since, today, activities)
    weekly = collect_lines(data, today - _d(CATCH_UP_DAYS), today, activities) if today.weekday() == WEEKLY_DAY \
        else {}
    rows = []
    for user_id, recipient in recipients.items():
        if recipient.frequency == OFF:
            continue
        lines = (weekly if recipient.frequency == WEEKLY else daily).get(user_id)
        if not lines:  # nobody gets an empty digest
            continue
        try:
            rows.append(render_message(school, recipient, lines, today, now))
        except Exception as exc:  # noqa: BLE001  one digest that cannot be written must not stop the others
            log.warning("digest for %s in %s could not be written", recipient.user_id, school.slug,
                        exc_info=exc)
            rows.append(unwritten_message(school, recipient, today, now, exc))
    if rows:
        db.session.execute(_insert(OutboxMessage).on_conflict_do_nothing(
            index_elements=["school_id", "idempotency_key"]), rows)
    return len(rows)


def load_school_data(school, today: date) -> dict:
    """Everything a school's digests need, in four queries whatever the number of items or people."""
    members = db.session.execute(
        select(Membership.user_id, Membership.role, Membership.access_until, User.email, User.name, User.active,
               ReminderSetting.frequency)
        .join(User, User.id == Membership.user_id)
        .outerjoin(ReminderSetting, (ReminderSetting.school_id == Membership.school_id)
                   & (ReminderSetting.user_id == Membership.user_id))
        .where(Membership.school_id == school.id)).all()
    recipients = {
        m.user_id: Recipient(m.user_id, m.email, m.name or m.email, m.role, m.frequency or DAILY)
        for m in members
        if m.active and m.role != ACCREDITOR and (m.access_until is None or today <= m.access_until)
    }
    items = db.session.execute(
        select(Item.id, Item.title, Item.kind, Item.due_on, Item.owner_id, Item.owner_role, Item.person_id,
               Person.full_name, Person.start_on, Person.leave_on)
        .outerjoin(Person, Person.id == Item.person_id)
        .where(Item.school_id == school.id, Item.status.in_(OPEN_STATUSES), Item.due_on <= today + _d(14))
        .order_by(Item.due_on, Item.title)).all()
    people = db.session.execute(
        select(Person).where(Person.school_id == school.id,
                             or_(Person.leave_on.is_(None), Person.leave_on >= today))
        .order_by(Person.full_name)).scalars().all()
    completions = training.latest_completions(school) if people else {}
    return {"recipients": recipients, "items": items, "people": people, "completions": completions}


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
    for row in data["items"]:
        if row.person_id is not None and row.leave_on is not None and row.leave_on < today:
            continue  # a person who has left needs no more checks
        starting_soon = row.person_id is not None and today <= row.start_on <= today + _d(CHECK_WINDOW)
        if starting_soon and row.due_on <= row.start_on:
            for uid in set(lead_and_hr) | ({row.owner_id} if row.owner_id in recipients else set()):
                checks[(uid, row.person_id)].append(row)
            continue
        if row.due_on < today:
            if not overdue_reminded(row.due_on, since, today):
                continue
        elif not reminded(ITEM_DAYS_BEFORE, row.due_on, since, today):
            continue
        detail = f"{row.full_name}: due {_day(row.due_on)}" if row.full_name else f"due {_day(row.due_on)}"
        if row.person_id is not None:
            endpoint, args = "people.person", (("person_id", row.person_id),)
        else:
            endpoint, args = "tracking.item", (("item_id", row.id),)
        line = Line(item_section(row.due_on, today), row.title, detail, row.due_on, endpoint, args)
        if row.owner_id in recipients:
            targets = {row.owner_id}
        else:  # nobody assigned: the role's holders if they can open it, else the leads, who assign owners
            targets = set((by_role.get(row.owner_role) if sees_unassigned(row.owner_role) else None) or leads)
        for uid in targets:
            out[uid].add(line)
    for (uid, person_id), rows in checks.items():
        first = rows[0]
        count = len(rows)
        out[uid].add(Line("checks", f"{first.full_name}: {count} check{'s' if count != 1 else ''} still open",
                          f"starts {_day(first.start_on)}; " + ", ".join(r.title for r in rows[:3])
                          + (f" and {count - 3} more" if count > 3 else ""),
                          first.start_on, "people.person", (("person_id", person_id),)))
    if data["people"] and activities:
        _training_lines(data, since, today, activities, lead_and_hr, recipients, out)
    return {uid: sorted(lines, key=lambda ln: (ln.on, ln.title)) for uid, lines in out.items()}


def _training_lines(data, since, today, activities, lead_and_hr, recipients, out):
    # Walk the completions there are, not every person against every activity: most people have done few
    # of the activities (the 1,000-school profile found the full cross product was most of the job).
    people = {p.id: p for p in data["people"]}
    by_key = {a.key: a for a in activities}
    for (person_id, key), done in data["completions"].items():
        person, activity = people.get(person_id), by_key.get(key)
        if person is None or activity is None or done is None:
            continue
        expires = training.expiry(done, activity.repeat)
        if expires is None or expires < today or not reminded(TRAINING_DAYS_BEFORE, expires, since, today):
            continue
        if not training.in_audience(person, activity.audience, today):
            continue
        for uid in lead_and_hr:
            out[uid].add(Line("training", activity.title, f"{person.full_name}: expires {_day(expires)}",
                              expires, "people.person", (("person_id", person.id),)))
        if person.user_id in recipients and person.user_id not in lead_and_hr:
            out[person.user_id].add(Line("training", activity.title, f"Yours: expires {_day(expires)}",
                                         expires, "people.me", ()))


def _link(school, line, patterns) -> str:
    """The line's address; lines naming one object share one url_for per endpoint (url_pattern)."""
    if len(line.args) != 1:
        return url_for(line.endpoint, school=school.slug, _external=True, **dict(line.args))
    (name, value), = line.args
    if (line.endpoint, name) not in patterns:
        patterns[(line.endpoint, name)] = url_pattern(line.endpoint, name, school=school.slug, _external=True)
    return patterns[(line.endpoint, name)](value)


def unwritten_message(school, recipient: Recipient, today: date, now: datetime, exc) -> dict:
    """The outbox row of a digest that could not be written: failed at once, with the reason for the outbox
    page, and nothing to send (`Send again` fails it again rather than send an empty e-mail)."""
    reason = (f"This digest could not be written ({exc.__class__.__name__}: {exc}), so it was not sent. "
              "Correct the school's or the person's details it uses; tomorrow's digest is written afresh.")
    return {
        "id": new_id(), "school_id": school.id, "kind": "digest", "user_id": recipient.user_id,
        "idempotency_key": f"digest:{recipient.user_id}:{today.isoformat()}", "to_address": recipient.email[:254],
        "subject": f"Safeguarding reminders for {_day(today)}", "body_text": "", "body_html": "",
        "digest_on": today, "status": FAILED, "attempts": 0, "next_attempt_at": now,
        "last_error": reason[:2000], "created_at": now,
    }


def render_message(school, recipient: Recipient, lines, today: date, now: datetime) -> dict:
    """The outbox row of one digest: plain text and HTML from the same lines, each with its link."""
    env = current_app.jinja_env
    sections = []
    patterns = {}
    for key, title in SECTIONS:
        chosen = [ln for ln in lines if ln.section == key]
        if chosen:
            sections.append((title, [(ln, _link(school, ln, patterns)) for ln in chosen]))
    weekly = recipient.frequency == WEEKLY
    settings_url = url_for("reminders.settings", school=school.slug, _external=True)
    context = {"school": school, "recipient": recipient, "sections": sections, "today": today,
               "count": len(lines), "weekly": weekly, "settings_url": settings_url}
    subject = f"{school.name}: {len(lines)} safeguarding reminder{'s' if len(lines) != 1 else ''} " \
              f"for {_day(today)}"
    return {
        "id": new_id(), "school_id": school.id, "idempotency_key": f"digest:{recipient.user_id}:{today.isoformat()}",
        "kind": "digest", "user_id": recipient.user_id, "to_address": recipient.email, "subject": subject[:300],
        "body_text": env.get_template("reminders/email/digest.txt").render(**context),
        "body_html": env.get_template("reminders/email/digest.html").render(**context),
        "digest_on": today, "status": PENDING, "attempts": 0, "next_attempt_at": now, "last_error": "",
        "created_at": now,
    }
