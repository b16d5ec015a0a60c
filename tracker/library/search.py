"""Full-text search over the library: SQLite FTS5 on the embedded default, PostgreSQL full text in production.

Both rank title matches above tag, publisher and summary matches. Only whole words of letters and digits
reach the query, so user input can never become query syntax.
"""

import re
import uuid

from sqlalchemy import func, literal_column, or_, text

from ..db import db
from .models import Resource

WORDS = re.compile(r"[^\W_]+", re.UNICODE)
FTS_TABLE = "resource_fts"
PG_INDEX = "ix_resources_search"
#: the weighted document, written out identically in the migration's GIN index so PostgreSQL uses it
PG_DOCUMENT_SQL = (
    "setweight(to_tsvector('english', coalesce(title, '')), 'A') || "
    "setweight(to_tsvector('english', coalesce(search_text, '')), 'B') || "
    "setweight(to_tsvector('english', coalesce(publishers, '')), 'C') || "
    "setweight(to_tsvector('english', coalesce(summary, '')), 'D')"
)


def _dialect():
    return db.session.get_bind().dialect.name


def words(query: str) -> list[str]:
    return [w.lower() for w in WORDS.findall(query or "")][:12]


def reindex(resource: Resource) -> None:
    """Bring the search index up to date for one resource (PostgreSQL's index follows the row by itself)."""
    if _dialect() != "sqlite":
        return
    db.session.flush()
    db.session.execute(text(f"DELETE FROM {FTS_TABLE} WHERE resource_id = :id"), {"id": resource.id.hex})
    db.session.execute(
        text(
            f"INSERT INTO {FTS_TABLE} (resource_id, title, tags, publishers, summary) "
            "VALUES (:id, :title, :tags, :publishers, :summary)"
        ),
        {
            "id": resource.id.hex,
            "title": resource.title,
            "tags": resource.search_text,
            "publishers": resource.publishers,
            "summary": resource.summary,
        },
    )


def unindex(resource_id) -> None:
    if _dialect() == "sqlite":
        db.session.execute(text(f"DELETE FROM {FTS_TABLE} WHERE resource_id = :id"), {"id": resource_id.hex})


def visible_to(school):
    """The condition for resources a school's members may see: the shared library and their own."""
    return or_(Resource.school_id.is_(None), Resource.school_id == school.id)


def ranked_ids(school, query: str) -> list:
    """Ids of the resources matching every word of `query` (or, failing that, any word), best first."""
    terms = words(query)
    if not terms:
        return []
    for joiner in ("AND", "OR"):
        ids = _sqlite(school, terms, joiner) if _dialect() == "sqlite" else _postgres(school, terms, joiner)
        if ids:
            return ids
    return []


def _sqlite(school, terms, joiner):
    match = f" {joiner} ".join(f'"{t}"*' for t in terms)
    rows = db.session.execute(
        text(
            f"SELECT resource_id, bm25({FTS_TABLE}, 0.0, 10.0, 5.0, 3.0, 1.0) AS rank FROM {FTS_TABLE} "
            f"WHERE {FTS_TABLE} MATCH :match ORDER BY rank"
        ),
        {"match": match},
    ).all()
    if not rows:
        return []
    order = [uuid.UUID(r.resource_id) for r in rows]
    allowed = set(
        db.session.execute(db.select(Resource.id).where(Resource.id.in_(order), visible_to(school))).scalars()
    )
    return [i for i in order if i in allowed]


def _postgres(school, terms, joiner):
    tsquery = (" & " if joiner == "AND" else " | ").join(f"{t}:*" for t in terms)
    document = literal_column(f"({PG_DOCUMENT_SQL})")
    query = func.to_tsquery("english", tsquery)
    rank = func.ts_rank_cd(document, query)
    rows = db.session.execute(
        db.select(Resource.id)
        .where(document.op("@@")(query), visible_to(school))
        .order_by(rank.desc(), Resource.title)
    ).scalars()
    return list(rows)
