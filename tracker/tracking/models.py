"""The item engine: school years and the tracked items generated from framework requirements."""

import uuid
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import SchoolScoped, UTCDateTime, db, utcnow


class ItemStatus(StrEnum):
    """Where an item stands. The values are what the database and the URLs (`?status=done`) hold."""

    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    NOT_APPLICABLE = "not_applicable"


class ItemKind(StrEnum):
    """What an item is: a requirement's answer type (task, training, answer, check) or the school's own."""

    TASK = "task"
    TRAINING = "training"
    ANSWER = "answer"
    CHECK = "check"
    OWN = "own"


NOT_STARTED, IN_PROGRESS, DONE, NOT_APPLICABLE = ItemStatus
STATUSES = tuple(ItemStatus)
STATUS_LABELS = {
    NOT_STARTED: "Not started",
    IN_PROGRESS: "In progress",
    DONE: "Done",
    NOT_APPLICABLE: "Not applicable",
}
OPEN_STATUSES = (NOT_STARTED, IN_PROGRESS)
ANSWER_STATUSES = ("in_place", "partly", "not_yet", "not_applicable")
ANSWER_STATUS_LABELS = {
    "in_place": "In place",
    "partly": "Partly in place",
    "not_yet": "Not yet in place",
    "not_applicable": "Not applicable",
}
OWN_KIND = ItemKind.OWN


class SchoolYear(SchoolScoped, db.Model):
    """One academic year of a school, e.g. 2026-27, with the framework versions it tracks."""

    __tablename__ = "school_years"

    #: e.g. "2026–27"
    label: Mapped[str] = mapped_column(String(20))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    previous_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("school_years.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    signed_off_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    signed_off_by_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    #: "open", "signing" (the head confirmed; the frozen report is being made, the items are locked) or
    #: "signed" (signed_off_at/by are set); see tracker/tracking/sign_off.py (OPEN, SIGNING, SIGNED)
    sign_off_state: Mapped[str] = mapped_column(String(20), default="open", server_default="open")
    #: the head's comment at sign-off, printed in the frozen report's sign-off section
    sign_off_comment: Mapped[str] = mapped_column(Text, default="", server_default="")
    #: when the head confirmed the sign-off (signed_off_at is set to it once the report is stored)
    sign_off_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    #: the report job (reports.id, no foreign key: reports already point at years) freezing the report
    sign_off_job_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    #: why the last sign-off failed (its report could not be made); cleared when the head tries again
    sign_off_error: Mapped[str] = mapped_column(Text, default="", server_default="")

    frameworks = relationship("Framework", secondary="school_year_frameworks", order_by="Framework.title")
    signed_off_by = relationship("User")

    __table_args__ = (UniqueConstraint("school_id", "starts_on"),)

    def audit_view(self):
        return {
            "label": self.label,
            "starts_on": self.starts_on.isoformat(),
            "ends_on": self.ends_on.isoformat(),
        }


class SchoolYearFramework(db.Model):
    """Which version of each framework a school year tracks."""

    __tablename__ = "school_year_frameworks"

    year_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("school_years.id", ondelete="CASCADE"), primary_key=True
    )
    framework_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("frameworks.id", ondelete="RESTRICT"), primary_key=True, index=True
    )


