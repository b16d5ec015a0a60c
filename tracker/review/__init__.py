"""Accreditor review: queries raised on items, answered by the school in the same thread."""

from flask import Blueprint, g

from ..tenancy import init_school_blueprint

bp = init_school_blueprint(Blueprint("review", __name__, url_prefix="/s/<school>/review"))

from . import views, waiting  # noqa: E402,F401
from .services import for_item  # noqa: E402


@bp.app_context_processor
def _review_globals():
    """review_queries(item_id): the queries on an item, for the panel on the item page."""

    def review_queries(item_id):
        return for_item(g.school, item_id) if getattr(g, "school", None) is not None else []

    return {"review_queries": review_queries}
