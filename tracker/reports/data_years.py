"""The data of the year reports: the accreditation report and one framework's report."""

from collections import OrderedDict

from sqlalchemy import or_
from sqlalchemy.orm import selectinload

from ..db import db
from ..review.models import ReviewQuery
from ..tracking.models import ANSWER_STATUS_LABELS, OPEN_STATUSES, Item, ItemKind
from ..tracking.ordering import LAST, item_key, section_positions
from ..tracking.shared import shared_items
from .data_common import _base, _counts, _d, _evidence_index, _item_row, _name
from .data_people import register_summary, training_summary
from .data_policies import policies_summary
from .models import ACCREDITATION, FRAMEWORK


def _frameworks(items, frameworks, today, refs, positions=None, shared=None):
    """Each framework with its sections in the framework's own order (`positions`), items within a section
    by due date. `shared` ({framework id: [(item, section title)]}, tracking.shared.shared_items) adds the
    items a framework references in another one (`same_as`) under its own section, marked as kept there."""
    positions, shared = positions or {}, shared or {}
    titles = {f.id: f.title for f in frameworks}
    out = []
    groups = OrderedDict((f.id, []) for f in frameworks)
    own = [(i, i.section_title) for i in items if i.framework_id is None]
    for item in items:
        if item.framework_id in groups:
            groups[item.framework_id].append((item, item.section_title))
    entries = [
        (f.id, f.key, f.title, f.version, f.label, groups[f.id] + shared.get(f.id, [])) for f in frameworks
    ]
    if own:
        entries.append((None, "own", "School's own items", "", "", own))
    for fw_id, key, title, version, label, pairs in entries:
        pairs.sort(key=lambda p: (positions.get((fw_id, p[1]), LAST), p[0].due_on, p[0].title))
        sections = OrderedDict()
        for item, section in pairs:
            sections.setdefault(section, []).append(item)
        rows = []
        for item, section in pairs:
            row = _item_row(item, today, refs)
            if item.framework_id != fw_id and fw_id is not None:
                row["section"] = section
                row["kept_in"] = titles.get(item.framework_id) or (
                    item.framework.title if item.framework else ""
                )
            rows.append(row)
        fitems = [i for i, _ in pairs]
        out.append(
            {
                "key": key,
                "title": title,
                "version": version,
                "label": label,
                **_counts(fitems),
                "sections": [{"title": s, **_counts(si)} for s, si in sections.items()],
                "items": rows,
            }
        )
    return out


def _answers(items):
    return [
        {
            "title": i.title,
            "section": i.section_title,
            "answer": i.answer,
            "answer_status": ANSWER_STATUS_LABELS.get(i.answer_status, "Not assessed"),
            "review_on": _d(i.review_on),
            "to_review": i.to_review,
            "na_reason": i.na_reason,
        }
        for i in items
        if i.kind == ItemKind.ANSWER
    ]


def _queries(school, where):
    rows = (
        db.session.execute(
            db.select(ReviewQuery)
            .join(Item, Item.id == ReviewQuery.item_id)
            .where(ReviewQuery.school_id == school.id, Item.school_id == school.id, where)
            .options(selectinload(ReviewQuery.messages))
            .order_by(ReviewQuery.created_at)
        )
        .scalars()
        .unique()
        .all()
    )
    return [
        {
            "item": q.item.title,
            "state": q.state,
            "state_label": q.state_label,
            "raised_by": _name(q.raised_by),
            "created_at": q.created_at.isoformat(timespec="minutes").replace("+00:00", " UTC"),
            "messages": [
                {
                    "author": _name(m.author),
                    "role": m.author_role,
                    "body": m.body,
                    "at": m.created_at.isoformat(timespec="minutes").replace("+00:00", " UTC"),
                }
                for m in q.messages
            ],
        }
        for q in rows
    ]


def _year_items(school, year):
    return (
        db.session.execute(
            db.select(Item)
            .where(Item.school_id == school.id, Item.year_id == year.id)
            .order_by(Item.due_on, Item.title)
        )
        .scalars()
        .unique()
        .all()
    )


def _order(items, frameworks):
    rank = {f.id: n for n, f in enumerate(frameworks)}
    return sorted(items, key=lambda i: (rank.get(i.framework_id, 99), i.due_on, i.title))


def accreditation(school, year) -> dict:
    """Everything the accreditation report shows for `year`."""
    today = school.today()
    frameworks = list(year.frameworks)
    items = _order(_year_items(school, year), frameworks)
    reg, _, reg_rows = register_summary(school)
    checks = [i for r in reg_rows for c in r.cells.values() for i in c.items]
    evidence, refs = _evidence_index(
        school, items + checks, or_(Item.year_id == year.id, Item.kind == ItemKind.CHECK)
    )
    data = _base(school, year, ACCREDITATION, f"Accreditation report {year.label}")
    positions = section_positions(year)
    shared = shared_items(year, items, frameworks)
    data["frameworks"] = _frameworks(items, frameworks, today, refs, positions, shared)
    sections = OrderedDict()
    for item in checks:
        sections.setdefault(item.section_title, []).append(item)
    if checks:
        data["frameworks"].append(
            {
                "key": "recruitment",
                "title": "Safer recruitment checks (per person)",
                "version": "",
                "label": "",
                **_counts(checks),
                "items": [],
                "sections": [{"title": s, **_counts(si)} for s, si in sections.items()],
            }
        )
    data["answers"] = _answers(sorted(items, key=item_key(positions)))
    data["training"] = training_summary(school)
    data["policies"] = policies_summary(school)
    data["register"] = reg
    open_items = [i for i in items if i.status in OPEN_STATUSES]
    data["overdue"] = [_item_row(i, today, refs) for i in open_items if i.due_on < today]
    data["open_count"] = len(open_items)
    data["open_next"] = [_item_row(i, today, refs) for i in open_items if i.due_on >= today][:40]
    data["evidence"] = evidence
    data["evidence_files"] = sum(1 for e in evidence if e["kind"] == "file")
    data["queries"] = _queries(school, or_(Item.year_id == year.id, Item.kind == ItemKind.CHECK))
    data["size"] = len(items) + len(evidence) + reg["people"]
    return data


def framework(school, year, fw) -> dict:
    """One framework of `year` on its own: its chart, items, answers, evidence and queries."""
    today = school.today()
    year_items = _year_items(school, year)
    items = [i for i in year_items if i.framework_id == fw.id]
    shared = shared_items(year, year_items, list(year.frameworks))
    also = [i for i, _ in shared.get(fw.id, [])]
    ids = [i.id for i in also]
    evidence, refs = _evidence_index(
        school,
        items + also,
        (Item.year_id == year.id) & ((Item.framework_id == fw.id) | Item.id.in_(ids)),
    )
    data = _base(school, year, FRAMEWORK, f"{fw.title} {year.label}")
    positions = section_positions(year)
    data["frameworks"] = _frameworks(items, [fw], today, refs, positions, {fw.id: shared.get(fw.id, [])})
    data["answers"] = _answers(sorted(items, key=item_key(positions)))
    data["evidence"] = evidence
    data["queries"] = _queries(school, (Item.year_id == year.id) & (Item.framework_id == fw.id))
    data["size"] = len(items) + len(evidence)
    return data
