"""Installation backups: the database (SQLite's online backup API, or pg_dump on PostgreSQL: whichever the
suite runs on) and the evidence store together, with a manifest of hashes; a restore brings both back and
refuses a backup whose files do not match."""

import json

import pytest
import sqlalchemy as sa

from tracker.archive import backup

from .databases import drop_postgres, fresh_postgres


@pytest.fixture
def installation(database_url, tmp_path):
    """A scratch database of the suite's kind (not the suite's own: a restore replaces it) and a store."""
    url = (
        fresh_postgres(database_url, "_backup")
        if database_url.startswith("postgresql")
        else f"sqlite:///{tmp_path / 'installation.sqlite3'}"
    )
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
        conn.exec_driver_sql("INSERT INTO notes (id, body) VALUES (1, 'kept'), (2, 'also kept')")
    store = tmp_path / "store"
    (store / "school-a").mkdir(parents=True)
    (store / "school-a" / "evidence-one").write_bytes(b"evidence one")
    (store / "school-a" / "evidence-two").write_bytes(b"evidence two")
    yield url, engine, store
    engine.dispose()
    if url.startswith("postgresql"):
        drop_postgres(url)


def _notes(engine):
    with engine.connect() as conn:
        return conn.exec_driver_sql("SELECT id, body FROM notes ORDER BY id").all()


def test_a_backup_brings_back_the_database_and_the_files_together(installation, tmp_path):
    url, engine, store = installation
    out = tmp_path / "backup"
    manifest = backup.create(url, store, out, schema_revision="test")
    expected = "database.sqlite3" if url.startswith("sqlite") else "database.dump"
    listed = {e["path"] for e in manifest["files"]}
    assert expected in listed and "store/school-a/evidence-two" in listed
    assert json.loads((out / "manifest.json").read_text())["files"] == manifest["files"]

    with engine.begin() as conn:  # the installation moves on, then something goes wrong
        conn.exec_driver_sql("DELETE FROM notes WHERE id = 1")
        conn.exec_driver_sql("INSERT INTO notes (id, body) VALUES (3, 'after the backup')")
    (store / "school-a" / "evidence-two").unlink()
    (store / "school-b").mkdir()
    (store / "school-b" / "late").write_bytes(b"after the backup")
    engine.dispose()

    backup.restore(out, url, store)
    assert _notes(engine) == [(1, "kept"), (2, "also kept")]
    assert (store / "school-a" / "evidence-two").read_bytes() == b"evidence two"
    assert not (store / "school-b").exists()


def test_a_backup_whose_files_changed_is_refused_and_nothing_is_replaced(installation, tmp_path):
    url, engine, store = installation
    out = tmp_path / "backup"
    backup.create(url, store, out)
    (out / "store" / "school-a" / "evidence-two").write_bytes(b"evidence 2")
    with engine.begin() as conn:
        conn.exec_driver_sql("INSERT INTO notes (id, body) VALUES (3, 'current')")
    with pytest.raises(backup.BackupError, match=r"store/school-a/evidence-two: its SHA-256 or size"):
        backup.restore(out, url, store)
    assert len(_notes(engine)) == 3
    assert (store / "school-a" / "evidence-two").read_bytes() == b"evidence two"
    with pytest.raises(backup.BackupError, match="is not empty"):
        backup.create(url, store, out)


def test_the_backup_command_backs_up_the_running_installation(app, tmp_path):
    out = tmp_path / "backup"
    result = app.test_cli_runner().invoke(args=["backup", "create", str(out)])
    assert result.exit_code == 0, result.output
    manifest = backup.verify(out)
    assert (
        manifest["database"] == sa.engine.make_url(app.config["SQLALCHEMY_DATABASE_URI"]).get_backend_name()
    )
    assert manifest["schema_revision"]
    (out / "manifest.json").write_text(json.dumps({**manifest, "files": manifest["files"][1:]}))
    refused = app.test_cli_runner().invoke(args=["backup", "restore", str(out), "--yes"])
    assert refused.exit_code != 0 and "in the backup folder but not in the manifest" in refused.output
