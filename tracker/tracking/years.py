"""School years: the current year; start, roll over, sign off, and upgrade a year's frameworks.

Every service takes the school first, only flushes, and records an audit event in the same transaction.
"""

from dataclasses import dataclass, field

from sqlalchemy.exc import IntegrityError

from .. import audit
from ..dates import add_months
from ..db import db
from ..evidence.models import Evidence
from ..frameworks.models import SCHOOL_YEAR, Framework
from ..frameworks.services import compare_versions, latest_versions
from . import schedule
from .errors import TrackingError
from .holders import owner_ids
from .models import DONE, NOT_APPLICABLE, NOT_STARTED, OWN_KIND, Comment, Item, ItemKind, SchoolYear
from .shared import target_items
from .sign_off import sign_off  # noqa: F401  (the sign-off lives in sign_off.py; re-exported by services)
from .state import set_status
from .terms import add_terms, terms_for


def current_year(school, years=None) -> SchoolYear | None:
    """The school's latest year that has started (or the next one, if none has yet). `years`, newest first,
    saves the query when the caller has them already."""
    today = school.today()
    if years is None:
        years = (
            db.session.execute(
                db.select(SchoolYear)
                .where(SchoolYear.school_id == school.id)
                .order_by(SchoolYear.starts_on.desc())
            )
            .scalars()
            .all()
        )
    for year in years:
        if year.starts_on <= today:
            return year
    return years[-1] if years else None


def _items_for(school, year, requirement, *, previous=None, owners=None, terms=None):
    """The items of `requirement` in `year`; `owners` ({role: user id}, the role holders) sets owners;
    `terms` (the year's terms) place the due dates. A `same_as` requirement makes none: its duty is an
    item of the framework it references (shared.py)."""
    if requirement.same_as:
        return []
    owner_id = (owners or {}).get(requirement.owner_role)
    items = []
    for occurrence, due in schedule.occurrences(requirement, year.starts_on, terms):
        items.append(
            Item(
                school_id=school.id,
                year_id=year.id,
                framework_id=requirement.framework_id,
                requirement_id=requirement.id,
                requirement_key=requirement.key,
                kind=ItemKind(requirement.answer_type),
                section_title=requirement.section.title,
                title=requirement.title,
                occurrence=occurrence,
                owner_role=requirement.owner_role,
                owner_id=owner_id,
                due_on=due,
                status=NOT_STARTED,
            )
        )
    return items


def _school_year_frameworks():
    return [f for f in latest_versions() if f.scope == SCHOOL_YEAR]


def _create_year(school, start_year: int, previous=None) -> SchoolYear:
    starts_on = schedule.year_start(start_year, school.year_start_month)
    exists = TrackingError(f"The school year starting {starts_on:%B %Y} already exists.")
    same = db.select(SchoolYear.id).where(
        SchoolYear.school_id == school.id, SchoolYear.starts_on == starts_on
    )
    if db.session.execute(same).first():
        raise exists
    year = SchoolYear(
        school_id=school.id,
        label=schedule.year_label(starts_on),
        starts_on=starts_on,
        ends_on=schedule.year_end(starts_on),
        previous_id=previous.id if previous else None,
    )
    year.frameworks = _school_year_frameworks()
    if not year.frameworks:
        raise TrackingError(
            "No framework templates are loaded yet: ask a platform admin to run `flask seed`."
        )
    try:
        # someone else starting the same year at the same moment (PostgreSQL: both passed the check above)
        # meets the unique (school, start) constraint here; the savepoint keeps this transaction usable
        with db.session.begin_nested():
            db.session.add(year)
            db.session.flush()
    except IntegrityError:
        if db.session.execute(same).first():  # committed by the other request meanwhile
            raise exists from None
        raise
    add_terms(school, year, previous)  # the default terms, or last year's a year later
    return year


