"""Operator commands (`flask --app tracker schools|users|audit|seed|frameworks ...`) and the registration of
every command group, the features' own (reminders, scheduler, sessions) and the dev tools' (demo, bench)."""

import sys
import zoneinfo
from datetime import UTC, datetime

import click
from flask import current_app
from flask.cli import AppGroup

from . import audit, audit_verify
from .anchors import queue_anchor_mail
from .archive.cli import archive_cli, backup_cli
from .auth.cli import sessions_cli
from .auth.models import User
from .auth.services import find_user, set_password
from .db import db, refresh_planner_statistics, write_transactions
from .devtools.benchdata import bench_cli
from .devtools.demo import demo_cli
from .frameworks.models import Framework
from .library_files.cli import library_cli
from .links import external_url
from .passwords import MIN_LENGTH, password_problem, strength_inputs
from .reminders.cli import reminders_cli, scheduler_cli
from .retention.cli import retention_cli
from .schools.services import ServiceError, create_school, invite
from .seeding import import_framework, seed_all
from .tenancy import ACCREDITOR, ROLES, School
from .validation import check_date
from .yamlcheck import SeedFileError

schools_cli = AppGroup("schools", help="Create and list schools.")
users_cli = AppGroup("users", help="Invite users and make platform admins.")
audit_cli = AppGroup("audit", help="Check the audit trail and its anchors.")


def _fail(message):
    click.echo(f"Error: {message}", err=True)
    sys.exit(2)


@schools_cli.command("create")
@click.option("--slug", required=True, help="Short web address, e.g. riverside")
@click.option("--name", required=True)
@click.option("--country", default="")
@click.option("--timezone", default="UTC", show_default=True)
@click.option(
    "--start-month",
    default=8,
    show_default=True,
    type=click.IntRange(1, 12),
    help="First month of the academic year",
)
@click.option(
    "--require-two-factor/--no-require-two-factor",
    default=True,
    show_default=True,
    help="Leads, heads, HR and accreditors must sign in with a second factor",
)
def create_school_cmd(slug, name, country, timezone, start_month, require_two_factor):
    """Create a school."""
    if timezone not in zoneinfo.available_timezones():
        _fail(f"unknown time zone {timezone!r}; use an IANA name such as Europe/Paris")
    try:
        school = create_school(
            slug=slug,
            name=name,
            country=country,
            timezone=timezone,
            year_start_month=start_month,
            require_two_factor=require_two_factor,
        )
    except ServiceError as exc:
        _fail(str(exc))
    db.session.commit()
    click.echo(f"Created {school.name} at /s/{school.slug}/")


@schools_cli.command("list")
def list_schools_cmd():
    """List schools."""
    for school in db.session.execute(db.select(School).order_by(School.slug)).scalars():
        click.echo(f"{school.slug}\t{school.name}\t{school.country}\t{school.timezone}")


@users_cli.command("invite")
@click.option("--school", "slug", required=True)
@click.option("--email", required=True)
@click.option("--role", type=click.Choice(ROLES), default="lead", show_default=True)
@click.option(
    "--until",
    "until",
    type=click.DateTime(["%Y-%m-%d"]),
    help="Last day of access (accreditors: at most TRACKER_ACCREDITOR_MAX_DAYS, default 90, from today)",
)
def invite_cmd(slug, email, role, until):
    """Invite someone to a school: the invitation is e-mailed through the outbox, and its one-time link is
    printed here too."""
    school = db.session.execute(db.select(School).where(School.slug == slug)).scalar_one_or_none()
    if school is None:
        _fail(f"no school with slug {slug!r}")
    if role == ACCREDITOR and until is None:
        _fail("an accreditor needs --until YYYY-MM-DD")
    problem = check_date("access", until.date() if until else None)
    if problem:
        _fail(f"--until: {problem}")
    try:
        issued = invite(school, email=email, role=role, access_until=until.date() if until else None)
    except ServiceError as exc:
        _fail(str(exc))
    db.session.commit()
    click.echo(external_url("auth.accept_invitation", token=issued.token))


@users_cli.command("make-admin")
@click.option("--email", required=True)
@click.password_option(help="Password for a new account (asked for when not given)")
def make_admin_cmd(email, password):
    """Create (or promote) a platform admin who can add schools from /admin/schools."""
    user = find_user(email)
    if user is None:
        if len(password) < MIN_LENGTH:
            _fail(f"use at least {MIN_LENGTH} characters")
        problem = password_problem(password, strength_inputs(email, "Platform admin"))
        if problem:
            _fail(problem)
        user = User(email=email.strip().lower(), name="Platform admin")
        db.session.add(user)
        db.session.flush()
        set_password(user, password, reason="set")
    user.is_platform_admin = True
    audit.record("admin.granted", subject=user, after={"email": user.email}, actor=user)
    db.session.commit()
    click.echo(f"{user.email} is a platform admin.")


