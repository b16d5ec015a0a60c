"""Staff read-and-sign: school documents (child protection policy, code of conduct ...) that every adult in
their audience reads and acknowledges, with coverage, reminders and sign sheets."""

from flask import Blueprint

from ..tenancy import init_school_blueprint

bp = init_school_blueprint(Blueprint("policies", __name__, url_prefix="/s/<school>/policies"))

from . import views  # noqa: E402,F401
