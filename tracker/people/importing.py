"""Reading a staff register from CSV or XLSX into checked rows (no database writes here): the file is read in
import_file.py, its rows are checked here.

The import accepts what the register shows and exports: category, group and check-status labels as well as
their keys, country names as people write them, and the export's per-check columns ("<check> — status",
"— date", "— expires"; "— verified by", "— document seen", "— document reference" and the derived columns are
read past).
"""

from dataclasses import dataclass, field
from datetime import date, datetime

from email_validator import EmailNotValidError, validate_email

from ..validation import check_date, check_text
from . import countries as country_names
from .checklist import recruitment_framework
from .import_file import COLUMNS, EXTRA, MAX_ROWS, ImportFileError, read_table
from .models import CATEGORIES, CATEGORY_LABELS, CHECK_STATUS_LABELS, CHECK_STATUSES, GROUP_LABELS, GROUPS

__all__ = [
    "MAX_ROWS",
    "ImportFileError",
    "ImportRow",
    "check_header",
    "check_rows",
    "read_register",
    "read_table",
]

#: the export's per-check column suffixes (people/register.py CHECK_FIELDS) -> what the import reads
CHECK_SUFFIXES = {
    "status": "status",
    "date": "date",
    "expires": "expires",
    "verified by": "",
    "document seen": "",
    "document reference": "",
}
CHECK_PREFIX = "check|"


def _folded(text) -> str:
    return " ".join(str(text or "").replace("_", " ").split()).casefold()


#: a label or key as people write it -> the key
CATEGORY_NAMES = {
    **{_folded(k): k for k in CATEGORIES},
    **{_folded(v): k for k, v in CATEGORY_LABELS.items()},
}
GROUP_NAMES = {**{_folded(k): k for k in GROUPS}, **{_folded(v): k for k, v in GROUP_LABELS.items()}}
STATUS_NAMES = {
    **{_folded(k): k for k in CHECK_STATUSES},
    **{_folded(v): k for k, v in CHECK_STATUS_LABELS.items()},
    "not applicable": "not_required",
    "n/a": "not_required",
}


def check_header(title: str) -> str | None:
    """The row key of an export's check column ("check|<requirement key>|<country>|<field>", field empty for
    a column read past), or None when `title` is not one."""
    for separator in (" — ", " – ", " - "):
        base, sep, suffix = title.rpartition(separator)
        if sep and _folded(suffix) in CHECK_SUFFIXES:
            break
    else:
        return None
    field = CHECK_SUFFIXES[_folded(suffix)]
    framework = recruitment_framework()
    by_title = {_folded(r.title): r for r in (framework.requirements if framework else [])}
    requirement, country = by_title.get(_folded(base)), ""
    if requirement is None and base.endswith(")") and " (" in base:
        name, _, country = base[:-1].rpartition(" (")
        requirement = by_title.get(_folded(name))
        country = country_names.canonical(country) or ""
        if requirement is None or not requirement.per_country or not country:
            return None
    if requirement is None:
        return None
    return f"{CHECK_PREFIX}{requirement.key}|{country}|{field}"


def read_register(filename: str, data: bytes) -> list[tuple[int, dict]]:
    """read_table() that also reads the export's check columns."""
    return read_table(filename, data, check_header=check_header)


def _unsafe(value):
    """The value a formula-safe export wrote with a leading apostrophe ("'=x" was "=x")."""
    if isinstance(value, str) and value[:1] == "'" and value[1:2] in ("=", "+", "-", "@", "\t", "\r"):
        return value[1:]
    return value


@dataclass
class ImportRow:
    line: int
    values: dict
    errors: list = field(default_factory=list)

    @property
    def ok(self):
        return not self.errors


