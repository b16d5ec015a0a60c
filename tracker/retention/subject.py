"""A person's data for a subject-access request: one ZIP with a readable index (index.html, index.txt), the
data as JSON (their record, checks, training, acknowledgements) and every evidence file the school holds
about them (their checks' evidence, their own training certificates)."""

import io
import json
import zipfile
from datetime import date, datetime

from flask import render_template

from .. import audit
from ..db import db
from ..evidence.models import Evidence
from ..evidence.services import store
from ..people import models as people_models
from ..people.models import CHECK_STATUS_LABELS, Person
from ..policies.models import PolicyAcknowledgement
from ..tracking.models import Item
from ..training.models import TrainingAttendance, TrainingSession


def _safe(name: str) -> str:
    kept = "".join(ch if ch.isalnum() or ch in "-_. " else "-" for ch in name).strip(" .")
    return kept[:80] or "file"


def _iso(value):
    return value.isoformat() if isinstance(value, (date, datetime)) else value


def collect(school, person: Person) -> dict:
    """Everything the school holds about `person`, as plain values; `files`: (ZIP path, stored name)."""
    items = (
        db.session.execute(
            db.select(Item)
            .where(Item.school_id == school.id, Item.person_id == person.id)
            .order_by(Item.due_on)
        )
        .scalars()
        .all()
    )
    evidence = {}
    if items:
        for e in db.session.execute(
            db.select(Evidence)
            .where(Evidence.school_id == school.id, Evidence.item_id.in_([i.id for i in items]))
            .order_by(Evidence.uploaded_at)
        ).scalars():
            evidence.setdefault(e.item_id, []).append(e)
    records = {}
    model = getattr(people_models, "CheckRecord", None)  # the document seen for a check (type, reference)
    if model is not None and items:
        records = {
            r.item_id: r
            for r in db.session.execute(
                db.select(model).where(model.school_id == school.id, model.item_id.in_([i.id for i in items]))
            ).scalars()
        }
    files = []
    checks = []
    for item in items:
        rows = []
        for e in evidence.get(item.id, []):
            row = {
                "name": e.name,
                "kind": e.kind,
                "uploaded_at": _iso(e.uploaded_at),
                "sha256": e.sha256 or None,
            }
            if e.stored_name:
                path = f"files/checks/{e.id.hex[:8]}-{_safe(e.name)}"
                files.append((path, e.stored_name))
                row["file"] = path
            if e.url:
                row["url"] = e.url
            rows.append(row)
        checks.append(
            {
                "check": item.title,
                "stage": CHECK_STATUS_LABELS.get(item.check_status or "", item.check_status),
                "due_on": _iso(item.due_on),
                "verified_on": _iso(item.verified_on),
                "expires_on": _iso(item.expires_on),
                "notes": item.notes,
                "document": records[item.id].audit_view() if item.id in records else None,
                "evidence": rows,
            }
        )
    training = []
    for s in db.session.execute(
        db.select(TrainingSession)
        .join(TrainingAttendance, TrainingAttendance.session_id == TrainingSession.id)
        .where(TrainingSession.school_id == school.id, TrainingAttendance.person_id == person.id)
        .order_by(TrainingSession.held_on)
    ).scalars():
        row = {
            "activity": s.requirement.title if s.requirement else s.requirement_key,
            "held_on": _iso(s.held_on),
            "provider": s.provider,
            "verification": s.verification,
        }
        if s.certificate_stored:
            path = f"files/training/{s.id.hex[:8]}-{_safe(s.certificate_name)}"
            files.append((path, s.certificate_stored))
            row["certificate"] = path
        training.append(row)
    who = PolicyAcknowledgement.person_id == person.id
    if person.user_id is not None:
        who = who | (PolicyAcknowledgement.user_id == person.user_id)
    acknowledgements = [
        {
            "document": a.version.document.title if a.version is not None else "",
            "version": a.version.label if a.version is not None else "",
            "name": a.name,
            "method": a.method,
            "signed_on": _iso(a.signed_on),
            "sha256": a.sha256,
        }
        for a in db.session.execute(
            db.select(PolicyAcknowledgement)
            .where(PolicyAcknowledgement.school_id == school.id, who)
            .order_by(PolicyAcknowledgement.signed_on)
        ).scalars()
    ]
    record = {
        "full_name": person.full_name,
        "email": person.email,
        "category": person.category_label,
        "groups": sorted(person.groups or []),
        "start_on": _iso(person.start_on),
        "leave_on": _iso(person.leave_on),
        "countries": list(person.countries or []),
        "leave_note": getattr(person, "leave_note", ""),
        "has_account": person.user_id is not None,
    }
    return {
        "school": school.name,
        "record": record,
        "checks": checks,
        "training": training,
        "acknowledgements": acknowledgements,
        "files": files,
    }


def export_zip(school, person: Person, *, user) -> tuple[bytes, str]:
    """The ZIP's bytes and its file name; records `person.data_exported` (counts, never the content)."""
    data = collect(school, person)
    data["exported_at"] = _iso(datetime.now().astimezone())
    buffer = io.BytesIO()
    missing = []
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for path, stored in data["files"]:
            try:
                zf.write(store().path(school.id, stored), path)
            except (FileNotFoundError, ValueError):
                missing.append(path)
        data["missing_files"] = missing
        for key in ("record", "checks", "training", "acknowledgements"):
            zf.writestr(f"{key}.json", json.dumps(data[key], indent=2, ensure_ascii=False))
        zf.writestr("index.html", render_template("retention/export_index.html", data=data))
        zf.writestr("index.txt", render_template("retention/export_index.txt", data=data))
    counts = {
        "checks": len(data["checks"]),
        "training": len(data["training"]),
        "acknowledgements": len(data["acknowledgements"]),
        "files": len(data["files"]) - len(missing),
    }
    audit.record(
        "person.data_exported", school=school, subject_type="people", subject_id=str(person.id), after=counts
    )
    return buffer.getvalue(), f"person-data-{person.id.hex[:8]}.zip"
