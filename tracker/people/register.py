"""The recruitment register (Single Central Record): one row per person, one column per check.

Three queries whatever the number of people (the people, their check items with who verified them, their risk
assessments), plus the COUNT of a page and the later features' columns (`register_columns`).

Views of it: the inspection view (the columns an inspector reads first), the full process order, or a custom
set of columns; filters (the named ones, joiners since a date, gaps only) combine. The validator (`gaps`)
lists every blank, overdue, expired or unexplained cell. The exports (`to_table`, `to_csv`, `to_xlsx`) have
one column per check for status, date, expiry, who verified it and the document seen (type, reference);
people/importing.py reads them back.
"""

import csv
import io
from dataclasses import dataclass, field
from datetime import date, timedelta

from flask import g, has_app_context

from ..auth.models import User
from ..db import db
from ..pagination import paginate
from ..signals import register_columns
from ..tracking.models import NOT_APPLICABLE, OPEN_STATUSES, Item, ItemKind
from .checklist import applies_to, recruitment_framework
from .models import (
    CATEGORY_LABELS,
    CHECK_STATUS_LABELS,
    DOCUMENT_TYPE_LABELS,
    GROUP_LABELS,
    CheckRecord,
    Person,
    RiskAssessment,
)

FILTERS = {
    "incomplete": "Incomplete",
    "starting": "Starting in the next 30 days",
    "expiring": "Checks expiring in the next 30 days",
    "leavers": "Leavers",
}

#: the column sets of the register page
VIEWS = {
    "inspection": "Inspection view",
    "process": "Every check, in process order",
    "custom": "Choose columns",
}
#: what an inspector reads first, in this order (those the school's framework has)
INSPECTION_KEYS = (
    "identity-verified",
    "right-to-work",
    "qualifications-verified",
    "police-check-host-country",
    "police-check-country",
    "self-disclosure",
    "reference-current-employer",
    "second-reference",
    "references-followed-up",
    "referee-asked-about-children",
    "pending-check-declaration",
)

#: the export's per-check columns: header suffix -> field
CHECK_FIELDS = {
    "status": "status",
    "date": "date",
    "expires": "expires",
    "verified by": "verified_by",
    "document seen": "document_type",
    "document reference": "document_reference",
}
SEPARATOR = " — "
#: the export's person columns, in order (the import reads the same names)
PERSON_HEADERS = ("Name", "E-mail", "Category", "Start date", "Leave date", "Countries", "Groups")
#: columns of the export that the import reads past (derived from the rest)
DERIVED_HEADERS = ("Risk assessments", "Complete", "Gaps")


@dataclass(slots=True)
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


class Cells(dict):
    """A row's cells by check key. A check with no item gets its (empty) cell when first asked for: a page of
    50 people and 40 checks need not build 2,000 cells to fill a few hundred. Unknown keys are a KeyError."""

    __slots__ = ("known", "risk")

    def __init__(self, known, risk):
        super().__init__()
        self.known = known
        self.risk = risk

    def __missing__(self, key):
        if key not in self.known:
            raise KeyError(key)
        cell = self[key] = Cell(risk=self.risk)
        return cell


@dataclass
class Row:
    person: Person
    cells: dict
    #: later features' columns (the `register_columns` signal): {column title: cell text}
    extra: dict = field(default_factory=dict)
    #: whether every check is complete, when the cells hold only some columns (build(keys=...))
    known_complete: bool | None = None

    @property
    def complete(self):
        if self.known_complete is not None:
            return self.known_complete
        return all(c.complete for c in self.cells.values() if c.items)


def _framework():
    """The recruitment framework (its newest version), read once per request (or app context)."""
    if has_app_context() and "register_framework" in g:
        return g.register_framework
    framework = recruitment_framework()
    if has_app_context():
        g.register_framework = framework
    return framework


def columns():
    """The register's columns: the recruitment framework's checks, read once per request (or app context)."""
    if has_app_context() and "register_columns" in g:
        return g.register_columns
    framework = _framework()
    cols = framework.requirements if framework else []
    if has_app_context():
        g.register_columns = cols
    return cols


def columns_version():
    """(id, checksum) of the framework version that gives the columns (None without one), without reading
    the columns: a page kept for later is made again when it changes (a changed framework file reloads with a
    new checksum)."""
    framework = _framework()
    return (framework.id, framework.checksum) if framework else None


def column_set(view: str, chosen=()) -> list:
    """The columns of a view: inspection (INSPECTION_KEYS order), process (the framework's order) or custom
    (`chosen` keys, in the framework's order). Raises KeyError for an unknown view or column key."""
    cols = columns()
    if view == "process":
        return cols
    if view == "inspection":
        by_key = {c.key: c for c in cols}
        return [by_key[k] for k in INSPECTION_KEYS if k in by_key]
    if view == "custom":
        known = {c.key for c in cols}
        unknown = [k for k in chosen if k not in known]
        if unknown:
            raise KeyError(unknown[0])
        return [c for c in cols if c.key in set(chosen)]
    raise KeyError(view)


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
    Item.due_on,
    Item.na_reason,
    Item.verified_by_id,
)

