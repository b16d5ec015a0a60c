"""The e-mail domains a school accepts for sign-in with Google or Microsoft (tracker/auth/oidc.py).

A member whose verified work address is at one of their school's domains may sign in with that provider
instead of a password. The list lives with accounts (auth) rather than schools because the sign-in step reads
it; the school's lead edits it on a page of the schools feature (tracker/schools/sign_in_views.py).
"""

import re
from datetime import datetime

from sqlalchemy import String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, mapped_column

from .. import audit
from ..db import SchoolScoped, UTCDateTime, db, utcnow
from ..tenancy import Membership, memberships_for
from ..transactions import DomainError

#: the longest domain name DNS allows
DOMAIN_MAX = 253
#: more than a school needs (a trust with many schools' own domains), few enough to show on one page
DOMAINS_MAX = 20
#: one DNS label: letters, digits and hyphens, not at either end
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


class SchoolSignInDomain(SchoolScoped, db.Model):
    """An e-mail domain (`school.example`) whose addresses may sign in to the school through a provider."""

    __tablename__ = "school_sign_in_domains"
    __table_args__ = (UniqueConstraint("school_id", "domain"),)

    #: lower case, no "@", no scheme; found across schools at sign-in, hence its own index
    domain: Mapped[str] = mapped_column(String(DOMAIN_MAX), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class BadDomain(DomainError):
    """A domain the list cannot hold."""

    field = "domains"


def clean_domain(text: str) -> str:
    """The domain `text` names, lower case (`School.Example` → `school.example`); BadDomain says what is
    wrong (an address, a web address, a name without a dot, a bad character, too long)."""
    value = text.strip().lower().rstrip(".")
    shown = text.strip()[:80]
    if "@" in value:
        raise BadDomain(f"“{shown}” is an e-mail address: give only what follows the @, e.g. school.example.")
    if "://" in value or "/" in value:
        raise BadDomain(f"“{shown}” is a web address: give only the domain, e.g. school.example.")
    if len(value) > DOMAIN_MAX:
        raise BadDomain(f"“{shown}…” is longer than a domain can be ({DOMAIN_MAX} characters).")
    labels = value.split(".")
    if len(labels) < 2 or not all(_LABEL.match(label) for label in labels) or labels[-1].isdigit():
        raise BadDomain(
            f"“{shown}” is not a domain: use letters, digits, hyphens and dots, e.g. school.example."
        )
    return value


def clean_domains(lines) -> list[str]:
    """The domains of `lines` (blank lines skipped), without repeats, in the order given."""
    domains = []
    for line in lines:
        if line.strip():
            domain = clean_domain(line)
            if domain not in domains:
                domains.append(domain)
    if len(domains) > DOMAINS_MAX:
        raise BadDomain(f"A school may list at most {DOMAINS_MAX} domains.")
    return domains


def domains_of(school) -> list[str]:
    """The domains `school` accepts, alphabetically."""
    return list(
        db.session.execute(
            select(SchoolSignInDomain.domain)
            .where(SchoolSignInDomain.school_id == school.id)
            .order_by(SchoolSignInDomain.domain)
        ).scalars()
    )


def set_domains(school, domains: list[str]) -> bool:
    """Make `domains` (already cleaned) the school's list; record the change. Return whether it changed."""
    before = domains_of(school)
    after = sorted(domains)
    if before == after:
        return False
    db.session.execute(
        db.delete(SchoolSignInDomain).where(
            SchoolSignInDomain.school_id == school.id, SchoolSignInDomain.domain.not_in(after)
        )
    )
    for domain in sorted(set(after) - set(before)):
        db.session.add(SchoolSignInDomain(school_id=school.id, domain=domain))
    db.session.flush()
    audit.record(
        "school.sign_in_domains_changed",
        school=school,
        subject=school,
        before={"domains": before},
        after={"domains": after},
    )
    return True


def domain_of(email: str) -> str:
    """The domain of an address, lower case ("" when it has none)."""
    return email.rpartition("@")[2].strip().lower() if "@" in email else ""


def accepting_memberships(user, domain: str) -> list[Membership]:
    """The user's current memberships whose school accepts `domain` for provider sign-in."""
    if not domain:
        return []
    memberships = memberships_for(user)
    if not memberships:
        return []
    accepting = set(
        db.session.execute(
            select(SchoolSignInDomain.school_id).where(
                SchoolSignInDomain.domain == domain,
                SchoolSignInDomain.school_id.in_([m.school_id for m in memberships]),
            )
        ).scalars()
    )
    return [m for m in memberships if m.school_id in accepting]
