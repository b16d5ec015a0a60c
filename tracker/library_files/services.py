"""Library documents: the installation's copy of a shared resource and a school's own copies. The caller
commits.

Every file goes through the evidence upload checks (name, type, content) before it is stored. A service
returns a `Change`: the files it stored (to discard if the transaction does not commit) and the files it
replaced (to delete once it has committed)."""

from dataclasses import dataclass, field
from pathlib import Path

from flask import current_app

from .. import audit
from ..db import db
from ..evidence.checks import UploadRejected, check_upload
from ..library.models import Resource
from ..library.vocabulary import LANGUAGES
from ..transactions import DomainError
from .models import FILE, LINK, ResourceFile
from .storage import installation_store, school_store, store_for


class CopyRefused(DomainError):
    """A document cannot be attached; the message says why."""


@dataclass
class Change:
    stored: list = field(default_factory=list)  # (store, school id, stored name) written by this change
    replaced: list = field(default_factory=list)  # the same, of files to delete once committed
    row: ResourceFile | None = None

    def discard_stored(self):
        for store, owner, name in self.stored:
            store.delete(owner, name)

    def delete_replaced(self):
        for store, owner, name in self.replaced:
            store.delete(owner, name)


def _limit():
    return current_app.config["TRACKER_MAX_FILE_MB"] * 1024 * 1024


def _check_url(url):
    url = (url or "").strip()
    if (
        not url.lower().startswith(("https://", "http://"))
        or len(url) > 1000
        or any(c.isspace() for c in url)
    ):
        raise CopyRefused("Give a full web address starting with https:// (or http://).", field="url")
    return url


def _file_row(store, owner_id, resource, filename, data, **values):
    checked = check_upload(filename, data, _limit())
    stored = store.save(owner_id, checked)
    row = ResourceFile(
        resource_id=resource.id,
        kind=FILE,
        name=checked.name,
        stored_name=stored,
        content_type=checked.content_type,
        size=checked.size,
        sha256=checked.sha256,
        **values,
    )
    row.resource = resource
    return row, (store, owner_id, stored)


def _stored_of(row):
    if row.kind != FILE or not row.stored_name:
        return None
    return (store_for(row), row.school_id, row.stored_name)


# --- the installation's copy -----------------------------------------------------------------------------


def installation_copy(resource) -> ResourceFile | None:
    return db.session.execute(
        db.select(ResourceFile).where(
            ResourceFile.resource_id == resource.id, ResourceFile.school_id.is_(None)
        )
    ).scalar_one_or_none()


def installation_copies() -> dict:
    """resource id -> the installation's copy, for every shared resource that has one."""
    rows = db.session.execute(db.select(ResourceFile).where(ResourceFile.school_id.is_(None))).scalars()
    return {row.resource_id: row for row in rows}


def _shared(resource):
    if resource is None or resource.school_id is not None:
        raise CopyRefused("Only a resource of the shared library has an installation copy.")
    return resource


def set_installation_copy(resource, *, filename=None, data=None, url="", user=None) -> Change:
    """Attach a file (name and bytes) or set an address for a shared resource, replacing any earlier one."""
    _shared(resource)
    change = Change()
    if filename:
        row, stored = _file_row(installation_store(), None, resource, filename, data, added_by_id=_id(user))
        change.stored.append(stored)
    elif url:
        row = ResourceFile(
            resource_id=resource.id,
            kind=LINK,
            name=_check_url(url),
            url=_check_url(url),
            added_by_id=_id(user),
        )
        row.resource = resource
    else:
        raise CopyRefused("Choose a file, or give the address of the document.", field="file")
    old = installation_copy(resource)
    before = old.audit_view() if old else None
    if old is not None:
        if (stored := _stored_of(old)) is not None:
            change.replaced.append(stored)
        db.session.delete(old)
        db.session.flush()
    db.session.add(row)
    db.session.flush()
    audit.record("library.document_set", subject=resource, before=before, after=row.audit_view(), actor=user)
    change.row = row
    return change


def clear_installation_copy(resource, *, user=None) -> Change:
    change = Change()
    old = installation_copy(_shared(resource))
    if old is None:
        return change
    if (stored := _stored_of(old)) is not None:
        change.replaced.append(stored)
    audit.record("library.document_removed", subject=resource, before=old.audit_view(), actor=user)
    db.session.delete(old)
    db.session.flush()
    return change


