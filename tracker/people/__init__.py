"""Staff register, safer-recruitment checks per person, import and export."""

from flask import Blueprint

from ..tenancy import init_school_blueprint

bp = init_school_blueprint(Blueprint("people", __name__, url_prefix="/s/<school>/people"))

from . import check_views, import_views, register_views, views, waiting  # noqa: E402,F401
