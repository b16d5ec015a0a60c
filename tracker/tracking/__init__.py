"""Annual tracking: school years, items, policy answers, comments, dashboard."""

from flask import Blueprint

from ..tenancy import init_school_blueprint

bp = init_school_blueprint(Blueprint("tracking", __name__, url_prefix="/s/<school>"))

from . import item_views, views  # noqa: E402,F401
