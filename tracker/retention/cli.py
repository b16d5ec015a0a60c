"""`flask retention run [--dry-run] [--school SLUG]`: apply the retention rules now (the daily job's work)."""

import click
from flask.cli import AppGroup

from ..db import db
from ..tenancy import School
from .jobs import run

retention_cli = AppGroup("retention", help="Apply the retention rules.")


@retention_cli.command("run")
@click.option("--dry-run", is_flag=True, help="List what would be removed; change nothing.")
@click.option("--school", "slug", default=None, help="Only this school (its slug).")
def run_cmd(dry_run, slug):
    """Remove what every school's rules say is due (protected records are listed, never removed)."""
    school = None
    if slug:
        school = db.session.execute(db.select(School).where(School.slug == slug)).scalar_one_or_none()
        if school is None:
            raise click.ClickException(f"No school with the slug {slug!r}.")
    report = run(dry_run=dry_run, school=school)
    verb = "would remove" if dry_run else "removed"
    for slug_, due in report.removed:
        click.echo(f"{slug_}\t{verb}\t{due.kind}\t{due.record_type} {due.record_id}\tdue {due.due_on}")
    for slug_, due in report.protected:
        click.echo(
            f"{slug_}\tkept\t{due.kind}\t{due.record_type} {due.record_id}\t{'; '.join(due.protected_by)}"
        )
    click.echo(
        f"{len(report.removed)} {'due' if dry_run else 'removed'}, {len(report.protected)} protected, "
        f"{report.failed} failed, {report.files_deleted} files deleted"
    )
    if report.failed:
        raise SystemExit(1)
