"""The school's archive: a ZIP of every school-scoped row and file with a manifest; its restore, proven by a
round trip into a fresh database; tampered archives refused with the first mismatch named, nothing written."""

import io
import json
import uuid
import zipfile
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade
from flask_sqlalchemy.session import _app_ctx_id

from tracker import create_app
from tracker.archive import export, jobs
from tracker.archive.models import DONE, QUEUED, ArchiveJob
from tracker.archive.restore import ArchiveError, restore
from tracker.audit import AuditEvent
from tracker.audit_verify import verify_chain
from tracker.db import utcnow
from tracker.evidence.models import Evidence
from tracker.extensions import db
from tracker.tenancy import School
from tracker.tracking.models import Item

from .databases import drop_postgres, fresh_postgres
from .world import _school, sign_in

#: manifest fields that say when, not what: left out when two archives are compared
TIME_FIELDS = ("exported_at",)


@pytest.fixture
def world():
    """One school with data in every feature (tests/world.py and every feature's builder) and its archive."""
    made = _school("R", "RoundTrip")
    db.session.commit()
    data, manifest = export.build_bytes(made.school)
    return {
        "school_id": made.school.id,
        "slug": made.school.slug,
        "zip": data,
        "manifest": manifest,
        "world": made,
    }


@pytest.fixture
def school(world):
    return db.session.get(School, world["school_id"])


def _write(tmp_path, data, name="archive.zip"):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _rewrite(data: bytes, change) -> bytes:
    """A copy of the archive with change(name, bytes) -> bytes applied to every member."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for name in source.namelist():
            target.writestr(name, change(name, source.read(name)))
    return out.getvalue()


def _without_times(manifest):
    return {k: v for k, v in manifest.items() if k not in TIME_FIELDS}


# --- what is inside ---------------------------------------------------------------------------------------


def test_the_archive_holds_every_school_table_its_files_and_a_manifest_of_their_hashes(world):
    archive = zipfile.ZipFile(io.BytesIO(world["zip"]))
    manifest = json.loads(archive.read("manifest.json"))
    names = set(archive.namelist())
    for table in db.metadata.sorted_tables:
        if "school_id" in table.c and table.name not in ("archive_jobs", "schools"):
            assert f"data/{table.name}.json" in names, table.name
    assert "data/school_year_frameworks.json" in names  # an association table without school_id
    listed = {e["path"]: e for e in manifest["files"]}
    assert set(listed) == names - {"manifest.json"}
    assert "README.txt" in names and "school.json" in names and "users.json" in names
    assert any(n.startswith("files/") for n in names)  # the evidence files
    assert any(n.startswith("signed-reports/") for n in names)  # the frozen report's PDF
    assert manifest["schema_revision"]
    for table in (
        "items",
        "comments",
        "evidence",
        "people",
        "training_sessions",
        "review_queries",
        "memberships",
    ):
        assert manifest["tables"][table] > 0, (
            table
        )  # data in every feature, so the round trip proves something
    for table in ("policy_documents", "reports", "audit_events", "invitations", "resources"):
        assert manifest["tables"][table] > 0, table
    assert manifest["audit_head"]["seq"] > 0 and manifest["audit_head"]["anchor"].startswith(
        f"{manifest['audit_head']['seq']}:"
    )
    users = json.loads(archive.read("users.json"))
    assert users and all(set(u) == {"id", "email", "name"} for u in users)  # never a password hash
    assert b"argon2" not in world["zip"] and b"password_hash" not in b"".join(
        archive.read(n) for n in names if n.endswith(".json")
    )
    items = json.loads(archive.read("data/items.json"))
    assert items == sorted(items, key=lambda r: r["id"])  # stable order: by primary key
    uuid.UUID(items[0]["id"])  # typed values: UUIDs as text


# --- the round trip -----------------------------------------------------------------------------------------


@contextmanager
def _other_session(other_app):
    """db.session bound to the other app's database for the block (the suite's session is the test's)."""
    saved = db.session
    with other_app.app_context():
        db.session = sa.orm.scoped_session(sa.orm.sessionmaker(bind=db.engine), scopefunc=_app_ctx_id)
        try:
            yield
        finally:
            db.session.remove()
            db.session = saved