#: what the register page reads of each check item (build(lean=True)): what its cells show
PAGE_COLUMNS = (
    Item.id,
    Item.person_id,
    Item.requirement_key,
    Item.country,
    Item.status,
    Item.check_status,
    Item.verified_on,
    Item.expires_on,
)

#: people per page of the register: a row has a cell per check, so a page of 50 is already a big table
PER_PAGE = 50


def _gap_condition(school, today, keys):
    """SQL for "this check item is a gap" (the same rule as `item_gap`, which says what is wrong)."""
    covered = db.select(RiskAssessment.item_id).where(
        RiskAssessment.school_id == school.id, RiskAssessment.signed_at.is_not(None)
    )
    return db.and_(
        Item.school_id == school.id,
        Item.kind == ItemKind.CHECK,
        Item.requirement_key.in_(keys),
        db.or_(
            db.and_(Item.status.in_(OPEN_STATUSES), Item.id.not_in(covered)),
            db.and_(Item.check_status == "verified", Item.verified_on.is_(None)),
            db.and_(Item.status == NOT_APPLICABLE, Item.na_reason == ""),
            db.and_(Item.expires_on.is_not(None), Item.expires_on <= today),
        ),
    )


def _missing_conditions(school, keys) -> list:
    """SQL for "the person's checklist lacks a check their category needs" (not per country), one condition
    per category (the validator's "Missing from the person's checklist")."""
    cols = [c for c in columns() if not c.per_country and c.key in keys]
    conditions = []
    for category in CATEGORY_LABELS:
        keys = [c.key for c in cols if applies_to(c.key, category)]
        if not keys:
            continue
        have = (
            db.select(db.func.count(db.distinct(Item.requirement_key)))
            .where(Item.school_id == school.id, Item.person_id == Person.id, Item.requirement_key.in_(keys))
            .scalar_subquery()
        )
        conditions.append(db.and_(Person.category == category, have < len(keys)))
    return conditions


def _people_query(school, filter_key, since=None, gaps_only=False, gap_keys=None):
    """The register's people for the filters, as one SELECT (the incomplete and gap filters included, so it
    can be paged). The gap filter looks at the checks of `gap_keys` (default: every check)."""
    today = school.today()
    query = db.select(Person).where(Person.school_id == school.id).order_by(Person.full_name, Person.id)
    if since is not None:
        query = query.where(Person.start_on >= since)
    if gaps_only:
        gap_keys = list(gap_keys) if gap_keys is not None else _keys()
        query = query.where(
            db.or_(
                Person.id.in_(db.select(Item.person_id).where(_gap_condition(school, today, gap_keys))),
                *_missing_conditions(school, gap_keys),
            )
        )
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
                    Item.requirement_key.in_(_keys()),
                    Item.id.not_in(covered),
                )
            )
        )
    return query


def _incomplete_people(school, chosen) -> set:
    """The ids of `chosen` people with an open check not covered by a signed risk assessment (as
    Cell.complete). `chosen`: a list of person ids (bound), or a SELECT of them or a set of ids: then the
    school's open checks are read and kept when their person is chosen (as `person_id IN (SELECT ...)`,
    PostgreSQL without planner statistics ran a nested loop over the people for every open check: 0.75 s
    for 500 staff)."""
    covered = db.select(RiskAssessment.item_id).where(
        RiskAssessment.school_id == school.id, RiskAssessment.signed_at.is_not(None)
    )
    query = (
        db.select(Item.person_id)
        .distinct()
        .where(
            Item.school_id == school.id,
            Item.kind == ItemKind.CHECK,
            Item.status.in_(OPEN_STATUSES),
            Item.requirement_key.in_(_keys()),
            Item.id.not_in(covered),
        )
    )
    if isinstance(chosen, list | tuple):
        return set(db.session.execute(query.where(Item.person_id.in_(chosen))).scalars())
    ids = chosen if isinstance(chosen, set) else set(db.session.execute(chosen).scalars())
    return {person_id for person_id in db.session.execute(query).scalars() if person_id in ids}


def _keys():
    return [c.key for c in columns()]


