"""Library sections, resources (shared or a school's own), their sections and tags."""

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import UTCDateTime, UUIDPk, db, utcnow

TOPIC, COUNTRY, LANGUAGE = "topic", "country", "language"
TAG_KINDS = (TOPIC, COUNTRY, LANGUAGE)
#: a tag naming a framework requirement ("action-plan/publish-reporting-contacts") whose item pages show the
#: resource as related; not a filter of the library
ITEM = "item"


class LibrarySection(db.Model):
    """A portal section (Introduction, Recruitment, ...), with its 'start here' resource."""

    __tablename__ = "library_sections"

    key: Mapped[str] = mapped_column(String(60), primary_key=True)
    title: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(Integer, default=0)
    #: the portal's green route: the resource a newcomer should open first
    start_here_key: Mapped[str | None] = mapped_column(String(80), nullable=True)


class Resource(UUIDPk, db.Model):
    """A piece of guidance. Shared by every school when school_id is empty, else one school's own."""

    __tablename__ = "resources"

    #: stable key used by framework files and URLs
    key: Mapped[str] = mapped_column(String(80), unique=True)
    #: the owning school for a school's own document or link; empty for the shared library
    school_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("schools.id", ondelete="CASCADE"), nullable=True
    )
    title: Mapped[str] = mapped_column(String(300))
    #: publishers, comma-separated as written
    publishers: Mapped[str] = mapped_column(String(300), default="")
    #: publication date as given: YYYY, YYYY-MM or YYYY-MM-DD
    published: Mapped[str] = mapped_column(String(10), default="")
    url: Mapped[str] = mapped_column(String(1000), default="")
    summary: Mapped[str] = mapped_column(Text, default="")
    #: the key of the newer guidance that replaces this resource; empty while it is current
    superseded_by_key: Mapped[str | None] = mapped_column(String(80), nullable=True)
    #: tags, countries and languages as one text, for full-text search
    search_text: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    tags = relationship(
        "ResourceTag",
        cascade="all, delete-orphan",
        lazy="selectin",
        order_by="(ResourceTag.kind, ResourceTag.value)",
    )
    section_links = relationship("ResourceSection", cascade="all, delete-orphan", lazy="selectin")

    __table_args__ = (Index("ix_resources_school_id_title", "school_id", "title"),)

    def tag_values(self, kind):
        return [t.value for t in self.tags if t.kind == kind]

    @property
    def section_keys(self):
        return sorted(link.section_key for link in self.section_links)

    @property
    def is_school_own(self):
        return self.school_id is not None

    def audit_view(self) -> dict:
        return {
            "title": self.title,
            "publishers": self.publishers,
            "published": self.published,
            "url": self.url,
            "summary": self.summary,
            "sections": self.section_keys,
            "tags": self.tag_values(TOPIC),
        }

    @property
    def superseded(self):
        return bool(self.superseded_by_key)


class ResourceSection(db.Model):
    __tablename__ = "resource_sections"

    resource_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("resources.id", ondelete="CASCADE"), primary_key=True
    )
    section_key: Mapped[str] = mapped_column(
        String(60), ForeignKey("library_sections.key", ondelete="CASCADE"), primary_key=True, index=True
    )


class ResourceTag(db.Model):
    """A topic tag, a country or a language of a resource."""

    __tablename__ = "resource_tags"

    resource_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("resources.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(10), primary_key=True)
    value: Mapped[str] = mapped_column(String(100), primary_key=True)

    __table_args__ = (Index("ix_resource_tags_kind_value", "kind", "value"),)


class LibrarySynonym(db.Model):
    """One term of a synonym group (seeds/synonyms.yaml): a search for any term also finds the others."""

    __tablename__ = "library_synonyms"

    #: the term's words, lower case, separated by single spaces ("police check")
    term: Mapped[str] = mapped_column(String(100), primary_key=True)
    group_key: Mapped[str] = mapped_column(String(60), index=True)


class LibraryCountryItem(db.Model):
    """A framework requirement ("framework-key/requirement-key") whose item pages show the school's country
    resources: the items about local law and reporting contacts."""

    __tablename__ = "library_country_items"

    requirement: Mapped[str] = mapped_column(String(150), primary_key=True)
