"""Restoring a school's archive into an installation (`flask archive restore FILE [--slug NEW]`).

Nothing is written until the whole archive has been checked: every file against the manifest's SHA-256 and
size (and no file the manifest does not list), the schema revision against this database's, and the school's
audit chain recomputed from the archived events with this installation's audit keys. The first mismatch is
named and nothing is written. Then, in one transaction: the school, the installation rows it uses (matched by
id, then by their unique keys: a framework already seeded here is used, not copied), its members' accounts
(matched by e-mail; created without a password when missing, so they reset it), every table's rows. The
files are copied into the store before the commit and removed again if anything fails.

Ids. Into an installation that does not hold the school (a new installation, the usual case) every UUID is
kept, the audit trail is imported as it was and still verifies: the restored school is the same school. When
the school's id already exists here (a copy restored beside the original under a new slug), every UUID of the
school's rows is replaced by a new one, consistently (foreign keys, ids written in text columns and in JSON);
values unique across the installation (a library document's key, calendar-feed and invitation token hashes)
are made afresh, so the copy's old links do not open it; and the copy's audit trail is sealed again as a new
chain (it names the new ids, so the old seals cannot hold). The archive, verified before the import, remains
the proof of the original chain; the installation's own trail records the restore with the archive's chain
head.
"""

import hashlib
import hmac
import json
import secrets
import shutil
import uuid
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

from .. import audit
from ..db import db
from .export import (
    EXCLUDED,
    FORMAT,
    MANIFEST,
    USER_COLUMNS,
    decode,
    schema_revision,
    store_folder,
)


class ArchiveError(Exception):
    """The archive cannot be restored; the message says why (the first problem found)."""


@dataclass
class Restored:
    school_id: uuid.UUID
    slug: str
    remapped: bool
    rows: int = 0
    users_created: list = field(default_factory=list)
    files: list = field(default_factory=list)


def _read_json(archive, name):
    try:
        return json.loads(archive.read(name))
    except KeyError:
        raise ArchiveError(f"{name} is missing from the archive") from None
    except ValueError as exc:
        raise ArchiveError(f"{name} is not valid JSON: {exc}") from None


def verify_files(archive: zipfile.ZipFile) -> dict:
    """Check every file against the manifest; return the manifest. ArchiveError names the first mismatch."""
    manifest = _read_json(archive, MANIFEST)
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ArchiveError("manifest.json does not describe a school archive of the Safeguarding Tracker")
    listed = {}
    for entry in manifest.get("files") or []:
        listed[entry["path"]] = entry
    present = {name for name in archive.namelist() if not name.endswith("/")}
    for path in sorted(listed):
        entry = listed[path]
        if path not in present:
            raise ArchiveError(f"{path}: listed in the manifest but missing from the archive")
        digest, size = hashlib.sha256(), 0
        with archive.open(path) as src:
            for chunk in iter(lambda: src.read(1 << 20), b""):
                digest.update(chunk)
                size += len(chunk)
        if size != entry.get("size") or not hmac.compare_digest(digest.hexdigest(), entry.get("sha256", "")):
            raise ArchiveError(
                f"{path}: its SHA-256 or size does not match the manifest: the file was changed"
            )
    extra = sorted(present - set(listed) - {MANIFEST})
    if extra:
        raise ArchiveError(f"{extra[0]}: in the archive but not in the manifest")
    return manifest


def verify_chain(events: list, manifest: dict) -> None:
    """Recompute the archived audit chain with this installation's keys; ArchiveError on the first break."""
    ring = audit.keyring()
    head = manifest.get("audit_head") or {}
    chain = head.get("chain")
    expected_prev, expected_seq, keyed = audit.GENESIS, 1, False
    for values in events:
        event = audit.AuditEvent(**values)
        where = f"audit event #{event.seq}"
        if event.chain != chain:
            raise ArchiveError(f"{where}: belongs to chain {event.chain}, not the school's ({chain})")
        if event.seq != expected_seq:
            raise ArchiveError(f"{where}: expected #{expected_seq}: events missing from the audit trail")
        if event.prev_hash != expected_prev:
            raise ArchiveError(f"{where}: does not point at the event before it")
        if event.key_id == audit.LEGACY_KEY_ID and keyed:
            raise ArchiveError(f"{where}: made without the audit key after keyed events")
        if event.key_id != audit.LEGACY_KEY_ID and event.key_id not in ring.keys:
            raise ArchiveError(
                f"{where}: sealed with audit key {event.key_id}, which this installation does not have: "
                "set TRACKER_AUDIT_KEY (or TRACKER_AUDIT_OLD_KEYS) to the key of the installation it is from"
            )
        if not hmac.compare_digest(event.digest(ring), event.hash):
            raise ArchiveError(f"{where}: content changed after it was recorded (its seal does not match)")
        keyed = keyed or event.key_id != audit.LEGACY_KEY_ID
        expected_prev, expected_seq = event.hash, event.seq + 1
    if head.get("seq") != expected_seq - 1 or head.get("hash") != expected_prev:
        raise ArchiveError(
            f"the manifest's audit chain head (#{head.get('seq')}) is not the trail's last event "
            f"(#{expected_seq - 1}): events were removed or added"
        )


