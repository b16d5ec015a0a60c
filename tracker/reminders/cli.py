"""Reminder commands: `flask --app tracker scheduler run` (the jobs, in the foreground), `reminders build`
(today's digests) and `reminders send` (the outbox, once)."""

import sys
from datetime import UTC, datetime

import click
from apscheduler.schedulers.blocking import BlockingScheduler
from flask import current_app
from flask.cli import AppGroup

from . import digest, outbox
from .scheduler import acquire_lock, add_jobs

scheduler_cli = AppGroup("scheduler", help="The background jobs (reminder digests, outbox).")
reminders_cli = AppGroup("reminders", help="Reminder digests and the e-mail outbox.")


def _parse_now(value):
    if not value:
        return None
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@scheduler_cli.command("run")
@click.option("--send-every", default=60, show_default=True, help="Seconds between outbox runs")
def run_cmd(send_every):
    """Run the scheduler in the foreground (one process per installation)."""
    app = current_app._get_current_object()
    if not acquire_lock(app):
        click.echo(
            "Another scheduler holds the scheduler lock (instance/scheduler.lock); "
            "not starting a second one.",
            err=True,
        )
        sys.exit(1)
    scheduler = BlockingScheduler(timezone="UTC")
    add_jobs(scheduler, app, send_every_seconds=send_every)
    app.extensions["reminders_scheduler"] = scheduler
    click.echo(
        "Scheduler running: digests checked every 15 minutes (07:00 school time), outbox every "
        f"{send_every} s. Ctrl+C stops it."
    )
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        pass


@reminders_cli.command("build")
@click.option("--now", help="Pretend it is this UTC time (ISO 8601), for trying things out")
def build_cmd(now):
    """Build today's digests for every school whose 07:00 has passed (idempotent)."""
    report = digest.run_daily_digests(_parse_now(now))
    click.echo(f"{report.messages} digest(s) queued for {report.schools} school(s).")
    if report.skipped:
        click.echo(f"Failed for: {', '.join(report.skipped)}", err=True)
        sys.exit(1)


@reminders_cli.command("send")
def send_cmd():
    """Send every due message of the outbox once."""
    report = outbox.send_pending()
    click.echo(f"{report.sent} sent, {report.retrying} to retry later, {report.failed} failed.")
