"""Demo data for people and recruitment: the demo school's register, its checks in every state (one covered by
a signed risk assessment) and training that is current, expiring, overdue and missing."""

import random
from datetime import timedelta

from ..db import db
from ..evidence.services import add_files
from ..people import services as people
from ..people.models import Person
from ..tenancy import HEAD, HR, Membership
from ..tracking.models import Item
from ..training import services as training
from .demo_files import tiny_pdf

DEMO_PEOPLE = [
    # name, category, groups, start offset (days from today), countries, leaves (days from today or None)
    ("Dana Lead", "teaching", ["leadership", "response_team"], -1400, ["Thailand", "United Kingdom"], None),
    ("Harper Head", "teaching", ["leadership"], -2100, ["Thailand", "Canada"], None),
    ("Robin Recruiter", "support", [], -900, ["Thailand"], None),
    ("Sam Staff", "teaching", [], -400, ["Thailand", "Australia"], None),
    ("Amara Okafor", "teaching", ["response_team"], -1200, ["Thailand", "Nigeria"], None),
    ("Björn Lindqvist", "teaching", [], -700, ["Thailand", "Sweden"], None),
    ("Chen Wei", "teaching", [], -300, ["Thailand", "China"], None),
    ("Daniela Souza", "teaching", [], -150, ["Thailand", "Brazil", "Portugal"], None),
    ("Emily Carter", "teaching", [], -60, ["Thailand", "United States"], None),
    ("Farid Haddad", "teaching", ["response_team"], -1000, ["Thailand", "Lebanon"], None),
    ("Grace Mensah", "teaching", [], -500, ["Thailand", "Ghana"], None),
    ("Hiroshi Tanaka", "teaching", [], 20, ["Japan", "Thailand"], None),
    ("Isabel García", "teaching", [], 25, ["Spain", "Mexico"], None),
    ("Jonas Weber", "teaching", [], -800, ["Thailand", "Germany"], -30),
    ("Kanya Srisuk", "support", [], -1500, ["Thailand"], None),
    ("Liam O'Brien", "support", [], -200, ["Thailand", "Ireland"], None),
    ("Mai Nguyen", "support", [], -90, ["Thailand", "Viet Nam"], None),
    ("Niran Chaiyaphum", "support", [], 15, ["Thailand"], None),
    ("Olivia Brown", "support", [], -365, ["Thailand", "New Zealand"], None),
    ("Priya Sharma", "volunteer", [], -100, ["Thailand", "India"], None),
    ("Quentin Moreau", "volunteer", [], -40, ["France"], None),
    ("Rachel Cohen", "volunteer", [], 10, ["Israel", "Thailand"], None),
    ("Somchai Boonmee", "contractor", [], -600, ["Thailand"], None),
    ("Tomasz Nowak", "contractor", [], -30, ["Poland", "Thailand"], None),
    ("Uma Patel", "contractor", [], 28, ["Kenya", "Thailand"], None),
    ("Victor Alvarez", "board", ["leadership"], -1000, ["Thailand", "Argentina"], None),
    ("Wanjiru Kamau", "board", [], -300, ["Kenya", "Thailand"], None),
    ("Xu Ming", "board", [], -50, ["China", "Thailand"], None),
    ("Yasmin Al-Farsi", "teaching", [], -250, ["Thailand", "Oman", "Syria"], None),
    ("Zoe Williams", "teaching", [], -1100, ["Thailand", "United Kingdom"], None),
]


