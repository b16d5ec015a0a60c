"""Reminder objects for the two-school world: a failed outbox message, a member with reminders off and a
calendar link, each carrying the school's marker, so the cross-tenant, role and CSRF suites cover them."""

from datetime import date

from tracker.extensions import db
from tracker.reminders import calendar as feeds
from tracker.reminders.models import FAILED, OutboxMessage
from tracker.reminders.settings import set_frequency

from .world import WORLD_BUILDERS


def build_reminders(world, marker):
    school = world.school
    message = OutboxMessage(
        school_id=school.id,
        idempotency_key=f"digest:{world.target_member.user_id}:2026-09-01",
        kind="digest",
        user_id=world.target_member.user_id,
        to_address=world.target_member.user.email,
        subject=f"Reminders {marker}",
        body_text=f"Text {marker}",
        body_html=f"<p>Html {marker}</p>",
        digest_on=date(2026, 9, 1),
        status=FAILED,
        attempts=1,
        last_error=f"550 no such user {marker}",
    )
    db.session.add(message)
    set_frequency(school, world.target_member.user, "off")
    feeds.new_feed(school, world.members["staff"].user)
    db.session.flush()
    world.objects["message_id"] = message.id


WORLD_BUILDERS.append(build_reminders)
