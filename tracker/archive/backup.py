"""Installation backups: the database and the evidence store together, with a manifest of hashes.

`flask backup create DIR` writes DIR/database.sqlite3 (SQLite's online backup API: a consistent copy while the
app runs) or DIR/database.dump (PostgreSQL: `pg_dump -Fc`, one snapshot), then DIR/store/ (a copy of
TRACKER_EVIDENCE_DIR: evidence, certificates, policy and library files; the signed reports' PDFs are in the
database) and DIR/manifest.json with every file's SHA-256 and size.

The database is copied first and the files second. Files are written before the row that names them is
committed, and removed only after the row is gone, so every file the database copy names is already on disk
when the store is copied (a file removed in between is gone from both sides, harmlessly; a file added in
between is copied without a row, and is unused).

`flask backup restore DIR` checks every file against the manifest first and refuses on the first mismatch,
then replaces the database (SQLite: the online backup API again, into the configured file; PostgreSQL:
`pg_restore --clean --if-exists --single-transaction`) and the store's contents.
"""

import hashlib
import json
import shutil
import sqlite3
import subprocess
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from ..config import child_environment

FORMAT = "safeguarding-tracker-backup"
MANIFEST = "manifest.json"
SQLITE_FILE = "database.sqlite3"
PG_FILE = "database.dump"
STORE = "store"


class BackupError(Exception):
    """The backup cannot be made or restored; the message says why."""


def _sha256(path: Path) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as src:
        for chunk in iter(lambda: src.read(1 << 20), b""):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _kind(url: str) -> str:
    name = sa.engine.make_url(url).get_backend_name()
    if name not in ("sqlite", "postgresql"):
        raise BackupError(f"backups support SQLite and PostgreSQL, not {name}")
    return name


def _sqlite_path(url: str) -> str:
    database = sa.engine.make_url(url).database
    if not database or database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up")
    return database


def _libpq(url: str) -> tuple[str, dict]:
    """A libpq connection string for pg_dump/pg_restore, and the environment carrying the password."""
    parsed = sa.engine.make_url(url)
    env = child_environment(**({"PGPASSWORD": parsed.password} if parsed.password else {}))
    plain = parsed.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _run(command, env=None):
    try:
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise BackupError(f"{command[0]} is not installed: install the PostgreSQL client tools") from None
    if done.returncode != 0:
        raise BackupError(f"{command[0]} failed: {done.stderr.strip() or done.stdout.strip()}")


def _sqlite_copy(source: str, target: str) -> None:
    src = sqlite3.connect(source)
    dst = sqlite3.connect(target)
    try:
        with dst:
            src.backup(dst)
    finally:
        dst.close()
        src.close()


def create(url: str, store_dir: str | Path, out_dir: str | Path, schema_revision: str = "") -> dict:
    """Back the database at `url` and the store up into the new or empty folder `out_dir`; the manifest."""
    out = Path(out_dir)
    if out.exists() and any(out.iterdir()):
        raise BackupError(f"{out} is not empty: give a new or empty folder")
    out.mkdir(mode=0o700, parents=True, exist_ok=True)
    kind = _kind(url)
    if kind == "sqlite":
        _sqlite_copy(_sqlite_path(url), str(out / SQLITE_FILE))
    else:
        target, env = _libpq(url)
        _run(["pg_dump", "-Fc", "--no-owner", "-f", str(out / PG_FILE), target], env)
    store = Path(store_dir)
    if store.is_dir():
        shutil.copytree(store, out / STORE, ignore=shutil.ignore_patterns(".upload-*"))
    else:
        (out / STORE).mkdir()
    files = []
    for path in sorted(p for p in out.rglob("*") if p.is_file()):
        digest, size = _sha256(path)
        files.append({"path": path.relative_to(out).as_posix(), "sha256": digest, "size": size})
    manifest = {
        "format": FORMAT,
        "database": kind,
        "created_at": datetime.now(UTC).isoformat(),
        "schema_revision": schema_revision,
        "files": files,
    }
    (out / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True))
    return manifest


def verify(backup_dir: str | Path) -> dict:
    """Check every file of a backup against its manifest; return it. BackupError names the first problem."""
    folder = Path(backup_dir)
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
    except FileNotFoundError:
        raise BackupError(f"{folder / MANIFEST} is missing: this is not a backup folder") from None
    except ValueError as exc:
        raise BackupError(f"{MANIFEST} is not valid JSON: {exc}") from None
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{MANIFEST} does not describe a backup of the Safeguarding Tracker")
    listed = {entry["path"]: entry for entry in manifest.get("files", [])}
    for path in sorted(listed):
        file = folder / path
        if not file.is_file():
            raise BackupError(f"{path}: listed in the manifest but missing")
        digest, size = _sha256(file)
        if digest != listed[path]["sha256"] or size != listed[path]["size"]:
            raise BackupError(
                f"{path}: its SHA-256 or size does not match the manifest: the file was changed"
            )
    present = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()} - {MANIFEST}
    extra = sorted(present - set(listed))
    if extra:
        raise BackupError(f"{extra[0]}: in the backup folder but not in the manifest")
    return manifest


def restore(backup_dir: str | Path, url: str, store_dir: str | Path) -> dict:
    """Replace the database at `url` and the store's contents with the backup's, once every hash matches.
    The app's connections must be closed first (the command disposes of its engine)."""
    folder = Path(backup_dir)
    manifest = verify(folder)
    kind = _kind(url)
    if manifest.get("database") != kind:
        raise BackupError(
            f"the backup is of a {manifest.get('database')} database; this installation uses {kind}"
        )
    if kind == "sqlite":
        _sqlite_copy(str(folder / SQLITE_FILE), _sqlite_path(url))
    else:
        target, env = _libpq(url)
        _run(
            [
                "pg_restore",
                "--clean",
                "--if-exists",
                "--no-owner",
                "--single-transaction",
                "-d",
                target,
                str(folder / PG_FILE),
            ],
            env,
        )
    store = Path(store_dir)
    store.mkdir(mode=0o700, parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=store.parent, prefix=f".{store.name}-restore-"))
    try:
        shutil.copytree(folder / STORE, staging / "new")
        old = staging / "old"
        old.mkdir()
        for child in store.iterdir():
            child.rename(old / child.name)
        for child in (staging / "new").iterdir():
            child.rename(store / child.name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return manifest