@pytest.fixture(scope="module")
def fresh_app(app, database_url, tmp_path_factory):
    """A second installation with the same audit key: an empty database made by the migrations."""
    tmp = tmp_path_factory.mktemp("restored")
    url = (
        fresh_postgres(database_url, "_restore")
        if database_url.startswith("postgresql")
        else f"sqlite:///{tmp / 'restored.sqlite3'}"
    )
    other = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "restored-secret",
            "INSTANCE_PATH": str(tmp / "instance"),
            "TRACKER_AUDIT_KEY": app.config["TRACKER_AUDIT_KEY"],
            "SERVER_NAME": "tracker.test",
        }
    )
    with _other_session(other):
        upgrade()
    yield other
    with other.app_context():
        db.engine.dispose()
    if url.startswith("postgresql"):
        drop_postgres(url)


def test_an_archive_restored_into_a_fresh_installation_exports_the_same_archive(world, fresh_app, tmp_path):
    path = _write(tmp_path, world["zip"])
    with _other_session(fresh_app):
        result = restore(path)
        assert not result.remapped and result.school_id == world["school_id"]
        assert result.users_created  # no account existed there: made without a password
        school = db.session.get(School, world["school_id"])
        assert verify_chain(str(school.id)) is None  # the audit trail still verifies, ids and seals kept
        again, manifest = export.build_bytes(school)
        assert all(p.exists() for p in result.files)
    assert _without_times(manifest) == _without_times(world["manifest"])
    first, second = zipfile.ZipFile(io.BytesIO(world["zip"])), zipfile.ZipFile(io.BytesIO(again))
    for name in first.namelist():
        if name != "manifest.json":
            assert first.read(name) == second.read(name), name


def test_a_copy_under_a_new_slug_gets_new_ids_everywhere_and_a_chain_that_verifies(world, school, tmp_path):
    path = _write(tmp_path, world["zip"])
    result = restore(path, slug="copy-of-r")
    copy = db.session.get(School, result.school_id)
    assert result.remapped and copy.id != school.id and copy.slug == "copy-of-r"
    assert result.users_created == []  # every member matched by e-mail
    items = lambda s: db.session.execute(sa.select(Item.id).where(Item.school_id == s.id)).scalars().all()  # noqa: E731
    assert len(items(copy)) == len(items(school)) and not set(items(copy)) & set(items(school))
    evidence = db.session.execute(
        sa.select(Evidence).where(Evidence.school_id == copy.id, Evidence.stored_name.is_not(None))
    ).scalars()
    for row in evidence:
        assert export.store_folder(copy.id).joinpath(row.stored_name).is_file()
    assert verify_chain(str(copy.id)) is None
    restored = db.session.execute(
        sa.select(AuditEvent).where(
            AuditEvent.action == "school.restored", AuditEvent.subject_id == str(copy.id)
        )
    ).scalar_one()
    assert restored.after["archive_anchor"] == world["manifest"]["audit_head"]["anchor"]
    again, manifest = export.build_bytes(copy)
    assert manifest["tables"] == world["manifest"]["tables"]
    for p in result.files:
        p.unlink()


# --- refusals: the first mismatch named, nothing written ----------------------------------------------------


def _schools():
    return db.session.execute(sa.select(sa.func.count()).select_from(School)).scalar()


def _refused(path, match, slug="never-made"):
    before = _schools()
    with pytest.raises(ArchiveError, match=match):
        restore(path, slug=slug)
    assert _schools() == before
    assert db.session.execute(sa.select(School).where(School.slug == slug)).first() is None


def test_a_changed_file_is_refused_naming_it(world, tmp_path):
    changed = _rewrite(
        world["zip"], lambda n, b: b.replace(b"RoundTrip", b"RoundTrap") if n == "data/comments.json" else b
    )
    _refused(_write(tmp_path, changed), r"data/comments.json: its SHA-256 or size does not match")


def test_an_audit_event_changed_with_the_manifest_rewritten_to_match_is_refused(world, tmp_path):
    def change(name, payload):
        if name == "data/audit_events.json":
            rows = json.loads(payload)
            rows[1]["action"] = "nothing.happened"
            return export._rows_bytes(rows)
        return payload

    forged = _rewrite(world["zip"], change)
    archive = zipfile.ZipFile(io.BytesIO(forged))
    manifest = json.loads(archive.read("manifest.json"))
    import hashlib

    for entry in manifest["files"]:
        body = archive.read(entry["path"])
        entry["sha256"], entry["size"] = hashlib.sha256(body).hexdigest(), len(body)
    forged = _rewrite(forged, lambda n, b: export._json_bytes(manifest) if n == "manifest.json" else b)
    _refused(_write(tmp_path, forged), r"audit event #2: content changed after it was recorded")


