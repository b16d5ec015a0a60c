"""Read and check a framework file (seeds/frameworks/*.yaml) into plain data; no database access."""

import hashlib
import re
from dataclasses import dataclass, field

from ..yamlcheck import SLUG, Checker
from .models import ANSWER_TYPES, AUDIENCES, OWNER_ROLES, PERSON, REPEATS, SCHOOL_YEAR

ANSWER_TYPE_BY_SCOPE = {SCHOOL_YEAR: ("task", "training", "answer"), PERSON: ("check", "training")}
#: `same_as: <framework key>/<requirement key>`
SAME_AS = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*/[a-z0-9]+(?:-[a-z0-9]+)*$")
#: a framework's `source:` block: the dated edition of the published document it models
SOURCE_FIELDS = ("title", "publisher", "edition")
#: a source edition the publisher gives no date for
UNDATED = "undated"


@dataclass
class RequirementSpec:
    key: str
    title: str
    guidance: str
    answer_type: str
    owner_role: str
    timing: dict
    repeat: str
    evidence: str = ""
    audience: list = field(default_factory=list)
    grades: str = ""
    per_country: bool = False
    resources: list = field(default_factory=list)
    #: "<framework key>/<requirement key>": the duty lives there; this requirement makes no items
    same_as: str = ""


@dataclass
class SectionSpec:
    key: str
    title: str
    requirements: list[RequirementSpec]


@dataclass
class FrameworkSpec:
    key: str
    title: str
    version: str
    scope: str
    label: str
    description: str
    source_resources: list
    sections: list[SectionSpec]
    checksum: str
    #: {"title", "publisher", "edition" (YYYY-MM or YYYY-MM-DD), "note" (optional)}
    source: dict = field(default_factory=dict)

    @property
    def requirements(self):
        return [r for s in self.sections for r in s.requirements]


def parse_framework(text: str, filename: str, known_resources: set[str]) -> FrameworkSpec:
    """Check the whole file against the framework schema; raise SeedFileError listing every problem."""
    c = Checker(filename)
    root = c.compose(text)
    top = (
        c.mapping(
            root,
            "file",
            required=("key", "title", "version", "scope", "label", "sections"),
            optional=("description", "source_resources", "source"),
        )
        if root is not None
        else None
    )
    c.raise_if_problems()
    scope = c.string(top["scope"], "scope", choices=(SCHOOL_YEAR, PERSON))

    def resource_keys(node, where):
        keys = c.strings(node, where, pattern=SLUG)
        for item, key in zip(node.value if hasattr(node, "value") else [], keys, strict=False):
            if key not in known_resources:
                c.error(item, f"{where}: no resource with key '{key}' in the library")
        return keys

    spec = FrameworkSpec(
        key=c.string(top["key"], "key", max_len=80, pattern=SLUG),
        title=c.string(top["title"], "title", max_len=200),
        version=c.string(top["version"], "version", max_len=40),
        scope=scope,
        label=c.string(top["label"], "label", max_len=300),
        description=(c.string(top["description"], "description") or "") if "description" in top else "",
        source_resources=resource_keys(top["source_resources"], "source_resources")
        if "source_resources" in top
        else [],
        sections=[],
        checksum=hashlib.sha256(text.encode()).hexdigest(),
        source=_source(c, top["source"]) if "source" in top else {},
    )
    seen_sections, seen_reqs = set(), {}
    for i, snode in enumerate(c.sequence(top["sections"], "sections", min_items=1)):
        f = c.mapping(snode, f"section {i + 1}", required=("key", "title", "requirements"))
        if f is None:
            continue
        skey = c.string(f["key"], f"section {i + 1} key", max_len=80, pattern=SLUG) if "key" in f else None
        if skey in seen_sections:
            c.error(f["key"], f"section '{skey}': key used twice")
        seen_sections.add(skey)
        section = SectionSpec(
            skey, c.string(f["title"], f"section '{skey}' title", max_len=200) if "title" in f else "", []
        )
        for j, rnode in enumerate(
            c.sequence(f.get("requirements"), f"section '{skey}' requirements", min_items=1)
            if "requirements" in f
            else []
        ):
            req = _requirement(c, rnode, f"section '{skey}' requirement {j + 1}", scope, resource_keys)
            if req is None:
                continue
            if req.key in seen_reqs:
                c.error(rnode, f"requirement '{req.key}': key already used at line {seen_reqs[req.key]}")
            seen_reqs[req.key] = rnode.start_mark.line + 1
            section.requirements.append(req)
        spec.sections.append(section)
    c.raise_if_problems()
    return spec


def _source(c: Checker, node):
    f = c.mapping(node, "source", required=SOURCE_FIELDS, optional=("note",))
    if f is None:
        return {}
    out = {name: c.string(f[name], f"source {name}", max_len=200) for name in SOURCE_FIELDS if name in f}
    edition = out.get("edition")
    if edition and edition != UNDATED and not re.match(r"^\d{4}-\d{2}(-\d{2})?$", edition):
        c.error(f["edition"], "source edition: the edition's date as YYYY-MM or YYYY-MM-DD, or 'undated'")
    if "note" in f:
        out["note"] = c.string(f["note"], "source note", max_len=500)
    return out


