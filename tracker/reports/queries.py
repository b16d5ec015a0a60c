"""Read-side queries of the reports page: the people a training record can be made for, the accreditors."""

from ..auth.models import User
from ..db import db
from ..people.models import Person
from ..tenancy import ACCREDITOR, Membership


def current_people(school, today) -> list:
    """People who have not left by `today`, by name."""
    return (
        db.session.execute(
            db.select(Person)
            .where(Person.school_id == school.id, (Person.leave_on.is_(None)) | (Person.leave_on >= today))
            .order_by(Person.full_name)
        )
        .scalars()
        .all()
    )


def accreditors(school) -> list:
    """The school's accreditor memberships, the latest end of access first."""
    return (
        db.session.execute(
            db.select(Membership)
            .join(User, User.id == Membership.user_id)
            .where(Membership.school_id == school.id, Membership.role == ACCREDITOR)
            .order_by(Membership.access_until.desc())
        )
        .scalars()
        .all()
    )
