"""Reminders: daily/weekly digest e-mails through an outbox, per-user settings, private calendar feeds."""

from flask import Blueprint

from ..tenancy import init_school_blueprint

bp = init_school_blueprint(Blueprint("reminders", __name__, url_prefix="/s/<school>/reminders"))
#: the calendar feed is fetched by calendar apps with no session: its token is the credential
feed_bp = Blueprint("calendar", __name__, url_prefix="/calendar")

from . import queued_mail, views  # noqa: E402,F401  (queued_mail: the outbox end of tracker/mail.py)


def init_app(app):
    """Register the blueprints (the embedded scheduler is started, if at all, at the end of create_app)."""
    app.register_blueprint(bp)
    app.register_blueprint(feed_bp)
