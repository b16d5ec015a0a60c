"""Framework templates as data: framework -> sections -> requirements, versioned."""

import uuid
from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import UTCDateTime, UUIDPk, db, utcnow

SCHOOL_YEAR, PERSON = "school_year", "person"
ANSWER_TYPES = ("task", "training", "answer", "check")
REPEATS = ("once", "yearly", "termly", "every_two_years", "at_induction")
OWNER_ROLES = ("lead", "head", "hr", "staff")
AUDIENCES = (
    "all_staff",
    "new_staff",
    "response_team",
    "leadership",
    "board",
    "support_staff",
    "volunteers",
    "contractors",
    "parents",
    "students",
)
MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
REPEAT_LABELS = {
    "once": "Once",
    "yearly": "Every year",
    "termly": "Every term",
    "every_two_years": "Every two years",
    "at_induction": "At induction",
}
AUDIENCE_LABELS = {
    "all_staff": "All staff",
    "new_staff": "New staff",
    "response_team": "Response team",
    "leadership": "Leadership",
    "board": "Board",
    "support_staff": "Support staff",
    "volunteers": "Volunteers",
    "contractors": "Contractors",
    "parents": "Parents",
    "students": "Students",
}


class Framework(UUIDPk, db.Model):
    """One version of a framework template (action plan, training plan, policy form, recruitment
    checklist)."""

    __tablename__ = "frameworks"

    key: Mapped[str] = mapped_column(String(80))
    version: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(200))
    #: school_year: items per school and year; person: items per person
    scope: Mapped[str] = mapped_column(String(20))
    #: e.g. "Starter template based on published guidance; ..."
    label: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    source_resource_keys: Mapped[list] = mapped_column(JSON, default=list)
    #: the dated source edition the file models: {"title", "publisher", "edition", "note"} (may be empty)
    source: Mapped[dict | None] = mapped_column(JSON, nullable=True, default=dict)
    #: SHA-256 of the file content last loaded for this version
    checksum: Mapped[str] = mapped_column(String(64))
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    sections = relationship(
        "FrameworkSection",
        cascade="all, delete-orphan",
        order_by="FrameworkSection.position",
        back_populates="framework",
    )
    requirements = relationship("Requirement", viewonly=True, order_by="Requirement.position")

    __table_args__ = (UniqueConstraint("key", "version"),)

    @property
    def requirement_count(self):
        return sum(len(s.requirements) for s in self.sections)

    @property
    def source_edition(self) -> str:
        """The source edition as words: "February 2024", "2025-08-14" as "14 August 2025", or "undated"."""
        edition = (self.source or {}).get("edition", "")
        parts = edition.split("-")
        if len(parts) >= 2 and all(p.isdigit() for p in parts):
            month = MONTHS[int(parts[1]) - 1] if 1 <= int(parts[1]) <= 12 else parts[1]
            return f"{int(parts[2])} {month} {parts[0]}" if len(parts) == 3 else f"{month} {parts[0]}"
        return "no date given by the publisher" if edition == "undated" else edition


class FrameworkSection(UUIDPk, db.Model):
    __tablename__ = "framework_sections"

    framework_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("frameworks.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(80))
    title: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer)

    framework = relationship("Framework", back_populates="sections")
    requirements = relationship(
        "Requirement", cascade="all, delete-orphan", order_by="Requirement.position", back_populates="section"
    )

    __table_args__ = (UniqueConstraint("framework_id", "key"),)


class Requirement(UUIDPk, db.Model):
    """One task, training activity, policy question or recruitment check of a framework version."""

    __tablename__ = "requirements"

    framework_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("frameworks.id", ondelete="CASCADE"))
    section_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("framework_sections.id", ondelete="CASCADE"), index=True
    )
    #: stable across versions: school answers follow the key when a framework is upgraded
    key: Mapped[str] = mapped_column(String(80))
    #: order within the framework, from 1 ("step 4")
    position: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300))
    guidance: Mapped[str] = mapped_column(Text, default="")
    answer_type: Mapped[str] = mapped_column(String(20))
    owner_role: Mapped[str] = mapped_column(String(20))
    #: {"month": 0-11, "day": 1-28} for school-year frameworks, {"days_from_start": n} for person ones
    timing: Mapped[dict] = mapped_column(JSON)
    repeat: Mapped[str] = mapped_column(String(20))
    evidence: Mapped[str] = mapped_column(Text, default="")
    audience: Mapped[list] = mapped_column(JSON, default=list)
    grades: Mapped[str] = mapped_column(String(40), default="")
    #: a police check repeated for every country the person lived or worked in
    per_country: Mapped[bool] = mapped_column(Boolean, default=False)
    #: "<framework key>/<requirement key>": the duty lives in that other framework; this requirement makes
    #: no items of its own, and the referenced items count in this framework too (tracking/shared.py)
    same_as: Mapped[str] = mapped_column(String(170), default="", server_default="")

    section = relationship("FrameworkSection", back_populates="requirements")
    framework = relationship("Framework")
    resources = relationship("Resource", secondary="requirement_resources", order_by="Resource.title")

    __table_args__ = (UniqueConstraint("framework_id", "key"),)

    @property
    def same_as_parts(self) -> tuple[str, str] | None:
        """(framework key, requirement key) of the requirement this one references, or None."""
        if not self.same_as:
            return None
        framework_key, _, requirement_key = self.same_as.partition("/")
        return framework_key, requirement_key

    @property
    def timing_text(self):
        t = self.timing or {}
        if "days_from_start" in t:
            d = t["days_from_start"]
            if d == 0:
                return "On the start date"
            return f"{abs(d)} days {'before' if d < 0 else 'after'} the start date"
        return f"Month {t.get('month', 0) + 1} of the school year, day {t.get('day', 1)}"


class RequirementResource(db.Model):
    __tablename__ = "requirement_resources"

    requirement_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("requirements.id", ondelete="CASCADE"), primary_key=True
    )
    resource_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("resources.id", ondelete="CASCADE"), primary_key=True, index=True
    )