def build(
    school,
    filter_key=None,
    paged=False,
    *,
    since: date | None = None,
    gaps_only=False,
    gap_keys=None,
    keys=None,
    lean=False,
):
    """(columns, rows, page): every matching person, or one page of them when `paged` (page is then a
    Page). Every row has a cell for every check of the framework; with `keys`, only those cells are filled
    (a view's columns: fewer rows to read), and whether the row is complete is read in one more query.
    `lean`: the items hold only PAGE_COLUMNS (what the register page shows), not CHECK_COLUMNS.
    `gaps_only` keeps the people with a gap (`gaps`) in the checks of `gap_keys` (default: every check)."""
    query = _people_query(school, filter_key, since, gaps_only, gap_keys)
    page = paginate(query, per_page=PER_PAGE) if paged else None
    people = page.items if page else db.session.execute(query).scalars().all()
    # A page names its (few) people. The whole register reads the school's check items and keeps those of its
    # people: as `person_id IN (SELECT the people)`, PostgreSQL without planner statistics (a school that has
    # just imported its staff) ran a nested loop over the people for every check (0.7 s for 500 staff).
    chosen = [p.id for p in people] if paged else None
    ids = {p.id for p in people}
    # Plain rows, not Item objects: a page holds about 1,300 checks, and the cells read only these columns.
    items = (
        [
            row
            for row in db.session.execute(
                db.select(
                    *(PAGE_COLUMNS if lean else CHECK_COLUMNS),
                    db.func.coalesce(db.func.nullif(User.name, ""), User.email).label("verified_by"),
                )
                .outerjoin(User, User.id == Item.verified_by_id)
                .where(Item.school_id == school.id, Item.kind == ItemKind.CHECK)
                .where(Item.person_id.in_(chosen) if chosen is not None else db.true())
                .where(Item.requirement_key.in_(keys) if keys is not None else db.true())
                .order_by(Item.country)
            )
            if row.person_id in ids
        ]
        if people
        else []
    )
    # the risk assessments of these checks: a page's by its people, the whole register's those of the school
    # (kept for the items read)
    item_ids = {i.id for i in items}
    risk_query = db.select(RiskAssessment).where(RiskAssessment.school_id == school.id)
    if chosen is not None:
        risk_query = risk_query.join(Item, Item.id == RiskAssessment.item_id).where(
            Item.school_id == school.id, Item.person_id.in_(chosen)
        )
    risk = (
        {r.item_id: r for r in db.session.execute(risk_query).scalars() if r.item_id in item_ids}
        if items
        else {}
    )
    cols = columns()
    known = {c.key for c in cols}
    by_person = {p.id: Cells(known, risk) for p in people}
    for item in items:
        if item.requirement_key in known:
            by_person[item.person_id][item.requirement_key].items.append(item)
    extra = {}
    for _receiver, returned in register_columns.send(school, people=people):
        extra.update(returned or {})
    incomplete = set()
    if keys is not None and people:
        incomplete = _incomplete_people(school, chosen if chosen is not None else ids)
    rows = [
        Row(
            p,
            by_person[p.id],
            {t: cells.get(p.id, "—") for t, cells in extra.items()},
            None if keys is None else p.id not in incomplete,
        )
        for p in people
    ]
    return cols, rows, page


# --- the validator ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Gap:
    person: Person
    column: object  # the framework requirement
    item: object  # the check's row (None: the checklist lacks the check)
    problem: str


def _d(value: date) -> str:
    return f"{value.day} {value:%b %Y}"


def item_gap(item, risk: dict, today: date) -> str | None:
    """What is wrong with one check of the register, or None when its cell is filled (the rule of the gap
    filter's SQL). A check not required counts as filled when a reason is given; an open check covered by a
    signed risk assessment too."""
    status = item.check_status or "not_started"
    if item.status in OPEN_STATUSES:
        ra = risk.get(item.id)
        if ra is None or ra.signed_at is None:
            stage = CHECK_STATUS_LABELS.get(status, status)
            if item.due_on and item.due_on < today:
                return f"Overdue since {_d(item.due_on)} ({stage})"
            due = f", due {_d(item.due_on)}" if item.due_on else ""
            if status in ("requested", "received"):  # under way, not yet verified: not blank
                return f"Not done yet: {stage.lower()}{due}"
            return f"Blank: {stage.lower()}{due}"
    if status == "verified" and item.verified_on is None:
        return "Verified, but the date is missing"
    if item.status == NOT_APPLICABLE and not (item.na_reason or "").strip():
        return "Not required, but no reason is given"
    if item.expires_on is not None and item.expires_on <= today:
        return f"Expired on {_d(item.expires_on)}"
    return None


def gaps(school, cols, rows) -> list[Gap]:
    """Every blank, overdue, expired or unexplained cell of `rows` in `cols`, in register order; a check the
    person's checklist lacks (not per country, and one their category needs) is a gap too."""
    today = school.today()
    found = []
    for r in rows:
        for c in cols:
            cell = r.cells[c.key]
            if not cell.items and not c.per_country and applies_to(c.key, r.person.category):
                found.append(Gap(r.person, c, None, "Missing from the person's checklist"))
            for item in cell.items:
                problem = item_gap(item, cell.risk, today)
                if problem:
                    found.append(Gap(r.person, c, item, problem))
    return found


