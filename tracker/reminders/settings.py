"""Members' reminder settings: how often their digest comes, and who has turned it off."""

from sqlalchemy import select

from .. import audit
from ..auth.models import User
from ..db import db
from ..tenancy import ACCREDITOR, Membership
from .models import DAILY, FREQUENCIES, OFF, ReminderSetting


def frequency_of(school, user) -> str:
    value = db.session.execute(
        select(ReminderSetting.frequency).where(
            ReminderSetting.school_id == school.id, ReminderSetting.user_id == user.id
        )
    ).scalar_one_or_none()
    return value or DAILY


def set_frequency(school, user, frequency: str) -> bool:
    """Change the member's digest frequency; audited. Returns whether anything changed. Flushes only."""
    if frequency not in FREQUENCIES:
        raise ValueError(f"unknown frequency {frequency!r}")
    row = db.session.execute(
        select(ReminderSetting).where(
            ReminderSetting.school_id == school.id, ReminderSetting.user_id == user.id
        )
    ).scalar_one_or_none()
    before = row.frequency if row else DAILY
    if before == frequency:
        return False
    if row is None:
        row = ReminderSetting(school_id=school.id, user_id=user.id)
        db.session.add(row)
    row.frequency = frequency
    db.session.flush()
    audit.record(
        "reminders.frequency_changed",
        school=school,
        subject=row,
        actor=user,
        before={"user": user.email, "frequency": before},
        after={"user": user.email, "frequency": frequency},
    )
    return True


def members_with_reminders_off(school) -> list:
    """Members (not accreditors) who turned their digest off, by name."""
    return db.session.execute(
        select(User, Membership.role)
        .join(Membership, Membership.user_id == User.id)
        .join(
            ReminderSetting, (ReminderSetting.user_id == User.id) & (ReminderSetting.school_id == school.id)
        )
        .where(
            Membership.school_id == school.id, ReminderSetting.frequency == OFF, Membership.role != ACCREDITOR
        )
        .order_by(User.name, User.email)
    ).all()
