"""An item's past as people read it: its audit events as sentences in the school's time zone, and the earlier
versions of a policy answer.

"Dana Lead marked this done, 3 Oct 14:05"; "Sam Head changed the due date from 1 Sep to 30 Sep, 4 Oct 09:12".
Each event type has its sentence; an event this module does not know still reads as a sentence made of its
changed fields (or of its action's name), never as a dump of field names.
"""

import zoneinfo
from dataclasses import dataclass
from datetime import date, datetime

from ..auth.models import User
from ..db import db, utcnow
from ..tenancy import ROLE_LABELS
from .models import ANSWER_STATUS_LABELS

#: what marking an item with each status reads as ("Dana Lead marked this done")
STATUS_PHRASES = {
    "not_started": "moved this back to not started",
    "in_progress": "marked this in progress",
    "done": "marked this done",
    "not_applicable": "marked this not applicable",
}

#: recruitment check stages (people/models.py holds the same keys; tracking sits below people)
CHECK_PHRASES = {
    "not_started": "moved the check back to not started",
    "requested": "marked the check requested",
    "received": "marked the check received",
    "verified": "marked the check verified",
    "not_required": "marked the check not required",
}

#: date fields: how each is named in a sentence
DATE_FIELDS = {
    "due_on": "the due date",
    "completed_on": "the completion date",
    "review_on": "the review date",
    "verified_on": "the verification date",
    "expires_on": "the expiry date",
    "applies_on": "the date it applies to",
    "planned_due_on": "the framework's due date",
}

#: the order clauses are said in: what the change was about first (the answer, the status), then the rest
ORDER = (
    "answer",
    "answer_status",
    "status",
    "check_status",
    "owner",
    "due_on",
    "review_on",
    "expires_on",
    "notes",
)

#: fields that follow from another in the same event and need no words of their own
IMPLIED = {"na_reason", "completed_on", "verified_on", "planned_due_on"}

QUOTE_CHARS = 80


@dataclass(frozen=True)
class HistoryLine:
    """One event as a sentence: `text` ("Dana Lead marked this done") and when, in the school's time zone."""

    text: str
    at: datetime  # aware, in the school's time zone
    when: str  # "3 Oct 14:05" (with the year when it is not this year)
    action: str

    @property
    def sentence(self) -> str:
        return f"{self.text}, {self.when}"


def _quote(text, limit=QUOTE_CHARS) -> str:
    text = " ".join(str(text or "").split())
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return f"“{text}”"


def _day(value, this_year: int) -> str:
    """'1 Sep' (or '1 Sep 2027' outside `this_year`) from an ISO date string or a date; '' for none."""
    if value in (None, ""):
        return ""
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value[:10])
        except ValueError:
            return value
    if value.year == this_year:
        return f"{value.day} {value:%b}"
    return f"{value.day} {value:%b %Y}"


def _join(clauses: list[str]) -> str:
    if len(clauses) <= 1:
        return "".join(clauses)
    return ", ".join(clauses[:-1]) + " and " + clauses[-1]


class _Names:
    """Display names of the people events mention, looked up in one query: actors by id, owners by e-mail."""

    def __init__(self, events):
        ids, emails = set(), set()
        for e in events:
            if e.actor_id:
                ids.add(e.actor_id)
            for side in (e.before or {}, e.after or {}):
                for key in ("owner", "signed_by"):
                    if isinstance(side.get(key), str):
                        emails.add(side[key])
        self.by_id, self.by_email = {}, {}
        if ids or emails:
            where = []
            if ids:
                where.append(User.id.in_(ids))
            if emails:
                where.append(User.email.in_(emails))
            for uid, email, name in db.session.execute(
                db.select(User.id, User.email, User.name).where(db.or_(*where))
            ).all():
                self.by_id[uid] = self.by_email[email] = name or email

    def actor(self, event) -> str:
        if event.actor_id and event.actor_id in self.by_id:
            return self.by_id[event.actor_id]
        return event.actor_email or "The system"

    def person(self, email) -> str:
        return self.by_email.get(email, email) if email else ""


