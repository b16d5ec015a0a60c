"""Read-side queries for library pages: a fixed number of queries whatever the library's size."""

from dataclasses import dataclass

from ..db import db
from . import search
from .models import (
    COUNTRY,
    ITEM,
    LANGUAGE,
    TOPIC,
    LibraryCountryItem,
    LibrarySection,
    Resource,
    ResourceSection,
    ResourceTag,
)
from .vocabulary import country_key, language_name


@dataclass
class Facet:
    kind: str
    value: str
    count: int

    @property
    def param(self):
        return f"{self.kind}:{self.value}"

    @property
    def label(self):
        return language_name(self.value) if self.kind == LANGUAGE else self.value


def own_resource_ids(school) -> list:
    """Ids of the school's own resources, by title."""
    return (
        db.session.execute(
            db.select(Resource.id).where(Resource.school_id == school.id).order_by(Resource.title)
        )
        .scalars()
        .all()
    )


def sections():
    return db.session.execute(db.select(LibrarySection).order_by(LibrarySection.position)).scalars().all()


def section_counts(school) -> dict:
    rows = db.session.execute(
        db.select(ResourceSection.section_key, db.func.count())
        .join(Resource, Resource.id == ResourceSection.resource_id)
        .where(search.visible_to(school))
        .group_by(ResourceSection.section_key)
    ).all()
    return dict(rows)


def resource_by_key(school, key) -> Resource | None:
    return db.session.execute(
        db.select(Resource).where(Resource.key == key, search.visible_to(school))
    ).scalar_one_or_none()


def start_here(keys) -> dict:
    rows = db.session.execute(db.select(Resource).where(Resource.key.in_(keys), Resource.school_id.is_(None)))
    return {r.key: r for r in rows.scalars()}


def find(school, *, q="", section=None, tags=()) -> list:
    """Ids of visible resources matching the search words, section and every tag, best first."""
    query = db.select(Resource.id).where(search.visible_to(school))
    if section:
        query = query.where(
            Resource.id.in_(
                db.select(ResourceSection.resource_id).where(ResourceSection.section_key == section)
            )
        )
    for kind, value in tags:
        query = query.where(
            Resource.id.in_(
                db.select(ResourceTag.resource_id).where(ResourceTag.kind == kind, ResourceTag.value == value)
            )
        )
    if q:
        ranked = search.ranked_ids(school, q)
        allowed = set(db.session.execute(query.where(Resource.id.in_(ranked))).scalars()) if ranked else set()
        return [i for i in ranked if i in allowed]
    return list(db.session.execute(query.order_by(Resource.school_id.is_(None), Resource.title)).scalars())


def load(ids) -> list:
    """Resources for `ids`, in that order, with tags and sections loaded in bulk."""
    if not ids:
        return []
    rows = {r.id: r for r in db.session.execute(db.select(Resource).where(Resource.id.in_(ids))).scalars()}
    return [rows[i] for i in ids if i in rows]


def facets(ids) -> dict:
    """Counts of each topic, country and language among `ids`."""
    out = {TOPIC: [], COUNTRY: [], LANGUAGE: []}
    if not ids:
        return out
    rows = db.session.execute(
        db.select(ResourceTag.kind, ResourceTag.value, db.func.count())
        .where(ResourceTag.resource_id.in_(ids))
        .group_by(ResourceTag.kind, ResourceTag.value)
    ).all()
    for kind, value, count in rows:
        if kind in out:
            out[kind].append(Facet(kind, value, count))
    for kind in out:
        out[kind].sort(key=lambda f: (-f.count, f.value))
    return out


def successors(resources) -> dict:
    """key -> (key, title, published) of the shared resource that supersedes it, for the superseded ones among
    `resources`. Always one query, however many are superseded (so a page's query count stays fixed)."""
    keys = {r.superseded_by_key for r in resources if r is not None and r.superseded_by_key}
    rows = db.session.execute(
        db.select(Resource.key, Resource.title, Resource.published).where(
            Resource.key.in_(sorted(keys)), Resource.school_id.is_(None)
        )
    ).all()
    by_key = {r.key: r for r in rows}
    return {r.key: by_key[r.superseded_by_key] for r in resources if r and r.superseded_by_key in by_key}


def country_resource_ids(school) -> list:
    """Shared resources tagged with the school's country (written any common way), current ones first."""
    wanted = country_key(school.country or "")
    if not wanted:
        return []
    rows = db.session.execute(
        db.select(ResourceTag.resource_id, ResourceTag.value, Resource.title, Resource.superseded_by_key)
        .join(Resource, Resource.id == ResourceTag.resource_id)
        .where(ResourceTag.kind == COUNTRY, Resource.school_id.is_(None))
    ).all()
    hits = {
        r.resource_id: (r.superseded_by_key is not None, r.title)
        for r in rows
        if country_key(r.value) == wanted
    }
    return sorted(hits, key=lambda i: hits[i])


def country_item_keys() -> set:
    return set(db.session.execute(db.select(LibraryCountryItem.requirement)).scalars())


def related_to(requirement_key: str) -> list:
    """Shared resources tagged as related to a requirement ("framework-key/requirement-key"), by title."""
    return list(
        db.session.execute(
            db.select(Resource)
            .join(ResourceTag, ResourceTag.resource_id == Resource.id)
            .where(ResourceTag.kind == ITEM, ResourceTag.value == requirement_key)
            .where(Resource.school_id.is_(None))
            .order_by(Resource.title)
        ).scalars()
    )


def also_searched(q) -> list:
    """The synonyms the search for `q` was widened with."""
    return search.also_searched(q)