def gaps_by_person(found: list[Gap]) -> list[tuple[Person, list[Gap]]]:
    """The validator's gaps grouped by person: (person, their gaps), in the order of `found` (register order,
    each person's gaps in column order)."""
    groups: dict = {}
    for gap in found:
        groups.setdefault(gap.person.id, (gap.person, []))[1].append(gap)
    return list(groups.values())


# --- exports ------------------------------------------------------------------------------------------------


def slot_title(col, country: str) -> str:
    return f"{col.title} ({country})" if country else col.title


def _slots(cols, rows) -> list[tuple]:
    """(column, country) of every check column the export needs: one per check, one per country of the
    per-country checks that some row has."""
    out = []
    for c in cols:
        countries = sorted({i.country for r in rows for i in r.cells[c.key].items})
        if not c.per_country:
            countries = [""] if "" in countries or not countries else countries
        out.extend((c, country) for country in countries)
    return out


def documents_seen(school) -> dict:
    """{item id: (document type label, reference)} of the school's checks that name the document seen (one
    query; the export's "document seen" and "document reference" columns)."""
    found = db.session.execute(
        db.select(CheckRecord.item_id, CheckRecord.document_type, CheckRecord.document_reference).where(
            CheckRecord.school_id == school.id,
            (CheckRecord.document_type != "") | (CheckRecord.document_reference != ""),
        )
    )
    return {
        item_id: (DOCUMENT_TYPE_LABELS.get(kind, kind) if kind else "", reference or "")
        for item_id, kind, reference in found
    }


def to_table(cols, rows, documents=None) -> list[list]:
    """The export: the person's columns, then status, date, expiry, who verified and the document seen (type
    and reference, from `documents`: documents_seen()) for each check (dates as dates), then derived columns
    and the later features' columns."""
    documents = documents or {}
    slots = _slots(cols, rows)
    header = (
        list(PERSON_HEADERS)
        + [f"{slot_title(c, country)}{SEPARATOR}{suffix}" for c, country in slots for suffix in CHECK_FIELDS]
        + list(DERIVED_HEADERS[:2])
        + list(rows[0].extra if rows else [])
    )
    out = [header]
    for r in rows:
        p = r.person
        line = [
            p.full_name,
            p.email or "",
            CATEGORY_LABELS.get(p.category, p.category),
            p.start_on,
            p.leave_on,
            "; ".join(p.countries or []),
            "; ".join(GROUP_LABELS.get(g, g) for g in p.groups or []),
        ]
        risks = []
        for c, country in slots:
            cell = r.cells[c.key]
            item = next((i for i in cell.items if i.country == country), None)
            if item is None:
                line += ["", None, None, "", "", ""]
                continue
            status = item.check_status or "not_started"
            line += [
                CHECK_STATUS_LABELS.get(status, status),
                item.verified_on,
                item.expires_on,
                item.verified_by or "",
                *documents.get(item.id, ("", "")),
            ]
            ra = cell.risk.get(item.id)
            if ra is not None and status != "verified":
                state = "risk assessed, signed" if ra.signed_at else "risk assessment unsigned"
                risks.append(f"{slot_title(c, country)}: {state}")
        out.append(line + ["; ".join(risks), "yes" if r.complete else "no"] + list(r.extra.values()))
    return out


def _safe(value: str) -> str:
    # A cell starting with = + - @ is a formula to a spreadsheet: never let data become one.
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    return _safe(str(value))


def to_csv(table) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf)
    for row in table:
        writer.writerow([_text(v) for v in row])
    return buf.getvalue().encode("utf-8-sig")


def to_xlsx(table, title="Recruitment register") -> bytes:
    """A workbook with real date cells, a bold frozen header (and name column) and a filter row."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    wb = Workbook(write_only=False)
    ws = wb.active
    ws.title = title[:31]
    dates = set()
    for row in table:
        out = []
        for n, v in enumerate(row):
            if isinstance(v, date):
                dates.add(n)
                out.append(v)
            else:
                out.append(None if v is None else _safe(str(v)))
        ws.append(out)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for n in dates:
        for (cell,) in ws.iter_rows(min_row=2, min_col=n + 1, max_col=n + 1):
            if isinstance(cell.value, date):
                cell.number_format = "yyyy-mm-dd"
    width = len(table[0]) if table else 1
    ws.auto_filter.ref = f"A1:{get_column_letter(max(width, 1))}{max(len(table), 1)}"
    ws.freeze_panes = "B2"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
