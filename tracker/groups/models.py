"""A group's own items (group templates) and the item each one became in each school's current year."""

import uuid
from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from ..db import UTCDateTime, UUIDPk, db, utcnow


class GroupItem(UUIDPk, db.Model):
    """An item the group lead published into every school of the group (e.g. "report termly to the board")."""

    __tablename__ = "group_items"

    group_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("school_groups.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(300))
    section_title: Mapped[str] = mapped_column(String(200))
    due_on: Mapped[date] = mapped_column(Date)
    owner_role: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def audit_view(self) -> dict:
        return {
            "title": self.title,
            "section": self.section_title,
            "due_on": self.due_on.isoformat(),
            "owner_role": self.owner_role,
        }


class GroupItemCopy(UUIDPk, db.Model):
    """The item a group item became in one school (deleted with the item)."""

    __tablename__ = "group_item_copies"

    group_item_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("group_items.id", ondelete="CASCADE"), index=True
    )
    school_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("schools.id", ondelete="CASCADE"), index=True
    )
    item_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("items.id", ondelete="CASCADE"), index=True)

    __table_args__ = (UniqueConstraint("group_item_id", "school_id"),)
