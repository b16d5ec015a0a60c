"""The first-year setup: a short guided start of a school's year (tracker/tracking/setup_views.py).

1. the year: `offered_years` (the year containing today unless the school has it, then later ones; never one
   that exists) and `start_first_year`, which starts it (owners from the role holders) and moves the due date
   of every item already due before today to a catch-up date, keeping the framework's date in
   `Item.planned_due_on`: nothing is called overdue until the lead says so;
2. who holds each role: tracker/tracking/holders.py;
3. what already happened: `past_items` and `settle_past_items` (done before we started, with a date; not
   applicable, with a reason; still to do, caught up by a date; or back to the planned date, overdue);
4. whom to invite: `invite_team`, through the schools' invitation service.

Every service takes the school first, only flushes, and records audit events in the same transaction.
"""

from datetime import date

from .. import audit
from ..dates import add_days
from ..db import db
from ..schools.services import ServiceError, invite
from .errors import TrackingError
from .models import DONE, NOT_APPLICABLE, OPEN_STATUSES, Item, SchoolYear
from .setup_queries import offered_years
from .state import set_status
from .years import start_year

#: days from today to the default catch-up date
CATCH_UP_DAYS = 30
DONE_BEFORE, NOT_APPLICABLE_ACTION, CATCH_UP, KEEP_PLANNED = (
    "done_before",
    "not_applicable",
    "catch_up",
    "keep",
)
PAST_ACTIONS = {
    DONE_BEFORE: "Done before we started",
    NOT_APPLICABLE_ACTION: "Not applicable",
    CATCH_UP: "Still to do: catch up by a date",
    KEEP_PLANNED: "Still to do by the planned date (shows as overdue)",
}
#: roles a lead may invite from the setup (accreditors are invited from the members page, with an end date)
INVITE_ROLES = ("staff", "hr", "head", "lead")


def default_catch_up(school, year) -> date:
    """Thirty days from today, but not after the year's last day."""
    return min(add_days(school.today(), CATCH_UP_DAYS), year.ends_on)


def start_first_year(school, start: int) -> tuple[SchoolYear, int]:
    """Start the year beginning in `start` (one of `offered_years`) and move every item due before today to
    the default catch-up date. Returns the year and how many items were moved."""
    if start not in {c.start_year for c in offered_years(school)}:
        raise TrackingError("Choose one of the years offered: that year exists already or is too far off.")
    year = start_year(school, start)
    today = school.today()
    items = (
        db.session.execute(
            db.select(Item).where(
                Item.school_id == school.id,
                Item.year_id == year.id,
                Item.due_on < today,
                Item.status.in_(OPEN_STATUSES),
            )
        )
        .scalars()
        .all()
    )
    until = default_catch_up(school, year)
    for item in items:
        _move(school, item, until)
    db.session.flush()
    return year, len(items)


def _audited(school, item, change):
    before = item.audit_view()
    change(item)
    old, new = audit.changes(before, item.audit_view())
    if new:
        audit.record("item.changed", school=school, subject=item, before=old, after=new)


def _move(school, item, until):
    def move(i):
        i.planned_due_on = i.planned_due_on or i.due_on
        i.due_on = until

    _audited(school, item, move)


def settle_past_items(school, year, items, action, *, on=None, reason="", until=None) -> int:
    """Apply one choice to `items` (from `past_items`): all of them or none (a TrackingError names what is
    wrong). `on`: the day they were done (None: each item's planned date, or today if later); `until`: the
    catch-up date. Returns how many items changed."""
    if year.signed_off_at is not None:
        raise TrackingError(f"{year.label} is signed off: its items can no longer change.")
    if not items:
        raise TrackingError("Select at least one item.", field="items")
    today = school.today()
    if action == DONE_BEFORE:
        if on is not None and on > today:
            raise TrackingError("The day they were done cannot be after today.", field="done_on")
    elif action == NOT_APPLICABLE_ACTION:
        if not (reason or "").strip():
            raise TrackingError("Say why these items do not apply to your school.", field="reason")
    elif action == CATCH_UP:
        if until is None:
            raise TrackingError("Give the date to catch up by.", field="catch_up_on")
        if not today <= until <= year.ends_on:
            raise TrackingError(
                f"Give a catch-up date from today to the last day of {year.label} "
                f"({year.ends_on:%-d %B %Y}).",
                field="catch_up_on",
            )
    elif action != KEEP_PLANNED:
        raise TrackingError("Choose what happened to the selected items.", field="action")

    def done(item):
        _restore(item)
        set_status(item, DONE, on=on or min(item.due_on, today))

    def not_applicable(item):
        _restore(item)
        set_status(item, NOT_APPLICABLE, reason=reason)

    for item in items:
        if item.year_id != year.id or item.status not in OPEN_STATUSES:
            raise TrackingError(f"“{item.title}” changed meanwhile: open the page again.", field="items")
        if action == CATCH_UP:
            _move(school, item, until)
        else:
            change = {DONE_BEFORE: done, NOT_APPLICABLE_ACTION: not_applicable}.get(action, _restore)
            _audited(school, item, change)
    db.session.flush()
    audit.record(
        "year.past_items_settled",
        school=school,
        subject=year,
        after={"action": action, "items": len(items)},
    )
    return len(items)


def _restore(item):
    """Back to the framework's planned date (done, not applicable, or overdue as planned)."""
    if item.planned_due_on is not None:
        item.due_on, item.planned_due_on = item.planned_due_on, None


def invite_team(school, rows, *, invited_by, by) -> list:
    """Invite each (e-mail, role) of `rows`: all of them or none. A refusal names the row
    (TrackingError with field `invites`). Returns the IssuedInvitations."""
    seen = set()
    issued = []
    for number, (email, role) in enumerate(rows, start=1):
        email = (email or "").strip().lower()
        if email in seen:
            raise TrackingError(f"Row {number}: {email} is on the list twice.", field="invites")
        seen.add(email)
        if role not in INVITE_ROLES:
            raise TrackingError(f"Row {number}: choose a role for {email}.", field="invites")
        try:
            issued.append(invite(school, email=email, role=role, invited_by=invited_by, by=by))
        except ServiceError as exc:
            raise TrackingError(f"Row {number}: {exc}", field="invites") from None
    if not issued:
        raise TrackingError("Add at least one e-mail address, or skip this step.", field="invites")
    return issued
