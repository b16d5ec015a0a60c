"""Library services: load the shared library from its seed file; a school's own resources. Callers commit."""

import secrets
from dataclasses import dataclass, field

from .. import audit
from ..db import db
from . import search
from .models import (
    COUNTRY,
    ITEM,
    LANGUAGE,
    TOPIC,
    LibraryCountryItem,
    LibrarySection,
    LibrarySynonym,
    Resource,
    ResourceSection,
    ResourceTag,
)
from .seedfile import LibrarySpec, SynonymGroup
from .vocabulary import language_name


@dataclass
class LoadReport:
    what: str
    added: list = field(default_factory=list)
    changed: list = field(default_factory=list)
    unchanged: list = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"{self.what}: {len(self.added)} added, {len(self.changed)} changed, "
            f"{len(self.unchanged)} left alone"
        )


def _set_tags(resource, topics, countries, languages, items=()):
    wanted = (
        {(TOPIC, v) for v in topics}
        | {(COUNTRY, v) for v in countries}
        | {(LANGUAGE, v) for v in languages}
        | {(ITEM, v) for v in items}
    )
    current = {(t.kind, t.value): t for t in resource.tags}
    for pair, tag in current.items():
        if pair not in wanted:
            resource.tags.remove(tag)
    for kind, value in sorted(wanted - set(current)):
        resource.tags.append(ResourceTag(kind=kind, value=value))
    # language names, not codes: a search for "Chinese" finds the resources in Chinese
    resource.search_text = " ".join([*topics, *countries, *(language_name(v) for v in languages)])


def _set_sections(resource, keys):
    current = {link.section_key: link for link in resource.section_links}
    for key, link in current.items():
        if key not in keys:
            resource.section_links.remove(link)
    for key in keys:
        if key not in current:
            resource.section_links.append(ResourceSection(section_key=key))


def _snapshot(resource):
    return (
        resource.title,
        resource.publishers,
        resource.published,
        resource.url,
        resource.summary,
        resource.superseded_by_key,
        tuple(resource.section_keys),
        tuple(sorted((t.kind, t.value) for t in resource.tags)),
    )


def load_library(spec: LibrarySpec) -> LoadReport:
    """Insert or update the shared sections and resources from a checked seed file. Idempotent."""
    report = LoadReport("library")
    sections = {s.key: s for s in db.session.execute(db.select(LibrarySection)).scalars()}
    for s in spec.sections:
        row = sections.get(s.key) or LibrarySection(key=s.key)
        if s.key not in sections:
            db.session.add(row)
        row.title, row.description, row.position, row.start_here_key = (
            s.title,
            s.description,
            s.position,
            s.start_here,
        )
    db.session.flush()
    existing = {
        r.key: r
        for r in db.session.execute(db.select(Resource).where(Resource.school_id.is_(None))).scalars()
    }
    taken = set(db.session.execute(db.select(Resource.key).where(Resource.school_id.is_not(None))).scalars())
    for r in spec.resources:
        if r.key in taken:
            raise ValueError(f"resource key '{r.key}' is already used by a school's own resource")
        row = existing.get(r.key)
        before = _snapshot(row) if row is not None else None
        if row is None:
            row = Resource(key=r.key)
            db.session.add(row)
        row.title, row.publishers, row.published = r.title, ", ".join(r.publishers), r.published
        row.url, row.summary, row.superseded_by_key = r.url, r.summary, r.superseded_by
        _set_tags(row, r.tags, r.countries, r.languages, r.for_items)
        _set_sections(row, r.sections)
        db.session.flush()
        after = _snapshot(row)
        if before is None:
            report.added.append(r.key)
        elif before != after:
            report.changed.append(r.key)
        else:
            report.unchanged.append(r.key)
            continue
        search.reindex(row)
    _set_country_items(spec.country_items)
    if report.added or report.changed:
        audit.record(
            "library.loaded",
            subject_type="resources",
            after={"added": report.added, "changed": report.changed},
        )
    return report


def _set_country_items(requirements):
    current = {row.requirement: row for row in db.session.execute(db.select(LibraryCountryItem)).scalars()}
    for key, row in current.items():
        if key not in requirements:
            db.session.delete(row)
    for key in requirements:
        if key not in current:
            db.session.add(LibraryCountryItem(requirement=key))
    db.session.flush()


def load_synonyms(groups: list[SynonymGroup]) -> LoadReport:
    """Make the synonym table exactly the seed file's groups. Idempotent."""
    report = LoadReport("synonyms")
    current = {row.term: row for row in db.session.execute(db.select(LibrarySynonym)).scalars()}
    wanted = {term: g.key for g in groups for term in g.terms}
    for term, row in current.items():
        if term not in wanted:
            db.session.delete(row)
            report.changed.append(term)
    for term, group in wanted.items():
        row = current.get(term)
        if row is None:
            db.session.add(LibrarySynonym(term=term, group_key=group))
            report.added.append(term)
        elif row.group_key != group:
            row.group_key = group
            report.changed.append(term)
        else:
            report.unchanged.append(term)
    db.session.flush()
    if report.added or report.changed:
        audit.record(
            "library.synonyms_loaded",
            subject_type="library_synonyms",
            after={"added": report.added, "changed": report.changed},
        )
    return report


def _new_key():
    # Random rather than from the title: a school's document titles stay out of URLs and logs.
    return f"school-doc-{secrets.token_hex(8)}"


def add_school_resource(
    school, *, title, url="", publishers="", published="", summary="", sections=(), tags=(), actor=None
) -> Resource:
    resource = Resource(
        key=_new_key(),
        school_id=school.id,
        title=title,
        url=url,
        publishers=publishers,
        published=published,
        summary=summary,
        created_by_id=actor.id if actor else None,
    )
    db.session.add(resource)
    _set_tags(resource, list(tags), [], [])
    _set_sections(resource, list(sections))
    db.session.flush()
    search.reindex(resource)
    audit.record("library.resource_added", school=school, subject=resource, after=resource.audit_view())
    return resource


def update_school_resource(school, resource, *, title, url, publishers, published, summary, sections, tags):
    before = resource.audit_view()
    resource.title, resource.url, resource.publishers = title, url, publishers
    resource.published, resource.summary = published, summary
    _set_tags(resource, list(tags), [], [])
    _set_sections(resource, list(sections))
    db.session.flush()
    old, new = audit.changes(before, resource.audit_view())
    if new:
        search.reindex(resource)
        audit.record("library.resource_changed", school=school, subject=resource, before=old, after=new)


def delete_school_resource(school, resource):
    audit.record("library.resource_deleted", school=school, subject=resource, before=resource.audit_view())
    search.unindex(resource.id)
    db.session.delete(resource)
    db.session.flush()
