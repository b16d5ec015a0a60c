"""`flask archive export|restore` (a school's archive), `flask backup create|restore` (the installation)."""

import sys

import click
from flask import current_app
from flask.cli import AppGroup

from ..db import db
from ..tenancy import School
from . import backup, export
from .restore import ArchiveError, restore

archive_cli = AppGroup("archive", help="A school's archive: export it, restore it into an installation.")
backup_cli = AppGroup("backup", help="Back up and restore the installation: database and files together.")


def _fail(message, code=1):
    click.echo(f"Error: {message}", err=True)
    sys.exit(code)


@archive_cli.command("export")
@click.argument("slug")
@click.argument("file", type=click.Path(dir_okay=False, writable=True))
def export_cmd(slug, file):
    """Write the school SLUG's archive (ZIP with manifest) to FILE."""
    school = db.session.execute(db.select(School).where(School.slug == slug)).scalar_one_or_none()
    if school is None:
        _fail(f"no school {slug!r}")
    with open(file, "xb") as out:
        manifest = export.build(school, out)
    click.echo(
        f"Wrote {file}: {len(manifest['files'])} files, audit trail at {manifest['audit_head']['anchor']}"
    )


@archive_cli.command("restore")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--slug", default=None, help="Restore under this slug (default: the archive's)")
def restore_cmd(file, slug):
    """Check the archive FILE (every hash, the schema revision, the audit chain) and restore the school."""
    try:
        result = restore(file, slug=slug)
    except ArchiveError as exc:
        _fail(f"{exc}. Nothing was restored.")
    how = "with new ids (the school's ids were taken here)" if result.remapped else "with its ids kept"
    click.echo(f"Restored /s/{result.slug}/ {how}: {result.rows} rows, {len(result.files)} files.")
    if result.users_created:
        click.echo(
            f"{len(result.users_created)} accounts were created without a password; they set one with "
            "'Forgot your password?': " + ", ".join(result.users_created)
        )


@backup_cli.command("create")
@click.argument("directory", type=click.Path(file_okay=False))
def backup_create_cmd(directory):
    """Back up the database and the evidence store into DIRECTORY (new or empty)."""
    try:
        revision = export.schema_revision()
        db.session.rollback()
        manifest = backup.create(
            current_app.config["SQLALCHEMY_DATABASE_URI"],
            current_app.config["TRACKER_EVIDENCE_DIR"],
            directory,
            schema_revision=revision,
        )
    except backup.BackupError as exc:
        _fail(str(exc))
    click.echo(
        f"Backed up the {manifest['database']} database and {len(manifest['files']) - 1} files to {directory}"
    )


@backup_cli.command("restore")
@click.argument("directory", type=click.Path(exists=True, file_okay=False))
@click.option("--yes", is_flag=True, help="Do not ask before replacing the database and the files")
def backup_restore_cmd(directory, yes):
    """Replace the database and the evidence store with the backup in DIRECTORY, once every hash matches."""
    try:
        backup.verify(directory)
    except backup.BackupError as exc:
        _fail(f"{exc}. Nothing was restored.")
    if not yes:
        click.confirm(
            "This replaces the database and every stored file. Stop the app first. Go on?", abort=True
        )
    db.session.remove()
    db.engine.dispose()  # the backup replaces the database under this process's connections
    try:
        manifest = backup.restore(
            directory,
            current_app.config["SQLALCHEMY_DATABASE_URI"],
            current_app.config["TRACKER_EVIDENCE_DIR"],
        )
    except backup.BackupError as exc:
        _fail(str(exc))
    click.echo(
        f"Restored the backup of {manifest['created_at']} (schema {manifest['schema_revision'] or '?'})"
    )
