"""Read-and-sign services: publish a document, add a version (material or minor), withdraw one, acknowledge
(by the member, or from a sign sheet), and what a document asks of a member, on their page, in the register
and in "Waiting for you". Coverage (coverage.py) is re-exported here.

Acknowledgements are only ever added: nothing here changes or deletes one, and every one is audited.
"""

import hashlib
from dataclasses import dataclass
from datetime import date

from flask import current_app, url_for

from .. import audit
from ..db import db, utcnow
from ..evidence.checks import check_upload
from ..evidence.storage import EvidenceStore
from ..people.models import CATEGORIES
from ..signals import person_page, register_columns, waiting_for
from ..tenancy import ACCREDITOR, HEAD, HR, LEAD, STAFF, Membership
from ..transactions import DomainError
from ..waiting import WaitingLine, is_batched, per_batch, per_school
from .coverage import (
    INDUCTION_DAYS,
    Coverage,
    Entry,
    Population,
    Reader,
    acknowledgements,
    coverage,
    coverage_of,
    documents,
    due_on,
    find_ack,
    first_in_round,
)
from .models import DEFAULT_BUTTON, KINDS, SELF, SHEET, PolicyAcknowledgement, PolicyDocument, PolicyVersion

__all__ = [
    "AUDIENCE_ROLES",
    "INDUCTION_DAYS",
    "Coverage",
    "Entry",
    "PolicyError",
    "Reader",
    "acknowledge",
    "add_version",
    "coverage",
    "discard",
    "documents",
    "for_member",
    "publish",
    "record_sheet",
    "withdraw",
]

#: the membership roles a document's audience may name (accreditors are visitors, not staff)
AUDIENCE_ROLES = (LEAD, HEAD, HR, STAFF)


class PolicyError(DomainError):
    """A read-and-sign change that cannot be made; the message says why."""


def _store():
    return EvidenceStore(current_app.config["TRACKER_EVIDENCE_DIR"])


def discard(school, stored: list) -> None:
    """Remove files stored for versions whose transaction did not commit."""
    for name in stored:
        _store().delete(school.id, name)


def _content(school, version, *, body, upload, stored):
    """Put the text or the checked file (upload: (filename, bytes)) on `version`, with its SHA-256."""
    body = (body or "").strip()
    if upload is not None and body:
        raise PolicyError("Give the document as a file or as text, not both.", field="body")
    if upload is None and not body:
        raise PolicyError("Upload the document, or paste its text.", field="file")
    if upload is not None:
        try:
            checked = check_upload(
                upload[0], upload[1], current_app.config["TRACKER_MAX_FILE_MB"] * 1024 * 1024
            )
        except DomainError as exc:
            raise PolicyError(str(exc), field="file") from None
        name = _store().save(school.id, checked)
        stored.append(name)
        version.stored_name, version.file_name = name, checked.name
        version.content_type, version.sha256, version.body = checked.content_type, checked.sha256, ""
    else:
        version.body, version.sha256 = body, _sha256_text(body)


def _sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _audience(roles, categories):
    roles = [r for r in AUDIENCE_ROLES if r in set(roles or [])]
    categories = [c for c in CATEGORIES if c in set(categories or [])]
    if not roles and not categories:
        raise PolicyError("Choose who must read it: at least one role or one group of people.", field="roles")
    return roles, categories


def publish(
    school, *, title, kind, roles, categories, button_text, label, body, upload, deadline, user, stored
) -> PolicyVersion:
    """A new document and its first version. Files saved are added to `stored` (discard them on rollback)."""
    if kind not in KINDS:
        raise PolicyError("Choose what kind of document it is.", field="kind")
    roles, categories = _audience(roles, categories)
    exists = db.session.execute(
        db.select(PolicyDocument.id).where(
            PolicyDocument.school_id == school.id, PolicyDocument.title == title
        )
    ).first()
    if exists:
        raise PolicyError(
            "A document of this title exists already: publish a new version of it instead.", field="title"
        )
    doc = PolicyDocument(
        school_id=school.id,
        title=title,
        kind=kind,
        audience_roles=roles,
        audience_categories=categories,
        button_text=button_text or DEFAULT_BUTTON,
        created_by_id=user.id,
    )
    db.session.add(doc)
    db.session.flush()
    audit.record("policy.published", school=school, subject=doc, after=doc.audit_view(), actor=user)
    return _new_version(
        school,
        doc,
        label=label,
        body=body,
        upload=upload,
        material=True,
        change_note="",
        deadline=deadline,
        user=user,
        stored=stored,
        first=True,
    )


