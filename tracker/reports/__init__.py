"""PDF reports: the accreditation report, one framework, the recruitment register, one person's training."""

from flask import Blueprint

from ..tenancy import init_school_blueprint

bp = init_school_blueprint(Blueprint("reports", __name__, url_prefix="/s/<school>/reports"))

from . import views  # noqa: E402,F401
