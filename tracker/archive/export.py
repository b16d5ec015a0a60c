"""A school's archive: every row of every school-scoped table, the files in the school's store, its signed
reports' PDFs and a manifest (each file's SHA-256 and size, the schema revision, the audit chain head).

Generic by construction: every table with a `school_id` column is dumped (walking `db.metadata`), with the
association tables that hang off them (a table without `school_id` whose foreign key points at a dumped
table), the installation's rows they refer to (framework templates, library resources: `platform/`) and the
users they name (e-mail and name only: never a password hash, a session or a second factor). A table another
feature adds tomorrow is in the archive without a change here.

JSON with a stable order: rows sorted by primary key, keys sorted; values typed by their column (dates and
times ISO 8601, UUIDs as text, binary as base64). An integer primary key that the database numbers itself (the
audit events') is left out: the rows keep their order and a restore numbers them again.
"""

import base64
import decimal
import hashlib
import io
import json
import uuid
import zipfile
from datetime import date, datetime, time
from pathlib import Path

import sqlalchemy as sa
from flask import current_app

from .. import audit
from ..db import db, utcnow

FORMAT = "safeguarding-tracker-school-archive"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
#: tables never archived: the archive jobs themselves (an archive of archives would never be equal twice)
EXCLUDED = frozenset({"archive_jobs"})
#: the only user columns an archive carries
USER_COLUMNS = ("id", "email", "name")
#: installation tables handled on their own (the school's row, its members' accounts, the audit heads)
SPECIAL = frozenset({"schools", "users", "audit_heads"})


def base_type(column):
    kind = column.type
    return kind.impl_instance if isinstance(kind, sa.types.TypeDecorator) else kind


def encode(column, value):
    """A column's value as JSON: ISO dates and times, UUIDs as text, bytes as base64."""
    if value is None:
        return None
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, decimal.Decimal):
        return str(value)
    return value


def decode(column, value):
    """The inverse of encode(), by the column's type."""
    if value is None:
        return None
    kind = base_type(column)
    if isinstance(kind, sa.Uuid):
        return uuid.UUID(value)
    if isinstance(kind, sa.DateTime):
        return datetime.fromisoformat(value)
    if isinstance(kind, sa.Date):
        return date.fromisoformat(value)
    if isinstance(kind, sa.Time):
        return time.fromisoformat(value)
    if isinstance(kind, sa.LargeBinary):
        return base64.b64decode(value)
    if isinstance(kind, sa.Numeric) and not isinstance(kind, sa.Float):
        return decimal.Decimal(value)
    return value


def numbered_pk(table) -> bool:
    """Whether the table's primary key is one integer the database numbers itself (left out of archives)."""
    pk = list(table.primary_key.columns)
    return len(pk) == 1 and isinstance(base_type(pk[0]), sa.Integer) and pk[0].autoincrement in (True, "auto")


def school_tables():
    """Every archived table that has a school_id column, in insert order."""
    return [t for t in db.metadata.sorted_tables if "school_id" in t.c and t.name not in EXCLUDED | SPECIAL]


def child_tables():
    """Tables without school_id whose rows belong to a school through a foreign key to a school table."""
    scoped = {t.name for t in school_tables()}
    found = []
    for table in db.metadata.sorted_tables:
        if "school_id" in table.c or table.name in EXCLUDED | SPECIAL:
            continue
        links = [
            (fk.parent.name, fk.column.table.name, fk.column.name)
            for fk in table.foreign_keys
            if fk.column.table.name in scoped
        ]
        if links:
            found.append((table, links))
    return found


def _row(table, mapping, drop_pk=False):
    out = {}
    for column in table.columns:
        if drop_pk and column.primary_key:
            continue
        out[column.name] = encode(column, mapping[column.name])
    return out


def _select_sorted(table, where):
    return db.session.execute(sa.select(table).where(where).order_by(*table.primary_key.columns)).mappings()


