"""The one transaction boundary of the views (tracker/transactions.py): a domain error rolls back everything
the view did and shows its message; after-commit work runs only once the commit went through; and no view
module commits or rolls back by itself."""

import ast
import io
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import OperationalError

import tracker
from tracker.evidence.models import Evidence
from tracker.extensions import db
from tracker.tracking import services
from tracker.tracking.models import Comment, Item, SchoolYear
from tracker.transactions import DomainError, saving

from .conftest import audit_count
from .world import sign_in

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
#: view modules that may still call commit()/rollback() themselves, with the reason (none today)
ALLOWED = {}


@pytest.fixture
def school(make_school):
    return make_school(timezone="Europe/London", year_start_month=8)


@pytest.fixture
def lead(school, make_member):
    return make_member(school, "lead", name="Lena Lead")


@pytest.fixture
def lead_client(app, lead):
    return sign_in(app.test_client(), lead.user)


@pytest.fixture
def item(school):
    year = services._create_year(school, 2026)
    row = Item(
        school_id=school.id,
        year_id=year.id,
        kind="own",
        section_title="School's own items",
        title="Brief the volunteers",
        owner_role="lead",
        due_on=date(2026, 9, 1),
    )
    db.session.add(row)
    db.session.commit()
    return row


def _count(model, *where):
    db.session.expire_all()
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def _fail_commit(monkeypatch):
    """Make the next commit write its changes and then lose the database, as a server restart would."""

    def commit():
        db.session.flush()
        raise OperationalError("COMMIT", {}, Exception("server closed the connection unexpectedly"))

    monkeypatch.setattr(db.session, "commit", commit)


def test_a_domain_error_rolls_back_everything_the_view_did_and_shows_the_message_beside_the_field(
    app, school, lead_client, item, monkeypatch
):
    """The service has already added the comment and its audit event when it refuses: none of it is kept."""
    real = services.add_comment

    def add_then_refuse(*args, **kwargs):
        real(*args, **kwargs)
        raise services.TrackingError("Comments on this item are closed: ask your lead.", field="body")

    monkeypatch.setattr(services, "add_comment", add_then_refuse)
    events = audit_count()

    response = lead_client.post(f"/s/{school.slug}/items/{item.id}/comments", data={"body": "HALFSAVED note"})

    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Comments on this item are closed: ask your lead." in html
    assert _count(Comment, Comment.item_id == item.id) == 0
    assert audit_count() == events


def test_a_refused_year_start_is_not_shown_half_made_on_the_page_that_gives_the_reason(
    app, school, lead_client, item, monkeypatch
):
    """Starting a year creates it before the service refuses: the 400 page lists only the years that exist,
    and the year, its items and its audit events are all gone."""
    real = services.start_year

    def start_then_refuse(*args, **kwargs):
        real(*args, **kwargs)
        raise services.TrackingError("Years cannot start today: try again tomorrow.")

    monkeypatch.setattr(services, "start_year", start_then_refuse)
    events, years, items = audit_count(), _count(SchoolYear), _count(Item)

    response = lead_client.post(f"/s/{school.slug}/years/start", data={"start_year": "2027"})

    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Years cannot start today: try again tomorrow." in html
    assert "1 Aug 2026 – 31 Jul 2027" in html  # the year that exists is listed
    assert "1 Aug 2027 – 31 Jul 2028" not in html  # the half-made one is not
    assert (_count(SchoolYear), _count(Item), audit_count()) == (years, items, events)


def test_a_domain_error_without_a_form_is_flashed_and_nothing_of_it_is_saved(
    app, school, lead_client, item, monkeypatch
):
    """Roll-over makes a whole year before it refuses: the year, its items and its audit events all go."""
    real = services.roll_over

    def roll_then_refuse(*args, **kwargs):
        real(*args, **kwargs)
        raise services.TrackingError("The next year cannot start yet: sign off this one first.")

    monkeypatch.setattr(services, "roll_over", roll_then_refuse)
    events, years, items = audit_count(), _count(SchoolYear), _count(Item)

    response = lead_client.post(f"/s/{school.slug}/years/{item.year_id}/rollover", follow_redirects=True)

    assert response.status_code == 200
    assert "The next year cannot start yet: sign off this one first." in response.get_data(as_text=True)
    assert (_count(SchoolYear), _count(Item), audit_count()) == (years, items, events)


def test_after_commit_work_does_not_run_when_the_commit_fails(
    app, school, lead_client, item, tmp_path, monkeypatch
):
    """Removing evidence deletes its file only once the removal is saved: a commit that fails keeps it."""
    monkeypatch.setitem(app.config, "TRACKER_EVIDENCE_DIR", str(tmp_path / "evidence"))
    upload = lead_client.post(
        f"/s/{school.slug}/items/{item.id}/evidence",
        data={"files": [(io.BytesIO(PDF), "Log.pdf")]},
        content_type="multipart/form-data",
    )
    assert upload.status_code == 302, upload.get_data(as_text=True)[:2000]
    [row] = db.session.execute(sa.select(Evidence).where(Evidence.item_id == item.id)).scalars().all()
    stored = tmp_path / "evidence" / school.id.hex / row.stored_name
    assert stored.exists()
    _fail_commit(monkeypatch)

    response = lead_client.post(f"/s/{school.slug}/items/{item.id}/evidence/{row.id}/remove")

    assert response.status_code == 503
    assert stored.exists()  # the file of a row that is still there
    monkeypatch.undo()
    assert _count(Evidence, Evidence.id == row.id) == 1


def test_saving_runs_after_commit_work_after_the_commit_and_clean_up_only_on_failure(app, monkeypatch):
    commits, done, cleaned = [], [], []
    with app.test_request_context("/", method="POST"):
        real = db.session.commit
        monkeypatch.setattr(db.session, "commit", lambda: (commits.append(1), real()))
        with saving() as tx:
            tx.after_commit(lambda: done.append(len(commits)))
            tx.after_rollback(cleaned.append, "rolled back")
        assert (tx.ok, done, cleaned) == (True, [1], [])  # ran once, after the one commit

        _fail_commit(monkeypatch)
        done.clear()
        with pytest.raises(OperationalError), saving() as tx:
            tx.after_commit(done.append, "sent")
            tx.after_rollback(cleaned.append, "rolled back")
        assert (tx.ok, done, cleaned) == (False, [], ["rolled back"])

        with saving(show=False) as tx:
            tx.after_commit(done.append, "sent")
            raise DomainError("Refused.", field="email")
        assert (tx.ok, tx.error.field, str(tx.error), done) == (False, "email", "Refused.", [])


def _writes_the_transaction(node):
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in ("commit", "rollback")
    )


def test_no_view_module_commits_or_rolls_back_by_itself():
    """Every module that defines pages (a views module, or any module with a route) goes through saving()."""
    root = Path(tracker.__file__).parent
    found = {}
    for path in sorted(root.rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        if not (path.name.endswith("views.py") or ".route(" in source):
            continue
        name = str(path.relative_to(root.parent))
        calls = [
            f"{n.lineno}: .{n.func.attr}()" for n in ast.walk(ast.parse(source)) if _writes_the_transaction(n)
        ]
        if calls and name not in ALLOWED:
            found[name] = calls
    assert found == {}, f"views commit or roll back by themselves; use tracker.transactions.saving(): {found}"
