"""A health endpoint for load balancers and the benchmarks' ceiling."""

from flask import Blueprint, jsonify

from .access import public

bp = Blueprint("health", __name__)


@bp.route("/healthz")
@public
def healthz():
    return jsonify(status="ok")
