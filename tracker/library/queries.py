"""Read-side queries for library pages: a fixed number of queries whatever the library's size."""

from dataclasses import dataclass

from ..db import db
from . import search
from .models import COUNTRY, LANGUAGE, TOPIC, LibrarySection, Resource, ResourceSection, ResourceTag


@dataclass
class Facet:
    kind: str
    value: str
    count: int

    @property
    def param(self):
        return f"{self.kind}:{self.value}"


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
        out[kind].append(Facet(kind, value, count))
    for kind in out:
        out[kind].sort(key=lambda f: (-f.count, f.value))
    return out
