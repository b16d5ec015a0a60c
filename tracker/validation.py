"""What a value must look like before it is stored: the date policy and the text checks.

Dates: every date a person can enter is of one KIND (something that happened, a due date, a start date, an
expiry ...), and each kind has a plausible window around today (`DATE_WINDOWS`). `check_date(kind, value)`
returns the message for a date outside its window (or None); `DatePolicy(kind)` is the same rule as a form
validator. Forms, imports and the CLI all use these, so a year 0001 or 9999 never reaches the database.
Date arithmetic that cannot overflow (add_days, add_months, add_years) lives in tracker/dates.py.

Text: `SingleLine()` refuses control characters (Unicode category Cc, and the line and paragraph separators
U+2028/U+2029) in one-line fields (names, titles, e-mail, tags ...); `MultiLine()` allows new lines and tabs
but refuses the other control characters (NUL ...). `forms_common.Form` adds them to every text field.
"""

import unicodedata
from dataclasses import dataclass
from datetime import date

from wtforms.validators import ValidationError

from .dates import add_days
from .db import utcnow

#: nothing the tracker records happened before this day
FLOOR = date(1950, 1, 1)


@dataclass(frozen=True)
class DateWindow:
    """The allowed range of one kind of date: `back`/`ahead` are days from today (None: FLOOR / today)."""

    what: str  # used in the message: "the date of something that has happened"
    back: int | None  # days before today allowed; None means back to FLOOR
    ahead: int  # days after today allowed

    def bounds(self, today: date) -> tuple[date, date]:
        low = FLOOR if self.back is None else max(FLOOR, add_days(today, -self.back))
        return low, add_days(today, self.ahead)


_YEAR = 365
#: kind -> window. happened: completion, verification, training and evidence dates (a week of slack for time
#: zones and paperwork done ahead); due: due and review dates of a school year; start/leave: the register;
#: expiry: documents valid for many years; access: the last day of a member's access (the past is refused
#: by the invitation itself, with its own message).
DATE_WINDOWS = {
    "happened": DateWindow("a date on which something happened", None, 7),
    "due": DateWindow("a due or review date", 10 * _YEAR, 5 * _YEAR),
    "start": DateWindow("a start date", 60 * _YEAR, 2 * _YEAR),
    "leave": DateWindow("a leaving date", 60 * _YEAR, 5 * _YEAR),
    "expiry": DateWindow("an expiry date", None, 20 * _YEAR),
    "access": DateWindow("the last day of access", None, 5 * _YEAR),
}


def today_utc() -> date:
    return utcnow().date()


def _day(d: date) -> str:
    return f"{d.day} {d:%B} {d.year}"


def date_bounds(kind: str, today: date | None = None) -> tuple[date, date]:
    return DATE_WINDOWS[kind].bounds(today or today_utc())


def check_date(kind: str, value, today: date | None = None) -> str | None:
    """The message for a date outside the window of its kind, or None when it is fine (or empty).

    For imports and the CLI; forms use `DatePolicy`. Raises KeyError for an unknown kind."""
    window = DATE_WINDOWS[kind]
    if value is None:
        return None
    low, high = window.bounds(today or today_utc())
    if low <= value <= high:
        return None
    return f"Give a date between {_day(low)} and {_day(high)} ({window.what}); check the year."


class DatePolicy:
    """Form validator: the field's date must lie in the window of `kind` (see DATE_WINDOWS)."""

    def __init__(self, kind: str):
        if kind not in DATE_WINDOWS:
            raise ValueError(f"unknown date kind {kind!r}; one of {sorted(DATE_WINDOWS)}")
        self.kind = kind

    def __call__(self, form, field):
        message = check_date(self.kind, field.data)
        if message:
            raise ValidationError(message)


# --- text ---------------------------------------------------------------------------------------------------

_SEPARATORS = {"\u2028", "\u2029"}
_MULTI_LINE_ALLOWED = {"\n", "\r", "\t"}  # browsers send a textarea's new lines as \r\n


def bad_characters(value: str, multi_line: bool = False) -> list[str]:
    """The control characters of `value` not allowed in a single-line (or multi-line) text, as U+XXXX."""
    allowed = _MULTI_LINE_ALLOWED if multi_line else set()
    found = []
    for ch in value:
        if ch in allowed:
            continue
        if (not multi_line and ch in _SEPARATORS) or unicodedata.category(ch) == "Cc":
            code = f"U+{ord(ch):04X}"
            if code not in found:
                found.append(code)
    return found


def check_text(value, multi_line: bool = False) -> str | None:
    """The message for text with characters it cannot carry, or None."""
    if not isinstance(value, str):
        return None
    found = bad_characters(value, multi_line)
    if not found:
        return None
    where = "this text" if multi_line else "a one-line field (no line breaks or tabs)"
    return (
        f"Remove the invisible control characters ({', '.join(found[:5])}): they cannot go in {where}. "
        "Type the text again rather than pasting it."
    )


class SingleLine:
    """Form validator: no control characters at all (names, titles, e-mail, tags ...)."""

    multi_line = False

    def __call__(self, form, field):
        message = check_text(field.data, self.multi_line)
        if message:
            raise ValidationError(message)


class MultiLine(SingleLine):
    """Form validator: new lines and tabs are fine, other control characters (NUL ...) are not."""

    multi_line = True
