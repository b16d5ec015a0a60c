"""Read and check seeds/resources.yaml into plain data; nothing touches the database here."""

import re
from dataclasses import dataclass, field

from ..yamlcheck import SLUG, Checker
from .vocabulary import LANGUAGES

DATE = re.compile(r"^\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?$")
URL = re.compile(r"^https?://[^\s<>\"']+$")
#: a framework requirement: "framework-key/requirement-key"
REQUIREMENT = re.compile(r"^[a-z0-9][a-z0-9-]{0,78}/[a-z0-9][a-z0-9-]{0,78}$")


@dataclass
class SectionSpec:
    key: str
    title: str
    description: str
    start_here: str | None
    position: int


@dataclass
class ResourceSpec:
    key: str
    title: str
    publishers: list[str]
    published: str
    sections: list[str]
    tags: list[str]
    countries: list[str] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)
    url: str = ""
    summary: str = ""
    superseded_by: str | None = None
    for_items: list[str] = field(default_factory=list)


@dataclass
class LibrarySpec:
    sections: list[SectionSpec]
    resources: list[ResourceSpec]
    country_items: list[str] = field(default_factory=list)

    @property
    def resource_keys(self):
        return {r.key for r in self.resources}


def parse_library(text: str, filename: str) -> LibrarySpec:
    """Check the whole file; raise SeedFileError listing every problem, or return its content."""
    c = Checker(filename)
    root = c.compose(text)
    top = (
        c.mapping(root, "file", required=("version", "sections", "resources"), optional=("country_items",))
        if root is not None
        else None
    )
    c.raise_if_problems()
    c.integer(top["version"], "version", 1, 1)
    sections, resources = [], []
    for i, node in enumerate(c.sequence(top["sections"], "sections", min_items=1)):
        f = c.mapping(
            node, f"section {i + 1}", required=("key", "title"), optional=("description", "start_here")
        )
        if f is None:
            continue
        key = c.string(f["key"], f"section {i + 1} key", max_len=60, pattern=SLUG)
        sections.append(
            SectionSpec(
                key=key,
                title=c.string(f["title"], f"section '{key}' title", max_len=120),
                description=c.string(f["description"], f"section '{key}' description")
                if "description" in f
                else "",
                start_here=c.string(f["start_here"], f"section '{key}' start_here", pattern=SLUG)
                if "start_here" in f
                else None,
                position=i,
            )
        )
    section_keys = {s.key for s in sections}
    seen = {}
    for i, node in enumerate(c.sequence(top["resources"], "resources", min_items=1)):
        where = f"resource {i + 1}"
        f = c.mapping(
            node,
            where,
            required=("key", "title", "publishers", "sections", "tags", "summary"),
            optional=("date", "countries", "languages", "url", "superseded_by", "for_items"),
        )
        if f is None:
            continue
        key = c.string(f["key"], f"{where} key", max_len=80, pattern=SLUG) if "key" in f else None
        where = f"resource '{key}'" if key else where
        if key in seen:
            c.error(f["key"], f"{where}: key already used at line {seen[key]}")
        elif key:
            seen[key] = f["key"].start_mark.line + 1
        spec = ResourceSpec(
            key=key,
            title=c.string(f["title"], f"{where} title", max_len=300) if "title" in f else "",
            publishers=c.strings(f["publishers"], f"{where} publishers", max_len=100)
            if "publishers" in f
            else [],
            published=(c.string(f["date"], f"{where} date", max_len=10) or "") if "date" in f else "",
            sections=c.strings(f["sections"], f"{where} sections", choices=sorted(section_keys))
            if "sections" in f
            else [],
            tags=c.strings(f["tags"], f"{where} tags", max_len=100) if "tags" in f else [],
            countries=c.strings(f["countries"], f"{where} countries", max_len=100)
            if "countries" in f
            else [],
            languages=c.strings(f["languages"], f"{where} languages", choices=sorted(LANGUAGES))
            if "languages" in f
            else [],
            url=(c.string(f["url"], f"{where} url", max_len=1000) or "") if "url" in f else "",
            summary=(c.string(f["summary"], f"{where} summary", max_len=2000) or "")
            if "summary" in f
            else "",
            superseded_by=c.string(f["superseded_by"], f"{where} superseded_by", pattern=SLUG)
            if "superseded_by" in f
            else None,
            for_items=c.strings(f["for_items"], f"{where} for_items", pattern=REQUIREMENT)
            if "for_items" in f
            else [],
        )
        if spec.published and not DATE.match(spec.published):
            c.error(f["date"], f"{where} date: '{spec.published}' is not YYYY, YYYY-MM or YYYY-MM-DD")
        if spec.url and not URL.match(spec.url):
            c.error(f["url"], f"{where} url: must start with http:// or https://")
        if "sections" in f and not spec.sections:
            c.error(f["sections"], f"{where}: needs at least one section")
        resources.append(spec)
    by_key = {r.key: r for r in resources}
    for r, node in zip(resources, c.sequence(top["resources"], "resources"), strict=False):
        if r.superseded_by and (r.superseded_by not in by_key or r.superseded_by == r.key):
            c.error(node, f"resource '{r.key}': superseded_by '{r.superseded_by}' is not another resource")
    country_items = []
    if "country_items" in top:
        country_items = c.strings(top["country_items"], "country_items", pattern=REQUIREMENT)
    for s, node in zip(sections, c.sequence(top["sections"], "sections"), strict=False):
        if s.start_here and (s.start_here not in by_key or s.key not in by_key[s.start_here].sections):
            c.error(node, f"section '{s.key}': start_here '{s.start_here}' is not a resource of this section")
    c.raise_if_problems()
    return LibrarySpec(sections, resources, country_items or [])


@dataclass
class SynonymGroup:
    key: str
    terms: list[str]


def parse_synonyms(text: str, filename: str, normalise) -> list[SynonymGroup]:
    """Check seeds/synonyms.yaml: groups of terms that mean the same to a searcher. `normalise` turns a term
    into the words search sees; a term may belong to one group only."""
    c = Checker(filename)
    root = c.compose(text)
    top = c.mapping(root, "file", required=("version", "groups")) if root is not None else None
    c.raise_if_problems()
    c.integer(top["version"], "version", 1, 1)
    groups, seen = [], {}
    for i, node in enumerate(c.sequence(top["groups"], "groups", min_items=1)):
        f = c.mapping(node, f"group {i + 1}", required=("key", "terms"))
        if f is None:
            continue
        key = c.string(f["key"], f"group {i + 1} key", max_len=60, pattern=SLUG)
        terms = []
        for term in c.strings(f["terms"], f"group '{key}' terms", max_len=100):
            words = normalise(term)
            if not words:
                c.error(f["terms"], f"group '{key}': term '{term}' has no words")
            elif words in seen and seen[words] != key:
                c.error(f["terms"], f"group '{key}': term '{term}' is already in group '{seen[words]}'")
            elif words not in terms:
                seen[words] = key
                terms.append(words)
        if len(terms) < 2:
            c.error(node, f"group '{key}': needs at least two terms")
        groups.append(SynonymGroup(key, terms))
    c.raise_if_problems()
    return groups
