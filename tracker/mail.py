"""E-mail that a low layer (auth, schools) sends: invitations and password resets go through the outbox.

The outbox (tracker/reminders/outbox.py: real SMTP, retries, the outbox page) sits far above auth and schools,
so they cannot reach it directly. `queue_mail` renders the message (text and HTML, templates/auth/email/) and
sends the `mail_queued` signal; the outbox's receiver (tracker/reminders/queued_mail.py) adds the message in
the sender's transaction, so the e-mail is queued exactly when the invitation or reset is saved. The one-time
link is in the message only: it is never written to the application log.
"""

import logging
import uuid
from dataclasses import dataclass

from flask import render_template

from .signals import mail_queued

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class QueuedMail:
    """One e-mail for the outbox. `school_id` None: it belongs to no school's outbox (a password reset)."""

    to: str
    subject: str
    text: str
    html: str
    kind: str
    idempotency_key: str
    school_id: uuid.UUID | None = None
    user_id: uuid.UUID | None = None


def queue_mail(*, to, subject, template, kind, key, school=None, user=None, **context) -> QueuedMail:
    """Render `template` (.txt and .html) with `context` and queue it for `to` in the current transaction
    (flushes only). Raises RuntimeError when nothing carries mail (the outbox is not loaded)."""
    mail = QueuedMail(
        to=to,
        subject=subject[:300],
        text=render_template(f"{template}.txt", **context),
        html=render_template(f"{template}.html", **context),
        kind=kind,
        idempotency_key=key[:120],
        school_id=school.id if school is not None else None,
        user_id=user.id if user is not None else None,
    )
    if not mail_queued.send(None, mail=mail):
        raise RuntimeError("no outbox is connected to queue e-mail")
    log.info("%s e-mail to %s queued", kind, to)  # never the link
    return mail