def _new_version(school, doc, *, label, body, upload, material, change_note, deadline, user, stored, first):
    versions = list(doc.versions)
    if any(v.label.lower() == label.lower() for v in versions):
        raise PolicyError(
            f"This document already has a version “{label}”. Give the new one another label.", field="label"
        )
    current = doc.current_version()
    if first or current is None:
        material = True
    round_ = max((v.round for v in versions), default=0) + 1 if material else current.round
    version = PolicyVersion(
        school_id=school.id,
        document_id=doc.id,
        number=max((v.number for v in versions), default=0) + 1,
        label=label,
        round=round_,
        material=material,
        change_note=change_note or "",
        deadline=deadline,
        published_by_id=user.id,
    )
    _content(school, version, body=body, upload=upload, stored=stored)
    version.document = doc
    db.session.add(version)
    db.session.flush()
    audit.record(
        "policy.version_published", school=school, subject=version, after=version.audit_view(), actor=user
    )
    return version


def add_version(school, doc, *, label, body, upload, material, change_note, deadline, user, stored):
    """A new version of `doc`: material opens a new round (everyone acknowledges again); minor keeps the
    current round, so acknowledgements already given still count."""
    return _new_version(
        school,
        doc,
        label=label,
        body=body,
        upload=upload,
        material=material,
        change_note=change_note,
        deadline=deadline,
        user=user,
        stored=stored,
        first=False,
    )


def withdraw(school, version, *, user) -> None:
    """Withdraw a version: it is no longer asked for (the latest version still standing is current again);
    it, its file and its acknowledgements stay on record."""
    if version.withdrawn_at is not None:
        raise PolicyError("This version is already withdrawn.")
    before = version.audit_view()
    version.withdrawn_at, version.withdrawn_by_id = utcnow(), user.id
    db.session.flush()
    audit.record(
        "policy.version_withdrawn",
        school=school,
        subject=version,
        before=before,
        after=version.audit_view(),
        actor=user,
    )


def _check_current(version):
    if version.withdrawn_at is not None or version.document.current_version() is not version:
        raise PolicyError(
            "This version is no longer the current one: open the document again and read the current version."
        )


def _acked(school, version, *, person_id=None, user_id=None):
    acks = acknowledgements(school, [version.document_id])
    by_person, by_user = first_in_round(acks, version.document_id, version.round)
    return (person_id and by_person.get(person_id)) or (user_id and by_user.get(user_id)) or None


def acknowledge(school, version, *, user, person) -> PolicyAcknowledgement:
    """The member `user` (register entry `person`, or None) acknowledges the current `version`."""
    _check_current(version)
    if _acked(school, version, person_id=person.id if person else None, user_id=user.id):
        raise PolicyError("You have already acknowledged this version. Nothing more to do.")
    ack = PolicyAcknowledgement(
        school_id=school.id,
        document_id=version.document_id,
        version_id=version.id,
        person_id=person.id if person else None,
        user_id=user.id,
        name=person.full_name if person else (user.name or user.email),
        sha256=version.sha256,
        method=SELF,
        signed_on=school.today(),
    )
    db.session.add(ack)
    db.session.flush()
    audit.record("policy.acknowledged", school=school, subject=version, after=ack.audit_view(), actor=user)
    return ack


