"""The outbox: senders claim pending messages (SKIP LOCKED on PostgreSQL, a conditional UPDATE on SQLite),
deliver them, and record each outcome at once: sent, retried later with backoff, or failed. A message that
cannot even be built into an e-mail fails on its own, with the reason; the rest of its batch is sent."""

import logging
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError

from .. import audit
from ..db import db, utcnow, write_transactions
from .mailer import DeliveryError, build_email, open_transport
from .models import FAILED, PENDING, SENDING, SENT, OutboxMessage

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
BATCH = 20
#: a claim older than this belongs to a sender that died: its messages go back to pending
STALE_AFTER = timedelta(minutes=15)


def backoff(attempts: int) -> timedelta:
    """1, 2, 4 ... minutes after each failed attempt, at most an hour."""
    return timedelta(minutes=min(60, 2 ** max(0, attempts - 1)))


@dataclass
class SendReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    errors: list = field(default_factory=list)


def with_write_retries(fn, tries=20):
    """Run a short write transaction, trying again when SQLite says the database is busy. On SQLite the
    transaction takes the write lock when it begins (`write_transactions`), so it waits for the web app's
    writers rather than failing when one commits between its reads and its writes."""
    for attempt in range(tries):
        try:
            with write_transactions():
                result = fn()
                db.session.commit()
            return result
        except OperationalError:
            db.session.rollback()
            if attempt == tries - 1:
                raise
            time.sleep(0.05 * (attempt + 1))


def claim(now: datetime, limit: int = BATCH, stale_after: timedelta = STALE_AFTER) -> list[OutboxMessage]:
    """Take up to `limit` due messages for this sender; no other sender can take them too."""
    claim_id = uuid.uuid4()

    def work():
        db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.status == SENDING, OutboxMessage.claimed_at < now - stale_after)
            .values(status=PENDING, claim_id=None)
            .execution_options(synchronize_session=False)
        )
        due = (
            select(OutboxMessage.id)
            .where(OutboxMessage.status == PENDING, OutboxMessage.next_attempt_at <= now)
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.created_at)
            .limit(limit)
        )
        if db.session.get_bind().dialect.name == "postgresql":
            # rows another sender is claiming right now are skipped, not waited for
            due = due.with_for_update(skip_locked=True)
        ids = db.session.execute(due).scalars().all()
        if ids:
            # the status condition makes the claim safe where there is no row locking (SQLite)
            db.session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(ids), OutboxMessage.status == PENDING)
                .values(
                    status=SENDING, claim_id=claim_id, claimed_at=now, attempts=OutboxMessage.attempts + 1
                )
                .execution_options(synchronize_session=False)
            )

    with_write_retries(work)
    messages = (
        db.session.execute(
            select(OutboxMessage)
            .where(OutboxMessage.claim_id == claim_id)
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.created_at)
        )
        .scalars()
        .all()
    )
    for message in messages:  # detached copies: nothing is held open while talking to the SMTP server
        db.session.expunge(message)
    db.session.rollback()
    return messages


def _record(message, claim_id, now, **values):
    def work():
        return db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message.id, OutboxMessage.claim_id == claim_id)
            .values(claim_id=None, **values)
            .execution_options(synchronize_session=False)
        ).rowcount

    if with_write_retries(work) != 1:
        log.warning(
            "outbox message %s was reclaimed by another sender before its outcome was recorded", message.id
        )


def _outcome(message, error: DeliveryError, now, report, max_attempts):
    if error.permanent or message.attempts >= max_attempts:
        reason = (
            error.reason
            if error.permanent
            else f"gave up after {message.attempts} attempts; last error: {error.reason}"
        )
        _record(message, message.claim_id, now, status=FAILED, last_error=reason[:2000])
        report.failed += 1
    else:
        _record(
            message,
            message.claim_id,
            now,
            status=PENDING,
            last_error=error.reason[:2000],
            next_attempt_at=now + backoff(message.attempts),
        )
        report.retrying += 1
    report.errors.append(error.reason)


def _unsendable(message, exc, now, report):
    """A message that cannot be made into an e-mail (a line break in a name, an address that cannot be
    encoded): sending it again cannot help, so it fails at once with the reason, for the outbox page."""
    log.warning("outbox message %s could not be built: %s", message.id, exc, exc_info=exc)
    reason = (
        f"This e-mail could not be built, so it was not sent ({exc.__class__.__name__}: {exc}). "
        "Correct the name or address it uses (for example a line break in the school's or the person's "
        "name), then press Send again."
    )
    _record(message, message.claim_id, now, status=FAILED, last_error=reason[:2000])
    report.failed += 1
    report.errors.append(reason)


def send_pending(
    now: datetime | None = None,
    *,
    limit: int = BATCH,
    max_batches: int | None = None,
    max_attempts: int = MAX_ATTEMPTS,
    stale_after: timedelta | None = None,
) -> SendReport:
    """Deliver every due message, a batch at a time; each outcome is committed as soon as it is known."""
    report = SendReport()
    sender = current_app.config["TRACKER_SMTP_FROM"]
    stale_after = stale_after or timedelta(seconds=float(current_app.config["TRACKER_OUTBOX_STALE_SECONDS"]))
    batches = 0
    while max_batches is None or batches < max_batches:
        moment = now or utcnow()
        messages = claim(moment, limit, stale_after)
        if not messages:
            break
        batches += 1
        transport = open_transport()
        down = None
        try:
            for message in messages:
                if (
                    down is not None
                ):  # the server is unreachable: every claimed message waits and counts a try
                    _outcome(message, down, now or utcnow(), report, max_attempts)
                    continue
                try:
                    if not (message.body_text or message.body_html):
                        raise ValueError("there is nothing to send: the digest could not be written")
                    email = build_email(message, sender)
                except Exception as exc:  # noqa: BLE001  one unbuildable message must not hold up the batch
                    _unsendable(message, exc, now or utcnow(), report)
                    continue
                try:
                    transport.send(email)
                except DeliveryError as error:
                    _outcome(message, error, now or utcnow(), report, max_attempts)
                    if error.connection:
                        down = DeliveryError(f"not tried: {error.reason}", connection=True)
                    continue
                except Exception as exc:  # noqa: BLE001  e.g. a header that cannot be encoded for SMTP
                    transport.close()  # the next message starts on a fresh connection
                    _unsendable(message, exc, now or utcnow(), report)
                    continue
                _record(
                    message,
                    message.claim_id,
                    now or utcnow(),
                    status=SENT,
                    sent_at=now or utcnow(),
                    last_error="",
                )
                report.sent += 1
        finally:
            transport.close()
        if down is not None:
            break
    return report


def retry(school, message: OutboxMessage, *, user) -> None:
    """Send a failed message again from now, with a fresh count of attempts. Flushes only."""
    if message.status != FAILED:
        raise ValueError("Only a failed message can be retried.")
    before = message.audit_view()
    message.status, message.attempts, message.next_attempt_at = PENDING, 0, utcnow()
    message.claim_id = None
    db.session.flush()
    audit.record(
        "reminders.message_retried",
        school=school,
        subject=message,
        before=before,
        after=message.audit_view(),
        actor=user,
    )


def counts(school) -> dict:
    rows = db.session.execute(
        select(OutboxMessage.status, db.func.count())
        .where(OutboxMessage.school_id == school.id)
        .group_by(OutboxMessage.status)
    ).all()
    return {status: n for status, n in rows}


__all__ = ["claim", "send_pending", "retry", "counts", "SENT", "FAILED", "PENDING", "SENDING"]