def _decoded(table, row: dict, where: str) -> dict:
    unknown = sorted(set(row) - set(table.c.keys()))
    if unknown:
        raise ArchiveError(f"{where}: column {unknown[0]} does not exist in this installation's {table.name}")
    try:
        return {name: decode(table.c[name], value) for name, value in row.items()}
    except (ValueError, TypeError) as exc:
        raise ArchiveError(f"{where}: a value cannot be read: {exc}") from None


class _Remap:
    """Old id → new id, for UUID values, for ids written as text, and inside JSON."""

    def __init__(self):
        self.ids: dict = {}
        self.text: dict = {}

    def add(self, old, new):
        if old != new:
            self.ids[old] = new
            self.text[str(old)] = str(new)

    def value(self, value):
        if isinstance(value, uuid.UUID):
            return self.ids.get(value, value)
        if isinstance(value, str):
            return self.text.get(value, value)
        if isinstance(value, dict):
            return {k: self.value(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.value(v) for v in value]
        return value

    def row(self, row: dict) -> dict:
        return {k: self.value(v) for k, v in row.items()} if self.ids else row


def _self_ordered(table, rows):
    """Rows in an order that inserts a row before any row of the same table that refers to it."""
    self_fks = [fk.parent.name for fk in table.foreign_keys if fk.column.table is table]
    if not self_fks:
        return rows
    pk = table.primary_key.columns[0].name
    pending, done, ordered = list(rows), set(), []
    present = {r[pk] for r in rows}
    while pending:
        ready = [
            r for r in pending if all(r[c] is None or r[c] in done or r[c] not in present for c in self_fks)
        ]
        if not ready:
            raise ArchiveError(f"data/{table.name}.json: its rows refer to each other in a loop")
        for r in ready:
            done.add(r[pk])
            ordered.append(r)
        pending = [r for r in pending if r[pk] not in done]
    return ordered


def _unique_keys(table):
    """Column sets unique on their own in `table`, the primary key excepted."""
    keys = []
    for constraint in table.constraints:
        if isinstance(constraint, sa.UniqueConstraint):
            keys.append([c.name for c in constraint.columns])
    for index in table.indexes:
        if index.unique:
            keys.append([c.name for c in index.columns])
    keys += [[c.name] for c in table.columns if c.unique]
    return keys


def _fresh(column, value):
    """A new value for a column unique across the installation (a copy must not share it)."""
    if column.name.endswith("token_hash"):
        return hashlib.sha256(secrets.token_bytes(32)).hexdigest()  # the copy's old links no longer open it
    length = getattr(column.type, "length", None) or 200
    return f"{value[: length - 9]}-{secrets.token_hex(4)}"


class Restorer:
    def __init__(self, path, slug=None):
        self.path = Path(path)
        self.slug = slug
        self.remap = _Remap()
        self.detached: list = []

    def _load(self, archive):
        manifest = verify_files(archive)
        revision = schema_revision()
        if manifest.get("schema_revision") != revision:
            raise ArchiveError(
                f"the archive was made at schema revision {manifest.get('schema_revision') or '(none)'} and "
                f"this database is at {revision or '(none)'}: restore it into an installation of the same "
                "version (upgrade or install that version first)"
            )
        tables = db.metadata.tables
        school = _decoded(tables["schools"], _read_json(archive, "school.json"), "school.json")
        data = {}
        for name in sorted(n for n in archive.namelist() if n.startswith("data/")):
            table_name = name[len("data/") : -len(".json")]
            if table_name not in tables or table_name in EXCLUDED:
                raise ArchiveError(f"{name}: this installation has no table {table_name}")
            table = tables[table_name]
            data[table_name] = [
                _decoded(table, row, f"{name} row {n + 1}") for n, row in enumerate(_read_json(archive, name))
            ]
        counts = manifest.get("tables") or {}
        for name, rows in data.items():
            if counts.get(name) != len(rows):
                raise ArchiveError(
                    f"data/{name}.json: {len(rows)} rows, the manifest says {counts.get(name)}"
                )
        platform = {}
        for name in sorted(n for n in archive.namelist() if n.startswith("platform/")):
            table_name = name[len("platform/") : -len(".json")]
            if table_name not in tables:
                raise ArchiveError(f"{name}: this installation has no table {table_name}")
            platform[table_name] = [
                _decoded(tables[table_name], row, f"{name} row {n + 1}")
                for n, row in enumerate(_read_json(archive, name))
            ]
        users = [_decoded(tables["users"], row, "users.json") for row in _read_json(archive, "users.json")]
        return manifest, school, data, platform, users

    def run(self) -> Restored:
        """Check the archive, then write it in the current transaction (the caller commits or rolls back);
        the files are copied last (see Restored.files: remove them if the commit fails)."""
        try:
            archive = zipfile.ZipFile(self.path)
        except (OSError, zipfile.BadZipFile) as exc:
            raise ArchiveError(f"{self.path} cannot be opened as a ZIP: {exc}") from None
        with archive:
            manifest, school, data, platform, users = self._load(archive)
            verify_chain(data.get("audit_events", []), manifest)
            slug = self.slug or school["slug"]
            schools = db.metadata.tables["schools"]
            if db.session.execute(sa.select(schools.c.id).where(schools.c.slug == slug)).first():
                raise ArchiveError(
                    f"the slug {slug!r} is taken in this installation: choose another with --slug"
                )
            remapped = db.session.execute(sa.select(schools.c.id).where(schools.c.id == school["id"])).first()
            old_school_id = school["id"]
            if remapped:
                self._new_ids(school, data)
            school = self.remap.row(school)
            school["slug"] = slug
            result = Restored(school_id=school["id"], slug=slug, remapped=bool(remapped))
            self._users(users, result)
            self._platform(platform)
            school = self.remap.row(school)  # ids of installation rows matched by their unique keys
            self._detach(schools, school)
            db.session.execute(schools.insert(), [school])
            for table in db.metadata.sorted_tables:
                if table.name not in data or table.name == "audit_events":
                    continue
                rows = [self.remap.row(r) for r in data[table.name]]
                if remapped:
                    rows = self._fresh_unique(table, rows)
                if rows:
                    db.session.execute(table.insert(), _self_ordered(table, rows))
                    result.rows += len(rows)
            result.rows += self._audit(data.get("audit_events", []), school["id"], remapped)
            audit.record(
                "school.restored",
                subject_type="schools",
                subject_id=str(school["id"]),
                after={
                    "slug": slug,
                    "from_school_id": str(old_school_id),
                    "archive_anchor": (manifest.get("audit_head") or {}).get("anchor"),
                    "exported_at": manifest.get("exported_at"),
                    "ids_replaced": bool(remapped),
                    "rows": result.rows,
                    "users_created": len(result.users_created),
                },
            )
            db.session.flush()
            self._copy_files(archive, school["id"], result)
        return result

    def _new_ids(self, school, data):
        self.remap.add(school["id"], uuid.uuid4())
        for name, rows in data.items():
            table = db.metadata.tables[name]
            pk = list(table.primary_key.columns)
            if len(pk) == 1 and rows and isinstance(rows[0].get(pk[0].name), uuid.UUID):
                for row in rows:
                    self.remap.add(row[pk[0].name], uuid.uuid4())

    def _detach(self, table, row):
        """Leave out the school's links to installation rows this installation does not have (a group of
        schools: an admin adds the school to one here)."""
        for fk in table.foreign_keys:
            value = row.get(fk.parent.name)
            if value is None or fk.column.table is table:
                continue
            target = fk.column.table
            if not db.session.execute(sa.select(fk.column).where(fk.column == value)).first():
                row[fk.parent.name] = None
                self.detached.append(f"{target.name} {value}")

    def _fresh_unique(self, table, rows):
        single = {key[0] for key in _unique_keys(table) if len(key) == 1 and key[0] != "school_id"}
        if not single:
            return rows
        return [
            {
                k: (_fresh(table.c[k], v) if k in single and isinstance(v, str) and v else v)
                for k, v in r.items()
            }
            for r in rows
        ]

    def _users(self, users, result):
        table = db.metadata.tables["users"]
        for row in users:
            email = (row.get("email") or "").strip().lower()
            if not email:
                raise ArchiveError("users.json: an account without an e-mail address")
            found = db.session.execute(sa.select(table.c.id).where(table.c.email == email)).scalar()
            if found is None:
                taken = db.session.execute(sa.select(table.c.id).where(table.c.id == row["id"])).first()
                found = uuid.uuid4() if taken else row["id"]
                values = {c: row.get(c) for c in USER_COLUMNS} | {"id": found, "email": email}
                values.update(_defaults(table, values))
                db.session.execute(table.insert(), [values])
                result.users_created.append(email)
            self.remap.add(row["id"], found)

    def _platform(self, platform):
        for table in db.metadata.sorted_tables:
            for row in platform.get(table.name, []):
                row = self.remap.row(row)
                pk = [c.name for c in table.primary_key.columns]
                where = [table.c[c] == row[c] for c in pk]
                if db.session.execute(sa.select(*table.primary_key.columns).where(*where)).first():
                    continue
                match = None
                for key in _unique_keys(table):
                    if all(row.get(c) is not None for c in key):
                        match = db.session.execute(
                            sa.select(*table.primary_key.columns).where(*(table.c[c] == row[c] for c in key))
                        ).first()
                        if match:
                            break
                if match:
                    if len(pk) == 1:
                        self.remap.add(row[pk[0]], match[0])
                    continue
                db.session.execute(table.insert(), [row])

    def _audit(self, events, school_id, remapped) -> int:
        table = db.metadata.tables["audit_events"]
        chain = str(school_id)
        ring = audit.keyring()
        prev, rows = audit.GENESIS, []
        for values in events:
            values = dict(values)
            values.pop("id", None)
            if remapped:  # a new chain for the copy: the ids it names changed, so it is sealed again
                values = self.remap.row(values)
                values.update(chain=chain, school_id=school_id, prev_hash=prev, key_id=ring.current_id)
                values["hash"] = audit.AuditEvent(**values).digest(ring)
            prev = values["hash"]
            rows.append(values)
        if rows:
            db.session.execute(table.insert(), rows)
        db.session.add(audit.AuditHead(chain=chain, seq=len(rows), hash=prev))
        db.session.flush()
        return len(rows)

    def _copy_files(self, archive, school_id, result):
        folder = store_folder(school_id)
        names = sorted(n for n in archive.namelist() if n.startswith("files/") and not n.endswith("/"))
        if not names:
            return
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:
            for name in names:
                stored = name[len("files/") :]
                if "/" in stored or stored.startswith("."):
                    raise ArchiveError(f"{name}: not a stored file name")
                target = folder / stored
                if target.exists():
                    raise ArchiveError(f"{name}: a file of that name is already in the school's store")
                with archive.open(name) as src, open(target, "xb") as dst:
                    shutil.copyfileobj(src, dst, 1 << 20)
                target.chmod(0o600)
                result.files.append(target)
        except BaseException:
            remove_files(result)
            raise


def _defaults(table, values):
    """Python-side defaults for the columns a restored account leaves out (no password: they reset it)."""
    out = {}
    for column in table.columns:
        if column.name in values or column.default is None:
            continue
        arg = column.default.arg
        out[column.name] = arg(None) if callable(arg) else arg
    return out


def remove_files(result: Restored) -> None:
    for path in result.files:
        Path(path).unlink(missing_ok=True)
    result.files.clear()


def restore(path, slug=None, commit=None) -> Restored:
    """Restore the archive at `path` in one transaction: committed (`commit`, default the session's) when
    everything is written, rolled back, its copied files removed, on any failure."""
    commit = commit or db.session.commit
    result = None
    try:
        result = Restorer(path, slug).run()
        commit()
    except BaseException:
        db.session.rollback()
        if result is not None:
            remove_files(result)
        raise
    return result
