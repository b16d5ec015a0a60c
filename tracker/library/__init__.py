"""The safeguarding resource library: browse by section and tag, search, and each school's own documents."""

from flask import Blueprint

from ..tenancy import init_school_blueprint

bp = init_school_blueprint(Blueprint("library", __name__, url_prefix="/s/<school>/library"))

from . import views  # noqa: E402,F401
