"""Reading a staff register from CSV or XLSX into checked rows (no database writes here)."""
import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime

from email_validator import EmailNotValidError, validate_email

from . import countries as country_names
from .models import CATEGORIES, GROUPS

COLUMNS = ("full_name", "email", "category", "start_date", "leave_date", "countries", "groups")
REQUIRED = ("full_name", "category", "start_date")
HEADER_ALIASES = {"name": "full_name", "full name": "full_name", "e-mail": "email", "email address": "email",
                  "start": "start_date", "start date": "start_date", "leave date": "leave_date",
                  "leaving date": "leave_date", "countries lived or worked in": "countries", "country": "countries"}
MAX_ROWS = 5000


class ImportFileError(ValueError):
    """The file as a whole cannot be read; the message is for the user."""


@dataclass
class ImportRow:
    line: int
    values: dict
    errors: list = field(default_factory=list)

    @property
    def ok(self):
        return not self.errors


def _header(name):
    key = str(name or "").strip().lower().replace("_", " ")
    key = HEADER_ALIASES.get(key, key).replace(" ", "_")
    return key


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


def read_table(filename: str, data: bytes) -> list[tuple[int, dict]]:
    """(line number, {column: raw value}) for each non-empty row of a CSV or XLSX file."""
    name = (filename or "").lower()
    if name.endswith(".xlsx"):
        rows = _xlsx_rows(data)
    elif name.endswith(".csv"):
        rows = _csv_rows(data)
    else:
        raise ImportFileError("Upload the register as a .csv or .xlsx file.")
    if not rows:
        raise ImportFileError("The file is empty.")
    header = [_header(h) for h in rows[0]]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise ImportFileError(f"The first row must name the columns; missing: {', '.join(missing)}. "
                              f"Expected columns: {', '.join(COLUMNS)}.")
    unknown = [h for h in header if h and h not in COLUMNS]
    if unknown:
        raise ImportFileError(f"Unknown column(s): {', '.join(unknown)}. Expected: {', '.join(COLUMNS)}.")
    out = []
    for number, raw in enumerate(rows[1:], start=2):
        if not any(str(v).strip() for v in raw if v is not None):
            continue
        out.append((number, {h: (raw[i] if i < len(raw) else None) for i, h in enumerate(header) if h}))
    if len(out) > MAX_ROWS:
        raise ImportFileError(f"The file has more than {MAX_ROWS} rows; split it.")
    return out


def _csv_rows(data: bytes):
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportFileError("The file is not UTF-8 text. In your spreadsheet, save it as "
                              "“CSV UTF-8”, then upload it again.") from None
    if "\x00" in text:
        raise ImportFileError("The file contains NUL characters: it is not a CSV text file.")
    return [row for row in csv.reader(io.StringIO(text))]


def _xlsx_rows(data: bytes):
    from openpyxl import load_workbook

    from ..evidence.checks import UploadRejected, check_upload

    try:
        check_upload("register.xlsx", data, 10 * 1024 * 1024)  # the same zip-bomb and type checks as evidence
    except UploadRejected as exc:
        raise ImportFileError(str(exc)) from None
    try:
        sheet = load_workbook(io.BytesIO(data), read_only=True, data_only=True).worksheets[0]
        return [list(row) for row in sheet.iter_rows(values_only=True)]
    except Exception:  # openpyxl raises many types for damaged files
        raise ImportFileError("The spreadsheet could not be read. Save it again as .xlsx and retry.") from None


def check_rows(rows: list[tuple[int, dict]]) -> list[ImportRow]:
    """Check every row; each error names the column and what is wrong."""
    checked, seen_emails = [], {}
    for line, raw in rows:
        errors = []
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
        if start_on and leave_on and leave_on < start_on:
            errors.append("leave_date is before start_date.")
        known, unknown = country_names.parse_list(str(raw.get("countries") or ""))
        if unknown:
            errors.append(f"unknown countr{'y' if len(unknown) == 1 else 'ies'}: {', '.join(unknown)}.")
        groups = [g.strip().lower().replace(" ", "_") for g in str(raw.get("groups") or "").replace(";", ",")
                  .split(",") if g.strip()]
        bad_groups = [g for g in groups if g not in GROUPS]
        if bad_groups:
            errors.append(f"groups {', '.join(bad_groups)} not known (use: {', '.join(GROUPS)}).")
        checked.append(ImportRow(line, {
            "full_name": name, "email": email, "category": category,
            "start_on": start_on.isoformat() if start_on else None,
            "leave_on": leave_on.isoformat() if leave_on else None,
            "countries": known, "groups": [g for g in groups if g in GROUPS],
        }, errors))
    return checked
