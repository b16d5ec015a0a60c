"""Framework services: load a checked framework file as a version; compare versions. Callers commit."""

from dataclasses import dataclass, field

from .. import audit
from ..db import db
from ..library.models import Resource
from ..library.services import LoadReport
from ..signals import resource_page
from .models import REPEAT_LABELS, Framework, FrameworkSection, Requirement, RequirementResource
from .seedfile import FrameworkSpec


def _requirement_values(spec, section, position, resources):
    return dict(
        section=section,
        position=position,
        title=spec.title,
        guidance=spec.guidance,
        answer_type=spec.answer_type,
        owner_role=spec.owner_role,
        timing=spec.timing,
        repeat=spec.repeat,
        evidence=spec.evidence,
        audience=spec.audience,
        grades=spec.grades,
        per_country=spec.per_country,
        same_as=spec.same_as,
        resources=resources,
    )


def load_framework(spec: FrameworkSpec) -> LoadReport:
    """Add the framework version, or bring an existing version in line with its file. Idempotent.

    A new version is added beside the old ones; schools move to it through the upgrade path, which
    keeps their work for requirement keys that still exist.
    """
    report = LoadReport(f"framework {spec.key} {spec.version}")
    framework = db.session.execute(
        db.select(Framework).where(Framework.key == spec.key, Framework.version == spec.version)
    ).scalar_one_or_none()
    if framework is not None and framework.checksum == spec.checksum:
        report.unchanged.append(spec.key)
        return report
    wanted = {k for r in spec.requirements for k in r.resources}
    resources = {
        r.key: r
        for r in db.session.execute(
            db.select(Resource).where(Resource.key.in_(wanted), Resource.school_id.is_(None))
        ).scalars()
    }
    is_new = framework is None
    if is_new:
        framework = Framework(key=spec.key, version=spec.version)
        db.session.add(framework)
    framework.title, framework.scope, framework.label = spec.title, spec.scope, spec.label
    framework.description, framework.source_resource_keys = spec.description, spec.source_resources
    framework.checksum = spec.checksum
    framework.source = spec.source or {}
    sections = {s.key: s for s in framework.sections}
    requirements = {r.key: r for s in framework.sections for r in s.requirements}
    position = 0
    for s_pos, s_spec in enumerate(spec.sections):
        section = sections.pop(s_spec.key, None) or FrameworkSection(key=s_spec.key, framework=framework)
        section.title, section.position = s_spec.title, s_pos
        for r_spec in s_spec.requirements:
            position += 1
            values = _requirement_values(r_spec, section, position, [resources[k] for k in r_spec.resources])
            requirement = requirements.pop(r_spec.key, None)
            if requirement is None:
                requirement = Requirement(key=r_spec.key, framework=framework, **values)
                db.session.add(requirement)
            else:
                for name, value in values.items():
                    setattr(requirement, name, value)
    for leftover in requirements.values():
        db.session.delete(leftover)
    for leftover in sections.values():
        db.session.delete(leftover)
    db.session.flush()
    (report.added if is_new else report.changed).append(spec.key)
    audit.record(
        "framework.loaded",
        subject=framework,
        after={
            "key": spec.key,
            "version": spec.version,
            "requirements": len(spec.requirements),
            "new_version": is_new,
        },
    )
    return report


@dataclass
class Moved:
    """A requirement whose duty now lives in another framework (the new version's `same_as`)."""

    key: str
    title: str
    framework_key: str
    framework_title: str
    requirement_key: str

    @property
    def text(self):
        return f"{self.title}: moved to {self.framework_title}"


@dataclass
class VersionChange:
    kept: list[str]
    added: list[str]
    removed: list[str]
    #: kept keys whose duty moved to another framework (they make no items of their own any more)
    moved: list[Moved] = field(default_factory=list)
    #: (old title, new title) of sections whose key stayed
    renamed_sections: list[tuple[str, str]] = field(default_factory=list)
    #: (requirement title, old repeat, new repeat) of kept requirements
    repeat_changed: list[tuple[str, str, str]] = field(default_factory=list)
    #: (old title, new title) of kept requirements
    renamed: list[tuple[str, str]] = field(default_factory=list)


def compare_versions(old: Framework, new: Framework) -> VersionChange:
    """Which requirement keys an upgrade from `old` to `new` keeps, adds and removes, and what moved: duties
    that now live in another framework, renamed sections, changed repeats and titles."""
    old_reqs = {r.key: r for r in old.requirements}
    new_reqs = {r.key: r for r in new.requirements}
    change = VersionChange(
        kept=[k for k in new_reqs if k in old_reqs],
        added=[k for k in new_reqs if k not in old_reqs],
        removed=[k for k in old_reqs if k not in new_reqs],
    )
    targets = {}
    for req in new.requirements:
        if req.same_as:
            targets[req.key] = req.same_as_parts
    titles = referenced_framework_titles({fk for fk, _ in targets.values()})
    for key, (fw_key, req_key) in targets.items():
        before = old_reqs.get(key)
        if before is not None and before.same_as == new_reqs[key].same_as:
            continue  # it was a reference already
        change.moved.append(Moved(key, new_reqs[key].title, fw_key, titles.get(fw_key, fw_key), req_key))
    old_sections = {s.key: s.title for s in old.sections}
    change.renamed_sections = [
        (old_sections[s.key], s.title)
        for s in new.sections
        if s.key in old_sections and old_sections[s.key] != s.title
    ]
    for key in change.kept:
        before, after = old_reqs[key], new_reqs[key]
        if after.same_as:
            continue
        if before.repeat != after.repeat:
            labels = REPEAT_LABELS[before.repeat], REPEAT_LABELS[after.repeat]
            change.repeat_changed.append((after.title, *labels))
        if before.title != after.title:
            change.renamed.append((before.title, after.title))
    return change


def referenced_framework_titles(keys) -> dict:
    """{framework key: title} of the newest version of each framework key."""
    if not keys:
        return {}
    rows = db.session.execute(
        db.select(Framework.key, Framework.title)
        .where(Framework.key.in_(sorted(keys)))
        .order_by(Framework.loaded_at)
    ).all()
    return {k: t for k, t in rows}


def latest_versions() -> list[Framework]:
    """The newest loaded version of every framework, by title."""
    rows = db.session.execute(
        db.select(Framework).order_by(Framework.key, Framework.loaded_at.desc())
    ).scalars()
    latest = {}
    for f in rows:
        latest.setdefault(f.key, f)
    return sorted(latest.values(), key=lambda f: f.title)


def used_by(resource) -> list:
    """(framework, section, requirement) rows that link to this resource, newest framework versions only."""
    latest_ids = [f.id for f in latest_versions()]
    rows = db.session.execute(
        db.select(Framework, FrameworkSection, Requirement)
        .join(Requirement, Requirement.framework_id == Framework.id)
        .join(FrameworkSection, FrameworkSection.id == Requirement.section_id)
        .join(RequirementResource, RequirementResource.requirement_id == Requirement.id)
        .where(RequirementResource.resource_id == resource.id, Framework.id.in_(latest_ids))
        .order_by(Framework.title, Requirement.position)
    ).all()
    return rows


@resource_page.connect
def resource_used_by(resource) -> dict:
    """The library's resource page lists the framework requirements that point to the resource."""
    return {"used_by": used_by(resource)}
