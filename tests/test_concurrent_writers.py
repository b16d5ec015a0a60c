"""Several people saving at the same moment against a real server process: every save succeeds or meets a
genuine edit conflict (409), on SQLite and on PostgreSQL.

A `flask run` subprocess serves a database of its own: one school, a started year, seven members. Six writers,
each signed in as a different member with an HTTP session of their own, meet at a barrier and then save at
once: comments on items of their own (every one audited in the school's single audit chain), and the lead and
the head saving the same item (so one of them meets a real conflict). An accreditor downloads evidence (an
audited GET: a read that writes) at the same moments. Then the lead and the head start the same school year at
once: one starts it, the other is told it already exists. Every outcome is counted; afterwards the comments
saved match the successes and the audit chain verifies.

Smaller tests here pin the parts: which SQLite transactions take the write lock when they begin, and on
PostgreSQL the audit head read again under its lock and two sign-offs of one year at once.
"""

import json
import os
import re
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections import Counter
from http.cookiejar import CookieJar
from pathlib import Path

import pytest
import sqlalchemy as sa

from .databases import fresh_postgres
from .live_server import serving

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "concurrent-writers-password"
ROUNDS = 25
WRITERS = ("lead", "head", "hr", "staff", "staff2", "hr2")
MANAGERS = ("lead", "head")
EMAILS = {
    "lead": "lead@writers.example",
    "head": "head@writers.example",
    "hr": "hr@writers.example",
    "staff": "staff@writers.example",
    "staff2": "staff2@writers.example",
    "hr2": "hr2@writers.example",
    "accreditor": "accreditor@writers.example",
}

SETUP = """
import json
from datetime import date, timedelta
from flask_migrate import upgrade
from tracker import create_app
from tracker.auth.models import User
from tracker.passwords import hash_password
from tracker.db import db
from tracker.devtools.demo_files import tiny_pdf
from tracker.evidence.services import add_files
from tracker.schools.services import create_school
from tracker.seeding import seed_all
from tracker.tenancy import Membership
from tracker.tracking import services as tracking
from tracker.tracking.models import Item

app = create_app()
with app.app_context():
    upgrade()
    seed_all(app.config["TRACKER_SEEDS_DIR"])
    school = create_school(slug="writers", name="Concurrent Writers School", require_two_factor=False)
    users = {}
    for who, email in %(emails)r.items():
        users[who] = User(email=email, name=who, password_hash=hash_password(%(password)r))
        db.session.add(users[who])
        db.session.flush()
        role = "".join(c for c in who if c.isalpha())
        until = date.today() + timedelta(days=30) if role == "accreditor" else None
        db.session.add(Membership(school_id=school.id, user_id=users[who].id, role=role, access_until=until))
    year = tracking.start_year(school, date.today().year)
    tasks = db.session.execute(db.select(Item).where(Item.year_id == year.id, Item.kind == "task")
                               .order_by(Item.due_on, Item.id)).scalars().all()
    saved, own = tasks[0], {}
    for task, who in zip(tasks[1:], %(writers)r):  # each writer comments on an item of their own
        task.owner_id = users[who].id
        own[who] = str(task.id)
    evidence, = add_files(school, saved, [("evidence.pdf", tiny_pdf("Evidence"))], applies_on=date.today(),
                          user=users["lead"])
    db.session.commit()
    print(json.dumps({"own": own, "saved": str(saved.id), "version": saved.version,
                      "due_on": saved.due_on.isoformat(), "year": year.starts_on.year,
                      "evidence": [str(evidence.item_id), str(evidence.id)]}))
"""


def _database(tmp_path):
    url = os.environ.get("TRACKER_TEST_DATABASE_URL")
    if not url:
        return f"sqlite:///{tmp_path / 'concurrent.sqlite3'}"
    return fresh_postgres(url, "_writers")


