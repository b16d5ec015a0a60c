"""Bulk changes on the item list: one new owner, due date or status for many items at once.

Each item goes through the same service as the item page (`services.update_item`: the rules of
`state.set_status`, the same `item.changed` audit event), all inside the caller's one `saving()` transaction:
the first item that cannot be changed raises `BulkError` naming it, and the whole change is rolled back, so
nothing of it is saved.
"""

from dataclasses import dataclass
from datetime import date

from ..dates import add_days
from ..tenancy import ACCREDITOR
from ..validation import check_date
from . import services
from .errors import TrackingError
from .models import NOT_APPLICABLE, STATUS_LABELS, STATUSES, Item, ItemKind
from .visibility import may_see

ASSIGN, MOVE, STATUS = "assign", "move", "status"
ACTIONS = (ASSIGN, MOVE, STATUS)
#: most items one bulk change may name (the list shows 50 a page)
MAX_ITEMS = 500
#: furthest a due date may be moved by a number of days, either way
MAX_SHIFT_DAYS = 366


class BulkError(TrackingError):
    """A bulk change refused; `item` is the item that could not be changed (None: the change as a whole)."""

    def __init__(self, message, item=None, field=None):
        super().__init__(message, field=field)
        self.item = item


@dataclass(frozen=True)
class Owner:
    """The new owner of a bulk assignment: a member of the school (`user` with their `role`)."""

    user: object
    role: str


@dataclass(frozen=True)
class BulkChange:
    """What to do to every selected item. ASSIGN: `owner` (None takes the owner away). MOVE: to `due_on`, or
    by `shift_days`. STATUS: `status`, with `na_reason` (not applicable) and `completed_on` (done; empty means
    the item's own completion date, else today, as on the item page)."""

    action: str
    owner: Owner | None = None
    due_on: date | None = None
    shift_days: int | None = None
    status: str | None = None
    na_reason: str = ""
    completed_on: date | None = None


@dataclass(frozen=True)
class _Member:
    """Enough of a membership for the visibility rule (tracking/visibility.py may_see)."""

    user_id: object
    role: str


def may_own(owner: Owner, item: Item) -> bool:
    """Whether `owner` may be given `item`: a member who is not an accreditor and who can open the item once
    it is theirs (so no one is sent a reminder for a page that refuses them)."""
    if owner.role == ACCREDITOR:
        return False
    return may_see(_Member(owner.user.id, owner.role), _Assigned(item, owner.user.id))


class _Assigned:
    """`item` as it would be with `owner_id` as its owner (for may_see, without touching the item)."""

    def __init__(self, item, owner_id):
        self._item, self.owner_id = item, owner_id

    def __getattr__(self, name):
        return getattr(self._item, name)


def describe(item: Item) -> str:
    """How an error names an item: its title, its term and its due date."""
    term = f" (term {item.occurrence})" if item.occurrence > 1 else ""
    return f"“{item.title}”{term}, due {item.due_on.day} {item.due_on:%b %Y}"


def apply(school, items: list, change: BulkChange, today: date) -> int:
    """Make `change` to every item of `items`; return how many of them changed (the others already were so).

    The first item that cannot be changed raises BulkError naming it; the caller's saving() then rolls back
    the items changed before it."""
    if change.action not in ACTIONS:
        raise BulkError("Choose what to do with the selected items.")
    if not items:
        raise BulkError("Select at least one item first.")
    if len(items) > MAX_ITEMS:
        raise BulkError(f"Change at most {MAX_ITEMS} items at once.")
    changed = 0
    for item in items:
        before = item.audit_view()
        try:
            _apply_one(school, item, change, today)
        except TrackingError as exc:
            raise BulkError(f"Nothing was changed. {describe(item)}: {exc}", item=item) from exc
        if item.audit_view() != before:
            changed += 1
    return changed


def _apply_one(school, item: Item, change: BulkChange, today: date) -> None:
    if item.kind == ItemKind.CHECK:
        raise TrackingError("a recruitment check is updated on the person's page, not from the item list.")
    owner = item.owner
    due_on = None
    status = na_reason = completed_on = None
    if change.action == ASSIGN:
        if change.owner is not None and not may_own(change.owner, item):
            raise TrackingError(f"{change.owner.user.display_name} cannot be given this item.")
        owner = change.owner.user if change.owner is not None else None
    elif change.action == MOVE:
        due_on = change.due_on if change.due_on is not None else add_days(item.due_on, change.shift_days or 0)
        problem = check_date("due", due_on, today)
        if problem:
            raise TrackingError(f"its new due date would be {due_on.isoformat()}. {problem}")
    else:
        if item.kind == ItemKind.ANSWER:
            raise TrackingError(
                "a policy question's status follows where the school stands: set that on the question's page "
                "(or leave the policy form's questions out, with the Framework filter)."
            )
        if change.status not in STATUSES:
            raise TrackingError("choose a status from the list.")
        if change.status == NOT_APPLICABLE and not (change.na_reason or "").strip():
            raise TrackingError("say why the items do not apply to your school.")
        status, na_reason, completed_on = change.status, change.na_reason, change.completed_on
    services.update_item(
        school,
        item,
        version=item.version,
        status=status,
        owner=owner,
        due_on=due_on,
        notes=None,
        na_reason=na_reason,
        completed_on=completed_on,
        manage=True,
    )


def done_message(change: BulkChange, count: int, changed: int | None = None) -> str:
    """What the list says after the change: "Assigned 12 items to Dana Lead." (and how many of them already
    were so, when some were)."""
    text = _done(change, f"{count} item{'' if count == 1 else 's'}")
    unchanged = count - changed if changed is not None else 0
    if unchanged:
        text += f" {unchanged} of them already {'was' if unchanged == 1 else 'were'}."
    return text


def _done(change: BulkChange, items: str) -> str:
    if change.action == ASSIGN:
        if change.owner is None:
            return f"Took the owner off {items}."
        return f"Assigned {items} to {change.owner.user.display_name}."
    if change.action == MOVE:
        if change.due_on is not None:
            return f"Moved {items} to {change.due_on.day} {change.due_on:%b %Y}."
        days = change.shift_days or 0
        way = "later" if days > 0 else "earlier"
        return f"Moved {items} {abs(days)} day{'' if abs(days) == 1 else 's'} {way}."
    return f"Marked {items} {STATUS_LABELS[change.status]}."
