"""Framework templates: browse sections, requirements, guidance, timing and linked resources."""

from flask import Blueprint

from ..tenancy import init_school_blueprint

bp = init_school_blueprint(Blueprint("frameworks", __name__, url_prefix="/s/<school>/frameworks"))

from . import views  # noqa: E402,F401
