"""The two-school world built once per module (conftest's `worlds`): each test sees it exactly as built,
whatever the test before it changed or removed; the module's other tests run beside it."""

from tracker.evidence.models import Evidence
from tracker.evidence.services import store
from tracker.extensions import db
from tracker.tenancy import School

from .world import sign_in

#: what the first test saw, for the ones after it (tests of a file run in order, on one worker)
SEEN = {}


def test_a_test_changes_and_removes_rows_and_files_of_the_shared_world(worlds):
    a, _ = worlds
    evidence = db.session.get(Evidence, a.objects["evidence_id"])
    path = store().path(a.school.id, evidence.stored_name)
    SEEN.update(slug=a.school.slug, name=a.school.name, path=path)
    assert path.is_file()
    a.school.name = "Renamed by the first test"
    db.session.delete(evidence)
    db.session.commit()
    path.unlink()
    assert db.session.get(Evidence, a.objects["evidence_id"]) is None
    assert db.session.get(School, a.school.id).name == "Renamed by the first test"


def test_the_next_test_sees_the_shared_world_as_it_was_built(worlds, app):
    a, _ = worlds
    assert a.school.slug == SEEN["slug"]
    assert a.school.name == SEEN["name"]
    evidence = db.session.get(Evidence, a.objects["evidence_id"])
    assert evidence is not None
    assert SEEN["path"].is_file()
    client = sign_in(app.test_client(), a.members["lead"].user)
    response = client.get(f"/s/{a.school.slug}/items/{evidence.item_id}/evidence/{evidence.id}")
    assert response.status_code == 200, response.status_code
    assert response.get_data() == b"Evidence plain"


def test_a_test_of_the_module_that_writes_without_the_worlds_is_not_locked_out(app):
    """On SQLite only one connection may write: a test of the module that does not ask for the worlds (here
    a `flask` command that writes) runs on their connection too, not on one of its own."""
    args = ["schools", "create", "--slug", "beside-the-worlds", "--name", "Beside", "--timezone", "UTC"]
    result = app.test_cli_runner().invoke(args=args)
    assert result.exit_code == 0, result.output
    assert db.session.scalar(db.select(School).where(School.slug == "beside-the-worlds")) is not None
    assert db.session.scalar(db.select(School).where(School.slug == SEEN["slug"])).name == SEEN["name"]
