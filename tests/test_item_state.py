"""An item's kind and status are enums, and one function (tracking.state.set_status) changes its state."""

import ast
import pathlib
from datetime import date

import pytest

from tracker.frameworks.models import ANSWER_TYPES
from tracker.tracking.models import STATUSES, Item, ItemKind, ItemStatus
from tracker.tracking.state import set_status

TRACKER = pathlib.Path(__file__).resolve().parent.parent / "tracker"
STATE_MODULE = "tracking/state.py"
#: the columns that make an item's state; only STATE_MODULE assigns them
STATE_FIELDS = {"status", "completed_on", "na_reason"}
#: assignments to a `status` that is not an Item's: (module, target) -> what it is
NOT_ITEMS = {
    ("archive/jobs.py", "row.status"): "ArchiveJob",
    ("archive/views.py", "row.status"): "ArchiveJob",
    ("auth/oidc.py", "self.status"): "a refused provider sign-in's HTTP status",
    ("people/jobs.py", "job.status"): "ImportJob",
    ("reminders/outbox.py", "message.status"): "OutboxMessage",
    ("reports/drafts.py", "row.status"): "Report",
    ("reports/jobs.py", "row.status"): "Report",
    ("reports/views.py", "row.status"): "Report",
    ("tracking/dashboard.py", "self.status"): "ListRow, a short list's read-only copy of a loaded row",
    ("tracking/item_views.py", "f.status"): "the item list's filters",
}


def test_stored_values_are_unchanged():
    """The enums hold the same strings the database and URLs always held, so no migration is needed."""
    assert [s.value for s in ItemStatus] == ["not_started", "in_progress", "done", "not_applicable"]
    assert STATUSES == tuple(ItemStatus)
    assert {k.value for k in ItemKind} == set(ANSWER_TYPES) | {"own"}
    assert ItemStatus.DONE == "done" and f"{ItemKind.CHECK}" == "check"


def _assigned_state(path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        targets = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
            targets = [node.target]
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "setattr"
            and len(node.args) > 1
            and isinstance(node.args[1], ast.Constant)
            and node.args[1].value in STATE_FIELDS
        ):
            yield node.lineno, ast.unparse(node.args[0]) + "." + node.args[1].value
        for target in targets:
            for t in target.elts if isinstance(target, (ast.Tuple, ast.List)) else [target]:
                if isinstance(t, ast.Attribute) and t.attr in STATE_FIELDS:
                    yield node.lineno, ast.unparse(t)


def test_only_the_state_module_changes_an_items_state():
    """Assigning an item's status, completion date or not-applicable reason anywhere but tracking/state.py
    fails here: call tracking.state.set_status instead (or, for another model's `status`, list it in
    NOT_ITEMS)."""
    found = []
    for path in sorted(TRACKER.rglob("*.py")):
        module = path.relative_to(TRACKER).as_posix()
        if module == STATE_MODULE:
            continue
        found += [
            f"{module}:{line}: {target}"
            for line, target in _assigned_state(path)
            if (module, target) not in NOT_ITEMS
        ]
    assert found == [], "\n".join(found)


def test_bare_kind_and_status_strings_are_gone():
    """`item.kind == "answer"`, `Item.status == "done"` and the like name the enum member instead."""
    values = {m.value for m in ItemStatus} | {m.value for m in ItemKind}
    found = []
    for path in sorted(TRACKER.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Compare):
                continue
            sides = [node.left, *node.comparators]
            constants = [c for s in sides for c in (getattr(s, "elts", None) or [s])]
            if any(isinstance(s, ast.Attribute) and s.attr in ("kind", "status") for s in sides) and any(
                isinstance(c, ast.Constant) and c.value in values for c in constants
            ):
                found.append(f"{path.relative_to(TRACKER)}:{node.lineno}: {ast.unparse(node)}")
    assert found == [], "\n".join(found)


def test_set_status_keeps_the_rules():
    """Done has a completion date, not applicable a reason; any other status clears both."""
    item = Item(status=ItemStatus.NOT_STARTED, na_reason="", completed_on=None)
    set_status(item, "done", on=date(2026, 9, 1))
    assert (item.status, item.completed_on, item.na_reason) == (ItemStatus.DONE, date(2026, 9, 1), "")
    set_status(item, ItemStatus.NOT_APPLICABLE, reason="  No boarders.  ")
    assert (item.status, item.completed_on, item.na_reason) == ("not_applicable", None, "No boarders.")
    set_status(item, ItemStatus.IN_PROGRESS, on=date(2026, 9, 1), reason="ignored")
    assert (item.status, item.completed_on, item.na_reason) == ("in_progress", None, "")
    with pytest.raises(ValueError):
        set_status(item, ItemStatus.DONE)
    with pytest.raises(ValueError):
        set_status(item, ItemStatus.NOT_APPLICABLE, reason=" ")
    with pytest.raises(ValueError):
        set_status(item, "finished", on=date(2026, 9, 1))
    assert item.status == "in_progress"
