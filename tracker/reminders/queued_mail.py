"""The outbox's side of tracker/mail.py: invitation and password-reset e-mail queued by auth and schools
(through the `mail_queued` signal) becomes an outbox message, sent, retried and shown like any other."""

from ..db import db, utcnow
from ..signals import mail_queued
from .models import PENDING, OutboxMessage


@mail_queued.connect
def add_to_outbox(_sender, mail) -> OutboxMessage:
    """Add `mail` (a mail.QueuedMail) to the outbox in the current transaction. Flushes only."""
    now = utcnow()
    message = OutboxMessage(
        school_id=mail.school_id,
        idempotency_key=mail.idempotency_key,
        kind=mail.kind,
        user_id=mail.user_id,
        to_address=mail.to,
        subject=mail.subject,
        body_text=mail.text,
        body_html=mail.html,
        status=PENDING,
        attempts=0,
        next_attempt_at=now,
        last_error="",
        created_at=now,
    )
    db.session.add(message)
    db.session.flush()
    return message
