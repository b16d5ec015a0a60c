"""Retention: how long each kind of record is kept, holds, upcoming removals, the daily removal job, and a
person's data (subject-access export and erasure)."""

from flask import Blueprint

from ..tenancy import init_school_blueprint

bp = init_school_blueprint(Blueprint("retention", __name__, url_prefix="/s/<school>/retention"))

from . import jobs, views  # noqa: E402,F401
