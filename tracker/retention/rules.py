"""The kinds of record a retention rule covers, their defaults (and why), and the school's periods within the
installation's limits (TRACKER_RETENTION_<KIND>_MIN_MONTHS / _MAX_MONTHS in tracker/config.py)."""

from dataclasses import dataclass

from flask import current_app

from ..db import db
from .models import RetentionRule

LEAVERS, POLICE_CERTIFICATES, PROGRAMME = "leavers", "police_certificates", "programme"


@dataclass(frozen=True)
class Kind:
    key: str
    title: str
    #: what the period counts from
    counted_from: str
    #: what happens when the period is over
    removal: str
    default_months: int
    why: str


#: the defaults, in our own words; a school sets its own (Retention page) within the installation's limits
KINDS = {
    LEAVERS: Kind(
        LEAVERS,
        "Leavers' personal details on the register",
        "the day they left",
        "Name, e-mail, countries and notes are replaced by “Former staff member #…”, and the evidence files "
        "of their checks are deleted. The checks' stages and dates stay, so the register's history still "
        "shows that each check was made.",
        72,
        "Long enough to answer a later allegation or an inspection about someone who worked here; after "
        "that the school keeps that the checks were made, not who they were about.",
    ),
    POLICE_CERTIFICATES: Kind(
        POLICE_CERTIFICATES,
        "Copies of police-check certificates",
        "the check's verified date",
        "The files kept as evidence on police-check items are deleted. The check stays verified, with its "
        "date and who verified it.",
        6,
        "The register needs to record that the check was seen and verified, not to keep a copy of the "
        "certificate: a copy is personal data with no use once the check is recorded.",
    ),
    PROGRAMME: Kind(
        PROGRAMME,
        "Programme records of a school year",
        "the end of the school year",
        "The year's items, answers, comments and evidence files are deleted. The year itself and its signed "
        "report (the frozen PDF) are never removed.",
        84,
        "An accreditation cycle looks back over several years; beyond that the signed report is the record "
        "of what the school did.",
    ),
}


def limits(kind: str) -> tuple[int, int]:
    """The installation's (minimum, maximum) months for `kind`."""
    cfg = current_app.config
    prefix = f"TRACKER_RETENTION_{kind.upper()}"
    return cfg[f"{prefix}_MIN_MONTHS"], cfg[f"{prefix}_MAX_MONTHS"]


def _clamp(kind, months):
    low, high = limits(kind)
    return min(max(months, low), high)


def periods(school) -> dict[str, int]:
    """The school's months for every kind: its own value, else the default (both kept within the limits)."""
    own = {
        r.kind: r.months
        for r in db.session.execute(db.select(RetentionRule).where(RetentionRule.school_id == school.id))
        .scalars()
        .all()
    }
    return {key: _clamp(key, own.get(key, kind.default_months)) for key, kind in KINDS.items()}
