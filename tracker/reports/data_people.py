"""The data of the people reports: training and register summaries, recruitment register, training record."""

from ..db import db
from ..frameworks.models import AUDIENCE_LABELS
from ..people import register
from ..people.models import CATEGORY_LABELS, Person
from ..training import services as training
from ..training.models import TrainingAttendance, TrainingSession
from .data_common import _base, _d
from .models import REGISTER, TRAINING_RECORD


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
    """One short line per check item: code, verification date, country; RA when a risk assessment stands
    in."""
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
            .where(
                TrainingAttendance.school_id == school.id,
                TrainingAttendance.person_id == person.id,
                TrainingSession.verification == "verified",  # a certificate waiting for verification: not yet
            )
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
