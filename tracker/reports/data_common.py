"""What every report's data shares: layout version, data hash, heading, item counts, item rows, evidence."""

import hashlib
import json

from ..auth.models import User
from ..db import db
from ..evidence.models import VERIFIED, Evidence
from ..tracking.models import DONE, IN_PROGRESS, NOT_APPLICABLE, OPEN_STATUSES, STATUS_LABELS, Item

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
        # a year being signed off shows the sign-off as the head confirmed it (its frozen report is this one)
        signed_at = year.signed_off_at or (year.sign_off_state == "signing" and year.sign_off_requested_at)
        data["signoff"] = (
            {
                "by": _name(year.signed_off_by),
                "at": signed_at.replace(tzinfo=None).isoformat(timespec="seconds"),  # UTC, printed as such
                "comment": year.sign_off_comment or "",
            }
            if signed_at
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
    """Verified evidence of `items` (one query over the evidence whose item matches `where`), numbered E1, E2,
    ... in item order (uploads pending verification, or rejected, are not evidence yet).

    The query is driven from the school's evidence, its item looked up by primary key (a correlated scalar
    sub-select, which PostgreSQL does not turn into a join): joined to the items, the plan of a database whose
    planner statistics are not yet gathered (a school that has just imported its data) was a nested loop over
    every item per evidence row (5 s for bench/bench_reports.py's 2,000 evidence rows). Plain rows, not
    Evidence objects."""
    by_item = {i.id: [] for i in items}
    if items:
        matches = (
            db.select(db.literal(1))
            .where(Item.id == Evidence.item_id, Item.school_id == school.id, where)
            .scalar_subquery()
        )
        rows = db.session.execute(
            db.select(
                Evidence.item_id,
                Evidence.name,
                Evidence.kind,
                Evidence.sha256,
                Evidence.url,
                Evidence.uploaded_at,
                db.func.coalesce(db.func.nullif(User.name, ""), User.email).label("uploaded_by"),
            )
            .outerjoin(User, User.id == Evidence.uploaded_by_id)
            .where(
                Evidence.school_id == school.id,
                Evidence.verification == VERIFIED,
                matches.is_not(None),
            )
            .order_by(Evidence.uploaded_at, Evidence.name)
        ).all()
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
                    "uploaded_by": "unknown" if row.uploaded_by is None else row.uploaded_by,
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
