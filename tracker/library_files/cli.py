"""`flask library load-files FOLDER`: attach a folder of documents to the shared library, matched by key."""

import sys

import click
from flask.cli import AppGroup

from ..db import db
from .services import load_folder

library_cli = AppGroup("library", help="The shared library's documents.")


@library_cli.command("load-files")
@click.argument("folder", type=click.Path(exists=True, file_okay=False))
def load_files_cmd(folder):
    """Attach each file FOLDER/<resource key>.<ext> (e.g. safer-recruitment-checklist.pdf) to that shared
    resource for the whole installation, replacing its earlier document. Files go through the evidence
    upload checks; the report lists what matched and what did not."""
    report = load_folder(folder)
    try:
        db.session.commit()
    except BaseException:
        db.session.rollback()
        report.change.discard_stored()
        raise
    report.change.delete_replaced()
    for key, name in report.matched:
        click.echo(f"attached  {name} -> {key}")
    for name in report.unmatched:
        click.echo(f"no match  {name}: no shared resource has the key '{name.rpartition('.')[0] or name}'")
    for name, why in report.rejected:
        click.echo(f"refused   {name}: {why}")
    click.echo(
        f"{len(report.matched)} attached, {len(report.unmatched)} without a matching resource, "
        f"{len(report.rejected)} refused; {len(report.missing)} shared resource(s) still without a document"
    )
    if report.missing:
        click.echo("without a document: " + ", ".join(report.missing))
    if report.rejected:
        sys.exit(1)