def _reference(c: Checker, node, f, where, scope):
    """A requirement that only points at the same duty in another framework (`same_as`)."""
    key = c.string(f["key"], f"{where} key", max_len=80, pattern=SLUG)
    where = f"requirement '{key}'"
    for extra in sorted(set(f) - {"key", "title", "same_as", "guidance"}):
        c.error(f[extra], f"{where}: a same_as requirement has no '{extra}' (only key, title, guidance)")
    if scope != SCHOOL_YEAR:
        c.error(f["same_as"], f"{where}: same_as is for school-year frameworks only")
    same_as = c.string(f["same_as"], f"{where} same_as", max_len=170) or ""
    if same_as and not SAME_AS.match(same_as):
        c.error(f["same_as"], f"{where} same_as: write it as <framework key>/<requirement key>")
    return RequirementSpec(
        key=key,
        title=c.string(f["title"], f"{where} title", max_len=300) if "title" in f else "",
        guidance=(c.string(f["guidance"], f"{where} guidance", max_len=4000) or "")
        if "guidance" in f
        else "",
        answer_type="task",
        owner_role="lead",
        timing={},
        repeat="yearly",
        same_as=same_as,
    )


def _requirement(c: Checker, node, where, scope, resource_keys):
    probe = getattr(node, "value", None)
    if isinstance(probe, list) and any(getattr(k, "value", None) == "same_as" for k, _ in probe):
        f = c.mapping(node, where, required=("key", "title", "same_as"), optional=("guidance",) + _ALL_FIELDS)
        if f is None or "key" not in f:
            return None
        return _reference(c, node, f, where, scope)
    f = c.mapping(
        node,
        where,
        required=("key", "title", "guidance", "answer_type", "owner_role", "timing", "repeat", "resources"),
        optional=("evidence", "audience", "grades", "per_country"),
    )
    if f is None or "key" not in f:
        return None
    key = c.string(f["key"], f"{where} key", max_len=80, pattern=SLUG)
    where = f"requirement '{key}'"
    answer_type = (
        c.string(f["answer_type"], f"{where} answer_type", choices=ANSWER_TYPES)
        if "answer_type" in f
        else None
    )
    if answer_type and scope and answer_type not in ANSWER_TYPE_BY_SCOPE.get(scope, ()):
        c.error(f["answer_type"], f"{where}: answer_type '{answer_type}' does not fit a {scope} framework")
    req = RequirementSpec(
        key=key,
        title=c.string(f["title"], f"{where} title", max_len=300) if "title" in f else "",
        guidance=c.string(f["guidance"], f"{where} guidance", max_len=4000) if "guidance" in f else "",
        answer_type=answer_type,
        owner_role=c.string(f["owner_role"], f"{where} owner_role", choices=OWNER_ROLES)
        if "owner_role" in f
        else "",
        timing=_timing(c, f["timing"], where, scope) if "timing" in f else {},
        repeat=c.string(f["repeat"], f"{where} repeat", choices=REPEATS) if "repeat" in f else "",
        evidence=(c.string(f["evidence"], f"{where} evidence", max_len=2000) or "")
        if "evidence" in f
        else "",
        resources=resource_keys(f["resources"], f"{where} resources") if "resources" in f else [],
    )
    if answer_type in ("task", "training", "check") and not req.evidence:
        c.error(node, f"{where}: a {answer_type} needs 'evidence' (what shows it was done)")
    if "audience" in f:
        if answer_type and answer_type != "training":  # an unknown answer_type is reported already
            c.error(f["audience"], f"{where}: only training activities have an audience")
        req.audience = c.strings(f["audience"], f"{where} audience", choices=AUDIENCES)
        if not req.audience:
            c.error(f["audience"], f"{where}: audience must name at least one group")
    elif answer_type == "training":
        c.error(node, f"{where}: a training activity needs an 'audience'")
    if "grades" in f:
        req.grades = c.string(f["grades"], f"{where} grades", max_len=40) or ""
        if "students" not in req.audience:
            c.error(f["grades"], f"{where}: grades only go with the students audience")
    if "per_country" in f:
        req.per_country = bool(c.boolean(f["per_country"], f"{where} per_country"))
        if req.per_country and answer_type and answer_type != "check":
            c.error(f["per_country"], f"{where}: only a recruitment check can repeat per country")
    return req


_ALL_FIELDS = (
    "answer_type",
    "owner_role",
    "timing",
    "repeat",
    "resources",
    "evidence",
    "audience",
    "grades",
    "per_country",
)


def _timing(c: Checker, node, where, scope):
    if scope == PERSON:
        f = c.mapping(node, f"{where} timing", required=("days_from_start",))
        return (
            {"days_from_start": c.integer(f["days_from_start"], f"{where} timing.days_from_start", -730, 730)}
            if f and "days_from_start" in f
            else {}
        )
    f = c.mapping(node, f"{where} timing", required=("month",), optional=("day",))
    if not f or "month" not in f:
        return {}
    return {
        "month": c.integer(f["month"], f"{where} timing.month", 0, 11),
        "day": c.integer(f["day"], f"{where} timing.day", 1, 28) if "day" in f else 1,
    }
