"""The framework's own order of its sections ("Phase 1" ... "Phase 6"), for every list that groups a year's
items by section: the dashboard's progress, the reports. Never by title or by the first due date, which put
"Phase 5: Students" before "Phase 4: Parents and caregivers"."""

from ..db import db
from ..frameworks.models import Framework, FrameworkSection
from .models import SchoolYearFramework

#: where a section the year's frameworks do not hold (the school's own items) goes: after the others
LAST = 10**6


def section_positions(year) -> dict:
    """{(framework id, section title): position} and {(framework title, section title): position} of the
    sections of the framework versions `year` tracks, in one query."""
    rows = db.session.execute(
        db.select(Framework.id, Framework.title, FrameworkSection.title, FrameworkSection.position)
        .join(FrameworkSection, FrameworkSection.framework_id == Framework.id)
        .join(SchoolYearFramework, SchoolYearFramework.framework_id == Framework.id)
        .where(SchoolYearFramework.year_id == year.id)
    ).all()
    out = {}
    for fw_id, fw_title, section, position in rows:
        out.setdefault((fw_id, section), position)
        out.setdefault((fw_title, section), position)
    return out


def item_key(positions: dict):
    """A sort key for items: their section in the framework's order, then due date and title."""

    def key(item):
        return (positions.get((item.framework_id, item.section_title), LAST), item.due_on, item.title)

    return key