def _id(user):
    return user.id if user is not None else None


def file_row(file_id) -> ResourceFile | None:
    return db.session.get(ResourceFile, file_id)


# --- a school's copies -----------------------------------------------------------------------------------


def school_copies(school, resource) -> list[ResourceFile]:
    return list(
        db.session.execute(
            db.select(ResourceFile)
            .where(ResourceFile.resource_id == resource.id, ResourceFile.school_id == school.id)
            .order_by(ResourceFile.label, ResourceFile.added_at)
        ).scalars()
    )


def school_copy(school, resource, copy_id) -> ResourceFile | None:
    return db.session.execute(
        db.select(ResourceFile).where(
            ResourceFile.id == copy_id,
            ResourceFile.resource_id == resource.id,
            ResourceFile.school_id == school.id,
        )
    ).scalar_one_or_none()


def add_school_copy(
    school, resource, *, label, language="", filename=None, data=None, url="", user
) -> Change:
    """A school's own copy or translation of a resource it can see: a checked file or an address."""
    if resource.school_id not in (None, school.id):
        raise CopyRefused("That resource is not in this school's library.")
    if language and language not in LANGUAGES:
        raise CopyRefused("Choose a language from the list.", field="language")
    label = (label or "").strip()
    if not label:
        raise CopyRefused("Say what this copy is, e.g. “Thai translation”.", field="label")
    change = Change()
    values = {"school_id": school.id, "label": label[:200], "language": language, "added_by_id": user.id}
    if filename:
        row, stored = _file_row(school_store(), school.id, resource, filename, data, **values)
        change.stored.append(stored)
    elif url:
        row = ResourceFile(
            resource_id=resource.id, kind=LINK, name=label[:200], url=_check_url(url), **values
        )
        row.resource = resource
    else:
        raise CopyRefused("Choose a file, or give the address of your copy.", field="file")
    db.session.add(row)
    db.session.flush()
    audit.record("library.copy_added", school=school, subject=resource, after=row.audit_view())
    change.row = row
    return change


def remove_school_copy(school, row) -> Change:
    change = Change()
    if (stored := _stored_of(row)) is not None:
        change.replaced.append(stored)
    audit.record("library.copy_removed", school=school, subject=row.resource, before=row.audit_view())
    db.session.delete(row)
    db.session.flush()
    return change


# --- a folder of files -----------------------------------------------------------------------------------


@dataclass
class FolderReport:
    matched: list = field(default_factory=list)  # (key, file name)
    unmatched: list = field(default_factory=list)  # file names that name no shared resource
    rejected: list = field(default_factory=list)  # (file name, why)
    missing: list = field(default_factory=list)  # shared resource keys still without a document
    change: Change = field(default_factory=Change)


def load_folder(folder: str | Path, *, user=None) -> FolderReport:
    """Attach each file `<resource key>.<ext>` of `folder` to that shared resource (replacing its copy)."""
    report = FolderReport()
    shared = {
        r.key: r
        for r in db.session.execute(db.select(Resource).where(Resource.school_id.is_(None))).scalars()
    }
    seen = set()
    for path in sorted(Path(folder).iterdir()):
        if not path.is_file() or path.name.startswith("."):
            continue
        key = path.name.rpartition(".")[0] if "." in path.name else path.name
        resource = shared.get(key)
        if resource is None:
            report.unmatched.append(path.name)
            continue
        if key in seen:
            report.rejected.append((path.name, f"another file for '{key}' was loaded already"))
            continue
        try:
            change = set_installation_copy(resource, filename=path.name, data=path.read_bytes(), user=user)
        except UploadRejected as exc:
            report.rejected.append((path.name, str(exc)))
            continue
        seen.add(key)
        report.matched.append((key, path.name))
        report.change.stored += change.stored
        report.change.replaced += change.replaced
    have = set(
        db.session.execute(
            db.select(Resource.key)
            .join(ResourceFile, ResourceFile.resource_id == Resource.id)
            .where(ResourceFile.school_id.is_(None))
        ).scalars()
    )
    report.missing = sorted(k for k, r in shared.items() if k not in have and not r.url)  # a seed address
    return report
