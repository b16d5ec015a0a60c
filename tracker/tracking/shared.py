"""One duty, one item: a requirement with `same_as` ("<framework key>/<requirement key>") makes no items of
its own; the year's items of the referenced requirement count in the referencing framework too.

Why read-time references and not copies: the duty stays one row (one status, one owner, one evidence list),
so it can never be done in one framework and open in the other. Each reader that counts or lists a
framework's items (the dashboard's progress, the framework and accreditation reports) adds the referenced
items under the referencing framework and section, with one query on the requirement reference.
"""

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import and_, bindparam, func, or_

from ..db import db
from ..frameworks.models import Framework, FrameworkSection, Requirement
from .models import Item, SchoolYearFramework
from .visibility import per_role, visible_criteria


@dataclass(frozen=True)
class SharedRef:
    """A requirement of a framework the year tracks that points at a duty kept in another framework."""

    framework_id: object
    framework_title: str
    section_title: str
    title: str
    target_framework: str
    target_requirement: str


def references(year) -> list[SharedRef]:
    """The `same_as` references of the framework versions `year` tracks (one query)."""
    rows = db.session.execute(
        db.select(
            Framework.id, Framework.title, FrameworkSection.title, Requirement.title, Requirement.same_as
        )
        .join(Requirement, Requirement.framework_id == Framework.id)
        .join(FrameworkSection, FrameworkSection.id == Requirement.section_id)
        .join(SchoolYearFramework, SchoolYearFramework.framework_id == Framework.id)
        .where(SchoolYearFramework.year_id == year.id, Requirement.same_as != "")
        .order_by(Requirement.position)
    ).all()
    out = []
    for fw_id, fw_title, section, title, same_as in rows:
        target_fw, _, target_req = same_as.partition("/")
        out.append(SharedRef(fw_id, fw_title, section, title, target_fw, target_req))
    return out


def _by_target(refs):
    by_target = defaultdict(list)
    for ref in refs:
        by_target[(ref.target_framework, ref.target_requirement)].append(ref)
    return by_target


def _target_clause(by_target):
    return or_(*(and_(Framework.key == fk, Item.requirement_key == rk) for fk, rk in by_target))


def shared_counts(school, year, membership, refs=None, frameworks=None) -> list[tuple]:
    """(referencing framework title, referencing section, due date, status, count) rows of the referenced
    items the member sees, in the shape of dashboard.year_counts, to add to the progress bars.

    The year's target frameworks are looked up first and the items' framework checked here, not in SQL:
    joined to the frameworks table, SQLite scanned every framework version and walked each one's items of
    every school (24 ms on a 500-staff school's dashboard, against 6 ms this way; bench/profiling.md); with
    `framework_id IN (...)` in the WHERE, statistics taken while the database held one school (a framework's
    items as few as a school's year's) led it to the framework_id index, which walks the framework's items of
    every school: 0.3 ms with 1 school, 17 ms with 300 (issue 21's tenant scale). Without it, only the
    school's own indexes can serve the query, whatever the statistics say."""
    refs = references(year) if refs is None else refs
    if not refs:
        return []
    by_target = _by_target(refs)
    targets = {fk for fk, _ in by_target}
    if frameworks is not None:  # the year's frameworks, already loaded
        key_of = {f.id: f.key for f in frameworks if f.key in targets}
    else:
        key_of = dict(
            db.session.execute(
                db.select(Framework.id, Framework.key)
                .join(SchoolYearFramework, SchoolYearFramework.framework_id == Framework.id)
                .where(SchoolYearFramework.year_id == year.id, Framework.key.in_(targets))
            ).all()
        )
    if not key_of:
        return []
    params = {
        "school_id": school.id,
        "member_id": getattr(membership, "user_id", None),
        "year_id": year.id,
        "requirement_keys": sorted({rk for _, rk in by_target}),
    }
    rows = db.session.execute(per_role("shared.counts", membership.role, _counts_statement), params).all()
    out = []
    for fw_id, req_key, due_on, status, count in rows:
        if fw_id not in key_of:  # the same requirement key in a framework that is not a target
            continue
        for ref in by_target.get((key_of[fw_id], req_key), ()):
            out.append((ref.framework_title, ref.section_title, due_on, status, count))
    return out


def _counts_statement(school, member):
    """shared_counts' grouped count (built once per role, `visibility.per_role`), the year and requirement
    keys left as bind parameters."""
    return (
        db.select(Item.framework_id, Item.requirement_key, Item.due_on, Item.status, func.count())
        .where(
            *visible_criteria(school, member),
            Item.year_id == bindparam("year_id"),
            Item.requirement_key.in_(bindparam("requirement_keys", expanding=True)),
        )
        .group_by(Item.framework_id, Item.requirement_key, Item.due_on, Item.status)
    )


def shared_items(year, items, frameworks, refs=None) -> dict:
    """{referencing framework id: [(item, referencing section title)]} from `items` (the year's items already
    loaded): the items each framework counts besides its own."""
    refs = references(year) if refs is None else refs
    key_of = {f.id: f.key for f in frameworks}
    by_target = _by_target(refs)
    out = defaultdict(list)
    for item in items:
        for ref in by_target.get((key_of.get(item.framework_id), item.requirement_key), ()):
            if ref.framework_id != item.framework_id:
                out[ref.framework_id].append((item, ref.section_title))
    return out


def target_items(school, year, framework_key, requirement_key) -> list[Item]:
    """The year's items of `framework_key`/`requirement_key` (the item a moved duty now lives in)."""
    return (
        db.session.execute(
            db.select(Item)
            .join(Framework, Framework.id == Item.framework_id)
            .where(
                Item.school_id == school.id,
                Item.year_id == year.id,
                Framework.key == framework_key,
                Item.requirement_key == requirement_key,
            )
            .order_by(Item.occurrence)
        )
        .scalars()
        .all()
    )
