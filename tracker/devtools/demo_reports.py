"""Demo data for reports and review: a signed-off previous year with its frozen report, and accreditor
queries.

Idempotent: each part is skipped when the demo school already has it.
"""

from ..dates import add_years
from ..db import db
from ..reports import services as reports
from ..review import services as review
from ..review.models import ReviewQuery
from ..tenancy import ACCREDITOR, HEAD, LEAD, Membership
from ..tracking import services as tracking
from ..tracking.models import DONE, NOT_APPLICABLE, Item, ItemKind, SchoolYear


def _members(school):
    return {
        m.role: m.user
        for m in db.session.execute(db.select(Membership).where(Membership.school_id == school.id)).scalars()
    }


def load_demo_reports(school) -> None:
    current = tracking.current_year(school)
    if current is None:
        return
    members = _members(school)
    _previous_year(school, current, members)
    _queries(school, current, members)
    db.session.flush()


def _previous_year(school, current, members):
    starts = add_years(current.starts_on, -1)
    if db.session.execute(
        db.select(SchoolYear.id).where(SchoolYear.school_id == school.id, SchoolYear.starts_on == starts)
    ).first():
        return
    year = tracking.start_year(school, starts.year)
    items = (
        db.session.execute(
            db.select(Item)
            .where(Item.school_id == school.id, Item.year_id == year.id)
            .order_by(Item.due_on, Item.title)
        )
        .scalars()
        .all()
    )
    owners = {"lead": members[LEAD], "head": members[HEAD]}
    for n, item in enumerate(items):
        item.owner_id = owners.get(item.owner_role, members[LEAD]).id
        if item.kind == ItemKind.ANSWER:
            tracking.save_answer(
                school,
                item,
                version=item.version,
                answer="Reviewed and approved by the board in June; published on the staff portal.",
                answer_status="in_place",
                review_on=year.ends_on,
                author=members[LEAD],
            )
        elif n % 11 == 5:
            tracking.update_item(
                school,
                item,
                version=item.version,
                status=NOT_APPLICABLE,
                na_reason="The school had no boarding pupils that year.",
                manage=False,
            )
        elif n % 13 != 7:  # a few were never finished, as in any real year
            tracking.update_item(
                school,
                item,
                version=item.version,
                status=DONE,
                completed_on=item.due_on,
                notes="Done as planned.",
                manage=False,
            )
    db.session.flush()
    tracking.sign_off(
        school,
        year,
        members[HEAD],
        reviewed=True,
        comment="A few items were never finished; they are carried into this year's plan.",
    )
    reports.finish_now(school, year)  # freezes that year's accreditation report here, not in a thread


def _queries(school, year, members):
    if db.session.execute(db.select(ReviewQuery.id).where(ReviewQuery.school_id == school.id)).first():
        return
    accreditor = members.get(ACCREDITOR)
    if accreditor is None:
        return
    items = (
        db.session.execute(
            db.select(Item)
            .where(Item.school_id == school.id, Item.year_id == year.id)
            .order_by(Item.due_on, Item.title)
        )
        .scalars()
        .all()
    )
    answer = next((i for i in items if i.kind == ItemKind.ANSWER), None)
    task = next((i for i in items if i.kind == ItemKind.TASK and i.status == DONE), None)
    if task is not None:
        q = review.raise_query(
            school,
            task,
            user=accreditor,
            role=ACCREDITOR,
            body="The evidence shows the session was booked. Is there an attendance list "
            "signed by the staff who attended?",
        )
        review.reply(
            school,
            q,
            user=members[LEAD],
            role=LEAD,
            body="Yes: the signed attendance list is now attached to this item as evidence.",
        )
    if answer is not None:
        review.raise_query(
            school,
            answer,
            user=accreditor,
            role=ACCREDITOR,
            body="Please say when the board last approved this part of the policy, and where the "
            "minutes are kept.",
        )