def start_year(school, start_year: int) -> SchoolYear:
    """Start a school year: one item per requirement occurrence of every school-year framework."""
    year = _create_year(school, start_year)
    owners, terms = owner_ids(school), terms_for(school, year)
    count = 0
    for framework in year.frameworks:
        for requirement in framework.requirements:
            items = _items_for(school, year, requirement, owners=owners, terms=terms)
            db.session.add_all(items)
            count += len(items)
    db.session.flush()
    audit.record("year.started", school=school, subject=year, after={**year.audit_view(), "items": count})
    return year


def roll_over(school, previous: SchoolYear) -> SchoolYear:
    """Start the next year from `previous`: recurring items get new dates, policy answers come forward as
    drafts to review, and earlier evidence stays linked (read-only) rather than copied."""
    year = _create_year(school, previous.starts_on.year + 1, previous)
    old_items = (
        db.session.execute(db.select(Item).where(Item.school_id == school.id, Item.year_id == previous.id))
        .scalars()
        .all()
    )
    by_key = {(i.requirement_key, i.occurrence): i for i in old_items if i.requirement_key}
    owners, terms = owner_ids(school), terms_for(school, year)
    count = 0
    for framework in year.frameworks:
        for requirement in framework.requirements:
            if requirement.repeat == "once" and any(k == requirement.key for k, _ in by_key):
                continue
            if requirement.repeat == "every_two_years" and any(k == requirement.key for k, _ in by_key):
                continue  # done last year; due again the year after
            for item in _items_for(school, year, requirement, owners=owners, terms=terms):
                before = by_key.get((requirement.key, item.occurrence))
                if before is not None:
                    item.carried_from_id = before.id
                    item.owner_id = before.owner_id or item.owner_id  # last year's owner, else the holder
                    if requirement.answer_type == ItemKind.ANSWER and (before.answer or before.answer_status):
                        item.answer, item.answer_status = before.answer, before.answer_status
                        item.to_review = True
                db.session.add(item)
                count += 1
    for own in (i for i in old_items if i.kind == OWN_KIND):
        db.session.add(
            Item(
                school_id=school.id,
                year_id=year.id,
                kind=OWN_KIND,
                section_title=own.section_title,
                title=own.title,
                owner_role=own.owner_role,
                owner_id=own.owner_id,
                due_on=add_months(own.due_on, 12),
                carried_from_id=own.id,
            )
        )
        count += 1
    db.session.flush()
    audit.record(
        "year.rolled_over",
        school=school,
        subject=year,
        after={**year.audit_view(), "from": previous.label, "items": count},
    )
    return year


@dataclass
class UpgradeReport:
    framework: str
    old_version: str
    new_version: str
    kept: list = field(default_factory=list)
    added: list = field(default_factory=list)
    removed: list = field(default_factory=list)
    #: frameworks_services.Moved rows: duties that now live in another framework
    moved: list = field(default_factory=list)
    #: evidence files and links moved with those duties
    evidence_moved: int = 0


def _move_duty(school, year, item, requirement, new) -> int:
    """The duty of `item` now lives in the framework `requirement.same_as` names: its evidence and comments
    move to that framework's item of the same occurrence (a done item makes that one done on the same day),
    and `item` stays, not applicable, saying where the duty went. Items are never deleted: accreditor
    queries and the audit trail refer to them. Returns how many evidence rows moved."""
    framework_key, requirement_key = requirement.same_as_parts
    targets = target_items(school, year, framework_key, requirement_key)
    target = next((t for t in targets if t.occurrence == item.occurrence), targets[0] if targets else None)
    if target is None:
        return 0  # the year does not track the framework that holds the duty: the item stays as it is
    moved = db.session.execute(
        db.update(Evidence)
        .where(Evidence.school_id == school.id, Evidence.item_id == item.id)
        .values(item_id=target.id)
        .execution_options(synchronize_session="fetch")
    ).rowcount
    db.session.execute(
        db.update(Comment)
        .where(Comment.school_id == school.id, Comment.item_id == item.id)
        .values(item_id=target.id)
        .execution_options(synchronize_session="fetch")
    )
    if item.status == DONE and target.status != DONE:
        set_status(target, DONE, on=item.completed_on)
    target_title = target.framework.title if target.framework else framework_key
    set_status(item, NOT_APPLICABLE, reason=f"Moved to {target_title}: tracked there as “{target.title}”.")
    audit.record(
        "item.duty_moved",
        school=school,
        subject=item,
        after={"to_item": str(target.id), "to": f"{framework_key}/{requirement_key}", "evidence": moved},
    )
    return moved