def load_demo_people(school) -> bool:
    """About thirty people of every category, checks in every state, one head-signed risk assessment,
    starters next month with open checks, and training that is current, expiring, overdue and missing."""
    if db.session.execute(db.select(Person.id).where(Person.school_id == school.id)).first():
        return False
    rng = random.Random(7)
    today = school.today()
    members = {
        m.role: m.user
        for m in db.session.execute(db.select(Membership).where(Membership.school_id == school.id)).scalars()
    }
    emails = {u.name: u.email for u in members.values()}
    persons = []
    for name, category, groups, start, countries, leaves in DEMO_PEOPLE:
        persons.append(
            people.add_person(
                school,
                full_name=name,
                email=emails.get(name) or f"{name.split()[0].lower()}@riverside.example",
                category=category,
                groups=groups,
                start_on=today + timedelta(days=start),
                leave_on=today + timedelta(days=leaves) if leaves else None,
                countries=countries,
            )
        )
    hr, head = members[HR], members[HEAD]
    for person in persons:
        items = (
            db.session.execute(db.select(Item).where(Item.person_id == person.id).order_by(Item.due_on))
            .scalars()
            .all()
        )
        started = person.start_on <= today
        # most people who have started are complete; about one in five still has one check being chased
        gap = rng.choice(items).id if started and items and rng.random() < 0.2 else None
        for item in items:
            if started and item.id != gap:
                verified = min(today, person.start_on - timedelta(days=rng.randint(1, 30)))
                expires = (
                    verified + timedelta(days=3 * 365) if item.requirement_key.startswith("police") else None
                )
                if expires and rng.random() < 0.15:
                    expires = today + timedelta(days=rng.randint(3, 25))  # due for renewal soon
                people.update_check(
                    school,
                    item,
                    version=item.version,
                    check_status="verified",
                    verified_on=verified,
                    expires_on=expires,
                    user=hr,
                )
                if rng.random() < 0.3:
                    add_files(
                        school,
                        item,
                        [("certificate.pdf", tiny_pdf(f"{item.title} - {person.full_name}"))],
                        applies_on=verified,
                        user=hr,
                    )
            elif not started:
                stage = rng.choice(["not_started", "requested", "received"])
                if stage != "not_started":
                    people.update_check(school, item, version=item.version, check_status=stage, user=hr)
            else:
                people.update_check(
                    school,
                    item,
                    version=item.version,
                    check_status="requested",
                    user=hr,
                    notes="Chased by e-mail; the certificate is on its way.",
                )
    # One police check that cannot be obtained, covered by a risk assessment the head has signed.
    syria = (
        db.session.execute(db.select(Item).where(Item.school_id == school.id, Item.country == "Syria"))
        .scalars()
        .first()
    )
    if syria is not None:
        people.update_check(
            school,
            syria,
            version=syria.version,
            check_status="requested",
            user=hr,
            notes="The authorities do not issue certificates to people living abroad.",
        )
        people.record_risk_assessment(
            school,
            syria,
            user=hr,
            summary="No certificate can be obtained. Statement from the former school received and "
            "references followed up by video call; no concerns raised. Probation review includes "
            "safeguarding.",
        )
        people.sign_risk_assessment(school, syria, user=head)
    # Training: for each activity, its audience split into people trained recently (current), about a
    # year or two ago (expiring within the month), too long ago (overdue) and not yet (never). One session
    # per group, recorded once for everyone in it.
    lead = members["lead"]
    for activity in training.activities():
        audience = [
            p
            for p in persons
            if p.start_on <= today
            and not p.has_left(today)
            and training.in_audience(p, activity.audience, today)
        ]
        rng.shuffle(audience)
        n = len(audience)
        lifetime = {"yearly": 365, "every_two_years": 730, "termly": 120}.get(activity.repeat)
        if lifetime is None:  # once, at induction: most have done it
            groups = [(audience[: n * 4 // 5], rng.randint(20, 300))]
        else:
            cut = [0, n * 11 // 20, n * 3 // 4, n * 7 // 8]
            groups = [
                (audience[cut[0] : cut[1]], lifetime // 3),
                (audience[cut[1] : cut[2]], lifetime - rng.randint(5, 25)),
                (audience[cut[2] : cut[3]], lifetime + rng.randint(10, 60)),
            ]
        for group, age_days in groups:
            if group:
                training.record_session(
                    school,
                    activity=activity,
                    held_on=today - timedelta(days=age_days),
                    provider=rng.choice(
                        ["Safeguarding lead", "Regional safeguarding trainer", "Online course"]
                    ),
                    notes="",
                    people=group,
                    user=lead,
                )
    return True
