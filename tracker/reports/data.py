"""Gather what a report shows into plain data, in a fixed number of queries whatever the school's size.

The data is plain dicts and lists (JSON-able), so that its SHA-256 is the cache key: the same data gives the
same PDF, and any change to what the report shows gives a new draft.
"""

import hashlib
import json
from collections import OrderedDict

from sqlalchemy import or_
from sqlalchemy.orm import selectinload

from ..db import db
from ..evidence.models import Evidence
from ..frameworks.models import AUDIENCE_LABELS
from ..people import register
from ..people.models import CATEGORY_LABELS, Person
from ..review.models import ReviewQuery
from ..tracking.models import (
    ANSWER_STATUS_LABELS,
    DONE,
    IN_PROGRESS,
    NOT_APPLICABLE,
    OPEN_STATUSES,
    STATUS_LABELS,
    Item,
    ItemKind,
)
from ..training import services as training
from ..training.models import TrainingAttendance, TrainingSession
from .models import ACCREDITATION, FRAMEWORK, REGISTER, TRAINING_RECORD

#: bump when a template changes what a report shows, so cached drafts are not reused across the change
LAYOUT_VERSION = 1


def _d(value):
    return value.isoformat() if value is not None else None


def _name(user):
    return (user.name or user.email) if user is not None else "unknown"


def data_hash(data: dict) -> str:
    body = {k: v for k, v in data.items() if k != "generated_at"}
    raw = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(raw.encode()).hexdigest()


def _base(school, year, kind, title):
    data = {
        "layout": LAYOUT_VERSION,
        "kind": kind,
        "title": title,
        "today": _d(school.today()),
        "school": {"id": str(school.id), "name": school.name, "country": school.country},
    }
    if year is not None:
        data["year"] = {
            "id": str(year.id),
            "label": year.label,
            "starts_on": _d(year.starts_on),
            "ends_on": _d(year.ends_on),
        }
        data["signoff"] = (
            {"by": _name(year.signed_off_by), "at": year.signed_off_at.isoformat(timespec="seconds")}
            if year.signed_off_at
            else None
        )
    return data


def _counts(items):
    total = len(items)
    done = sum(1 for i in items if i.status == DONE)
    na = sum(1 for i in items if i.status == NOT_APPLICABLE)
    in_progress = sum(1 for i in items if i.status == IN_PROGRESS)
    countable = total - na
    return {
        "total": total,
        "done": done,
        "na": na,
        "in_progress": in_progress,
        "countable": countable,
        "percent": round(100 * done / countable) if countable else 100,
        # widths of the chart's parts, in % of the bar
        "w_done": round(100 * done / total, 1) if total else 0,
        "w_na": round(100 * na / total, 1) if total else 0,
        "w_progress": round(100 * in_progress / total, 1) if total else 0,
    }


def _evidence_index(school, items, where):
    """Evidence of `items` (one query over the items matching `where`), numbered E1, E2, ... in item order."""
    by_item = {i.id: [] for i in items}
    if items:
        rows = (
            db.session.execute(
                db.select(Evidence)
                .join(Item, Item.id == Evidence.item_id)
                .where(Evidence.school_id == school.id, Item.school_id == school.id, where)
                .order_by(Evidence.uploaded_at, Evidence.name)
            )
            .scalars()
            .all()
        )
        for row in rows:
            if row.item_id in by_item:
                by_item[row.item_id].append(row)
    index, refs = [], {}
    for item in items:
        for row in by_item[item.id]:
            ref = f"E{len(index) + 1}"
            refs.setdefault(item.id, []).append(ref)
            index.append(
                {
                    "ref": ref,
                    "name": row.name,
                    "kind": row.kind,
                    "sha256": row.sha256,
                    "url": row.url,
                    "item": item.title,
                    "uploaded_by": _name(row.uploaded_by),
                    "uploaded_at": row.uploaded_at.isoformat(timespec="minutes").replace("+00:00", " UTC"),
                }
            )
    return index, refs


def _item_row(item, today, refs):
    overdue = item.status in OPEN_STATUSES and item.due_on < today
    return {
        "title": item.title + (f" (term {item.occurrence})" if item.occurrence > 1 else ""),
        "section": item.section_title,
        "status": item.status,
        "status_label": STATUS_LABELS[item.status],
        "overdue": overdue,
        "owner": _name(item.owner) if item.owner else f"({item.owner_role})",
        "due_on": _d(item.due_on),
        "completed_on": _d(item.completed_on),
        "na_reason": item.na_reason,
        "evidence": refs.get(item.id, []),
    }


