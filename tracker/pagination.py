"""Page-number pagination, the only one: for select() queries (one COUNT and one page of rows) and for
computed lists (`paginate_list`); `?page=` is read and checked here and nowhere else."""

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


def _requested_page(total, per_page) -> int:
    """The page named by ?page= (400 when not a whole number from 1, 404 past the end)."""
    raw = request.args.get("page", "1")
    if not (raw.isascii() and raw.isdigit()) or int(raw) < 1:  # "²".isdigit(), but int("²") fails
        abort(400, "The page number must be a whole number from 1.")
    page = int(raw)
    if page > 1 and (page - 1) * per_page >= total:
        abort(404)
    return page


def page_after_change(query, per_page=50) -> int:
    """The page named by ?page= to return to after a change, held to the last page there is now (a change
    may have emptied it); 1 for anything that is not a page number."""
    raw = request.args.get("page", "1")
    page = int(raw) if raw.isascii() and raw.isdigit() else 1
    if page <= 1:
        return 1
    total = db.session.scalar(db.select(db.func.count()).select_from(query.order_by(None).subquery()))
    return max(1, min(page, -(-total // per_page)))


def paginate(query, per_page=50) -> Page:
    """Run `query` for the page named by ?page=: one COUNT and one page of rows."""
    total = db.session.scalar(db.select(db.func.count()).select_from(query.order_by(None).subquery()))
    page = _requested_page(total, per_page)
    items = db.session.execute(query.limit(per_page).offset((page - 1) * per_page)).scalars().all()
    return Page(items, page, per_page, total)


def paginate_list(rows: list, per_page=50) -> Page:
    """The page named by ?page= of rows already computed in Python."""
    page = _requested_page(len(rows), per_page)
    return Page(rows[(page - 1) * per_page : page * per_page], page, per_page, len(rows))
