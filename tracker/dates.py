"""Date arithmetic (days, months, years) that cannot overflow: the one place the tracker moves a date.

Months and years go through `dateutil.relativedelta`; every result past date.max or before date.min is held
there instead of raising, so a row stored before the date policy (tracker/validation.py) cannot break a page.
"""

from datetime import date, timedelta

from dateutil.relativedelta import relativedelta


def _moved(d: date, step: relativedelta, forward: bool) -> date:
    try:
        return d + step
    except (ValueError, OverflowError):  # a year past 9999 or before 1
        return date.max if forward else date.min


def add_days(d: date, days: int) -> date:
    """`d` + `days`, held at date.min / date.max instead of overflowing."""
    try:
        return d + timedelta(days=days)
    except OverflowError:
        return date.max if days > 0 else date.min


def add_years(d: date, years: int) -> date:
    """The same day `years` later (28 February for 29 February), held at date.min / date.max."""
    return _moved(d, relativedelta(years=years), years > 0)


def add_whole_months(d: date, months: int) -> date:
    """The same day `months` later, or the last day of that month when it has no such day (31 January + 1
    month is 28 or 29 February); held at date.min / date.max."""
    return _moved(d, relativedelta(months=months), months > 0)


def add_months(d: date, months: int, day: int | None = None) -> date:
    """`day` (d's own day when None), at most 28, of the month `months` after d's month.

    Held at date.min / date.max. Day 28 at most, so the result is a valid date in every month."""
    return _moved(d, relativedelta(months=months, day=min(day if day is not None else d.day, 28)), months > 0)


def month_starts(first: date, count: int) -> list[date]:
    """The first days of `count` months in a row, from the month of `first`."""
    return [add_months(first, n, 1) for n in range(count)]