def collect(school, progress=lambda percent, stage: None) -> dict:
    """{"school": row, "tables": {name: [rows]}, "platform": {name: [rows]}, "users": [rows]}: the data."""
    schools = db.metadata.tables["schools"]
    school_row = db.session.execute(sa.select(schools).where(schools.c.id == school.id)).mappings().one()
    tables, ids = {}, {}
    scoped = school_tables()
    for n, table in enumerate(scoped):
        if n % 8 == 0:
            progress(5 + 30 * n // len(scoped), "Reading the school's records")
        raw = list(_select_sorted(table, table.c.school_id == school.id))
        pk = list(table.primary_key.columns)
        if len(pk) == 1:
            ids[table.name] = {r[pk[0].name] for r in raw}
        tables[table.name] = (table, raw)
    for table, links in child_tables():
        clauses = [
            table.c[col].in_(sorted(ids.get(target, ()), key=str))
            for col, target, target_col in links
            if target_col == db.metadata.tables[target].primary_key.columns[0].name
        ]
        raw = list(_select_sorted(table, sa.or_(*clauses))) if clauses else []
        tables[table.name] = (table, raw)
    platform, users = _referenced({**tables, "schools": (schools, [school_row])}, ids)
    return {
        "school": _row(schools, school_row),
        "tables": {
            name: [_row(table, r, drop_pk=numbered_pk(table)) for r in raw]
            for name, (table, raw) in tables.items()
        },
        "platform": platform,
        "users": users,
    }


def _referenced(tables, school_ids):
    """The installation's rows the school's rows refer to (followed through their own references) and the
    users they name."""
    wanted: dict[str, set] = {}
    user_ids = set()

    def note(table, raw_rows):
        for fk in table.foreign_keys:
            target = fk.column.table
            if target.name == "schools":
                continue
            values = {r[fk.parent.name] for r in raw_rows if r[fk.parent.name] is not None}
            values -= school_ids.get(target.name, set())  # the school's own rows are in the archive already
            if not values:
                continue
            if target.name == "users":
                user_ids.update(values)
            elif target.name not in EXCLUDED | SPECIAL:
                wanted.setdefault(target.name, set()).update((fk.column.name, v) for v in values)

    for table, raw in tables.values():
        note(table, raw)
    platform_raw: dict[str, dict] = {}
    seen: set = set()
    while True:
        pending = {(n, c, v) for n, pairs in wanted.items() for c, v in pairs} - seen
        if not pending:
            break
        seen |= pending
        by_table: dict = {}
        for name, col, value in pending:
            by_table.setdefault((name, col), set()).add(value)
        for (name, col), values in sorted(by_table.items()):
            table = db.metadata.tables[name]
            found = list(_select_sorted(table, table.c[col].in_(sorted(values, key=str))))
            rows = platform_raw.setdefault(name, {})
            for r in found:
                rows[tuple(str(r[c.name]) for c in table.primary_key.columns)] = r
            note(table, found)
    platform = {}
    for table in db.metadata.sorted_tables:
        if table.name in platform_raw:
            rows = platform_raw[table.name]
            platform[table.name] = [_row(table, rows[k]) for k in sorted(rows)]
    users_table = db.metadata.tables["users"]
    user_rows = db.session.execute(
        sa.select(*(users_table.c[c] for c in USER_COLUMNS))
        .where(users_table.c.id.in_(sorted(user_ids, key=str)))
        .order_by(users_table.c.id)
    ).mappings()
    users = [{c: encode(users_table.c[c], r[c]) for c in USER_COLUMNS} for r in user_rows]
    return platform, users


def schema_revision() -> str:
    """The database's alembic revision ("" when it has none: a schema made without the migrations)."""
    try:
        with db.session.begin_nested():
            return db.session.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() or ""
    except sa.exc.DBAPIError:
        return ""


def store_folder(school_id) -> Path:
    """The school's folder in the evidence store (evidence, certificates, policy and library files)."""
    return Path(current_app.config["TRACKER_EVIDENCE_DIR"]) / uuid.UUID(str(school_id)).hex


def _json_bytes(value) -> bytes:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, indent=1).encode("utf-8")


def _rows_bytes(rows) -> bytes:
    """A JSON list with one row per line: readable, and stable for comparison."""
    lines = [json.dumps(r, sort_keys=True, ensure_ascii=False, separators=(",", ":")) for r in rows]
    return ("[\n" + ",\n".join(lines) + "\n]\n" if lines else "[]\n").encode("utf-8")