def record_sheet(school, version, *, people, signed_on: date, user) -> list[PolicyAcknowledgement]:
    """Acknowledgements from a paper sign sheet, dated `signed_on`, entered by `user` (HR or the lead)."""
    _check_current(version)
    if not people:
        raise PolicyError("Choose who signed the sheet.", field="people")
    added = []
    for person in people:
        if _acked(school, version, person_id=person.id, user_id=person.user_id):
            continue
        ack = PolicyAcknowledgement(
            school_id=school.id,
            document_id=version.document_id,
            version_id=version.id,
            person_id=person.id,
            user_id=None,
            name=person.full_name,
            sha256=version.sha256,
            method=SHEET,
            signed_on=signed_on,
            entered_by_id=user.id,
        )
        db.session.add(ack)
        added.append(ack)
    if not added:
        raise PolicyError("Everyone chosen has already acknowledged this version.", field="people")
    db.session.flush()
    for ack in added:
        audit.record(
            "policy.acknowledged", school=school, subject=version, after=ack.audit_view(), actor=user
        )
    return added


# --- what a document asks of one member ---------------------------------------------------------------


@dataclass
class Asked:
    document: PolicyDocument
    version: PolicyVersion
    due_on: date
    ack: object  # their acknowledgement of the current round, or None

    @property
    def overdue_on(self):
        return self.due_on


def _reader_of(population, member=None, person=None):
    if person is None and member is not None:
        person = population.by_user.get(member.user_id)
    if person is not None:
        role = member.role if member is not None else ""
        return Reader(
            person.full_name,
            person.id,
            person.user_id,
            person.category,
            role,
            person.start_on,
            person.user_id is not None,
        )
    if member is None:
        return None
    return Reader((member.user.name or member.user.email), None, member.user_id, "", member.role, None, True)


def _in_audience(doc, reader):
    return reader.category in (doc.audience_categories or []) or reader.role in (doc.audience_roles or [])


def asked_of(school, *, member=None, person=None, today=None, state=None) -> list[Asked]:
    """The current documents whose audience includes the member (or register entry), with their deadline and
    acknowledgement. `state`: the school's `_school_state` on `today` when the caller has read it already."""
    today = today or school.today()
    if state is None:
        state = per_school(school, ("policies", today), lambda: _school_state(school, today))
    docs, population, acks = state
    if not docs:
        return []
    if person is not None and member is None:
        member = next((m for m in population.members if person.user_id and m.user_id == person.user_id), None)
    reader = _reader_of(population, member=member, person=person)
    if reader is None:
        return []
    out = []
    for doc in docs:
        if not _in_audience(doc, reader):
            continue
        version = doc.current_version()
        by_person, by_user = first_in_round(acks, doc.id, version.round)
        out.append(Asked(doc, version, due_on(reader, version), find_ack(reader, by_person, by_user)))
    return out


def _school_state(school, today):
    """(documents with a current version, the population, their acknowledgements): what every member's lines
    share, read once per school while the digest job runs (`waiting.per_school`)."""
    docs = [d for d in documents(school) if d.current_version() is not None]
    if not docs:
        return [], None, []
    return docs, Population(school, today), acknowledgements(school, [d.id for d in docs])


def for_member(school, member, today=None) -> list[Asked]:
    return asked_of(school, member=member, today=today)


def _plural(n, one, many):
    return f"{n} {one if n == 1 else many}"


def _with_documents(school_ids, _today) -> dict:
    """{school id: True} of the schools that have any read-and-sign document: one query for a batch of schools
    (the digest job, through `waiting.per_batch`), so that a school without any costs nothing more."""
    rows = db.session.execute(
        db.select(PolicyDocument.school_id).where(PolicyDocument.school_id.in_(school_ids)).distinct()
    )
    return {school_id: True for (school_id,) in rows}


def _coverage_from(school, today, state) -> list[Coverage]:
    """`coverage(school)` from the `_school_state` of `today` already read (no second read of the documents,
    the 500-person population and the acknowledgements); read afresh if `today` is not the school's."""
    if today != school.today():
        return coverage(school)
    docs, population, acks = state
    return [coverage_of(doc, doc.current_version(), population, acks) for doc in docs]


