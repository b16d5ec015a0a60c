"""Reading a staff register file (CSV or XLSX) into raw rows, one row at a time, refusing a file that is not a
register or is too large as soon as that is known (people/importing.py checks the rows)."""

import csv
import io

from ..evidence.checks import UploadRejected, check_upload
from ..transactions import DomainError

COLUMNS = ("full_name", "email", "category", "start_date", "leave_date", "countries", "groups")
REQUIRED = ("full_name", "category", "start_date")
HEADER_ALIASES = {
    "name": "full_name",
    "full name": "full_name",
    "e-mail": "email",
    "email address": "email",
    "start": "start_date",
    "start date": "start_date",
    "leave date": "leave_date",
    "leaving date": "leave_date",
    "countries lived or worked in": "countries",
    "country": "countries",
    "group": "groups",
    "training groups": "groups",
}
#: columns of the register's export that are derived from the rest: read past, never imported; so is every
#: column after "Complete" (later features' columns, such as the acknowledgements)
DERIVED = ("risk_assessments", "complete")
MAX_ROWS = 5000
#: lines read in all (empty ones too) before the file is refused
MAX_LINES = 2 * MAX_ROWS
#: the longest value a cell may hold (the longest column, countries, takes 1,000); longer refuses the file
MAX_FIELD_CHARS = 2000
#: the largest shared-strings part of an .xlsx that a register of MAX_ROWS rows needs
MAX_SHARED_STRINGS_BYTES = 16 * 1024 * 1024
#: key of the values found beyond the named columns: (number of named columns, [(column number, value)])
EXTRA = "__extra__"


class ImportFileError(DomainError):
    """The file as a whole cannot be read; the message is for the user."""


def _header(name):
    key = str(name or "").strip().lower().replace("_", " ")
    key = HEADER_ALIASES.get(key, key).replace(" ", "_")
    return key


def read_table(filename: str, data: bytes, check_header=None) -> list[tuple[int, dict]]:
    """(line number, {column: raw value}) for each non-empty row of a CSV or XLSX file.

    `check_header(title)` names the columns beyond the person's (the export's per-check columns): a key for
    the row's values, or None for an unknown column.

    Rows are read one at a time and reading stops as soon as the file is known to be refused: past MAX_ROWS
    rows with values (or MAX_LINES lines in all), or at a value longer than MAX_FIELD_CHARS. Values beyond the
    named columns are kept under EXTRA for check_rows to report.
    """
    name = (filename or "").lower()
    if name.endswith(".xlsx"):
        rows = _xlsx_rows(data)
    elif name.endswith(".csv"):
        rows = _csv_rows(data)
    else:
        raise ImportFileError("Upload the register as a .csv or .xlsx file.")
    labels = []
    try:
        return _read(rows, labels, check_header)
    except _Oversized as exc:  # a value longer than the csv module reads: only its position is known
        index = exc.index
        column = (
            labels[index]
            if index is not None and index < len(labels)
            else f"column {index + 1}"
            if index is not None
            else "one of its columns"
        )
        raise ImportFileError(_too_long(exc.line, column)) from None


class _Oversized(Exception):
    """A CSV value longer than the csv module accepts, on `line`, in column `index` (None: not known)."""

    def __init__(self, line, index):
        super().__init__(line, index)
        self.line, self.index = line, index


def _headers(names, check_header):
    """The key of each column ("" for a derived one, read past), and the unknown column names."""
    header, unknown, derived = [], [], False
    for name in names:
        key = _header(name)
        if key in COLUMNS and not derived:
            header.append(key)
        elif derived or key in DERIVED:
            derived = derived or key == "complete"
            header.append("")
        elif not key:
            header.append("")
        else:
            checked = check_header(str(name).strip()) if check_header else None
            header.append(checked or key)
            if checked is None:
                unknown.append(key)
    return header, unknown


def _read(rows, labels, check_header=None):
    first = next(rows, None)
    if first is None:
        raise ImportFileError("The file is empty.")
    _, names = first
    _check_lengths(1, names, [f"column {i + 1} of the first row" for i in range(len(names))])
    header, unknown = _headers(names, check_header)
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise ImportFileError(
            f"The first row must name the columns; missing: {', '.join(missing)}. "
            f"Expected columns: {', '.join(COLUMNS)}."
        )
    if unknown:
        raise ImportFileError(
            f"Unknown column(s): {', '.join(unknown)}. Expected: {', '.join(COLUMNS)}"
            + (", and the register export's check columns." if check_header else ".")
        )
    labels.extend(
        h if h in COLUMNS else (str(names[i] or "").strip() or f"column {i + 1}")
        for i, h in enumerate(header)
    )
    out = []
    for number, raw in rows:
        if number > MAX_LINES:
            raise ImportFileError(
                f"The file goes on past line {MAX_LINES:,} (empty lines count too); a "
                f"register may have at most {MAX_ROWS:,} rows. Remove the empty lines or "
                "split the file."
            )
        if not any(str(v).strip() for v in raw if v is not None):
            continue
        if len(out) == MAX_ROWS:
            raise ImportFileError(
                f"The file has more than {MAX_ROWS:,} rows; split it into files of at most "
                f"{MAX_ROWS:,} rows and import them one after the other."
            )
        _check_lengths(number, raw, labels)
        values = {h: (raw[i] if i < len(raw) else None) for i, h in enumerate(header) if h}
        extra = [
            (i + 1, v) for i, v in enumerate(raw) if i >= len(header) and v is not None and str(v).strip()
        ]
        if extra:
            values[EXTRA] = (len(header), extra)
        out.append((number, values))
    return out


