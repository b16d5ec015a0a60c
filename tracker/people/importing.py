"""Reading a staff register from CSV or XLSX into checked rows (no database writes here): the file is read in
import_file.py, its rows are checked here."""

from dataclasses import dataclass, field
from datetime import date, datetime

from email_validator import EmailNotValidError, validate_email

from ..validation import check_date, check_text
from . import countries as country_names
from .import_file import COLUMNS, EXTRA, MAX_ROWS, ImportFileError, read_table
from .models import CATEGORIES, GROUPS

__all__ = ["MAX_ROWS", "ImportFileError", "ImportRow", "check_rows", "read_table"]


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
        name = str(raw.get("full_name") or "").strip()
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
        category = str(raw.get("category") or "").strip().lower()
        if category not in CATEGORIES:
            errors.append(f"category “{category}” is not one of: {', '.join(CATEGORIES)}.")
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
        groups = [
            g.strip().lower().replace(" ", "_")
            for g in str(raw.get("groups") or "").replace(";", ",").split(",")
            if g.strip()
        ]
        bad_groups = [g for g in groups if g not in GROUPS]
        if bad_groups:
            errors.append(f"groups {', '.join(bad_groups)} not known (use: {', '.join(GROUPS)}).")
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
                },
                errors,
            )
        )
    return checked
