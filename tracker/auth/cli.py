"""Operator command for sign-in sessions: `flask --app tracker sessions prune`."""

import click
from flask.cli import AppGroup

from ..db import db
from .services import prune_sessions

sessions_cli = AppGroup("sessions", help="Sign-in sessions.")


@sessions_cli.command("prune")
def prune_cmd():
    """Delete every sign-in session that has expired (idle too long or past its lifetime)."""
    count = prune_sessions()
    db.session.commit()
    click.echo(f"Removed {count} expired sign-in session{'' if count == 1 else 's'}.")