def _frameworks(items, frameworks, today, refs):
    out = []
    groups = OrderedDict((f.id, []) for f in frameworks)
    own = [i for i in items if i.framework_id is None]
    for item in items:
        if item.framework_id in groups:
            groups[item.framework_id].append(item)
    entries = [(f.key, f.title, f.version, f.label, groups[f.id]) for f in frameworks]
    if own:
        entries.append(("own", "School's own items", "", "", own))
    for key, title, version, label, fitems in entries:
        sections = OrderedDict()
        for item in fitems:
            sections.setdefault(item.section_title, []).append(item)
        out.append(
            {
                "key": key,
                "title": title,
                "version": version,
                "label": label,
                **_counts(fitems),
                "sections": [{"title": s, **_counts(si)} for s, si in sections.items()],
                "items": [_item_row(i, today, refs) for i in fitems],
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


def training_summary(school):
    return [
        {
            "activity": c.activity.title,
            "section": c.activity.section.title,
            "audience": ", ".join(AUDIENCE_LABELS.get(a, a) for a in c.activity.audience),
            "total": c.total,
            "current": len(c.current),
            "expiring": len(c.expiring),
            "overdue": len(c.overdue),
            "never": len(c.never),
            "percent": c.percent_current,
        }
        for c in training.coverage(school)
    ]


def register_summary(school):
    cols, rows, _ = register.build(school)
    # every cell shares the register's one {item id: risk assessment} map
    risk = next((c.risk for r in rows for c in r.cells.values()), {})
    by_check = []
    for col in cols:
        cells = [r.cells[col.key] for r in rows if r.cells[col.key].items]
        items = [i for c in cells for i in c.items]
        by_check.append(
            {
                "title": col.title,
                "people": len(cells),
                "complete": sum(1 for c in cells if c.complete),
                "verified": sum(1 for i in items if i.check_status == "verified"),
                "not_required": sum(1 for i in items if i.check_status == "not_required"),
                "risk_assessed": sum(1 for i in items if i.id in risk),
            }
        )
    risk_people = sum(1 for r in rows if any(i.id in risk for c in r.cells.values() for i in c.items))
    complete = sum(1 for r in rows if r.complete)
    return (
        {
            "people": len(rows),
            "complete": complete,
            "incomplete": len(rows) - complete,
            "risk_assessed": risk_people,
            "by_check": by_check,
            "incomplete_people": [r.person.full_name for r in rows if not r.complete][:60],
            "incomplete_more": max(0, len(rows) - complete - 60),
        },
        cols,
        rows,
    )


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
    data["frameworks"] = _frameworks(items, frameworks, today, refs)
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
    data["answers"] = _answers(items)
    data["training"] = training_summary(school)
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
    items = [i for i in _year_items(school, year) if i.framework_id == fw.id]
    evidence, refs = _evidence_index(school, items, (Item.year_id == year.id) & (Item.framework_id == fw.id))
    data = _base(school, year, FRAMEWORK, f"{fw.title} {year.label}")
    data["frameworks"] = _frameworks(items, [fw], today, refs)
    data["answers"] = _answers(items)
    data["evidence"] = evidence
    data["queries"] = _queries(school, (Item.year_id == year.id) & (Item.framework_id == fw.id))
    data["size"] = len(items) + len(evidence)
    return data


def recruitment_register(school, year=None) -> dict:
    reg, cols, rows = register_summary(school)
    data = _base(school, year, REGISTER, "Recruitment register")
    data["register"] = reg
    data["columns"] = [{"ref": f"C{n}", "title": c.title} for n, c in enumerate(cols, start=1)]
    data["rows"] = [
        {
            "name": r.person.full_name,
            "category": CATEGORY_LABELS[r.person.category],
            "start_on": _d(r.person.start_on),
            "cells": [_cell(r.cells[c.key]) for c in cols],
            "complete": r.complete,
        }
        for r in rows
    ]
    data["size"] = len(rows)
    return data


#: short codes for the register grid, explained in the PDF's legend
CHECK_CODES = {"verified": "✓", "received": "Rc", "requested": "Rq", "not_required": "NR", "not_started": "–"}


def _cell(cell) -> list[str]:
    """One short line per check item: code, verification date, country; RA when a risk assessment stands in."""
    lines = []
    for country, status, verified_on, risk in cell.states():
        text = CHECK_CODES.get(status, "–")
        if verified_on:
            text += f" {verified_on:%y-%m-%d}"
        if risk:
            text += " RA" if risk == "signed" else " RA unsigned"
        lines.append(f"{country[:12]}: {text}" if country else text)
    return lines


def training_record(school, person: Person) -> dict:
    data = _base(school, None, TRAINING_RECORD, f"Training record: {person.full_name}")
    data["person"] = {
        "id": str(person.id),
        "name": person.full_name,
        "category": CATEGORY_LABELS[person.category],
        "start_on": _d(person.start_on),
        "leave_on": _d(person.leave_on),
    }
    data["activities"] = [
        {
            "activity": r["activity"].title,
            "repeat": r["activity"].repeat,
            "completed_on": _d(r["completed_on"]),
            "expires_on": _d(r["expires_on"]),
            "state": r["state"],
        }
        for r in training.person_record(school, person)
    ]
    sessions = (
        db.session.execute(
            db.select(TrainingSession)
            .join(TrainingAttendance, TrainingAttendance.session_id == TrainingSession.id)
            .where(TrainingAttendance.school_id == school.id, TrainingAttendance.person_id == person.id)
            .order_by(TrainingSession.held_on.desc())
        )
        .scalars()
        .all()
    )
    data["sessions"] = [
        {
            "held_on": _d(s.held_on),
            "activity": s.requirement.title if s.requirement else s.requirement_key,
            "provider": s.provider,
            "certificate": s.certificate_name,
            "sha256": s.certificate_sha256,
        }
        for s in sessions
    ]
    data["size"] = len(sessions)
    return data