def test_a_file_added_behind_the_manifests_back_is_refused(world, tmp_path):
    data = io.BytesIO(world["zip"])
    with zipfile.ZipFile(data, "a") as archive:
        archive.writestr("files/extra", b"smuggled")
    _refused(_write(tmp_path, data.getvalue()), r"files/extra: in the archive but not in the manifest")


def test_another_schema_revision_and_a_taken_slug_are_refused(world, school, tmp_path):
    def change(name, payload):
        if name == "manifest.json":
            manifest = json.loads(payload)
            manifest["schema_revision"] = "0000older"
            return export._json_bytes(manifest)
        return payload

    _refused(_write(tmp_path, _rewrite(world["zip"], change), "old.zip"), r"schema revision 0000older")
    before = _schools()
    with pytest.raises(ArchiveError, match=r"the slug .* is taken"):
        restore(_write(tmp_path, world["zip"]), slug=school.slug)
    assert _schools() == before


def test_an_archive_sealed_with_an_audit_key_this_installation_lacks_is_refused(
    app, world, tmp_path, monkeypatch
):
    monkeypatch.setitem(app.config, "TRACKER_AUDIT_KEY", "another-installation-key-" + "x" * 20)
    monkeypatch.setitem(app.config, "TRACKER_AUDIT_OLD_KEYS", [])
    _refused(
        _write(tmp_path, world["zip"]), r"audit event #1: sealed with audit key \w+, which this installation"
    )


def test_the_restore_command_exits_non_zero_on_a_tampered_archive(app, world, tmp_path):
    changed = _rewrite(world["zip"], lambda n, b: b + b" " if n == "data/items.json" else b)
    path = _write(tmp_path, changed)
    result = app.test_cli_runner().invoke(args=["archive", "restore", str(path), "--slug", "cli-copy"])
    assert result.exit_code != 0
    assert "data/items.json" in result.output and "Nothing was restored" in result.output


# --- the page -----------------------------------------------------------------------------------------------


def test_the_lead_makes_an_archive_in_the_background_and_downloads_it_audited(client, world, school):
    lead = world["world"].members["lead"]
    sign_in(client, lead.user)
    page = client.get(f"/s/{school.slug}/archive/")
    assert page.status_code == 200 and b"Make an archive" in page.data
    made = client.post(f"/s/{school.slug}/archive/")
    assert made.status_code == 303
    row = db.session.execute(
        sa.select(ArchiveJob).where(ArchiveJob.school_id == school.id, ArchiveJob.status == QUEUED)
    ).scalar_one()
    assert client.post(f"/s/{school.slug}/archive/", follow_redirects=True).status_code == 200  # busy: said
    jobs.run_job(school, row, commit=db.session.commit)
    status = client.get(f"/s/{school.slug}/archive/jobs/{row.id}/status").get_json()
    assert status["status"] == DONE and status["progress"] == 100
    download = client.get(status["download"])
    assert download.status_code == 200 and download.headers["X-Archive-SHA256"] == row.sha256
    manifest = json.loads(zipfile.ZipFile(io.BytesIO(download.data)).read("manifest.json"))
    assert manifest["school"]["slug"] == school.slug
    actions = (
        db.session.execute(
            sa.select(AuditEvent.action).where(
                AuditEvent.school_id == school.id, AuditEvent.subject_id == str(row.id)
            )
        )
        .scalars()
        .all()
    )
    assert {"archive.requested", "archive.made", "archive.downloaded"} <= set(actions)
    Path(jobs.file_path(row)).unlink()


def test_an_expired_archive_cannot_be_downloaded_and_its_file_is_removed(client, world, school):
    row = (
        db.session.execute(
            sa.select(ArchiveJob).where(ArchiveJob.school_id == school.id, ArchiveJob.status == DONE)
        )
        .scalars()
        .first()
    )
    path = jobs.file_path(row)
    assert path.is_file()
    row.expires_at = utcnow()
    db.session.commit()
    sign_in(client, world["world"].members["head"].user)
    assert client.get(f"/s/{school.slug}/archive/jobs/{row.id}/archive.zip").status_code == 404
    assert jobs.prune(school) == 1 and not path.exists()
