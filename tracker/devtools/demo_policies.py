"""Demo data for read-and-sign: the demo school's child protection policy (a PDF) and code of conduct (text,
with a minor second version), acknowledged by some of their audience in the tracker and on a sign sheet, so
coverage is partly done and the staff demo account has both to sign."""

import random
from datetime import timedelta

from ..db import db
from ..people.models import Person
from ..policies import services as policies
from ..policies.models import PolicyDocument
from ..tenancy import LEAD, STAFF, Membership
from .demo_files import tiny_pdf

CODE_OF_CONDUCT = """Code of conduct for every adult at Riverside International School

1. Put the safety and wellbeing of students first, in school, on trips and online.
2. Keep professional boundaries: no private messages, social media contact or gifts outside school channels.
3. Never be alone with a student out of sight of others when it can be avoided; leave doors open.
4. Report any concern about a student, or about an adult's behaviour, to the safeguarding lead the same day.
5. Do not promise to keep a secret; listen, write down what was said, and pass it on.
"""


def load_demo_policies(school) -> bool:
    """Two documents with partial coverage; nothing if the school has documents already."""
    if db.session.execute(db.select(PolicyDocument.id).where(PolicyDocument.school_id == school.id)).first():
        return False
    today = school.today()
    members = {
        m.role: m
        for m in db.session.execute(db.select(Membership).where(Membership.school_id == school.id)).scalars()
    }
    lead = members[LEAD].user
    cp = policies.publish(
        school,
        title="Child protection policy",
        kind="child_protection",
        roles=["lead", "head", "hr", "staff"],
        categories=["teaching", "support", "volunteer", "contractor"],
        button_text="",
        label="2026-27",
        body="",
        upload=("Child protection policy 2026-27.pdf", tiny_pdf("Child protection policy 2026-27")),
        deadline=today + timedelta(days=14),
        user=lead,
        stored=[],
    )
    conduct = policies.publish(
        school,
        title="Code of conduct",
        kind="code_of_conduct",
        roles=["lead", "head", "hr", "staff"],
        categories=["teaching", "support", "volunteer", "contractor", "board"],
        button_text="I have read the code of conduct and will follow it",
        label="v1",
        body=CODE_OF_CONDUCT,
        upload=None,
        deadline=today - timedelta(days=5),  # passed: whoever has not signed is overdue
        user=lead,
        stored=[],
    )
    db.session.flush()
    people = (
        db.session.execute(
            db.select(Person)
            .where(Person.school_id == school.id, (Person.leave_on.is_(None)) | (Person.leave_on >= today))
            .order_by(Person.full_name)
        )
        .scalars()
        .all()
    )
    staff_user = members[STAFF].user_id if STAFF in members else None
    by_user = {m.user_id: m.user for m in members.values()}
    rng = random.Random(18)
    for version, share in ((cp, 0.5), (conduct, 0.7)):
        sheet = []
        for person in people:
            if person.user_id == staff_user or person.start_on > today or rng.random() > share:
                continue  # the staff demo account has both to sign; starters sign at induction
            if person.user_id in by_user:
                policies.acknowledge(school, version, user=by_user[person.user_id], person=person)
            else:  # no account: volunteers, contractors, most teachers here sign the staff-room sheet
                sheet.append(person)
        if sheet:
            policies.record_sheet(
                school, version, people=sheet, signed_on=today - timedelta(days=3), user=members[LEAD].user
            )
    policies.add_version(
        school,
        conduct.document,
        label="v1.1",
        body=CODE_OF_CONDUCT + "6. Use only school devices to photograph students.\n",
        upload=None,
        material=False,
        change_note="Added point 6 on photographs (a clarification: signatures of v1 still count).",
        deadline=today - timedelta(days=5),
        user=lead,
        stored=[],
    )
    db.session.flush()
    return True
