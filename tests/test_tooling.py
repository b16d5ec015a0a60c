"""The rules that keep the tree one way: the lock files match pyproject.toml, dates move in one module and
pages are counted in one (tracker/dates.py, tracker/pagination.py)."""

import re
import tomllib
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from tracker.dates import add_days, add_months, add_years, month_starts

from .world import sign_in

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)\s*(?:;\s*([^\\]+?))?\s*\\?$")


def _lock(name: str) -> dict:
    """{package: [(version, marker or None, hashed)]} of a lock file."""
    pins: dict = {}
    lines = (ROOT / name).read_text().splitlines()
    for i, line in enumerate(lines):
        match = PIN.match(line)
        if match:
            hashed = i + 1 < len(lines) and lines[i + 1].strip().startswith("--hash=sha256:")
            pins.setdefault(canonicalize_name(match[1]), []).append(
                (Version(match[2]), match[3] and Marker(match[3]), hashed)
            )
    return pins


RUNTIME = PYPROJECT["project"]["dependencies"]
EXTRAS = PYPROJECT["project"]["optional-dependencies"]
LOCKS = {
    "requirements.lock": RUNTIME,
    "requirements-test.lock": RUNTIME + [r for extra in ("test", "bench") for r in EXTRAS[extra]],
}


@pytest.mark.parametrize("lock", sorted(LOCKS))
def test_every_dependency_of_pyproject_is_pinned_in_the_lock_at_a_version_it_allows(lock):
    pins = _lock(lock)
    problems = []
    for text in LOCKS[lock]:
        requirement = Requirement(text)
        found = pins.get(canonicalize_name(requirement.name))
        if not found:
            problems.append(f"{text}: not in {lock}")
            continue
        problems += [
            f"{text}: {lock} pins {version}"
            for version, _, _ in found
            if not requirement.specifier.contains(version, prereleases=True)
        ]
    assert not problems, "run `make lock`:\n" + "\n".join(problems)


@pytest.mark.parametrize("lock", sorted(LOCKS))
def test_every_pin_of_a_lock_is_hashed_and_one_version_per_environment(lock):
    pins = _lock(lock)
    assert pins, f"{lock} pins nothing"
    assert not [name for name, found in pins.items() if not all(hashed for _, _, hashed in found)]
    assert not [name for name, found in pins.items() if len(found) > 1 and not all(m for _, m, _ in found)]


def test_the_two_locks_agree_on_every_version_they_share():
    app, test = _lock("requirements.lock"), _lock("requirements-test.lock")
    assert set(app) <= set(test)
    assert {n: [(v, str(m)) for v, m, _ in found] for n, found in app.items()} == {
        n: [(v, str(m)) for v, m, _ in test[n]] for n in app
    }


def test_every_dependency_has_an_upper_bound():
    unbounded = [
        text
        for text in RUNTIME + [r for reqs in EXTRAS.values() for r in reqs]
        if not any(s.operator in ("<", "<=", "==", "~=") for s in Requirement(text).specifier)
    ]
    assert not unbounded


def test_make_installs_from_the_locks_and_lints():
    makefile = (ROOT / "Makefile").read_text()
    assert "pip install -q -r requirements.lock" in makefile
    assert "pip install -q -r requirements-test.lock" in makefile
    assert "pip install -q --no-deps -e ." in makefile
    assert re.search(r"^test: .*\blint\b", makefile, re.M) and "ruff check" in makefile
    assert PYPROJECT["tool"]["ruff"]["line-length"] == 110


# --- one implementation of date arithmetic and of pagination -----------------------------------------------

#: hand-written month and year arithmetic; tracker/dates.py is the one place dates move by months or years
DATE_ARITHMETIC = re.compile(
    r"\.replace\((year|month|day)=|//\s*12\b|\.month\s*[-+]"
    r"|\bdef add_(days|months|years)\b|relativedelta"
)
#: reading ?page= or slicing a query into pages; tracker/pagination.py is the one place that does it
PAGING = re.compile(r"""args\.get\(\s*["']page["']|\.offset\(|\bper_page\s*\*|\*\s*per_page\b""", re.I)


def _sources_matching(pattern, allowed):
    return [
        f"{path.relative_to(ROOT)}:{n}: {line.strip()}"
        for path in sorted((ROOT / "tracker").rglob("*.py"))
        if path.relative_to(ROOT).as_posix() != allowed
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if pattern.search(line) and not line.lstrip().startswith("#")
    ]


def test_dates_move_by_months_and_years_only_in_tracker_dates():
    assert _sources_matching(DATE_ARITHMETIC, "tracker/dates.py") == []


def test_pages_are_read_and_cut_only_in_tracker_pagination():
    assert _sources_matching(PAGING, "tracker/pagination.py") == []


def _months_later(d, months, day):
    """The reference: year and month counted by hand, the day held at 28."""
    index = d.year * 12 + d.month - 1 + months
    return date(index // 12, index % 12 + 1, min(day or d.day, 28))


@given(st.dates(), st.integers(-240, 240), st.sampled_from([None, 1, 15, 28]))
def test_add_months_is_the_month_counted_by_hand_and_holds_at_the_ends_of_the_calendar(d, months, day):
    index = d.year * 12 + d.month - 1 + months
    if index < 12:
        assert add_months(d, months, day) == date.min
    elif index >= 10000 * 12:
        assert add_months(d, months, day) == date.max
    else:
        assert add_months(d, months, day) == _months_later(d, months, day)


@given(st.dates(), st.integers(-30, 30))
def test_add_years_keeps_the_day_but_29_february_and_holds_at_the_ends(d, years):
    year = d.year + years
    expected = (
        date.min
        if year < 1
        else date.max
        if year > 9999
        else date(
            year,
            d.month,
            28 if (d.month, d.day) == (2, 29) and (year % 4 or year % 400 in (100, 200, 300)) else d.day,
        )
    )
    assert add_years(d, years) == expected


def test_the_calendar_edges():
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2026, 8, 15), 12, 1) == date(2027, 8, 1)
    assert add_years(date(2024, 2, 29), -1) == date(2023, 2, 28)
    assert add_years(date(2024, 2, 29), 4) == date(2028, 2, 29)
    assert add_days(date.max, 1) == date.max and add_days(date.min, -1) == date.min
    august_to_july = [date(2026 + (m > 4), (7 + m) % 12 + 1, 1) for m in range(12)]
    assert month_starts(date(2026, 8, 1), 12) == august_to_july


@pytest.mark.parametrize(
    "page, status", [("0", 400), ("abc", 400), ("-1", 400), ("\u00b2", 400), ("1", 200), ("999", 404)]
)
def test_the_library_pages_through_the_one_pagination(app, make_school, make_member, page, status):
    school = make_school()
    client = sign_in(app.test_client(), make_member(school, "lead").user)
    response = client.get(f"/s/{school.slug}/library/", query_string={"q": "safeguarding", "page": page})
    assert response.status_code == status
    if status == 400:
        assert "The page number must be a whole number from 1." in response.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/s/{slug}/people/", "/s/{slug}/audit", "/s/{slug}/reminders/outbox"])
def test_a_page_number_of_other_digits_is_a_bad_request_not_an_error(app, make_school, make_member, path):
    school = make_school()
    client = sign_in(app.test_client(), make_member(school, "lead").user)
    response = client.get(path.format(slug=school.slug), query_string={"page": "\u00b2"})
    assert response.status_code == 400
