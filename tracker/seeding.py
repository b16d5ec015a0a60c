"""Load the library and framework seed files: check every file first, then write all or nothing."""

from pathlib import Path

from .db import db
from .frameworks.seedfile import parse_framework
from .frameworks.services import load_framework
from .library.models import Resource
from .library.search import normalise
from .library.seedfile import parse_library, parse_synonyms
from .library.services import load_library, load_synonyms
from .yamlcheck import SeedFileError


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise SeedFileError([f"{path}, line 1: not UTF-8 text"]) from None


def _shared_resource_keys() -> set[str]:
    return set(db.session.execute(db.select(Resource.key).where(Resource.school_id.is_(None))).scalars())


def seed_all(seeds_dir: str | Path):
    """Load seeds/resources.yaml, seeds/synonyms.yaml (when present: the library's search synonyms) and
    seeds/frameworks/*.yaml; return the load reports. The caller commits."""
    seeds_dir = Path(seeds_dir)
    problems = []
    library = None
    try:
        library = parse_library(_read(seeds_dir / "resources.yaml"), str(seeds_dir / "resources.yaml"))
    except SeedFileError as exc:
        problems += exc.problems
    synonyms = None
    if (seeds_dir / "synonyms.yaml").exists():
        try:
            synonyms = parse_synonyms(
                _read(seeds_dir / "synonyms.yaml"), str(seeds_dir / "synonyms.yaml"), normalise
            )
        except SeedFileError as exc:
            problems += exc.problems
    known = (library.resource_keys if library else set()) | _shared_resource_keys()
    frameworks = []
    for path in sorted((seeds_dir / "frameworks").glob("*.yaml")):
        try:
            frameworks.append(parse_framework(_read(path), str(path), known))
        except SeedFileError as exc:
            problems += exc.problems
    if problems:
        raise SeedFileError(problems)
    reports = [load_library(library)]
    if synonyms is not None:
        reports.append(load_synonyms(synonyms))
    reports += [load_framework(spec) for spec in frameworks]
    return reports


def import_framework(path: str | Path):
    """Check and load one framework file (a new version is added beside the old)."""
    path = Path(path)
    spec = parse_framework(_read(path), str(path), _shared_resource_keys())
    return load_framework(spec)