def _run(command, env):
    done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"{' '.join(command)[:100]} failed: {done.stderr[-3000:]}"
    return done.stdout


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """(base URL, database URL, ids) of a tracker served by `flask run` from a database of its own."""
    tmp = tmp_path_factory.mktemp("writers")
    url = _database(tmp)
    env = {
        **os.environ,
        "TRACKER_DATABASE_URL": url,
        "TRACKER_SECRET_KEY": "concurrent-writers-secret",
        "TRACKER_EVIDENCE_DIR": str(tmp / "evidence"),
        "TRACKER_PAGE_CACHE": "0",
        "FLASK_APP": "tracker",
    }
    env.pop("TRACKER_EMBEDDED_SCHEDULER", None)
    setup = SETUP % {"password": PASSWORD, "emails": EMAILS, "writers": WRITERS}
    ids = json.loads(_run([sys.executable, "-c", setup], env).strip().splitlines()[-1])
    log_path = tmp / "server.log"
    with serving(env, log_path, threads=True) as base:
        yield {"base": base, "url": url, "ids": ids, "env": env, "log": log_path}


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Browser:
    """One person's HTTP session (its own cookies), without following redirects."""

    def __init__(self, base):
        self.base = base
        cookies = urllib.request.HTTPCookieProcessor(CookieJar())
        self.opener = urllib.request.build_opener(cookies, _NoRedirect)
        self.csrf = None

    def request(self, path, data=None):
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        try:
            with self.opener.open(self.base + path, body, timeout=60) as response:
                return response.status, response.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode("utf-8", "replace")

    def page(self, path):
        status, text = self.request(path)
        found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', text)
        if found:
            self.csrf = found.group(1)
        return status, text

    def post(self, path, data):
        return self.request(path, {"csrf_token": self.csrf, **data})

    def sign_in(self, email):
        self.page("/login")
        status, text = self.post("/login", {"email": email, "password": PASSWORD})
        assert status == 302, text[:500]


def _version(text):
    return re.search(r'name="version"[^>]*value="(\d+)"', text).group(1)


def _reason(status, text):
    """A short account of an unexpected answer, for the failure message."""
    title = re.search(r"<h1[^>]*>(.*?)</h1>", text, re.S)
    message = re.search(r"<p>(.*?)</p>", text, re.S)
    heading = title.group(1).strip() if title else ""
    return f"{status} {heading}: {(message.group(1) if message else text)[:200]}"


