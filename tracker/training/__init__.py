"""Training records and coverage; staff self-service (own certificates, the "To verify" list)."""

from flask import Blueprint

from ..tenancy import init_school_blueprint

bp = init_school_blueprint(Blueprint("training", __name__, url_prefix="/s/<school>/training"))

from . import verify_views, views  # noqa: E402,F401
