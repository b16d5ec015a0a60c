"""Fill a scratch database for the reminder process tests (run as a script, never inside the test session).

    python -m tests.reminders_scratch DATABASE_URL SCHOOLS MEMBERS

Every school sits in a timezone where it is now about noon, so its digests are due; every member has one
item due today, so each member gets exactly one digest.
"""

import sys
import tempfile
from datetime import UTC, datetime


def noon_timezone(now: datetime) -> str:
    offset = 12 - now.hour
    if offset < -12:
        offset += 24
    if offset > 14:
        offset -= 24
    return "Etc/GMT" if offset == 0 else f"Etc/GMT{'-' if offset > 0 else '+'}{abs(offset)}"


def main(url, schools, members):
    from tracker import create_app

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "scratch",
            "INSTANCE_PATH": tempfile.mkdtemp(prefix="tracker-scratch-"),
        }
    )
    with app.app_context():
        from flask_migrate import upgrade

        from tracker.auth.models import User
        from tracker.extensions import db
        from tracker.schools.services import create_school
        from tracker.tenancy import Membership
        from tracker.tracking.models import Item

        upgrade()
        tz = noon_timezone(datetime.now(UTC))
        for s in range(schools):
            school = create_school(slug=f"scratch-{s}", name=f"Scratch school {s}", timezone=tz)
            for m in range(members):
                user = User(email=f"member{m}@scratch-{s}.example.org", name=f"Member {m}")
                db.session.add(user)
                db.session.flush()
                db.session.add(Membership(school_id=school.id, user_id=user.id, role="staff"))
                db.session.add(
                    Item(
                        school_id=school.id,
                        kind="own",
                        title=f"Task of member {m}",
                        owner_id=user.id,
                        owner_role="staff",
                        due_on=school.today(),
                    )
                )
        db.session.commit()


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
