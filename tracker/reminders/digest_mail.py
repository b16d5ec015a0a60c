"""How a digest reads: the outbox row (subject, plain text and HTML, each line with its link) of one member's
digest, and of one that could not be written."""

from datetime import date, datetime

from flask import current_app, url_for

from ..db import new_id
from ..templating import url_pattern
from .digest_lines import Recipient, _day
from .models import FAILED, PENDING, WEEKLY

SECTIONS = (
    ("overdue", "Overdue"),
    ("today", "Due today"),
    ("week", "Due in the next 7 days"),
    ("fortnight", "Due in the next 14 days"),
    ("checks", "Recruitment checks still open for people starting soon"),
    ("training", "Training expiring within 30 days"),
)


def _link(school, line, patterns) -> str:
    """The line's address; lines naming one object share one url_for per endpoint (url_pattern)."""
    if len(line.args) != 1:
        return url_for(line.endpoint, school=school.slug, _external=True, **dict(line.args))
    ((name, value),) = line.args
    if (line.endpoint, name) not in patterns:
        patterns[(line.endpoint, name)] = url_pattern(line.endpoint, name, school=school.slug, _external=True)
    return patterns[(line.endpoint, name)](value)


def unwritten_message(school, recipient: Recipient, today: date, now: datetime, exc) -> dict:
    """The outbox row of a digest that could not be written: failed at once, with the reason for the outbox
    page, and nothing to send (`Send again` fails it again rather than send an empty e-mail)."""
    reason = (
        f"This digest could not be written ({exc.__class__.__name__}: {exc}), so it was not sent. "
        "Correct the school's or the person's details it uses; tomorrow's digest is written afresh."
    )
    return {
        "id": new_id(),
        "school_id": school.id,
        "kind": "digest",
        "user_id": recipient.user_id,
        "idempotency_key": f"digest:{recipient.user_id}:{today.isoformat()}",
        "to_address": recipient.email[:254],
        "subject": f"Safeguarding reminders for {_day(today)}",
        "body_text": "",
        "body_html": "",
        "digest_on": today,
        "status": FAILED,
        "attempts": 0,
        "next_attempt_at": now,
        "last_error": reason[:2000],
        "created_at": now,
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
    context = {
        "school": school,
        "recipient": recipient,
        "sections": sections,
        "today": today,
        "count": len(lines),
        "weekly": weekly,
        "settings_url": settings_url,
    }
    subject = (
        f"{school.name}: {len(lines)} safeguarding reminder{'s' if len(lines) != 1 else ''} for {_day(today)}"
    )
    return {
        "id": new_id(),
        "school_id": school.id,
        "idempotency_key": f"digest:{recipient.user_id}:{today.isoformat()}",
        "kind": "digest",
        "user_id": recipient.user_id,
        "to_address": recipient.email,
        "subject": subject[:300],
        "body_text": env.get_template("reminders/email/digest.txt").render(**context),
        "body_html": env.get_template("reminders/email/digest.html").render(**context),
        "digest_on": today,
        "status": PENDING,
        "attempts": 0,
        "next_attempt_at": now,
        "last_error": "",
        "created_at": now,
    }