def _check_lengths(line, raw, labels):
    """Refuse the file at the first value longer than MAX_FIELD_CHARS, naming its line and column."""
    for i, value in enumerate(raw):
        if isinstance(value, str) and len(value) > MAX_FIELD_CHARS:
            column = labels[i] if i < len(labels) else f"column {i + 1}"
            raise ImportFileError(_too_long(line, column, len(value)))


def _too_long(line, column, length=None):
    # the csv module's own limit is global to the process, so it is read, never changed
    size = f"{length:,} characters" if length else f"more than {csv.field_size_limit():,} characters"
    return (
        f"Line {line}, {column}: the value is {size} long; a value may have at most {MAX_FIELD_CHARS:,}. "
        "Check that the file is the staff register (a missing quote can run many lines together), "
        "correct it and upload it again."
    )


def _csv_rows(data: bytes):
    """(line number, values) for each row of a CSV file, read one row at a time."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportFileError(
            "The file is not UTF-8 text. In your spreadsheet, save it as “CSV UTF-8”, then upload it again."
        ) from None
    if "\x00" in text:
        raise ImportFileError("The file contains NUL characters: it is not a CSV text file.")
    return _csv_records(text)


def _csv_records(text):
    lines = _Lines(io.StringIO(text, newline=""))
    reader = csv.reader(lines)
    number = 0
    while True:
        number += 1
        lines.pending.clear()
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            if "field larger than field limit" in str(exc):
                raise _Oversized(number, _oversized_column(lines.pending)) from None
            raise ImportFileError(
                f"Line {number} could not be read as CSV ({exc}). Save the file again as "
                "“CSV UTF-8” and upload it again."
            ) from None
        yield number, row


class _Lines:
    """The lines of a text, keeping those of the record being read (to find where an oversized value is)."""

    def __init__(self, source):
        self.source, self.pending = source, []

    def __iter__(self):
        return self

    def __next__(self):
        line = next(self.source)
        self.pending.append(line)
        return line


def _oversized_column(lines) -> int | None:
    """Which column (from 0) of a CSV record holds a value too long for the csv module: parse a prefix of the
    record, short enough to be read; its last (cut) value is the long one."""
    prefix = "".join(lines)[: MAX_FIELD_CHARS * (len(COLUMNS) + 2)]
    try:
        count = len(next(csv.reader(io.StringIO(prefix, newline="")), []))
    except csv.Error:
        return None
    return count - 1 if count else None


def _xlsx_rows(data: bytes):
    """(line number, values) for each row of the first worksheet, read one row at a time.

    openpyxl's load_workbook (even read-only) scans the whole sheet when the file does not state its size
    (openpyxl's own files do not): the workbook is opened step by step instead, without that scan.
    """
    try:
        check_upload("register.xlsx", data, 10 * 1024 * 1024)  # the same zip-bomb and type checks as evidence
    except UploadRejected as exc:
        raise ImportFileError(str(exc)) from None
    try:
        sheet = _first_sheet(data)
    except ImportFileError:
        raise
    except Exception:  # openpyxl raises many types for damaged files
        raise ImportFileError(UNREADABLE_XLSX) from None
    return _xlsx_records(sheet)


UNREADABLE_XLSX = "The spreadsheet could not be read. Save it again as .xlsx and retry."


def _first_sheet(data):
    from openpyxl.reader.excel import ExcelReader
    from openpyxl.styles.stylesheet import apply_stylesheet
    from openpyxl.worksheet._read_only import ReadOnlyWorksheet

    class Sheet(ReadOnlyWorksheet):
        def _get_size(self):
            """Skip openpyxl's size scan; rows are counted as they are read."""

    reader = ExcelReader(io.BytesIO(data), read_only=True, data_only=True)
    reader.read_manifest()
    strings = next(
        (i for i in reader.archive.infolist() if i.filename.lower().endswith("sharedstrings.xml")), None
    )
    if strings is not None and strings.file_size > MAX_SHARED_STRINGS_BYTES:
        raise ImportFileError(
            f"The spreadsheet holds more text than a register of {MAX_ROWS:,} rows can; "
            f"split it into files of at most {MAX_ROWS:,} rows."
        )
    reader.read_strings()
    reader.read_workbook()
    apply_stylesheet(reader.archive, reader.wb)  # date formats: dates stored as numbers read back as dates
    for sheet, rel in reader.parser.find_sheets():
        if rel.target in reader.valid_files and "chartsheet" not in rel.Type:
            return Sheet(reader.wb, sheet.name, rel.target, reader.shared_strings)
    raise ImportFileError("The spreadsheet has no worksheet.")


def _xlsx_records(sheet):
    rows = sheet.iter_rows(values_only=True, max_row=MAX_LINES + 1)
    number = 0
    while True:
        try:
            row = next(rows)
        except StopIteration:
            return
        except Exception:  # a damaged sheet fails part way through
            raise ImportFileError(UNREADABLE_XLSX) from None
        number += 1
        yield number, list(row)
