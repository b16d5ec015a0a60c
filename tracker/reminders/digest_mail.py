"""How a digest reads: the outbox row (subject, plain text and HTML, each line with its link) of one member's
digest, and of one that could not be written.

It starts with what is waiting for the member (tracker/waiting.py, the lines of their dashboard), then the
reminders by section. A section longer than GROUP_OVER lines is grouped (items by school year and framework,
training by activity, checks into one line), each group with its count and a link to the filtered list, so a
member with a hundred reminders gets a short digest in which every reminder is still counted. Every link is
absolute on TRACKER_BASE_URL (tracker/links.py).
"""

from collections import OrderedDict
from dataclasses import dataclass
from datetime import date, datetime
from urllib.parse import urlsplit

from flask import current_app, url_for

from ..access import policy_of
from ..db import new_id
from ..links import base_url
from ..templating import url_pattern
from .digest_lines import Recipient, _day
from .models import FAILED, PENDING, WEEKLY

#: a section with more reminders than this is grouped
GROUP_OVER = 8
#: item sections and the item list's filter that shows their items
ITEM_SECTION_FILTERS = {
    "overdue": "overdue",
    "today": "due_soon",
    "week": "due_soon",
    "fortnight": "due_soon",
}


@dataclass(frozen=True)
class Entry:
    """One line of the e-mail: what, a detail, the absolute link, and how many reminders it stands for."""

    title: str
    detail: str
    url: str
    count: int = 1


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


def absolute(url: str) -> str:
    """A site-relative address (as url_for makes it on TRACKER_BASE_URL, with its path) made absolute."""
    if not url.startswith("/"):
        return url
    parts = urlsplit(base_url())
    return f"{parts.scheme}://{parts.netloc}{url}"


def _may_open(endpoint, role) -> bool:
    policy = policy_of(current_app, endpoint)
    return isinstance(policy, tuple) and role in policy[1]


def _plural(n, one, many):
    return f"{n} {one if n == 1 else many}"


def _item_groups(school, recipient, key, lines, patterns):
    """An item section's lines grouped by school year and framework (recruitment checks by the register)."""
    groups = OrderedDict()
    for ln in lines:
        groups.setdefault((ln.year_id, ln.group_key, ln.group), []).append(ln)
    entries = []
    # by framework title, the school's own items last (as on the dashboard)
    for (year_id, group_key, group), chosen in sorted(
        groups.items(), key=lambda kv: (kv[0][1] == "own", kv[0][2], str(kv[0][0]))
    ):
        if len(chosen) == 1:
            ln = chosen[0]
            entries.append(Entry(ln.title, ln.detail, _link(school, ln, patterns)))
            continue
        first = min(ln.on for ln in chosen)
        detail = f"the earliest due {_day(first)}"
        if year_id is not None:
            owners = {ln.owner_id for ln in chosen}
            args = {ITEM_SECTION_FILTERS[key]: 1, "framework": group_key}
            if owners == {recipient.user_id}:
                args["owner"] = "me"
            elif owners == {None}:
                args["owner"] = "none"
            url = url_for("tracking.items", school=school.slug, year=year_id, _external=True, **args)
        elif _may_open("people.index", recipient.role):
            url = url_for("people.index", school=school.slug, filter="incomplete", _external=True)
        else:  # nowhere lists them for this member: each line stays
            entries.extend(Entry(ln.title, ln.detail, _link(school, ln, patterns)) for ln in chosen)
            continue
        entries.append(Entry(f"{group}: {_plural(len(chosen), 'item', 'items')}", detail, url, len(chosen)))
    return entries


def _training_groups(school, recipient, lines, patterns):
    """Training expiries grouped by activity, linking to who is expiring (lines of the member's own, kept)."""
    groups = OrderedDict()
    for ln in lines:
        groups.setdefault(ln.group_key, []).append(ln)
    entries = []
    for group_key, chosen in groups.items():
        if len(chosen) == 1 or not group_key or not _may_open("training.who", recipient.role):
            entries.extend(Entry(ln.title, ln.detail, _link(school, ln, patterns)) for ln in chosen)
            continue
        first = min(ln.on for ln in chosen)
        url = url_for(
            "training.who", school=school.slug, activity_key=group_key, bucket="expiring", _external=True
        )
        title = f"{chosen[0].group}: {_plural(len(chosen), 'person', 'people')}"
        entries.append(Entry(title, f"the first expires {_day(first)}", url, len(chosen)))
    return entries


def _check_group(school, recipient, lines, patterns):
    """Open checks of people starting soon, one line for all of them."""
    if not _may_open("people.index", recipient.role):
        return [Entry(ln.title, ln.detail, _link(school, ln, patterns), ln.count) for ln in lines]
    checks = sum(ln.count for ln in lines)
    first = min(ln.on for ln in lines)
    url = url_for("people.index", school=school.slug, filter="starting", _external=True)
    people = _plural(len(lines), "person", "people")
    title = f"{people} starting soon: {_plural(checks, 'check', 'checks')} open"
    return [Entry(title, f"the first starts {_day(first)}", url, len(lines))]


def section_entries(school, recipient, key, lines, patterns) -> list[Entry]:
    """A section's entries: a line each, or groups when there are more than GROUP_OVER lines."""
    if len(lines) <= GROUP_OVER:
        return [Entry(ln.title, ln.detail, _link(school, ln, patterns)) for ln in lines]
    if key in ITEM_SECTION_FILTERS:
        return _item_groups(school, recipient, key, lines, patterns)
    if key == "training":
        return _training_groups(school, recipient, lines, patterns)
    if key == "checks":
        return _check_group(school, recipient, lines, patterns)
    return [Entry(ln.title, ln.detail, _link(school, ln, patterns)) for ln in lines]


def waiting_entries(waiting, today) -> list[Entry]:
    """The member's "Waiting for you" lines, as on their dashboard."""
    entries = []
    for line in waiting:
        detail = ""
        if line.due_on is not None:
            detail = f"{'since' if line.due_on < today else 'by'} {_day(line.due_on)}"
        entries.append(Entry(line.text, detail, absolute(line.url), line.count))
    return entries


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


def render_message(school, recipient: Recipient, lines, today: date, now: datetime, waiting=()) -> dict:
    """The outbox row of one digest: plain text and HTML from the same lines, each with its link; `waiting`
    (tracker/waiting.py) comes first."""
    env = current_app.jinja_env
    sections = []
    patterns = {}
    for key, title in SECTIONS:
        chosen = [ln for ln in lines if ln.section == key]
        if chosen:
            sections.append((title, section_entries(school, recipient, key, chosen, patterns)))
    weekly = recipient.frequency == WEEKLY
    settings_url = url_for("reminders.settings", school=school.slug, _external=True)
    context = {
        "school": school,
        "recipient": recipient,
        "waiting": waiting_entries(waiting, today),
        "sections": sections,
        "today": today,
        "count": len(lines),
        "weekly": weekly,
        "settings_url": settings_url,
        "dashboard_url": url_for("tracking.home", school=school.slug, _external=True),
    }
    if lines:
        subject = f"{school.name}: {_plural(len(lines), 'safeguarding reminder', 'safeguarding reminders')}"
    else:
        subject = f"{school.name}: {_plural(len(waiting), 'thing', 'things')} waiting for you"
    subject += f" for {_day(today)}"
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