def test_people_saving_at_the_same_moment_all_succeed_or_meet_a_real_conflict(server):
    base, ids = server["base"], server["ids"]
    people = {who: Browser(base) for who in EMAILS}
    for who, browser in people.items():
        browser.sign_in(EMAILS[who])
    saved = f"/s/writers/items/{ids['saved']}"
    own = {who: f"/s/writers/items/{ids['own'][who]}" for who in WRITERS}
    item_id, evidence_id = ids["evidence"]
    download = f"/s/writers/items/{item_id}/evidence/{evidence_id}"
    for who in WRITERS:
        status, _ = people[who].page(own[who])
        assert status == 200, f"{who} cannot open their item"

    barrier = threading.Barrier(len(people))
    outcomes, failures, lock = Counter(), [], threading.Lock()

    def note(kind, status, text, ok):
        with lock:
            outcomes[(kind, status)] += 1
            if not ok:
                failures.append(f"{kind}: {_reason(status, text)}")

    def work(who):
        try:
            rounds(who)
        except Exception as exc:  # a broken client must not leave the others waiting at the barrier
            failures.append(f"{who}'s client broke: {exc!r}")
            barrier.abort()

    def rounds(who):
        browser = people[who]
        for round_ in range(ROUNDS):
            if who in MANAGERS and round_ % 2:
                _, page = browser.page(saved)
                version = _version(page)
                barrier.wait(timeout=60)
                status, text = browser.post(
                    saved,
                    {
                        "version": version,
                        "status": "in_progress",
                        "owner": "",
                        "due_on": ids["due_on"],
                        "notes": f"round {round_} by {who}",
                        "na_reason": "",
                        "completed_on": "",
                    },
                )
                note("item save", status, text, status in (302, 409))  # 409: the other manager saved first
            elif who == "accreditor":
                barrier.wait(timeout=60)
                status, text = browser.request(download)
                note("audited download", status, text, status == 200)
            else:
                barrier.wait(timeout=60)
                status, text = browser.post(own[who] + "/comments", {"body": f"round {round_} from {who}"})
                note("comment", status, text, status == 302)

    engine = sa.create_engine(server["url"])
    with engine.connect() as conn:
        years_before = conn.execute(sa.text("SELECT count(*) FROM school_years")).scalar()
    started = time.monotonic()
    threads = [threading.Thread(target=work, args=(who,)) for who in people]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    elapsed = time.monotonic() - started

    # two people start the same school year at the same moment: one starts it, the other is told it exists
    starts = {}

    def start(who):
        people[who].page("/s/writers/years")
        barrier_two.wait(timeout=60)
        starts[who] = people[who].post("/s/writers/years/start", {"start_year": str(ids["year"] + 1)})

    barrier_two = threading.Barrier(2)
    pair = [threading.Thread(target=start, args=(who,)) for who in MANAGERS]
    for thread in pair:
        thread.start()
    for thread in pair:
        thread.join(timeout=120)

    retried = server["log"].read_text().count("running it again")
    print(
        f"\n{len(WRITERS)} writers + 1 audited reader x {ROUNDS} rounds in {elapsed:.1f}s: "
        f"{dict(outcomes)}; year starts: {sorted(status for status, _ in starts.values())}; "
        f"reads run again after SQLite said busy: {retried}"
    )
    assert not failures, f"{len(failures)} failed saves: {Counter(failures).most_common(5)}"
    saves = outcomes[("item save", 302)]
    assert saves + outcomes[("item save", 409)] == len(MANAGERS) * (ROUNDS // 2) and saves >= 1
    assert sorted(status for status, _ in starts.values()) == [302, 400], {
        who: _reason(*answer) for who, answer in starts.items()
    }
    loser = next(text for status, text in starts.values() if status == 400)
    assert "already exists" in loser

    with engine.connect() as conn:
        comments = conn.execute(sa.text("SELECT count(*) FROM comments WHERE body LIKE 'round %'")).scalar()
        years = conn.execute(sa.text("SELECT count(*) FROM school_years")).scalar()
        version = conn.execute(
            sa.select(sa.column("version"))
            .select_from(sa.table("items"))
            .where(sa.column("id", sa.Uuid) == uuid.UUID(ids["saved"]))
        ).scalar()
    engine.dispose()
    assert version == ids["version"] + saves, "every save that was answered 302 is in, no other"
    expected = sum(1 for who in WRITERS for round_ in range(ROUNDS) if not (who in MANAGERS and round_ % 2))
    assert comments == outcomes[("comment", 302)] == expected
    assert years == years_before + 1
    verify = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "tracker", "audit", "verify"],
        env=server["env"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr


@pytest.mark.skipif(
    not os.environ.get("TRACKER_TEST_DATABASE_URL", "").startswith("postgresql"),
    reason="PostgreSQL only: SQLite serializes writers with BEGIN IMMEDIATE instead",
)
def test_an_event_appended_after_the_head_was_read_extends_the_chain_as_it_stands_now(app, monkeypatch):
    """A request reads the audit head (a report's change stamp), works for a while as someone else saves, then
    records its own event: the event must follow the other one (the head is locked and read again), not fail
    on a duplicate position because the session still held the head as first read."""
    from tracker import audit, audit_verify
    from tracker.db import db
    from tracker.schools.services import create_school

    mine, theirs = db._make_scoped_session({}), db._make_scoped_session({})  # two requests' real sessions
    monkeypatch.setattr(db, "session", mine)
    school = create_school(slug="head-race", name="Head Race School", require_two_factor=False)
    mine.commit()
    try:
        # the head as this request read it, still held (say, shown on the page): the session keeps it as read
        held = mine.get(audit.AuditHead, str(school.id))
        monkeypatch.setattr(db, "session", theirs)
        audit.record("item.changed", school=theirs.get(type(school), school.id))
        theirs.commit()
        monkeypatch.setattr(db, "session", mine)
        event = audit.record("report.generated", school=school)
        mine.commit()
        assert (held.seq, event.seq) == (3, 3)  # after theirs (#2), and the head read again under the lock
        assert not [p for p in audit_verify.verify_chains() if p.chain == str(school.id)]
    finally:
        mine.rollback()
        with db.engine.begin() as conn:
            for table in ("audit_events", "audit_heads"):
                conn.execute(sa.text(f"DELETE FROM {table} WHERE chain = :chain"), {"chain": str(school.id)})
            conn.execute(sa.text("DELETE FROM schools WHERE id = :id"), {"id": school.id})
        mine.remove()
        theirs.remove()


def test_which_sqlite_transactions_take_the_write_lock_when_they_begin(app):
    """Requests that change things, the scheduler's jobs and `flask` commands that write begin immediate (they
    queue for the lock); pages and read-only commands begin deferred, so reads run side by side."""
    import click

    from tracker.db import RETRY_IMMEDIATE, _begin_immediately, write_transactions

    assert not _begin_immediately()  # a thread of its own with no request: the report job's renders, tests
    with write_transactions():
        assert _begin_immediately()
    for method, immediate in (("GET", False), ("HEAD", False), ("POST", True), ("DELETE", True)):
        with app.test_request_context("/", method=method):
            assert _begin_immediately() is immediate, method
    with app.test_request_context("/", environ_overrides={RETRY_IMMEDIATE: "running"}):
        assert _begin_immediately()  # a page run again after SQLite said busy waits for the lock
    for command, immediate in (("invite", True), ("seed", True), ("verify", False), ("shell", False)):
        with click.Context(click.Command(command), info_name=command):
            assert _begin_immediately() is immediate, command


@pytest.mark.skipif(
    not os.environ.get("TRACKER_TEST_DATABASE_URL", "").startswith("postgresql"),
    reason="PostgreSQL only: SQLite serializes writers with BEGIN IMMEDIATE instead",
)
def test_two_sign_offs_of_a_year_at_the_same_moment_give_one_signed_year(app, monkeypatch):
    """Each in a thread with its own session, as two requests; gathering what is still open is stood in for by
    a pause inside the year's row lock, which is when the second one would slip past the check. (The report is
    made afterwards by a background job, which this test does not start.)"""
    from datetime import date

    from tracker import audit
    from tracker.auth.models import User
    from tracker.db import db
    from tracker.schools.services import create_school
    from tracker.tracking import services as tracking
    from tracker.tracking import sign_off as signing
    from tracker.tracking.models import SchoolYear

    monkeypatch.setattr(db, "session", db._make_scoped_session({}))  # a real session per app context
    school = create_school(slug="signoff-race", name="Sign-off Race School", require_two_factor=False)
    heads = [User(email=f"head{n}@signoff-race.example", name=f"Head {n}") for n in (1, 2)]
    db.session.add_all(heads)
    year = tracking.start_year(school, date.today().year)
    db.session.commit()
    ids = (school.id, year.id, [h.id for h in heads])
    db.session.remove()
    monkeypatch.setattr(signing, "open_work", lambda *args: time.sleep(0.5) or [])
    barrier, outcomes = threading.Barrier(2), []

    def sign(user_id):
        with app.app_context():
            try:
                school_, year_ = (db.session.get(type(school), ids[0]), db.session.get(SchoolYear, ids[1]))
                user = db.session.get(User, user_id)
                barrier.wait(timeout=30)
                tracking.sign_off(school_, year_, user, reviewed=True)
                db.session.commit()
                outcomes.append("signed")
            except tracking.TrackingError as exc:
                db.session.rollback()
                outcomes.append(str(exc))
            finally:
                db.session.remove()

    try:
        threads = [threading.Thread(target=sign, args=(user_id,)) for user_id in ids[2]]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert sorted(outcomes) == sorted(
            ["signed", f"{year.label} is being signed off already: its report is being made."]
        )
        with app.app_context():
            signed = db.session.execute(
                sa.select(sa.func.count())
                .select_from(audit.AuditEvent)
                .where(
                    audit.AuditEvent.chain == str(ids[0]),
                    audit.AuditEvent.action == "year.sign_off_requested",
                )
            ).scalar()
            db.session.remove()
        assert signed == 1
    finally:
        with db.engine.begin() as conn:
            for table in ("audit_events", "audit_heads"):
                conn.execute(sa.text(f"DELETE FROM {table} WHERE chain = :chain"), {"chain": str(ids[0])})
            conn.execute(sa.text("DELETE FROM schools WHERE id = :id"), {"id": ids[0]})
            conn.execute(sa.text("DELETE FROM users WHERE email LIKE '%@signoff-race.example'"))
