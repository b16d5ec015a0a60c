"""Due dates from framework timing rules, in the school's own calendar (pure functions, no database)."""

from datetime import date

from ..dates import add_days, add_months
from ..frameworks.models import Requirement

TERM_GAP_MONTHS = 4


def year_start(start_year: int, start_month: int) -> date:
    """The first day of the academic year that begins in `start_month` of `start_year`."""
    return date(start_year, start_month, 1)


def year_label(starts_on: date) -> str:
    ends = add_months(starts_on, 11, 1)
    return str(starts_on.year) if ends.year == starts_on.year else f"{starts_on.year}–{str(ends.year)[-2:]}"


def year_end(starts_on: date) -> date:
    return add_days(add_months(starts_on, 12, 1), -1)


def occurrences(requirement: Requirement, starts_on: date) -> list[tuple[int, date]]:
    """(occurrence number, due date) of a school-year requirement in the year beginning `starts_on`."""
    timing = requirement.timing or {}
    month, day = timing.get("month", 0), timing.get("day", 1)
    if requirement.repeat == "termly":
        return [(n + 1, add_months(starts_on, (month + n * TERM_GAP_MONTHS) % 12, day)) for n in range(3)]
    return [(1, add_months(starts_on, month, day))]
