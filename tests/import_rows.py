"""Checked register-import rows for the import tests that call bulk_import.import_rows directly (the checks
a file's rows pass before an import: tracker/people/importing.check_rows)."""

from datetime import date

from tracker.people.importing import check_rows

TODAY = date(2026, 11, 23)


def checked_rows(n, start=0, *, label="Person"):
    """`n` valid rows (people `start` to `start + n - 1`): four categories, one in three without an e-mail
    (matched by name and start date), every other one with two countries, start dates spread over 2026."""
    raw = [
        (
            i + 2,
            {
                "full_name": f"{label} {i:04d}",
                "email": f"{label.split()[0].lower()}{i}@example.org" if i % 3 else "",
                "category": ["Teaching staff", "Support staff", "Volunteer", "Contractor"][i % 4],
                "start_date": f"2026-0{1 + i % 9}-01",
                "countries": "Kenya; France" if i % 2 else "",
                "groups": "",
            },
        )
        for i in range(start, start + n)
    ]
    checked = check_rows(raw, today=TODAY)
    assert all(r.ok for r in checked), [r.errors for r in checked if not r.ok][:3]
    return [r.values for r in checked]