def _date(value, label, errors, required=False):
    if value in (None, ""):
        if required:
            errors.append(f"{label} is missing.")
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    for fmt in ("%Y-%m-%d", "%d/%m/%Y", "%d.%m.%Y"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    errors.append(f"{label} “{text}” is not a date: write it as YYYY-MM-DD.")
    return None


def check_rows(rows: list[tuple[int, dict]], today: date | None = None) -> list[ImportRow]:
    """Check every row; each error names the column and what is wrong. Dates must lie in the window of their
    kind around `today` (the school's day; tracker/validation.py)."""
    checked, seen_emails = [], {}
    titles = _titles() if any(k.startswith(CHECK_PREFIX) for _, raw in rows[:1] for k in raw) else {}
    for line, raw in rows:
        errors = []
        if EXTRA in raw:
            named, extra = raw[EXTRA]
            errors.append(
                f"this line has values beyond the {named} named columns (column "
                f"{', '.join(str(n) for n, _ in extra[:3])}): put quotes around a value that "
                "contains a comma, or remove the extra values."
            )
        for column in COLUMNS:
            message = check_text(raw.get(column))
            if message:
                errors.append(f"{column}: {message}")
        name = str(_unsafe(raw.get("full_name")) or "").strip()
        if not name:
            errors.append("full_name is missing.")
        elif len(name) > 200:
            errors.append("full_name is longer than 200 characters.")
        email = str(raw.get("email") or "").strip().lower() or None
        if email:
            try:
                email = validate_email(email, check_deliverability=False).normalized.lower()
            except EmailNotValidError:
                errors.append(f"email “{email}” is not a valid address.")
            if email in seen_emails:
                errors.append(f"email {email} is also on line {seen_emails[email]}.")
            else:
                seen_emails[email] = line
        category_text = str(raw.get("category") or "").strip()
        category = CATEGORY_NAMES.get(_folded(category_text), "")
        if not category:
            errors.append(
                f"category “{category_text}” is not one of: "
                + ", ".join(f"{CATEGORY_LABELS[c]} ({c})" for c in CATEGORIES)
                + "."
            )
        start_on = _date(raw.get("start_date"), "start_date", errors, required=True)
        leave_on = _date(raw.get("leave_date"), "leave_date", errors)
        for label, kind, value in (("start_date", "start", start_on), ("leave_date", "leave", leave_on)):
            message = check_date(kind, value, today)
            if message:
                errors.append(f"{label} {value.isoformat()}: {message}")
                start_on, leave_on = (None, leave_on) if kind == "start" else (start_on, None)
        if start_on and leave_on and leave_on < start_on:
            errors.append("leave_date is before start_date.")
        if len(str(raw.get("countries") or "")) > 1000:
            errors.append("countries is longer than 1000 characters.")
        known, unknown = country_names.parse_list(str(raw.get("countries") or "")[:1000])
        if unknown:
            errors.append(f"unknown countr{'y' if len(unknown) == 1 else 'ies'}: {', '.join(unknown)}.")
        named = [g.strip() for g in str(raw.get("groups") or "").replace(";", ",").split(",") if g.strip()]
        groups = [GROUP_NAMES.get(_folded(g), g) for g in named]
        bad_groups = [g for g in groups if g not in GROUPS]
        if bad_groups:
            errors.append(
                f"groups {', '.join(bad_groups)} not known (use: "
                + ", ".join(f"{GROUP_LABELS[g]} ({g})" for g in GROUPS)
                + ")."
            )
        checked.append(
            ImportRow(
                line,
                {
                    "full_name": name,
                    "email": email,
                    "category": category,
                    "start_on": start_on.isoformat() if start_on else None,
                    "leave_on": leave_on.isoformat() if leave_on else None,
                    "countries": known,
                    "groups": [g for g in groups if g in GROUPS],
                    "checks": _checks(raw, errors, today, titles),
                },
                errors,
            )
        )
    return checked


def _titles() -> dict:
    framework = recruitment_framework()
    return {r.key: r.title for r in (framework.requirements if framework else [])}


def _checks(raw: dict, errors: list, today, titles: dict) -> list:
    """[requirement key, country, status, verified on, expires on] for each check the row's export columns
    fill in (dates as ISO text); an empty check column changes nothing."""
    found = {}
    for column, value in raw.items():
        if not column.startswith(CHECK_PREFIX):
            continue
        key, country, field = column[len(CHECK_PREFIX) :].split("|")
        if field and value not in (None, ""):
            found.setdefault((key, country), {})[field] = value
    out = []
    for (key, country), values in found.items():
        title = titles.get(key, key) + (f" ({country})" if country else "")
        status_text = str(values.get("status") or "").strip()
        status = STATUS_NAMES.get(_folded(status_text))
        if status is None:
            errors.append(
                f"{title}: status “{status_text}” is not one of: "
                + ", ".join(CHECK_STATUS_LABELS.values())
                + "."
                if status_text
                else f"{title}: give the status beside its dates."
            )
            continue
        verified_on = _date(values.get("date"), f"{title} date", errors)
        expires_on = _date(values.get("expires"), f"{title} expires", errors)
        for label, kind, value in (
            (f"{title} date", "happened", verified_on),
            (f"{title} expires", "expiry", expires_on),
        ):
            message = check_date(kind, value, today)
            if message:
                errors.append(f"{label} {value.isoformat()}: {message}")
        if verified_on and status != "verified":
            errors.append(
                f"{title}: the date is the day the check was verified; leave it empty unless the status is "
                "Verified."
            )
        out.append(
            [
                key,
                country,
                status,
                verified_on.isoformat() if verified_on else None,
                expires_on.isoformat() if expires_on else None,
            ]
        )
    return sorted(out, key=lambda c: (c[0], c[1]))
