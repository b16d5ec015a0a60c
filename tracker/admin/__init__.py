"""Platform administration: schools and their first lead."""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from . import library, views  # noqa: E402,F401