def change_clauses(before: dict, after: dict, names: _Names, this_year: int, on: date | None = None) -> list:
    """What changed, in words: one clause per change ("changed the due date from 1 Sep to 30 Sep"). `on`: the
    day of the event (a completion on that day goes without saying)."""
    before, after = before or {}, after or {}
    clauses = []
    keys = sorted(after, key=lambda k: ORDER.index(k) if k in ORDER else len(ORDER))
    for key in keys:
        new, old = after[key], before.get(key)
        if key in IMPLIED:
            # said with the status (or check stage) it belongs to, unless it changed on its own
            if key == "na_reason" and "status" not in after and new:
                clauses.append(f"changed why it does not apply to {_quote(new)}")
            elif key == "completed_on" and "status" not in after and new:
                clauses.append(_date_clause(key, old, new, this_year))
            elif key == "verified_on" and "check_status" not in after and new:
                clauses.append(_date_clause(key, old, new, this_year))
            elif key == "planned_due_on" and "due_on" not in after:
                clauses.append(_date_clause(key, old, new, this_year))
            continue
        if key == "status":
            if "check_status" in after:
                continue  # a check's stage sets its status: the stage says it
            phrase = STATUS_PHRASES.get(new, f"set the status to {str(new).replace('_', ' ')}")
            if new == "not_applicable" and after.get("na_reason"):
                phrase += f": {_quote(after['na_reason'])}"
            elif new == "done" and after.get("completed_on") and after["completed_on"] != str(on):
                phrase += f" (completed {_day(after['completed_on'], this_year)})"
            clauses.append(phrase)
        elif key == "check_status":
            phrase = CHECK_PHRASES.get(new, f"set the check to {str(new).replace('_', ' ')}")
            if new == "verified" and after.get("verified_on") and after["verified_on"] != str(on):
                phrase += f" (verified {_day(after['verified_on'], this_year)})"
            clauses.append(phrase)
        elif key == "owner":
            if old and new:
                clauses.append(f"changed the owner from {names.person(old)} to {names.person(new)}")
            elif new:
                clauses.append(f"assigned this to {names.person(new)}")
            else:
                clauses.append(f"removed the owner ({names.person(old)})" if old else "removed the owner")
        elif key == "owner_role":
            clauses.append(f"changed the owner's role from {_role(old)} to {_role(new)}")
        elif key in DATE_FIELDS:
            clauses.append(_date_clause(key, old, new, this_year))
        elif key == "notes":
            clauses.append(
                "cleared the notes" if not new else ("added notes" if not old else "updated the notes")
            )
        elif key == "answer":
            clauses.append(
                "cleared the answer" if not new else ("wrote the answer" if not old else "updated the answer")
            )
        elif key == "answer_status":
            label = ANSWER_STATUS_LABELS.get(new, "not assessed")
            clauses.append(f"said the school stands at “{label}”")
        elif key == "title":
            clauses.append(f"renamed this {_quote(new)}")
        else:
            clauses.append(f"changed the {key.replace('_', ' ')}")
    return clauses


def _role(key) -> str:
    return ROLE_LABELS.get(key, str(key or "none").replace("_", " ")).lower()


def _date_clause(key, old, new, this_year) -> str:
    name = DATE_FIELDS[key]
    if old and new:
        return f"changed {name} from {_day(old, this_year)} to {_day(new, this_year)}"
    if new:
        return f"set {name} to {_day(new, this_year)}"
    return f"removed {name}"


def _evidence_name(side) -> str:
    return _quote((side or {}).get("evidence") or "a file")


def _text(event, names: _Names, this_year: int, on: date | None = None) -> str:
    """The sentence of one event, without its time; dates in `this_year` are shown without the year."""
    who = names.actor(event)
    before, after = event.before or {}, event.after or {}
    action = event.action
    if action == "item.added":
        due = _day(after.get("due_on"), this_year)
        return f"{who} added this item" + (f", due {due}" if due else "")
    if action == "item.commented":
        return f"{who} commented: {_quote(after.get('comment'))}"
    if action == "item.evidence_added":
        pending = " (waiting to be verified)" if after.get("verification") == "pending" else ""
        return f"{who} added evidence {_evidence_name(after)}{pending}"
    if action == "item.evidence_removed":
        return f"{who} removed evidence {_evidence_name(before)}"
    if action == "item.evidence_verified":
        return f"{who} verified evidence {_evidence_name(after)}"
    if action == "item.evidence_rejected":
        reason = f": {_quote(after['reason'])}" if after.get("reason") else ""
        return f"{who} rejected evidence {_evidence_name(after)}{reason}"
    if action == "evidence.downloaded":
        return f"{who} downloaded {_evidence_name(after)}"
    if action == "check.risk_assessed":
        return f"{who} wrote the risk assessment"
    if action == "check.risk_assessment_signed":
        return f"{who} signed the risk assessment"
    clauses = change_clauses(before, after, names, this_year, on)
    if action in ("item.changed", "item.answered", "check.changed"):
        return f"{who} {_join(clauses)}" if clauses else f"{who} saved this without changing anything"
    # an event this module does not know: its changes, or else the words of its action
    if clauses:
        return f"{who} {_join(clauses)}"
    words = action.rsplit(".", 1)[-1].replace("_", " ")
    return f"{who}: {words}"


def when(moment: datetime, tz, this_year: int) -> tuple[datetime, str]:
    local = moment.astimezone(tz)
    day = f"{local.day} {local:%b}" if local.year == this_year else f"{local.day} {local:%b %Y}"
    return local, f"{day} {local:%H:%M}"


def lines(school, events, now: datetime | None = None) -> list[HistoryLine]:
    """The events (audit events of one item, in the order given) as sentences in the school's time zone."""
    tz = zoneinfo.ZoneInfo(school.timezone or "UTC")
    this_year = (now or utcnow()).astimezone(tz).year
    names = _Names(events)
    out = []
    for event in events:
        local, stamp = when(event.created_at, tz, this_year)
        # dates inside the sentence show their year only when it is not the year of the event
        out.append(HistoryLine(_text(event, names, local.year, local.date()), local, stamp, event.action))
    return out


def earlier_versions(item, versions: list) -> list:
    """The saved versions of a policy answer (newest first) without the one the item holds now."""
    if versions and (versions[0].answer, versions[0].answer_status, versions[0].review_on) == (
        item.answer,
        item.answer_status,
        item.review_on,
    ):
        return versions[1:]
    return versions


def stamp(school, moment: datetime | None, now: datetime | None = None) -> str:
    """A moment as "3 Oct 14:05" in the school's time zone (with the year when it is not this year)."""
    if moment is None:
        return ""
    tz = zoneinfo.ZoneInfo(school.timezone or "UTC")
    return when(moment, tz, (now or utcnow()).astimezone(tz).year)[1]
