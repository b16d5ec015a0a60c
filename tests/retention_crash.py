"""A retention run killed (SIGKILL) in a subprocess, for tests/test_retention_crash.py (run as a script, never
inside the test session):

    python -m tests.retention_crash DATABASE_URL INSTANCE_DIR PHASE

PHASE: `setup` (migrate, add a school with a leaver whose check holds an evidence file, print the person's id,
then run the rules and be killed inside the removal's transaction), `kill-after-commit` (killed after the
removal committed, before its file is deleted), `rerun` (`flask retention run`, which finishes the job).
"""

import os
import signal
import sys
from datetime import date


def main(url, instance, phase):
    from tracker import create_app

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "scratch",
            "INSTANCE_PATH": instance,
            "TRACKER_EVIDENCE_DIR": os.path.join(instance, "evidence"),
        }
    )
    with app.app_context():
        from tracker.extensions import db
        from tracker.retention import jobs, services
        from tracker.retention.models import PendingFileDeletion

        if phase == "setup":
            setup(db)
            real = services._tombstone

            def killed(*args, **kwargs):
                real(*args, **kwargs)
                db.session.flush()  # the rows are written in the open transaction, then the process dies
                os.kill(os.getpid(), signal.SIGKILL)

            services._tombstone = killed
            jobs.run()
        elif phase == "kill-after-commit":
            real_purge = services.purge_files

            def purge(school_id=None):
                if db.session.execute(db.select(PendingFileDeletion)).first() is not None:
                    os.kill(os.getpid(), signal.SIGKILL)
                return real_purge(school_id)

            services.purge_files = purge
            jobs.run()
        elif phase == "rerun":
            result = app.test_cli_runner().invoke(args=["retention", "run"])
            print(result.output)
            sys.exit(result.exit_code)


def setup(db):
    from flask_migrate import upgrade

    from tracker.auth.models import User
    from tracker.evidence.services import add_files
    from tracker.people.models import Person
    from tracker.schools.services import create_school
    from tracker.tracking.models import Item

    upgrade()
    school = create_school(slug="crash", name="Crash school", timezone="UTC")
    user = User(email="lead@crash.example.org", name="Lead")
    db.session.add(user)
    person = Person(
        school_id=school.id,
        full_name="Casey Crash",
        email="casey@crash.example.org",
        category="teaching",
        start_on=date(2010, 9, 1),
        leave_on=date(2012, 7, 31),
        countries=["Peru"],
    )
    db.session.add(person)
    db.session.flush()
    item = Item(
        school_id=school.id,
        person_id=person.id,
        kind="check",
        title="Identity",
        requirement_key="identity",
        check_status="verified",
        verified_on=date(2010, 8, 1),
        due_on=date(2010, 9, 1),
    )
    db.session.add(item)
    db.session.flush()
    add_files(school, item, [("passport.txt", b"passport scan")], applies_on=None, user=user)
    db.session.commit()
    print(person.id, flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3])
