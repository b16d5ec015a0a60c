"""An item's state: the one place that changes its status, completion date and not-applicable reason.

Tracking's own services (status form, policy answers, framework upgrades) and the people register's
recruitment checks all go through set_status, so the rules hold whoever moves the item: a completion date
only while it is done, a reason only while it does not apply. The item's version (optimistic lock) moves
with every flushed change; check_version refuses a save based on an older one.
"""

from datetime import date

from .models import Item, ItemStatus


class EditConflict(Exception):
    """Someone saved the item after this form was opened."""

    def __init__(self, item, submitted: dict):
        self.item = item
        self.submitted = submitted
        super().__init__("edit conflict")


def check_version(item: Item, version, submitted: dict) -> None:
    """Raise EditConflict unless `version` (from the form) is the item's current version."""
    if version is None or int(version) != item.version:
        raise EditConflict(item, submitted)


def set_status(item: Item, status, *, on: date | None = None, reason: str = "") -> None:
    """Move `item` to `status`.

    Done: completed on `on` (the caller chooses the day; it is required). Not applicable: `reason` says why
    (required). Any other status clears both. Callers check the user's input first and say what is wrong in
    their own words; a call that breaks these rules is a programming error (ValueError).
    """
    status = ItemStatus(status)
    reason = (reason or "").strip()
    if status == ItemStatus.DONE and on is None:
        raise ValueError("a done item needs its completion date")
    if status == ItemStatus.NOT_APPLICABLE and not reason:
        raise ValueError("a not-applicable item needs a reason")
    item.status = status
    item.completed_on = on if status == ItemStatus.DONE else None
    item.na_reason = reason if status == ItemStatus.NOT_APPLICABLE else ""
