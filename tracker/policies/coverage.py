"""Who must acknowledge a document, and who has: the audience (members by role, people on the register by
category, one reader each), each reader's deadline, and coverage of a version (done, missing, overdue).

A member linked to a register entry (`Person.user_id`, as `people.me` finds it) is one reader, counted as
that person; a member with no register entry is a reader of their own; a person without an account is
acknowledged from a sign sheet. New starters are simply in the audience: their deadline is the later of the
version's deadline and their start date plus INDUCTION_DAYS.
"""

from dataclasses import dataclass, field
from datetime import date
from functools import cache

from sqlalchemy import bindparam

from ..dates import add_days
from ..db import db
from ..people.models import CATEGORY_LABELS, Person
from ..tenancy import ACCREDITOR, ROLE_LABELS, Membership
from .models import PolicyAcknowledgement, PolicyDocument, PolicyVersion

#: a new starter has this many days from their start date to acknowledge (when that is after the deadline)
INDUCTION_DAYS = 14


@dataclass(frozen=True)
class Reader:
    """One adult in a document's audience: a person on the register, or a member with no register entry."""

    name: str
    person_id: object = None
    user_id: object = None
    category: str = ""  # register category, for a person
    role: str = ""  # membership role, for a member
    start_on: date | None = None
    has_account: bool = False

    @property
    def key(self):
        return ("p", self.person_id) if self.person_id else ("u", self.user_id)

    @property
    def what(self):
        """What they are: "Teaching staff", "Volunteer", "Head of school (member)"."""
        if self.person_id:
            return CATEGORY_LABELS.get(self.category, self.category)
        return f"{ROLE_LABELS.get(self.role, self.role)} (member, not on the register)"


def due_on(reader: Reader, version: PolicyVersion) -> date:
    """The reader's deadline: the version's, or for a later starter their start date plus INDUCTION_DAYS."""
    if reader.start_on is None:
        return version.deadline
    return max(version.deadline, add_days(reader.start_on, INDUCTION_DAYS))


def _people(school, today):
    return db.session.execute(
        db.select(Person.id, Person.full_name, Person.category, Person.start_on, Person.user_id)
        .where(Person.school_id == school.id, (Person.leave_on.is_(None)) | (Person.leave_on >= today))
        .order_by(Person.full_name, Person.id)
    ).all()


def _members(school):
    return (
        db.session.execute(
            db.select(Membership).where(Membership.school_id == school.id, Membership.role != ACCREDITOR)
        )
        .scalars()
        .all()
    )


class Population:
    """The school's current people and members, read once and shared by every document's audience."""

    def __init__(self, school, today):
        self.today = today
        self.people = _people(school, today)
        self.members = [m for m in _members(school) if m.is_current()]
        self.by_user = {p.user_id: p for p in self.people if p.user_id}

    def audience(self, document: PolicyDocument) -> list[Reader]:
        roles = set(document.audience_roles or [])
        categories = set(document.audience_categories or [])
        role_of = {m.user_id: m.role for m in self.members}
        readers = {}
        for p in self.people:
            if p.category in categories or role_of.get(p.user_id) in roles:
                r = Reader(
                    p.full_name,
                    p.id,
                    p.user_id,
                    p.category,
                    role_of.get(p.user_id, ""),
                    p.start_on,
                    p.user_id is not None and p.user_id in role_of,
                )
                readers[r.key] = r
        for m in self.members:
            if m.role in roles and m.user_id not in self.by_user:
                name = (m.user.name or m.user.email) if m.user else "unknown"
                r = Reader(name, None, m.user_id, "", m.role, None, True)
                readers[r.key] = r
        return sorted(readers.values(), key=lambda r: (r.name.lower(), str(r.key[1])))


def acknowledgements(school, document_ids) -> list:
    """(acknowledgement, its version's round) of the documents, oldest first: one query."""
    if not document_ids:
        return []
    return db.session.execute(
        db.select(PolicyAcknowledgement, PolicyVersion.round)
        .join(PolicyVersion, PolicyVersion.id == PolicyAcknowledgement.version_id)
        .where(
            PolicyAcknowledgement.school_id == school.id,
            PolicyVersion.school_id == school.id,
            PolicyAcknowledgement.document_id.in_(list(document_ids)),
        )
        .order_by(PolicyAcknowledgement.acknowledged_at, PolicyAcknowledgement.id)
    ).all()


def first_in_round(acks, document_id, round_) -> tuple[dict, dict]:
    """({person id: earliest ack}, {user id: earliest ack}) of one document's round."""
    by_person, by_user = {}, {}
    for ack, ack_round in acks:
        if ack.document_id != document_id or ack_round != round_:
            continue
        if ack.person_id:
            by_person.setdefault(ack.person_id, ack)
        if ack.user_id:
            by_user.setdefault(ack.user_id, ack)
    return by_person, by_user


def find_ack(reader: Reader, by_person, by_user):
    return (by_person.get(reader.person_id) if reader.person_id else None) or (
        by_user.get(reader.user_id) if reader.user_id else None
    )


@dataclass
class Entry:
    reader: Reader
    ack: object  # PolicyAcknowledgement or None
    due_on: date
    overdue: bool


@dataclass
class Coverage:
    document: PolicyDocument
    version: PolicyVersion
    entries: list = field(default_factory=list)

    @property
    def done(self):
        return [e for e in self.entries if e.ack is not None]

    @property
    def missing(self):
        return [e for e in self.entries if e.ack is None]

    @property
    def overdue(self):
        return [e for e in self.entries if e.overdue]

    @property
    def total(self):
        return len(self.entries)

    @property
    def percent(self):
        return round(100 * len(self.done) / self.total) if self.total else 100


def coverage_of(document, version, population: Population, acks) -> Coverage:
    by_person, by_user = first_in_round(acks, document.id, version.round)
    cov = Coverage(document, version)
    for reader in population.audience(document):
        ack = find_ack(reader, by_person, by_user)
        due = due_on(reader, version)
        cov.entries.append(Entry(reader, ack, due, ack is None and due < population.today))
    return cov


@cache
def _documents_statement():
    """A school's documents by title, built once (the dashboard's "Waiting for you" asks on every request)."""
    return (
        db.select(PolicyDocument)
        .where(PolicyDocument.school_id == bindparam("school_id"))
        .order_by(PolicyDocument.title, PolicyDocument.id)
    )


def documents(school) -> list[PolicyDocument]:
    """Every document of the school with its versions, by title."""
    return db.session.execute(_documents_statement(), {"school_id": school.id}).scalars().all()


def coverage(school, only=None, version=None) -> list[Coverage]:
    """Coverage of each document's current version (documents with no current version are left out), or of
    `only` (a document) at `version`."""
    today = school.today()
    docs = [only] if only is not None else documents(school)
    population = Population(school, today)
    acks = acknowledgements(school, [d.id for d in docs])
    out = []
    for doc in docs:
        v = version if version is not None else doc.current_version()
        if v is not None:
            out.append(coverage_of(doc, v, population, acks))
    return out
