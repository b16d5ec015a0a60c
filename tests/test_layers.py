"""The architecture, checked: imports point one way down the layers of docs/ARCHITECTURE.md, and every module
says what lives in it.

The import graph is read from the source with `ast` (every import, at the top of a module or inside a
function), so the check needs no extra package and no import of the app.
"""

import ast
import shutil
from pathlib import Path

import pytest
from blinker import Signal

from tracker import signals

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "tracker"

#: the core: no feature in here; the core modules use each other freely
CORE = tuple(
    f"tracker.{name}"
    for name in (
        "access",
        "audit",
        "audit_verify",
        "config",
        "dates",
        "db",
        "errors",
        "extensions",
        "forms_common",
        "group_access",
        "health",
        "links",
        "mail",
        "pagecache",
        "pagination",
        "passwords",
        "security",
        "signals",
        "waiting",
        "templating",
        "tenancy",
        "transactions",
        "validation",
        "yamlcheck",
    )
)
#: the application: the factory, every model for migrations, operator commands, seeding, dev tools
APP = ("tracker", "tracker.models", "tracker.cli", "tracker.seeding", "tracker.devtools")
#: lowest first; a component may import only from components of earlier rows. Each row holds groups of
#: components; the groups of one row are independent of each other. A component is a module or package under
#: tracker/ and everything below it; the longest matching name wins (tracker.evidence.views, the evidence
#: pages, sits above tracking while the rest of tracker.evidence sits below it).
LAYERS = [
    [CORE],
    # features, in the order they build on each other
    [("tracker.auth",)],
    [("tracker.schools",)],
    [("tracker.evidence",), ("tracker.library",)],
    [("tracker.frameworks",), ("tracker.library_files",)],
    [("tracker.tracking",)],
    [("tracker.people",), ("tracker.review",), ("tracker.evidence.views",)],
    [("tracker.training",), ("tracker.policies",)],
    [("tracker.reports",), ("tracker.reminders",)],
    [("tracker.anchors",), ("tracker.admin",), ("tracker.retention",), ("tracker.groups",)],
    # the school's archive reads every table generically, so it sits above every feature
    [("tracker.archive",)],
    [APP],
]


def module_name(path: Path, package: Path) -> str:
    parts = list(path.relative_to(package.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules(package: Path = PACKAGE) -> dict[str, Path]:
    return {module_name(path, package): path for path in sorted(package.rglob("*.py"))}


def imports(name: str, path: Path, known) -> list[tuple[str, int]]:
    """(imported tracker module, line) for every import in the module, wherever it stands."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            for alias in node.names:  # `from . import audit` imports the module tracker.audit
                full = f"{target}.{alias.name}"
                found.append((full if full in known else target, node.lineno))
    return list(
        dict.fromkeys(
            (target, line) for target, line in found if target == "tracker" or target.startswith("tracker.")
        )
    )


def _components():
    rank = {}
    for row, groups in enumerate(LAYERS):
        for group, names in enumerate(groups):
            for name in names:
                rank[name] = (row, group)
    return rank


def component(module: str, rank) -> str | None:
    """The component holding `module` ("tracker" itself holds only the package's __init__: the factory)."""
    parts = module.split(".")
    for n in range(len(parts), 1, -1):
        if ".".join(parts[:n]) in rank:
            return ".".join(parts[:n])
    return module if module in rank else None


def wrong_way_imports(package: Path = PACKAGE) -> list[str]:
    """Every import that does not point down the layers, and every module no layer holds."""
    rank = _components()
    known = modules(package)
    problems = []
    for name, path in known.items():
        source = component(name, rank)
        if source is None:
            problems.append(f"{name}: in no layer; add it to LAYERS here and to docs/ARCHITECTURE.md")
            continue
        for target, line in imports(name, path, known):
            goal = component(target, rank)
            if goal is None or goal == source:
                continue
            (row, group), (goal_row, goal_group) = rank[source], rank[goal]
            if goal_row > row or (goal_row == row and goal_group != group):
                where = "above it" if goal_row > row else "beside it"
                problems.append(
                    f"{path.relative_to(package.parent)}:{line}: {source} imports {target}, "
                    f"which is {where}; let it react through a signal (tracker/signals.py) "
                    "or move the code down"
                )
    return problems


def test_every_import_points_down_the_layers():
    assert wrong_way_imports() == []


def test_a_wrong_way_import_is_caught(tmp_path):
    """The check is not vacuous: an earlier feature importing a later one (sign-off in tracking calling the
    report freezer directly, as it used to) fails it, at the top of a module or inside a function."""
    copy = tmp_path / "tracker"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    assert wrong_way_imports(copy) == []
    services = copy / "tracking" / "services.py"
    services.write_text(
        services.read_text(encoding="utf-8")
        + "\n\ndef _late():\n    from ..reports.services import freeze\n",
        encoding="utf-8",
    )
    (copy / "forms_common.py").write_text(
        (copy / "forms_common.py").read_text(encoding="utf-8") + "\nfrom .auth import services\n",
        encoding="utf-8",
    )
    (copy / "newcore.py").write_text('"""A module nobody placed."""\n', encoding="utf-8")
    problems = wrong_way_imports(copy)
    assert len(problems) == 3, problems
    assert any("tracker.tracking imports tracker.reports.services, which is above it" in p for p in problems)
    assert any("tracker.forms_common imports tracker.auth.services" in p for p in problems)
    assert any(p.startswith("tracker.newcore: in no layer") for p in problems)


def test_features_of_one_row_do_not_import_each_other(tmp_path):
    copy = tmp_path / "tracker"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    views = copy / "reminders" / "views.py"
    views.write_text(
        views.read_text(encoding="utf-8") + "\nfrom ..reports import services as _reports\n", encoding="utf-8"
    )
    [problem] = wrong_way_imports(copy)
    assert "tracker.reminders imports tracker.reports.services, which is beside it" in problem


def test_features_import_at_the_top_of_the_module():
    """Function-local imports of the tracker hid the cycles; only the app factory keeps its own (so that
    `import tracker.db` does not load the whole app)."""
    known = modules()
    local = []
    for name, path in known.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        top = {id(node) for node in tree.body}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level and id(node) not in top and name != "tracker":
                local.append(f"{name}:{node.lineno}")
    assert local == []


@pytest.mark.parametrize("name", sorted(modules()))
def test_every_module_says_what_lives_in_it(name):
    docstring = ast.get_docstring(ast.parse(modules()[name].read_text(encoding="utf-8")))
    assert docstring and docstring.splitlines()[0].strip(), f"{name} has no docstring saying what lives in it"


def test_every_signal_has_its_receiver_once_the_app_is_built(app):
    """A signal nobody hears would silently drop the later feature's part (a sign-off without its frozen
    report): create_app imports every feature, which connects every receiver."""
    sent = {name: value for name, value in vars(signals).items() if isinstance(value, Signal)}
    assert set(sent) == {
        "year_signed_off",
        "year_open_work",
        "digests_queued",
        "resource_page",
        "person_page",
        "waiting_for",
        "register_columns",
        "mail_queued",
        "scheduler_jobs",
    }
    assert [name for name, signal in sent.items() if not signal.receivers] == []