@audit_cli.command("verify")
@click.option("--school", "slug", help="Check only this school's chain")
@click.option(
    "--anchor",
    "anchors",
    multiple=True,
    metavar="SEQ:HASH",
    help="An anchor from the school's reports or anchor e-mails, which its history must still "
    "contain (repeatable; needs --school)",
)
def verify_cmd(slug, anchors):
    """Check every audit chain (or one school's) with the audit keys; name the first broken event of each,
    and check that the school's history still contains each anchor given."""
    if anchors and not slug:
        _fail("--anchor needs --school: an anchor belongs to one school's chain")
    if not slug:
        problems = audit_verify.verify_chains()
        count = db.session.scalar(db.select(db.func.count()).select_from(audit.AuditEvent))
        if problems:
            for problem in problems:
                click.echo(f"BROKEN {problem}")
            sys.exit(1)
        click.echo(f"OK: {count} events, every chain intact.")
        return
    school = db.session.execute(db.select(School).where(School.slug == slug)).scalar_one_or_none()
    if school is None:
        _fail(f"no school {slug!r}; `flask --app tracker schools list` shows them")
    try:
        parsed = [audit_verify.parse_anchor(text) for text in anchors]
    except ValueError as exc:
        _fail(str(exc))
    chain = str(school.id)
    problem = audit_verify.verify_chain(chain)
    checks = [audit_verify.check_anchor(chain, f"{seq}:{prefix}", problem) for seq, prefix in parsed]
    if problem:
        click.echo(f"BROKEN {problem}")
    for check in checks:
        click.echo(f"{'OK' if check.ok else check.outcome.upper()}: {check.message}")
    if problem or not all(check.ok for check in checks):
        sys.exit(1)
    head = audit.anchor(school)
    click.echo(f"OK: {school.slug}: chain intact up to #{head.split(':')[0]} (anchor now {head}).")


@audit_cli.command("anchor")
@click.option("--school", "slug", required=True)
def anchor_cmd(slug):
    """Print where the school's audit chain stands now (SEQ:HASH), to keep outside the database."""
    school = db.session.execute(db.select(School).where(School.slug == slug)).scalar_one_or_none()
    if school is None:
        _fail(f"no school {slug!r}; `flask --app tracker schools list` shows them")
    click.echo(audit.anchor(school))


@audit_cli.command("mail-anchors")
@click.option("--now", help="Pretend it is this UTC time (ISO 8601), for trying things out")
def mail_anchors_cmd(now):
    """Queue this week's audit-anchor e-mail to every school's leads (idempotent; the scheduler does it
    weekly)."""
    moment = None
    if now:
        moment = datetime.fromisoformat(now)
        moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    report = queue_anchor_mail(moment, force=True)
    click.echo(
        f"{report.messages} anchor e-mail(s) queued for {report.schools} school(s); "
        "`flask --app tracker reminders send` sends them."
    )


def _load_all_or_nothing(load):
    """Run a seed loader; commit and print its reports, or roll back and list every problem (exit 1)."""
    try:
        reports = load()
    except SeedFileError as exc:
        db.session.rollback()
        click.echo("Nothing was loaded; fix these problems first:", err=True)
        for problem in exc.problems:
            click.echo(f"  {problem}", err=True)
        sys.exit(1)
    db.session.commit()
    for report in reports:
        click.echo(report.summary())


@click.command("seed")
@click.option("--dir", "seeds_dir", default=None, help="Seed folder (default: the project's seeds/)")
def seed_cmd(seeds_dir):
    """Load or update the resource library and the framework templates (idempotent)."""
    _load_all_or_nothing(lambda: seed_all(seeds_dir or current_app.config["TRACKER_SEEDS_DIR"]))


frameworks_cli = AppGroup("frameworks", help="Framework templates.")


@click.command("analyze")
def analyze_cmd():
    """Refresh the query planner's statistics now (the scheduler does it every night)."""
    with write_transactions():
        refresh_planner_statistics()
        db.session.commit()
    click.echo("Statistics refreshed.")


@frameworks_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
def frameworks_import_cmd(file):
    """Check and load one framework file; a new version is added beside the old."""
    _load_all_or_nothing(lambda: [import_framework(file)])


@frameworks_cli.command("list")
def frameworks_list_cmd():
    """List loaded framework versions."""
    for f in db.session.execute(db.select(Framework).order_by(Framework.key, Framework.loaded_at)).scalars():
        click.echo(f"{f.key}\t{f.version}\t{f.requirement_count} requirements\t{f.title}")


def register_cli(app):
    for group in (
        bench_cli,
        scheduler_cli,
        reminders_cli,
        retention_cli,
        sessions_cli,
        schools_cli,
        users_cli,
        audit_cli,
        demo_cli,
        frameworks_cli,
        library_cli,
        seed_cmd,
        analyze_cmd,
        archive_cli,
        backup_cli,
    ):
        app.cli.add_command(group)