README = """\
The archive of {name} ({slug}), made by the Safeguarding Tracker (when: see manifest.json, exported_at).

What is inside
  manifest.json        every other file's SHA-256 and size, the database schema revision, when the archive was
                       made, and where the school's audit trail stood (its chain head, "SEQ:HASH")
  school.json          the school itself
  data/<table>.json    every row the school has in that table, one row per line, sorted by id: the years,
                       items, answers, comments, evidence, people and their checks, training, policies,
                       accreditor queries, members, reports and the audit trail (data/audit_events.json)
  users.json           the accounts the rows name: e-mail address and name only, never a password
  platform/<table>.json  the installation's shared rows the school's rows use (framework templates,
                       library resources), so the archive can be read and restored elsewhere
  files/<name>         every file in the school's store (evidence, certificates, policy and library copies);
                       a row names its file by this name (stored_name, certificate_stored and the like)
  signed-reports/      the frozen PDF of every signed-off year, as the head signed it

Checking it
  sha256sum each file and compare with manifest.json; the audit trail can be checked by restoring the archive
  (flask archive restore FILE --slug NEW), which verifies every hash and the audit chain first.
"""


def build(school, out, progress=lambda percent, stage: None) -> dict:
    """Write the school's archive as a ZIP to `out` (a binary file); return its manifest."""
    data = collect(school, progress)
    progress(40, "Writing the records")
    entries: list[dict] = []

    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:

        def add(path, payload: bytes):
            archive.writestr(path, payload)
            entries.append(
                {"path": path, "sha256": hashlib.sha256(payload).hexdigest(), "size": len(payload)}
            )

        add("school.json", _json_bytes(data["school"]))
        add("users.json", _rows_bytes(data["users"]))
        for name, rows in data["tables"].items():
            add(f"data/{name}.json", _rows_bytes(rows))
        for name, rows in data["platform"].items():
            add(f"platform/{name}.json", _rows_bytes(rows))
        for row in data["tables"].get("reports", []):
            if row.get("frozen") and row.get("pdf"):
                add(f"signed-reports/{row['id']}.pdf", base64.b64decode(row["pdf"]))
        progress(60, "Adding the files")
        folder = store_folder(school.id)
        names = sorted(p.name for p in folder.iterdir() if p.is_file()) if folder.is_dir() else []
        for name in names:
            if name.startswith("."):
                continue  # a file being written (evidence storage's temporary names)
            digest, size = hashlib.sha256(), 0
            with (
                open(folder / name, "rb") as src,
                archive.open(f"files/{name}", "w", force_zip64=True) as dst,
            ):
                for chunk in iter(lambda: src.read(1 << 20), b""):
                    digest.update(chunk)
                    size += len(chunk)
                    dst.write(chunk)
            entries.append({"path": f"files/{name}", "sha256": digest.hexdigest(), "size": size})
        progress(90, "Writing the manifest")
        head = db.session.get(audit.AuditHead, str(school.id))
        now = utcnow()
        manifest = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "school": {"id": str(school.id), "slug": school.slug, "name": school.name},
            "exported_at": now.isoformat(),
            "schema_revision": schema_revision(),
            "audit_head": {
                "chain": str(school.id),
                "seq": head.seq if head is not None else 0,
                "hash": head.hash if head is not None else audit.GENESIS,
                "anchor": audit.anchor(school),
            },
            "tables": {name: len(rows) for name, rows in data["tables"].items()},
            "files": sorted(entries, key=lambda e: e["path"]),
        }
        readme = README.format(name=school.name, slug=school.slug)
        archive.writestr("README.txt", readme.encode("utf-8"))
        encoded = readme.encode("utf-8")
        manifest["files"].append(
            {"path": "README.txt", "sha256": hashlib.sha256(encoded).hexdigest(), "size": len(encoded)}
        )
        manifest["files"].sort(key=lambda e: e["path"])
        archive.writestr(MANIFEST, _json_bytes(manifest))
    return manifest


def build_bytes(school) -> tuple[bytes, dict]:
    """The archive in memory (tests, small schools)."""
    buffer = io.BytesIO()
    manifest = build(school, buffer)
    return buffer.getvalue(), manifest
