"""Leavers: marking a person as left records the date and reason, closes their open checks and creates their
leaving tasks (record transfer, access removed) due on the leaving date, owned by the school's HR holder."""

from .. import audit
from ..db import db
from ..tracking.holders import owner_ids
from ..tracking.models import NOT_APPLICABLE, Item, ItemKind
from ..tracking.state import set_status
from .errors import PeopleError
from .models import LEAVE_REASON_LABELS, LEAVE_REASONS

#: the tasks each leaver gets: (requirement key, title); they carry the person's id, like their checks
LEAVING_TASKS = (
    (
        "leaver-record-transfer",
        "Transfer or archive the leaver's safeguarding and recruitment records",
    ),
    ("leaver-access-removed", "Remove the leaver's access: accounts, keys, badges and systems"),
)
LEAVING_SECTION = "Leaving"


def leaving_tasks(school, person) -> list[Item]:
    return (
        db.session.execute(
            db.select(Item)
            .where(
                Item.school_id == school.id,
                Item.person_id == person.id,
                Item.requirement_key.in_([key for key, _ in LEAVING_TASKS]),
            )
            .order_by(Item.due_on, Item.title)
        )
        .scalars()
        .all()
    )


def mark_left(school, person, *, leave_on, reason, note="", user) -> int:
    """Record that `person` leaves on `leave_on` for `reason` (LEAVE_REASONS; "other" needs `note`). Closes
    the open checks (not required, "left on ..."), adds the leaving tasks. Returns the number of checks
    closed."""
    note = (note or "").strip()
    if reason not in LEAVE_REASONS:
        raise PeopleError("Choose why they left from the list.")
    if reason == "other" and not note:
        raise PeopleError("Say why they left.")
    if leave_on < person.start_on:
        raise PeopleError("The leaving date is before the start date.")
    if person.leave_reason:
        raise PeopleError(f"{person.full_name} is already marked as left.")
    before = person.audit_view()
    person.leave_on, person.leave_reason, person.leave_note = leave_on, reason, note
    why = f"Left on {leave_on.strftime('%-d %B %Y')} ({LEAVE_REASON_LABELS[reason].lower()})."
    closed = 0
    checks = db.session.execute(
        db.select(Item).where(
            Item.school_id == school.id, Item.person_id == person.id, Item.kind == ItemKind.CHECK
        )
    ).scalars()
    for item in checks:
        if item.is_open:
            item.check_status = "not_required"
            set_status(item, NOT_APPLICABLE, reason=why)
            closed += 1
    have = {item.requirement_key for item in leaving_tasks(school, person)}
    hr = owner_ids(school).get("hr")
    for key, title in LEAVING_TASKS:
        if key in have:
            continue
        db.session.add(
            Item(
                school_id=school.id,
                person_id=person.id,
                requirement_key=key,
                kind=ItemKind.TASK,
                section_title=LEAVING_SECTION,
                title=f"{title}: {person.full_name}",
                owner_role="hr",
                owner_id=hr,
                due_on=leave_on,
            )
        )
    db.session.flush()
    old, new = audit.changes(before, person.audit_view())
    audit.record(
        "person.left",
        school=school,
        subject=person,
        actor=user,
        before=old,
        after={**new, "leave_note": note, "checks_closed": closed},
    )
    return closed
