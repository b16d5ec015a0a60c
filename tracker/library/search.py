"""Full-text search over the library: SQLite FTS5 on the embedded default, PostgreSQL full text in production.

Both rank title matches above tag, publisher and summary matches. Only whole words of letters and digits
reach the query, so user input can never become query syntax.

Synonyms (seeds/synonyms.yaml, table library_synonyms): a query's words are read as concepts, the longest
synonym term first ("police check" is one concept, "policy" another). Resources matching the query as typed
come first; then those found only through a concept's synonyms ("police check" also looks for "criminal
record check", "DBS", "safer recruitment"...). Within each, superseded guidance comes after current guidance.
"""

import re
import uuid

from sqlalchemy import func, literal_column, or_, text

from ..db import db
from .models import LibrarySynonym, Resource

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


def normalise(term: str) -> str:
    """A synonym term as search sees it: its words, lower case, one space apart."""
    return " ".join(w.lower() for w in WORDS.findall(term or ""))


def synonym_groups() -> dict:
    """term -> every term of its group (itself included), from the table the seed loads."""
    groups: dict[str, list[str]] = {}
    rows = db.session.execute(db.select(LibrarySynonym.term, LibrarySynonym.group_key)).all()
    for term, group in rows:
        groups.setdefault(group, []).append(term)
    return {term: sorted(groups[group]) for term, group in rows}


def concepts(terms: list[str], synonyms: dict) -> list[tuple[tuple, list]]:
    """The query as concepts, longest synonym term first: (words as typed, [alternatives as word tuples])."""
    longest = max((len(t.split()) for t in synonyms), default=1)
    out, i = [], 0
    while i < len(terms):
        for n in range(min(longest, len(terms) - i), 0, -1):
            phrase = _known(" ".join(terms[i : i + n]), synonyms)
            if phrase is not None:
                typed = tuple(terms[i : i + n])
                out.append((typed, [tuple(t.split()) for t in synonyms[phrase]]))
                i += n
                break
        else:
            out.append(((terms[i],), [(terms[i],)]))
            i += 1
    return out


def _known(phrase, synonyms):
    """The synonym term `phrase` is, also when its last word is a plural ("police checks")."""
    for candidate in (
        phrase,
        phrase[:-1] if phrase.endswith("s") else None,
        phrase[:-2] if phrase.endswith("es") else None,
    ):
        if candidate and candidate in synonyms:
            return candidate
    return None


def also_searched(query: str) -> list[str]:
    """The synonyms a query was widened with, for the results page to say so."""
    terms = words(query)
    if not terms:
        return []
    out = []
    for typed, alternatives in concepts(terms, synonym_groups()):
        out += [" ".join(a) for a in alternatives if a != typed and " ".join(a) not in out]
    return out


def ranked_ids(school, query: str) -> list:
    """Ids of the resources matching every concept of `query` (or, failing that, any), best first."""
    terms = words(query)
    if not terms:
        return []
    parts = concepts(terms, synonym_groups())
    typed = [[p[0]] for p in parts]
    expanded = [p[1] for p in parts]
    as_typed = _run(school, typed, "AND")
    through_synonyms = _run(school, expanded, "AND") if typed != expanded else []
    tiers = [as_typed, [i for i in through_synonyms if i not in set(as_typed)]]
    if not any(tiers):  # no resource has every concept: any concept, words as typed first again
        any_typed = _run(school, typed, "OR")
        any_synonym = _run(school, expanded, "OR") if typed != expanded else []
        tiers = [any_typed, [i for i in any_synonym if i not in set(any_typed)]]
    return _current_first(tiers)


def _current_first(tiers):
    """The tiers in order; within each, superseded guidance after current guidance."""
    ids = [i for tier in tiers for i in tier]
    if not ids:
        return ids
    old = set(
        db.session.execute(
            db.select(Resource.id).where(Resource.id.in_(ids), Resource.superseded_by_key.is_not(None))
        ).scalars()
    )
    return [i for tier in tiers for i in [*(j for j in tier if j not in old), *(j for j in tier if j in old)]]


def _run(school, groups, joiner):
    if _dialect() == "sqlite":
        return _sqlite(school, groups, joiner)
    return _postgres(school, groups, joiner)


def _fts_phrase(phrase):
    return '"' + " ".join(phrase) + '"*'


def _sqlite(school, groups, joiner):
    match = f" {joiner} ".join("(" + " OR ".join(_fts_phrase(p) for p in alts) + ")" for alts in groups)
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


def _ts_phrase(phrase):
    return "(" + " <-> ".join(phrase[:-1] + (f"{phrase[-1]}:*",)) + ")"


def _postgres(school, groups, joiner):
    tsquery = (" & " if joiner == "AND" else " | ").join(
        "(" + " | ".join(_ts_phrase(p) for p in alts) + ")" for alts in groups
    )
    document = literal_column(f"({PG_DOCUMENT_SQL})")
    query = func.to_tsquery("english", tsquery)
    rank = func.ts_rank_cd(document, query)
    rows = db.session.execute(
        db.select(Resource.id)
        .where(document.op("@@")(query), visible_to(school))
        .order_by(rank.desc(), Resource.title)
    ).scalars()
    return list(rows)
