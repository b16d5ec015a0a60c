"""Benchmark: the accreditation report of a large school (500 staff, all four frameworks, 2,000 evidence rows).

Prints the time and peak memory of the whole pipeline (gather the data, template, render in the forked child),
the time WeasyPrint alone takes on the same final HTML in this process (our overhead ratio), and the time of
a cached re-download. Run: .venv/bin/python bench/bench_reports.py   (uses a throwaway SQLite database)
"""
import hashlib
import os
import random
import resource
import sys
import tempfile
import time
import tracemalloc
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

STAFF, EVIDENCE = 500, 2000


def build(school_name="Benchmark International School"):
    from tracker.auth.models import User
    from tracker.db import db
    from tracker.evidence.models import Evidence
    from tracker.people import services as people
    from tracker.schools.services import create_school
    from tracker.tenancy import Membership
    from tracker.tracking import services as tracking
    from tracker.tracking.models import DONE, Item
    from tracker.training import services as training

    rng = random.Random(500)
    school = create_school(slug="bench", name=school_name, country="Thailand", timezone="Asia/Bangkok")
    head = User(email="head@bench.example", name="Bench Head")
    db.session.add(head)
    db.session.flush()
    db.session.add(Membership(school_id=school.id, user_id=head.id, role="head"))
    today = school.today()
    year = tracking.start_year(school, today.year if today.month >= 8 else today.year - 1)
    categories = ["teaching"] * 6 + ["support"] * 2 + ["volunteer", "contractor"]
    persons = [people.add_person(school, full_name=f"Staff member {n:03d}", email=f"s{n}@bench.example",
                                 category=rng.choice(categories),
                                 start_on=today - timedelta(days=rng.randint(10, 3000)),
                                 countries=["Thailand", rng.choice(["United Kingdom", "Canada", "Kenya"])])
               for n in range(STAFF)]
    db.session.flush()
    items = db.session.execute(db.select(Item).where(Item.school_id == school.id)).scalars().all()
    for item in items:
        if item.due_on < today and rng.random() < 0.8:
            item.status, item.completed_on = DONE, item.due_on
            if item.person_id:
                item.check_status, item.verified_on = "verified", item.due_on
    for n in range(EVIDENCE):
        item = rng.choice(items)
        db.session.add(Evidence(school_id=school.id, item_id=item.id, kind="file", name=f"evidence-{n:04d}.pdf",
                                stored_name=None, content_type="application/pdf", size=1000,
                                sha256=hashlib.sha256(str(n).encode()).hexdigest(), uploaded_by_id=head.id))
    activity = training.activities()[0]
    training.record_session(school, activity=activity, held_on=today - timedelta(days=100), provider="Bench",
                            notes="", people=persons[:300], user=head)
    db.session.commit()
    return school, year, head, len(items)


def main():
    tmp = Path(tempfile.mkdtemp(prefix="bench-reports-"))
    os.environ["TRACKER_DATABASE_URL"] = f"sqlite:///{tmp / 'bench.sqlite3'}"
    from tracker import create_app
    from tracker.db import db

    app = create_app({"INSTANCE_PATH": str(tmp), "SECRET_KEY": "bench", "TRACKER_EVIDENCE_DIR": str(tmp / "ev")})
    with app.app_context():
        from flask_migrate import upgrade

        from tracker.seeding import seed_all

        upgrade()
        seed_all(app.config["TRACKER_SEEDS_DIR"])
        db.session.commit()
        t = time.perf_counter()
        school, year, head, n_items = build()
        year_id, head_id = year.id, head.id
        print(f"built: {STAFF} staff, {n_items} items (year items and per-person checks), {EVIDENCE} evidence rows "
              f"in {time.perf_counter() - t:.1f} s")
    with app.test_request_context():
        from tracker.reports import data as gather
        from tracker.reports import render, services
        from tracker.tenancy import School
        from tracker.tracking.models import SchoolYear

        school = db.session.execute(db.select(School).where(School.slug == "bench")).scalar_one()
        from tracker.auth.models import User

        year = db.session.get(SchoolYear, year_id)
        head = db.session.get(User, head_id)
        req = services.Request("accreditation", year=year)

        t = time.perf_counter()
        report, made = services.draft(school, req, head, background_rows=None)
        db.session.commit()
        full = time.perf_counter() - t
        child_rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        assert made and report.status == "done"
        print(f"full pipeline (gather, template, render in the forked child, store): {full:.2f} s for "
              f"{report.pages} pages, {report.size / 1e6:.2f} MB PDF; peak RSS of the render child {child_rss:.0f} MB")

        # tracemalloc is measured apart: a forked child inherits it and renders several times slower under it
        tracemalloc.start()
        html = services.html_for(services.collect(school, req), "0" * 64)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(f"peak Python memory of gathering and templating in the app process: {peak / 1e6:.1f} MB")

        t = time.perf_counter()
        data = services.collect(school, req)
        digest = gather.data_hash(data)
        html = services.html_for(data, digest)
        if os.environ.get("BENCH_SAVE_HTML"):
            Path(os.environ["BENCH_SAVE_HTML"]).write_text(html)
        gather_time = time.perf_counter() - t
        t = time.perf_counter()
        alone = render.render_pdf(html, title="bench", in_process=True)
        weasy = time.perf_counter() - t
        print(f"gather + template alone: {gather_time:.2f} s ({len(html) / 1e6:.1f} MB of HTML)")
        print(f"WeasyPrint alone on the same HTML, in process: {weasy:.2f} s ({alone.pages} pages); "
              f"overhead ratio full/WeasyPrint = {full / weasy:.2f}")

        t = time.perf_counter()
        again, made = services.draft(school, req, head, background_rows=None)
        cached = time.perf_counter() - t
        assert not made and again.id == report.id
        size = len(again.pdf)
        print(f"cached re-download (gather, hash, load {size / 1e6:.2f} MB from the database): {cached:.2f} s")


if __name__ == "__main__":
    main()