def _follow_repeat_changes(school, year, old, new, items, new_reqs, owners, terms):
    """A kept requirement whose repeat changed (yearly -> termly) gets the occurrences it now has and lacks,
    and its open items move to the new dates; occurrences it no longer has (termly -> yearly) stay, not
    applicable unless done."""
    old_repeat = {r.key: r.repeat for r in old.requirements}
    have = {}
    for item in items:
        have.setdefault(item.requirement_key, {})[item.occurrence] = item
    for key, by_occurrence in have.items():
        requirement = new_reqs.get(key)
        if requirement is None or requirement.same_as or old_repeat.get(key) == requirement.repeat:
            continue
        wanted = _items_for(school, year, requirement, owners=owners, terms=terms)
        numbers = {i.occurrence for i in wanted}
        db.session.add_all(i for i in wanted if i.occurrence not in by_occurrence)
        for fresh in wanted:
            kept = by_occurrence.get(fresh.occurrence)
            if kept is not None and kept.status not in (DONE, NOT_APPLICABLE):
                kept.due_on = fresh.due_on
        for occurrence, item in by_occurrence.items():
            if occurrence not in numbers and item.status not in (DONE, NOT_APPLICABLE):
                set_status(item, NOT_APPLICABLE, reason=f"No longer repeated in {new.title} {new.version}.")


def upgrade_framework(school, year: SchoolYear, new: Framework) -> UpgradeReport:
    """Move a year to a newer framework version, keeping work on requirement keys that still exist."""
    old = next((f for f in year.frameworks if f.key == new.key), None)
    if old is None or old.id == new.id:
        raise TrackingError("This year already tracks that version.")
    change = compare_versions(old, new)
    report = UpgradeReport(
        new.title, old.version, new.version, change.kept, change.added, change.removed, change.moved
    )
    new_reqs = {r.key: r for r in new.requirements}
    items = (
        db.session.execute(
            db.select(Item).where(
                Item.school_id == school.id, Item.year_id == year.id, Item.framework_id == old.id
            )
        )
        .scalars()
        .all()
    )
    for item in items:
        requirement = new_reqs.get(item.requirement_key)
        item.framework_id = new.id
        if requirement is not None and requirement.same_as:
            item.requirement_id, item.title = requirement.id, requirement.title
            item.section_title = requirement.section.title
            report.evidence_moved += _move_duty(school, year, item, requirement, new)
        elif requirement is not None:
            item.requirement_id, item.title = requirement.id, requirement.title
            item.section_title = requirement.section.title
        elif item.status != DONE:
            set_status(item, NOT_APPLICABLE, reason=f"No longer part of {new.title} version {new.version}.")
    owners, terms = owner_ids(school), terms_for(school, year)
    for key in change.added:
        db.session.add_all(_items_for(school, year, new_reqs[key], owners=owners, terms=terms))
    _follow_repeat_changes(school, year, old, new, items, new_reqs, owners, terms)
    year.frameworks = [new if f.id == old.id else f for f in year.frameworks]
    db.session.flush()
    audit.record(
        "year.framework_upgraded",
        school=school,
        subject=year,
        after={
            "framework": new.key,
            "from": old.version,
            "to": new.version,
            "added": change.added,
            "removed": change.removed,
            "moved": [f"{m.key} -> {m.framework_key}/{m.requirement_key}" for m in change.moved],
            "evidence_moved": report.evidence_moved,
        },
    )
    return report
