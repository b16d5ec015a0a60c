"""The item list as a file: every item the list's filters find (all pages), as CSV or XLSX.

Both read the items in batches (`yield_per`) and write each row as it comes: the CSV text is built from them,
the XLSX is written by openpyxl's write-only workbook (rows go to a temporary file, not into memory). A text
that starts like a formula (= + - @) never becomes one: CSV cells get a leading apostrophe, XLSX cells are
stored as text. Dates are real dates in the XLSX (sortable and filterable), ISO dates in the CSV.
"""

import csv
import io
from collections.abc import Iterator
from datetime import date

from ..db import db
from ..links import external_url
from .models import STATUS_LABELS
from .queries import OWN_FRAMEWORK_LABEL

HEADER = [
    "Item",
    "Term",
    "Section",
    "Framework",
    "Due date",
    "Owner",
    "Owner's e-mail",
    "Status",
    "Overdue",
    "Completed on",
    "Why it does not apply",
    "Link",
]
#: the columns holding dates (0-based), written as date cells in the XLSX
DATE_COLUMNS = (4, 9)
#: rows read from the database at a time
BATCH = 500
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

_SLOT = "00000000-0000-0000-0000-000000000000"


def _link_pattern():
    """The absolute address of an item page, as a function of the item's id (built once, not per row)."""
    head, _, tail = external_url("tracking.item", item_id=_SLOT).partition(_SLOT)
    return lambda item_id: f"{head}{item_id}{tail}"


def rows(query, today: date) -> Iterator[list]:
    """The header, then one row per item of `query` (the list's select of Item), read BATCH at a time."""
    link = _link_pattern()
    yield list(HEADER)
    result = db.session.execute(query.execution_options(yield_per=BATCH))
    for item in result.scalars():
        yield [
            item.title,
            item.occurrence if item.occurrence > 1 else "",
            item.section_title,
            item.framework.title if item.framework else OWN_FRAMEWORK_LABEL,
            item.due_on,
            item.owner.display_name if item.owner else "",
            item.owner.email if item.owner else "",
            STATUS_LABELS.get(item.status, item.status),
            "yes" if item.is_overdue(today) else "",
            item.completed_on,
            item.na_reason,
            link(item.id),
        ]


def safe_text(value) -> str:
    """A cell's text for CSV: dates as ISO dates, and a leading apostrophe before anything a spreadsheet would
    run as a formula."""
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_chunks(table: Iterator[list]) -> Iterator[bytes]:
    """The table as UTF-8 CSV with a byte-order mark (so Excel reads the accents), a few rows per chunk."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    yield "\ufeff".encode()
    for n, row in enumerate(table, 1):
        writer.writerow([safe_text(v) for v in row])
        if n % 100 == 0:
            yield buf.getvalue().encode()
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue().encode()


def xlsx_bytes(table: Iterator[list], title: str = "Items") -> bytes:
    """The table as an XLSX workbook: bold frozen header with an autofilter, date cells, text kept as text."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title[:31])
    sheet.freeze_panes = "A2"  # before the first row: write-only sheets write their views first
    widths = [40, 6, 28, 28, 12, 22, 28, 14, 9, 13, 30, 50]
    for n, width in enumerate(widths, 1):
        sheet.column_dimensions[get_column_letter(n)].width = width
    bold = Font(bold=True)
    count = 0
    for row in table:
        cells = []
        for n, value in enumerate(row):
            cell = WriteOnlyCell(sheet, value=value if value != "" else None)
            if count == 0:
                cell.font = bold
            elif n in DATE_COLUMNS and isinstance(value, date):
                cell.number_format = "yyyy-mm-dd"
            elif isinstance(value, str) and value:
                cell.data_type = "s"  # text, even when it starts with "=": never a formula
            cells.append(cell)
        sheet.append(cells)
        count += 1
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(HEADER))}{max(count, 1)}"
    buf = io.BytesIO()
    workbook.save(buf)
    return buf.getvalue()
