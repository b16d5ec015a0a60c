"""Page-number pagination for select() queries: one COUNT and one page of rows."""
from dataclasses import dataclass

from flask import abort, request

from .db import db


@dataclass
class Page:
    items: list
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_prev(self):
        return self.page > 1

    @property
    def has_next(self):
        return self.page < self.pages


def paginate(query, per_page=50) -> Page:
    """Run `query` for the page named by ?page= (404 past the end, 400 when not a number)."""
    raw = request.args.get("page", "1")
    if not raw.isdigit() or int(raw) < 1:
        abort(400, "The page number must be a whole number from 1.")
    page = int(raw)
    total = db.session.scalar(db.select(db.func.count()).select_from(query.order_by(None).subquery()))
    if page > 1 and (page - 1) * per_page >= total:
        abort(404)
    items = db.session.execute(query.limit(per_page).offset((page - 1) * per_page)).scalars().all()
    return Page(items, page, per_page, total)
