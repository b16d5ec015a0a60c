"""Due dates from framework timing rules, in the school's own calendar (pure functions, no database).

A school year has terms (tracker/tracking/terms.py stores them; `default_terms` when a school kept the
defaults). `occurrences` places every due date on a working day (Monday to Friday) inside a term:
- termly requirements: one occurrence per term, three to five weeks into it (`termly_date`);
- a date the timing rule gives inside a term stays there (moved off a weekend);
- a date in a holiday between terms (1 January) moves `RETURN_DAYS` days into the next term;
- a date after the last term ends (a July sign-off, an August re-approval) is an end-of-year item: it moves
  `END_DAYS` days before the last term ends; a date before the first term moves into the first term.
"""

from dataclasses import dataclass
from datetime import date

from ..dates import add_days, add_months
from ..frameworks.models import Requirement

#: days into each term at which a termly item falls (then the next working day)
TERMLY_DAYS_IN = 21
#: days after a term starts at which an item whose date fell in the holiday before it falls
RETURN_DAYS = 7
#: days before the last term ends at which an end-of-year item falls (then the working day before)
END_DAYS = 7
#: the default terms: ((months, day) of the start, (months, day) of the end) from the year's first month;
#: a day of 0 is the last day of the month before. August start: 15 Aug–15 Dec, 8 Jan–28 Mar, 15 Apr–30 Jun;
#: January start: 15 Jan–15 May, 8 Jun–28 Aug, 15 Sep–30 Nov.
DEFAULT_TERMS = (
    ("Term 1", (0, 15), (4, 15)),
    ("Term 2", (5, 8), (7, 28)),
    ("Term 3", (8, 15), (11, 0)),
)


@dataclass(frozen=True)
class Term:
    """One term of a school year: its name and first and last days."""

    name: str
    starts_on: date
    ends_on: date

    def __contains__(self, day: date) -> bool:
        return self.starts_on <= day <= self.ends_on


def year_start(start_year: int, start_month: int) -> date:
    """The first day of the academic year that begins in `start_month` of `start_year`."""
    return date(start_year, start_month, 1)


def year_label(starts_on: date) -> str:
    ends = add_months(starts_on, 11, 1)
    return str(starts_on.year) if ends.year == starts_on.year else f"{starts_on.year}–{str(ends.year)[-2:]}"


def year_end(starts_on: date) -> date:
    return add_days(add_months(starts_on, 12, 1), -1)


def _offset(starts_on: date, months: int, day: int) -> date:
    if day == 0:
        return add_days(add_months(starts_on, months, 1), -1)
    return add_months(starts_on, months, day)


def default_terms(starts_on: date) -> list[Term]:
    """Three terms for the year beginning `starts_on`, in either hemisphere (from the year's own months)."""
    return [
        Term(name, _offset(starts_on, *start), _offset(starts_on, *end)) for name, start, end in DEFAULT_TERMS
    ]


def is_working_day(day: date) -> bool:
    return day.weekday() < 5


def working_day_in(term: Term, day: date) -> date:
    """The working day on or after `day` inside `term`, else the last working day of the term before `day`
    (`day` is held inside the term first); the term's first day when it has no working day at all."""
    day = min(max(day, term.starts_on), term.ends_on)
    forward = day
    while not is_working_day(forward):
        forward = add_days(forward, 1)
    if forward <= term.ends_on:
        return forward
    back = day
    while not is_working_day(back) and back > term.starts_on:
        back = add_days(back, -1)
    return back if is_working_day(back) else term.starts_on


def place(day: date, terms: list[Term]) -> date:
    """`day` moved onto a working day inside one of `terms` (see the module's docstring)."""
    terms = sorted(terms, key=lambda t: t.starts_on)
    if not terms:
        return day
    for term in terms:
        if day in term:
            return working_day_in(term, day)
        if day < term.starts_on:  # in the holiday before this term (or before the first one)
            return working_day_in(term, add_days(term.starts_on, RETURN_DAYS))
    last = terms[-1]
    return _before_end(last)


def _before_end(term: Term) -> date:
    """The working day `END_DAYS` before `term` ends (or the working day before that)."""
    target = max(term.starts_on, add_days(term.ends_on, -END_DAYS))
    day = target
    while not is_working_day(day) and day > term.starts_on:
        day = add_days(day, -1)
    return day if is_working_day(day) else working_day_in(term, target)


def termly_date(term: Term, day: int = 1) -> date:
    """A termly item's date: `TERMLY_DAYS_IN` days into the term, and half a day more for each `day` of its
    timing after the 1st (day 28: about five weeks in), so termly items spread out; a working day before the
    term's last week."""
    target = add_days(term.starts_on, TERMLY_DAYS_IN + (max(day, 1) - 1) // 2)
    if target > add_days(term.ends_on, -END_DAYS):
        target = add_days(term.starts_on, (term.ends_on - term.starts_on).days // 2)
    return working_day_in(term, target)


def occurrences(
    requirement: Requirement, starts_on: date, terms: list[Term] | None = None
) -> list[tuple[int, date]]:
    """(occurrence number, due date) of a school-year requirement in the year beginning `starts_on`, placed
    in `terms` (the year's terms; the default terms when None)."""
    if terms is None:
        terms = default_terms(starts_on)
    terms = sorted(terms, key=lambda t: t.starts_on)
    timing = requirement.timing or {}
    month, day = timing.get("month", 0), timing.get("day", 1)
    if requirement.repeat == "termly":
        return [(n + 1, termly_date(term, day)) for n, term in enumerate(terms)]
    return [(1, place(add_months(starts_on, month, day), terms))]
