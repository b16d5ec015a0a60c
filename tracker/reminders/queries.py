"""Read-side queries of the reminder pages: the school's outbox, newest first, optionally of one status."""

from ..db import db
from .models import MESSAGE_STATUSES, OutboxMessage


def outbox_messages(school, status=None):
    """A select of the school's outbox messages (of `status` when it is one), newest first, for paginate()."""
    query = db.select(OutboxMessage).where(OutboxMessage.school_id == school.id)
    if status in MESSAGE_STATUSES:
        query = query.where(OutboxMessage.status == status)
    return query.order_by(OutboxMessage.created_at.desc(), OutboxMessage.to_address)
