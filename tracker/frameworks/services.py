"""Framework services: load a checked framework file as a version; compare versions. Callers commit."""

from dataclasses import dataclass

from .. import audit
from ..db import db
from ..library.models import Resource
from ..library.services import LoadReport
from ..signals import resource_page
from .models import Framework, FrameworkSection, Requirement, RequirementResource
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
class VersionChange:
    kept: list[str]
    added: list[str]
    removed: list[str]


def compare_versions(old: Framework, new: Framework) -> VersionChange:
    """Which requirement keys an upgrade from `old` to `new` keeps, adds and removes."""
    old_keys = [r.key for r in old.requirements]
    new_keys = [r.key for r in new.requirements]
    return VersionChange(
        kept=[k for k in new_keys if k in set(old_keys)],
        added=[k for k in new_keys if k not in set(old_keys)],
        removed=[k for k in old_keys if k not in set(new_keys)],
    )


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
