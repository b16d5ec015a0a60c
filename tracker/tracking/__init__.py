"""Annual tracking: school years, items, policy answers, comments, dashboard."""

from flask import Blueprint

from ..tenancy import init_school_blueprint

bp = init_school_blueprint(Blueprint("tracking", __name__, url_prefix="/s/<school>"))

from . import item_views, list_views, setup_views, sign_off_views, terms_views, views, waiting  # noqa: E402,F401
