"""Gather what a report shows into plain data, in a fixed number of queries whatever the school's size.

The data is plain dicts and lists (JSON-able), so that its SHA-256 is the cache key: the same data gives the
same PDF, and any change to what the report shows gives a new draft. The data is gathered by section:
data_common.py (what every report shares), data_years.py (the accreditation and framework reports) and
data_people.py (the register and training reports); this module is the one the reports' services use.
"""

from .data_common import LAYOUT_VERSION, data_hash
from .data_people import recruitment_register, register_summary, training_record, training_summary
from .data_years import accreditation, framework

__all__ = [
    "LAYOUT_VERSION",
    "accreditation",
    "data_hash",
    "framework",
    "recruitment_register",
    "register_summary",
    "training_record",
    "training_summary",
]