@waiting_for.connect
def waiting_lines(school, *, member, today) -> list[WaitingLine]:
    """ "N documents to read and sign" for a member with unacknowledged current versions; for the lead, a line
    per document that people have not acknowledged."""
    if is_batched() and not per_batch(school, "policies.any", today, _with_documents, False):
        return []
    # a page (not the digest job): the documents, population and acknowledgements read once for both lines
    state = _school_state(school, today) if not is_batched() and member.role in AUDIENCE_ROLES else None
    lines = []
    if member.role in AUDIENCE_ROLES:
        todo = [a for a in asked_of(school, member=member, today=today, state=state) if a.ack is None]
        if todo:
            lines.append(
                WaitingLine(
                    kind="policies",
                    text=_plural(len(todo), "document", "documents") + " to read and sign",
                    url=url_for("policies.mine", school=school.slug),
                    count=len(todo),
                    due_on=min(a.due_on for a in todo),
                )
            )
    if member.role == LEAD:
        if state is not None:
            covered = _coverage_from(school, today, state)
        else:
            covered = per_school(school, ("policies-coverage", today), lambda: coverage(school))
        for cov in covered:
            missing = cov.missing
            if not missing:
                continue
            v = cov.version
            lines.append(
                WaitingLine(
                    kind="policies_missing",
                    text=f"{_plural(len(missing), 'person has', 'people have')} not acknowledged the "
                    f"{cov.document.title} {v.label}, due {v.deadline.day} {v.deadline:%b}",
                    url=url_for("policies.document", school=school.slug, document_id=cov.document.id),
                    count=len(missing),
                    due_on=v.deadline,
                )
            )
    return lines


@person_page.connect
def person_policies(person, *, school, own) -> dict:
    """The documents a person must read and sign, and whether they have."""
    return {"policies": asked_of(school, person=person)}


#: the register column's title
REGISTER_COLUMN = "Acknowledged at induction"


@register_columns.connect
def register_acknowledgements(school, *, people) -> dict:
    """The register's "Acknowledged at induction" column: for each person, each current document their
    audience calls for, with the date they acknowledged it (or "not yet" / "overdue"). Reads only what the
    given people need (a page of the register: their memberships and acknowledgements), as `coverage` would
    for the whole school; nothing more than the documents when the school has none."""
    if not people:
        return {}
    current = [(doc, v) for doc in documents(school) if (v := doc.current_version()) is not None]
    if not current:
        return {}
    today = school.today()
    cells = {p.id: [] for p in people}
    readers = [p for p in people if p.leave_on is None or p.leave_on >= today]  # as coverage's Population
    user_ids = {p.user_id for p in readers if p.user_id}
    role_of = {}
    if user_ids:
        for m in db.session.execute(
            db.select(Membership).where(
                Membership.school_id == school.id,
                Membership.role != ACCREDITOR,
                Membership.user_id.in_(user_ids),
            )
        ).scalars():
            if m.is_current():
                role_of[m.user_id] = m.role
    person_ids = [p.id for p in readers]
    acks = (
        db.session.execute(
            db.select(PolicyAcknowledgement, PolicyVersion.round)
            .join(PolicyVersion, PolicyVersion.id == PolicyAcknowledgement.version_id)
            .where(
                PolicyAcknowledgement.school_id == school.id,
                PolicyVersion.school_id == school.id,
                PolicyAcknowledgement.document_id.in_([doc.id for doc, _v in current]),
                PolicyAcknowledgement.person_id.in_(person_ids) | PolicyAcknowledgement.user_id.in_(user_ids),
            )
            .order_by(PolicyAcknowledgement.acknowledged_at, PolicyAcknowledgement.id)
        ).all()
        if readers
        else []
    )
    for doc, version in current:
        roles = set(doc.audience_roles or [])
        categories = set(doc.audience_categories or [])
        by_person, by_user = first_in_round(acks, doc.id, version.round)
        name = f"{doc.title} {version.label}"
        for p in readers:
            role = role_of.get(p.user_id)
            if p.category not in categories and role not in roles:
                continue
            reader = Reader(p.full_name, p.id, p.user_id, p.category, role or "", p.start_on)
            ack = find_ack(reader, by_person, by_user)
            if ack is not None:
                cells[p.id].append(f"{name}: {ack.signed_on.isoformat()}")
            else:
                due = due_on(reader, version)
                cells[p.id].append(
                    f"{name}: {'overdue' if due < today else 'not yet'} (due {due.isoformat()})"
                )
    return {REGISTER_COLUMN: {pid: "; ".join(parts) or "—" for pid, parts in cells.items()}}