class Item(SchoolScoped, db.Model):
    """A tracked piece of work: a task, a training activity, a policy answer, a check, or the school's own.

    Reminders, evidence, dashboards and reports all read items, so status, dates and owner live here only.
    """

    __tablename__ = "items"

    year_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("school_years.id", ondelete="CASCADE"), nullable=True
    )
    framework_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("frameworks.id", ondelete="RESTRICT"), nullable=True, index=True
    )
    requirement_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("requirements.id", ondelete="SET NULL"), nullable=True, index=True
    )
    #: the requirement's stable key; work follows it when the framework is upgraded
    requirement_key: Mapped[str | None] = mapped_column(String(80), nullable=True)
    #: an ItemKind: task, training, answer, check, or own (the school's own item)
    kind: Mapped[str] = mapped_column(String(20))
    section_title: Mapped[str] = mapped_column(String(200), default="")
    title: Mapped[str] = mapped_column(String(300))
    #: 1..3 for items that repeat each term
    occurrence: Mapped[int] = mapped_column(Integer, default=1)
    #: an ItemStatus; changed only through tracking.state.set_status
    status: Mapped[str] = mapped_column(String(20), default=NOT_STARTED)
    na_reason: Mapped[str] = mapped_column(Text, default="")
    owner_role: Mapped[str] = mapped_column(String(20), default="lead")
    owner_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    due_on: Mapped[date] = mapped_column(Date)
    #: the framework's date when the due date was moved to catch up (first-year setup: the item was due
    #: before the school started using the tracker); None while the item keeps its planned date
    planned_due_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    completed_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    #: working notes; never case details about named children
    notes: Mapped[str] = mapped_column(Text, default="")
    #: policy-form answers
    answer: Mapped[str] = mapped_column(Text, default="")
    answer_status: Mapped[str | None] = mapped_column(String(20), nullable=True)
    review_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    #: carried forward from last year and not yet reviewed
    to_review: Mapped[bool] = mapped_column(Boolean, default=False)
    carried_from_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("items.id", ondelete="SET NULL"), nullable=True
    )
    #: per-person items (recruitment checks): the person they are about
    person_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("people.id", ondelete="CASCADE"), nullable=True, index=True
    )
    #: for a police check repeated per country: which country
    country: Mapped[str] = mapped_column(String(100), default="", server_default="")
    #: recruitment checks: not_started, requested, received, verified, not_required
    check_status: Mapped[str | None] = mapped_column(String(20), nullable=True)
    verified_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    verified_by_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    #: when a check (e.g. a police certificate) stops being valid
    expires_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    #: optimistic lock: a save based on an older version is refused
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    owner = relationship("User", lazy="joined", foreign_keys=[owner_id])
    verified_by = relationship("User", foreign_keys=[verified_by_id])
    person = relationship("Person")
    framework = relationship("Framework", lazy="joined")
    requirement = relationship("Requirement")
    year = relationship("SchoolYear")
    carried_from = relationship("Item", remote_side="Item.id")

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        Index("ix_items_school_id_year_id_status", "school_id", "year_id", "status"),
        Index("ix_items_school_id_due_on", "school_id", "due_on"),
        # The dashboard's lists and timeline read one year in due order; without this the planner walks every
        # item of the school (13,000 recruitment checks in a 500-staff school) through the index above.
        Index("ix_items_school_id_year_id_due_on", "school_id", "year_id", "due_on"),
        # A member's own open items due soon ("Waiting for you"): owner and due date both in the index, so the
        # planner does not pick the due-date index and walk every item of the school due before the date.
        Index("ix_items_school_id_owner_id_due_on", "school_id", "owner_id", "due_on"),
        # A register page's checks (about 1,300 for 50 people): with school_id alone leading, SQLite without
        # statistics walks all of the school's items instead.
        Index("ix_items_school_id_person_id", "school_id", "person_id"),
        # The open recruitment checks of a school ("Waiting for you": checks due before a start date), about
        # 1,800 of 12,000 items in a 500-staff school, with the person and due date the query compares.
        Index(
            "ix_items_school_id_kind_status_person_id_due_on",
            "school_id",
            "kind",
            "status",
            "person_id",
            "due_on",
        ),
    )

    @property
    def is_open(self):
        return self.status in OPEN_STATUSES

    def is_overdue(self, today):
        return self.is_open and self.due_on < today

    @property
    def status_label(self):
        return STATUS_LABELS[self.status]

    def audit_view(self):
        return {
            "title": self.title,
            "status": self.status,
            "na_reason": self.na_reason,
            "owner": self.owner.email if self.owner else None,
            "owner_role": self.owner_role,
            "due_on": self.due_on.isoformat() if self.due_on else None,
            "planned_due_on": self.planned_due_on.isoformat() if self.planned_due_on else None,
            "completed_on": self.completed_on.isoformat() if self.completed_on else None,
            "notes": self.notes,
            "answer": self.answer,
            "answer_status": self.answer_status,
            "review_on": self.review_on.isoformat() if self.review_on else None,
            "check_status": self.check_status,
            "verified_on": self.verified_on.isoformat() if self.verified_on else None,
            "expires_on": self.expires_on.isoformat() if self.expires_on else None,
        }


class AnswerVersion(SchoolScoped, db.Model):
    """An earlier (or the current) text of a policy-form answer: who wrote it and when."""

    __tablename__ = "answer_versions"

    item_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("items.id", ondelete="CASCADE"), index=True)
    answer: Mapped[str] = mapped_column(Text, default="")
    answer_status: Mapped[str | None] = mapped_column(String(20), nullable=True)
    review_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    author_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    author = relationship("User", lazy="joined")


class Comment(SchoolScoped, db.Model):
    __tablename__ = "comments"

    item_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("items.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    author = relationship("User", lazy="joined")
