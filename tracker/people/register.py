"""The recruitment register (Single Central Record layout): one row per person, one column per check.

Three queries whatever the number of people: the people, their check items, their risk assessments.
"""

import csv
import io
from dataclasses import dataclass, field
from datetime import timedelta

from ..db import db
from ..pagination import paginate
from ..signals import register_columns
from ..tracking.models import OPEN_STATUSES, Item, ItemKind
from .checklist import recruitment_framework
from .models import CATEGORY_LABELS, CHECK_STATUS_LABELS, Person, RiskAssessment

FILTERS = {
    "incomplete": "Incomplete",
    "starting": "Starting in the next 30 days",
    "expiring": "Checks expiring in the next 30 days",
    "leavers": "Leavers",
}


@dataclass
class Cell:
    items: list = field(default_factory=list)
    risk: dict = field(default_factory=dict)  # item id -> RiskAssessment

    @property
    def complete(self):
        return bool(self.items) and all(
            i.status not in OPEN_STATUSES or (self.risk.get(i.id) and self.risk[i.id].signed_at)
            for i in self.items
        )

    def states(self):
        """(country, check status, verified on, risk assessment) per check: the one reading of a cell that the
        page, the exports and the PDF format in their own ways. The risk assessment is "signed", "unsigned",
        or None when there is none or the check is verified anyway."""
        for i in self.items:
            status = i.check_status or "not_started"
            ra = self.risk.get(i.id)
            risk = None if ra is None or status == "verified" else ("signed" if ra.signed_at else "unsigned")
            yield i.country, status, i.verified_on if status == "verified" else None, risk

    def text(self):
        parts = []
        for country, status, verified_on, risk in self.states():
            label = CHECK_STATUS_LABELS.get(status)
            if verified_on:
                label += f" {verified_on.isoformat()}"
            if risk:
                label += " (risk assessed, signed)" if risk == "signed" else " (risk assessment unsigned)"
            parts.append(f"{country}: {label}" if country else label)
        return "; ".join(parts) or "—"


@dataclass
class Row:
    person: Person
    cells: dict
    #: later features' columns (the `register_columns` signal): {column title: cell text}
    extra: dict = field(default_factory=dict)

    @property
    def complete(self):
        return all(c.complete for c in self.cells.values() if c.items)


def columns():
    framework = recruitment_framework()
    return framework.requirements if framework else []


#: what a register cell (and the accreditation report's evidence index) reads of each check item
CHECK_COLUMNS = (
    Item.id,
    Item.person_id,
    Item.requirement_key,
    Item.title,
    Item.section_title,
    Item.country,
    Item.status,
    Item.check_status,
    Item.verified_on,
    Item.expires_on,
)

#: people per page of the register: a row has a cell per check, so a page of 50 is already a big table
PER_PAGE = 50


def _people_query(school, filter_key):
    """The register's people for a filter, as one SELECT (the incomplete filter included, so it can be
    paged)."""
    today = school.today()
    query = db.select(Person).where(Person.school_id == school.id).order_by(Person.full_name, Person.id)
    if filter_key == "leavers":
        return query.where(Person.leave_on.is_not(None), Person.leave_on < today)
    query = query.where((Person.leave_on.is_(None)) | (Person.leave_on >= today))
    if filter_key == "starting":
        query = query.where(Person.start_on.between(today, today + timedelta(days=30)))
    if filter_key == "expiring":
        query = query.where(
            Person.id.in_(
                db.select(Item.person_id).where(
                    Item.school_id == school.id,
                    Item.expires_on.is_not(None),
                    Item.expires_on <= today + timedelta(days=30),
                )
            )
        )
    if filter_key == "incomplete":  # an open check not covered by a signed risk assessment (as Cell.complete)
        covered = db.select(RiskAssessment.item_id).where(
            RiskAssessment.school_id == school.id, RiskAssessment.signed_at.is_not(None)
        )
        query = query.where(
            Person.id.in_(
                db.select(Item.person_id).where(
                    Item.school_id == school.id,
                    Item.kind == ItemKind.CHECK,
                    Item.status.in_(OPEN_STATUSES),
                    Item.requirement_key.in_([c.key for c in columns()]),
                    Item.id.not_in(covered),
                )
            )
        )
    return query


def build(school, filter_key=None, paged=False):
    """(columns, rows, page): every matching person, or one page of them when `paged` (page is then a
    Page)."""
    query = _people_query(school, filter_key)
    page = paginate(query, per_page=PER_PAGE) if paged else None
    people = page.items if page else db.session.execute(query).scalars().all()
    # A page names its (few) people; the whole register uses a sub-select, not thousands of bound ids.
    chosen = [p.id for p in people] if paged else query.with_only_columns(Person.id).order_by(None)
    # Plain rows, not Item objects: a page holds about 1,300 checks, and the cells read only these columns.
    items = (
        db.session.execute(
            db.select(*CHECK_COLUMNS)
            .where(Item.school_id == school.id, Item.person_id.in_(chosen), Item.kind == ItemKind.CHECK)
            .order_by(Item.country)
        ).all()
        if people
        else []
    )
    risk = (
        {
            r.item_id: r
            for r in db.session.execute(
                db.select(RiskAssessment)
                .join(Item, Item.id == RiskAssessment.item_id)
                .where(
                    RiskAssessment.school_id == school.id,
                    Item.school_id == school.id,
                    Item.person_id.in_(chosen),
                )
            ).scalars()
        }
        if items
        else {}
    )
    cols = columns()
    by_person = {p.id: {c.key: Cell(risk=risk) for c in cols} for p in people}
    for item in items:
        cell = by_person[item.person_id].get(item.requirement_key)
        if cell is not None:
            cell.items.append(item)
    extra = {}
    for _receiver, returned in register_columns.send(school, people=people):
        extra.update(returned or {})
    rows = [Row(p, by_person[p.id], {t: cells.get(p.id, "—") for t, cells in extra.items()}) for p in people]
    return cols, rows, page


def to_table(cols, rows) -> list[list[str]]:
    header = (
        ["Name", "E-mail", "Category", "Start date", "Leave date", "Countries"]
        + [c.title for c in cols]
        + ["Complete"]
        + list(rows[0].extra if rows else [])
    )
    out = [header]
    for r in rows:
        p = r.person
        out.append(
            [
                p.full_name,
                p.email or "",
                CATEGORY_LABELS[p.category],
                p.start_on.isoformat(),
                p.leave_on.isoformat() if p.leave_on else "",
                "; ".join(p.countries or []),
            ]
            + [r.cells[c.key].text() for c in cols]
            + ["yes" if r.complete else "no"]
            + list(r.extra.values())
        )
    return out


def _safe(value: str) -> str:
    # A cell starting with = + - @ is a formula to a spreadsheet: never let data become one.
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def to_csv(table) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf)
    for row in table:
        writer.writerow([_safe(str(v)) for v in row])
    return buf.getvalue().encode("utf-8-sig")


def to_xlsx(table, title="Recruitment register") -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook(write_only=False)
    ws = wb.active
    ws.title = title[:31]
    for row in table:
        ws.append([_safe(str(v)) for v in row])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    ws.freeze_panes = "B2"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
