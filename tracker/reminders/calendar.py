"""Private calendar feeds: one secret link per member and school, listing the due dates of their open items.

The token is derived from the app's secret key and a random salt stored with the feed, so the settings page
can show the link again; the database keeps only the salt and the token's SHA-256, so a copy of the database
alone does not give anyone a working link. Revoking deletes the feed; a new link gets a new salt.
"""

import base64
import hashlib
import hmac
import secrets
from datetime import timedelta

from flask import current_app
from icalendar import Calendar, Event
from sqlalchemy import or_, select

from .. import audit
from ..access import policy_allows
from ..dates import add_days
from ..db import db, new_id, utcnow
from ..links import external_url
from ..tenancy import ACCREDITOR, Membership, School
from ..tracking.models import OPEN_STATUSES, STATUS_LABELS, Item
from ..tracking.visibility import sees_unassigned
from .models import CalendarFeed

#: items due this long ago or earlier drop off the feed (they are on the overdue list in the app)
PAST_DAYS = 90


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def derive_token(feed: CalendarFeed) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    mac = hmac.new(key, f"calendar-feed:{feed.id}:{feed.salt}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def feed_for(school, user) -> CalendarFeed | None:
    return db.session.execute(
        select(CalendarFeed).where(CalendarFeed.school_id == school.id, CalendarFeed.user_id == user.id)
    ).scalar_one_or_none()


def feed_url(feed: CalendarFeed) -> str | None:
    """The feed's link, or None when the secret key changed since it was made (a new link is needed)."""
    token = derive_token(feed)
    if not hmac.compare_digest(token_hash(token), feed.token_hash):
        return None
    return external_url("calendar.feed", token=token)


def new_feed(school, user) -> CalendarFeed:
    """Make the member's feed link, replacing (and so revoking) any earlier one. Flushes only."""
    feed = feed_for(school, user)
    replaced = feed is not None
    if feed is None:
        feed = CalendarFeed(id=new_id(), school_id=school.id, user_id=user.id)
    feed.salt = secrets.token_hex(16)
    feed.token_hash = token_hash(derive_token(feed))
    feed.created_at = utcnow()
    db.session.add(feed)
    db.session.flush()
    audit.record(
        "reminders.calendar_link_replaced" if replaced else "reminders.calendar_link_created",
        school=school,
        subject=feed,
        after={"user": user.email},
    )
    return feed


def revoke_feed(school, user) -> bool:
    feed = feed_for(school, user)
    if feed is None:
        return False
    audit.record("reminders.calendar_link_revoked", school=school, subject=feed, before={"user": user.email})
    db.session.delete(feed)
    db.session.flush()
    return True


def find_feed(token: str):
    """(feed, school, membership) for a live token; None for an unknown token or a member who has left."""
    if not token or len(token) > 100:
        return None
    feed = db.session.execute(
        select(CalendarFeed).where(CalendarFeed.token_hash == token_hash(token))
    ).scalar_one_or_none()
    if feed is None:
        return None
    school = db.session.get(School, feed.school_id)
    membership = db.session.execute(
        select(Membership).where(Membership.school_id == feed.school_id, Membership.user_id == feed.user_id)
    ).scalar_one_or_none()
    if (
        membership is None
        or not membership.is_current()
        or membership.role == ACCREDITOR
        or not membership.user.is_active
    ):
        return None
    return feed, school, membership


def feed_items(school, membership):
    """The member's open items in that school: assigned to them, or unassigned and held by their role when
    that role may open them (an unassigned staff item waits for the lead to give it an owner)."""
    today = school.today()
    theirs = [Item.owner_id == membership.user_id]
    if sees_unassigned(membership.role):
        theirs.append((Item.owner_id.is_(None)) & (Item.owner_role == membership.role))
    return (
        db.session.execute(
            select(Item)
            .where(
                Item.school_id == school.id,
                Item.status.in_(OPEN_STATUSES),
                Item.due_on >= today - timedelta(PAST_DAYS),
                or_(*theirs),
            )
            .order_by(Item.due_on, Item.title)
        )
        .scalars()
        .unique()
        .all()
    )


def render_ics(school, membership, items) -> bytes:
    cal = Calendar()
    cal.add("prodid", "-//Safeguarding Tracker//Reminders//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", f"{school.name}: safeguarding")
    cal.add("x-wr-timezone", school.timezone)
    cal.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", "PT1H")
    stamp = utcnow()
    # a check is worked on the person's page; a member whose role may not open it gets the check's item page
    reads_register = policy_allows(current_app, "people.person", "GET", membership.user, membership)
    for item in items:
        link = (
            external_url("people.person", school=school.slug, person_id=item.person_id)
            if item.person_id and reads_register
            else external_url("tracking.item", school=school.slug, item_id=item.id)
        )
        event = Event()
        event.add("uid", f"{item.id}@safeguarding-tracker")
        event.add("dtstamp", stamp)
        event.add("dtstart", item.due_on)
        event.add("dtend", add_days(item.due_on, 1))  # a row stored before the date policy may say 9999
        event.add("summary", f"Due: {item.title}")
        event.add(
            "description", f"{item.section_title}\nStatus: {STATUS_LABELS[item.status]}\n{link}".strip()
        )
        event.add("url", link)
        event.add("transp", "TRANSPARENT")
        cal.add_component(event)
    return cal.to_ical()
