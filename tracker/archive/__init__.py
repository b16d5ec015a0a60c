"""The school's archive (a ZIP of every record and file, with a manifest), its restore, backups."""

from flask import Blueprint

from ..tenancy import init_school_blueprint

bp = init_school_blueprint(Blueprint("archive", __name__, url_prefix="/s/<school>/archive"))

from . import views  # noqa: E402,F401
