"""Schools (tenants), memberships and roles; loads g.school from the URL for every school page."""

import uuid
import zoneinfo
from datetime import date, datetime
from functools import cache

from flask import abort, g, has_request_context
from flask_login import current_user
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
    Uuid,
    bindparam,
)
from sqlalchemy.orm import Mapped, contains_eager, lazyload, mapped_column, relationship

from .db import SchoolScoped, UTCDateTime, UUIDPk, db, utcnow
from .group_access import GROUP_VISITOR, group_visit

LEAD, HEAD, HR, STAFF, ACCREDITOR = "lead", "head", "hr", "staff", "accreditor"
ROLES = (LEAD, HEAD, HR, STAFF, ACCREDITOR)
ROLE_LABELS = {
    LEAD: "Safeguarding lead",
    HEAD: "Head of school",
    HR: "HR / recruitment",
    STAFF: "Staff member",
    ACCREDITOR: "Accreditor (read-only)",
}
ALL_MEMBERS = ROLES
MANAGERS = (LEAD, HEAD)
#: roles that must enrol a second factor in a school that requires it (School.require_two_factor)
TWO_FACTOR_ROLES = (LEAD, HEAD, HR, ACCREDITOR)
#: roles that see every item of the school; the others see the items assigned to them (tracking/visibility.py)
SEES_EVERY_ITEM = (LEAD, HEAD, ACCREDITOR, GROUP_VISITOR)


class School(UUIDPk, db.Model):
    __tablename__ = "schools"

    #: short name used in URLs (/s/<slug>/)
    slug: Mapped[str] = mapped_column(String(63), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    #: ISO 3166 country name or code, as the school writes it
    country: Mapped[str] = mapped_column(String(100), default="")
    #: IANA timezone name; due dates and reminders follow it
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    #: first month (1-12) of the academic year
    year_start_month: Mapped[int] = mapped_column(Integer, default=8)
    #: leads, heads, HR and accreditors must sign in with a second factor (TWO_FACTOR_ROLES)
    require_two_factor: Mapped[bool] = mapped_column(Boolean, default=False)
    #: the group (trust or network) the school belongs to, if any (group_access.py)
    group_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("school_groups.id", ondelete="SET NULL"), nullable=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (CheckConstraint("year_start_month BETWEEN 1 AND 12", name="year_start_month_range"),)

    def today(self) -> date:
        """Return today's date in the school's timezone."""
        return utcnow().astimezone(zoneinfo.ZoneInfo(self.timezone)).date()

    def audit_view(self) -> dict:
        return {
            "slug": self.slug,
            "name": self.name,
            "country": self.country,
            "timezone": self.timezone,
            "year_start_month": self.year_start_month,
            "require_two_factor": self.require_two_factor,
        }


class Membership(SchoolScoped, db.Model):
    """A user's role in one school; a user may hold memberships in several schools."""

    __tablename__ = "memberships"

    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    #: last day (in the school's timezone) this membership works; required for accreditors
    access_until: Mapped[date | None] = mapped_column(Date, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    school: Mapped[School] = relationship(lazy="joined")
    user = relationship("User", back_populates="memberships", lazy="joined")

    __table_args__ = (
        UniqueConstraint("school_id", "user_id"),
        CheckConstraint("role IN ('lead','head','hr','staff','accreditor')", name="role_known"),
        CheckConstraint("role != 'accreditor' OR access_until IS NOT NULL", name="accreditor_has_end"),
    )

    def is_current(self) -> bool:
        return self.access_until is None or self.school.today() <= self.access_until

    @property
    def role_label(self) -> str:
        return ROLE_LABELS[self.role]

    @property
    def sees_every_item(self) -> bool:
        """Whether this member sees every item of the school, not only those assigned to them."""
        return self.role in SEES_EVERY_ITEM

    def audit_view(self) -> dict:
        return {
            "user": self.user.email if self.user else str(self.user_id),
            "role": self.role,
            "access_until": self.access_until.isoformat() if self.access_until else None,
        }


@cache
def _memberships_statement():
    """Every membership of a user with its school, built once (building it was half the cost of running it;
    not at import, as its options need every model mapped). Membership.user is not joined in: it is the user
    asked about, whom the session already holds, so `membership.user` finds them there without a query."""
    return (
        db.select(Membership)
        .join(School)
        .options(contains_eager(Membership.school), lazyload(Membership.user))
        .where(Membership.user_id == bindparam("user_id"))
        .order_by(School.name, School.id)
    )


def _all_memberships(user) -> list[Membership]:
    """Every membership of the user with its school, schools by name: one query, kept for the request (the
    school pages look up theirs in it, and the school switcher lists the current ones)."""
    cached = g.get("_memberships") if has_request_context() else None
    if cached is not None and cached[0] == user.id:
        return cached[1]
    rows = db.session.execute(_memberships_statement(), {"user_id": user.id}).scalars().all()
    if has_request_context():
        g._memberships = (user.id, rows)
    return rows


def wants_memberships() -> bool:
    """Whether this request is a school page (load_school has its <school>): it reads every membership of the
    caller, so the session loader reads them along with the session row, one statement for both
    (auth.services.load_session_user), and hands them over with `keep_memberships`."""
    return has_request_context() and g.get("_school_page", False)


def keep_memberships(user_id, rows: list[Membership]) -> None:
    """Keep `rows` (every membership of the user `user_id` with its school, schools by name, read as
    `_memberships_statement` reads them) for this request, for `_all_memberships`."""
    g._memberships = (user_id, rows)


def memberships_for(user) -> list[Membership]:
    """Return the user's current memberships, schools by name."""
    return [m for m in _all_memberships(user) if m.is_current()]


def load_school(endpoint, values):
    """url_value_preprocessor: resolve <school> to g.school and the caller's membership, else 404."""
    slug = values.pop("school", None) if values else None
    g.school = None
    g.membership = None
    if slug is None:
        return
    g._school_page = True  # before the user is loaded: see wants_memberships
    if not current_user.is_authenticated:
        # the access decorator sends anonymous callers to sign in, whether or not the school exists
        return
    # the school is found among the caller's own memberships: a school that does not exist and one they are
    # not a member of are the same 404
    membership = next((m for m in _all_memberships(current_user) if m.school.slug == slug), None)
    if membership is None or not membership.is_current():
        # the second, explicit path: a group role in the school's group reads what views declare
        # group-readable (access.school_roles(group=...)); anyone else gets the same 404
        visit = group_visit(current_user, School, slug)
        if visit is None:
            abort(404)
        g.school = visit.school
        g.membership = visit
        return
    g.school = membership.school
    g.membership = membership


def add_school_url_default(endpoint, values):
    """url_defaults: keep <school> in URLs built while a school page is open."""
    if "school" not in values and getattr(g, "school", None) is not None:
        values["school"] = g.school.slug


def init_school_blueprint(bp):
    """Make a blueprint's routes school pages: membership checked on every request."""
    bp.url_value_preprocessor(load_school)
    bp.url_defaults(add_school_url_default)
    return bp


def require_membership_role(roles):
    """Abort unless the current membership has one of `roles` (403) or exists (404)."""
    membership = getattr(g, "membership", None)
    if membership is None:
        abort(404)
    if membership.role not in roles:
        abort(403)
