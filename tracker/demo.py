"""Demo schools and accounts for `make run`: a stable contract documented in the README."""
import os
import secrets
from datetime import timedelta

from flask import current_app

from . import audit
from .auth.models import User
from .auth.passwords import check_password
from .auth.services import find_user, set_password
from .db import db
from .reminders.demo import load_demo_reminders
from .schools.services import create_school
from .tenancy import ACCREDITOR, Membership, School

DEMO_SCHOOLS = [
    ("demo", "Riverside International School (demo)", "Thailand", "Asia/Bangkok", 8),
    ("demo-two", "Lakeside Academy (demo)", "Kenya", "Africa/Nairobi", 1),
]
DEMO_ACCOUNTS = [
    ("lead@demo.example", "demo", "lead"),
    ("head@demo.example", "demo", "head"),
    ("hr@demo.example", "demo", "hr"),
    ("staff@demo.example", "demo", "staff"),
    ("accreditor@demo.example", "demo", "accreditor"),
    ("lead@demo-two.example", "demo-two", "lead"),
]
NAMES = {
    "lead@demo.example": "Dana Lead",
    "head@demo.example": "Harper Head",
    "hr@demo.example": "Robin Recruiter",
    "staff@demo.example": "Sam Staff",
    "accreditor@demo.example": "Alex Accreditor",
    "lead@demo-two.example": "Lee Lakeside",
}


def demo_password() -> str:
    """TRACKER_DEMO_PASSWORD, else one generated on first use and kept in instance/."""
    if os.environ.get("TRACKER_DEMO_PASSWORD"):
        return os.environ["TRACKER_DEMO_PASSWORD"]
    path = os.path.join(current_app.instance_path, "demo_password")
    if os.path.exists(path):
        return open(path).read().strip()
    password = "-".join(secrets.token_hex(3) for _ in range(3))
    os.makedirs(current_app.instance_path, exist_ok=True)
    with open(path, "w") as fh:
        fh.write(password)
    return password


def load_demo() -> tuple[str, bool]:
    """Create the demo schools and accounts if missing; set every demo password. Idempotent."""
    password = demo_password()
    created = False
    schools = {}
    for slug, name, country, tz, month in DEMO_SCHOOLS:
        school = db.session.execute(db.select(School).where(School.slug == slug)).scalar_one_or_none()
        if school is None:
            school = create_school(slug=slug, name=name, country=country, timezone=tz, year_start_month=month)
            created = True
        schools[slug] = school
    for email, slug, role in DEMO_ACCOUNTS:
        user = find_user(email)
        if user is None:
            user = User(email=email, name=NAMES[email])
            db.session.add(user)
            db.session.flush()
            created = True
        if not check_password(user, password):
            set_password(user, password, reason="set")
        school = schools[slug]
        membership = db.session.execute(
            db.select(Membership).where(Membership.school_id == school.id, Membership.user_id == user.id)
        ).scalar_one_or_none()
        before = membership.audit_view() if membership is not None else None
        if membership is None:
            membership = Membership(school_id=school.id, user_id=user.id)
            db.session.add(membership)
        membership.role = role
        if role == ACCREDITOR:
            membership.access_until = school.today() + timedelta(days=60)
        membership.user, membership.school = user, school
        if before != membership.audit_view():
            audit.record("member.joined" if before is None else "member.role_changed", school=school,
                         subject=membership, before=before, after=membership.audit_view())
    db.session.flush()
    load_demo_tracking(schools["demo"])
    load_demo_people(schools["demo"])
    load_demo_reminders(schools["demo"])
    from .reports.demo import load_demo_reports
    load_demo_reports(schools["demo"])  # a signed-off previous year with its frozen report; accreditor queries
    db.session.flush()
    return password, created



def _tiny_pdf(text: str) -> bytes:
    """A small, valid one-page PDF showing `text` (demo evidence)."""
    safe = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")[:90]
    stream = f"BT /F1 14 Tf 72 720 Td ({safe}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


DEMO_ANSWERS = {
    "in_place": "The policy was reviewed by the safeguarding team in August and approved by the board; "
                "it is on the staff portal and the public website, with the date of the next review.",
    "partly": "Most of this is in place. The secondary handbook is updated; the primary handbook still "
              "uses last year's wording and is being revised by the deputy head.",
    "not_yet": "Not yet in place. The leadership team will draft it this term with the board liaison.",
    "not_applicable": "The school has no boarding provision, so this does not apply.",
}


def load_demo_tracking(school) -> bool:
    """Give the demo school a lived-in year: done items with evidence, work in progress, overdue items,
    policy answers in every status with earlier versions, comments. Skipped if the school has a year."""
    import random

    from .evidence.services import add_files, add_link
    from .tenancy import HEAD, HR, LEAD, STAFF
    from .tracking import services as tracking
    from .tracking.models import DONE, IN_PROGRESS, NOT_APPLICABLE, SchoolYear

    if db.session.execute(db.select(SchoolYear.id).where(SchoolYear.school_id == school.id)).first():
        return False
    rng = random.Random(20261122)  # the same demo every time
    today = school.today()
    start = today.year if today.month >= school.year_start_month else today.year - 1
    year = tracking.start_year(school, start)
    people = {m.role: m.user for m in db.session.execute(
        db.select(Membership).where(Membership.school_id == school.id)).scalars()}
    owners = {"lead": people[LEAD], "head": people[HEAD], "hr": people[HR], "staff": people[STAFF]}
    from .tracking.models import Item

    items = db.session.execute(db.select(Item).where(Item.year_id == year.id).order_by(Item.due_on)).scalars().all()
    answer_cycle = ["in_place", "partly", "not_yet", "in_place", "partly", "not_applicable"]
    for n, item in enumerate(items):
        item.owner_id = owners.get(item.owner_role, people[LEAD]).id
        if item.kind in ("task", "training") and n % 6 == 0:
            item.owner_id = people[STAFF].id  # so the demo staff member has work of their own
        past = item.due_on < today
        if item.kind == "answer":
            status = answer_cycle[n % len(answer_cycle)]
            if n % 3 == 0:  # an earlier version first, so the history shows how the answer grew
                tracking.save_answer(school, item, version=item.version, answer=DEMO_ANSWERS["not_yet"],
                                     answer_status="not_yet", review_on=None, author=people[LEAD])
            tracking.save_answer(school, item, version=item.version, answer=DEMO_ANSWERS[status],
                                 answer_status=status, review_on=year.ends_on, author=people[LEAD])
            if status == "not_applicable":
                tracking.update_item(school, item, version=item.version, status=NOT_APPLICABLE,
                                     na_reason=DEMO_ANSWERS["not_applicable"], manage=False)
            continue
        roll = rng.random()
        if past and roll < 0.75:
            done_on = min(today, item.due_on + timedelta(days=rng.randint(-5, 3)))
            tracking.update_item(school, item, version=item.version, status=DONE, completed_on=done_on,
                                 notes="Done as planned.", manage=False)
            if rng.random() < 0.7:
                add_files(school, item, [(f"{item.title[:60].strip()}.pdf".replace("/", "-"),
                                          _tiny_pdf(f"Evidence: {item.title}"))],
                          applies_on=done_on, user=owners.get(item.owner_role, people[LEAD]))
            elif rng.random() < 0.5:
                add_link(school, item, url="https://intranet.example/safeguarding", title="Record on the intranet",
                         applies_on=done_on, user=people[LEAD])
        elif roll < 0.9 and item.due_on <= today + timedelta(days=45):
            tracking.update_item(school, item, version=item.version, status=IN_PROGRESS,
                                 notes="Started; dates agreed with the team.", manage=False)
        if n % 9 == 0:
            tracking.add_comment(school, item, body="Booked the session for the staff meeting; slides shared.",
                                 author=people[LEAD])
    return True


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
    import random

    from .evidence.services import add_files
    from .people import services as people
    from .people.models import Person
    from .tenancy import HEAD, HR
    from .tracking.models import Item
    from .training import services as training

    if db.session.execute(db.select(Person.id).where(Person.school_id == school.id)).first():
        return False
    rng = random.Random(7)
    today = school.today()
    members = {m.role: m.user for m in db.session.execute(
        db.select(Membership).where(Membership.school_id == school.id)).scalars()}
    emails = {u.name: u.email for u in members.values()}
    persons = []
    for name, category, groups, start, countries, leaves in DEMO_PEOPLE:
        persons.append(people.add_person(
            school, full_name=name, email=emails.get(name) or f"{name.split()[0].lower()}@riverside.example",
            category=category, groups=groups, start_on=today + timedelta(days=start),
            leave_on=today + timedelta(days=leaves) if leaves else None, countries=countries))
    hr, head = members[HR], members[HEAD]
    for person in persons:
        items = db.session.execute(db.select(Item).where(Item.person_id == person.id).order_by(Item.due_on)).scalars().all()
        started = person.start_on <= today
        # most people who have started are complete; about one in five still has one check being chased
        gap = rng.choice(items).id if started and items and rng.random() < 0.2 else None
        for item in items:
            if started and item.id != gap:
                verified = min(today, person.start_on - timedelta(days=rng.randint(1, 30)))
                expires = verified + timedelta(days=3 * 365) if item.requirement_key.startswith("police") else None
                if expires and rng.random() < 0.15:
                    expires = today + timedelta(days=rng.randint(3, 25))  # due for renewal soon
                people.update_check(school, item, version=item.version, check_status="verified",
                                    verified_on=verified, expires_on=expires, user=hr)
                if rng.random() < 0.3:
                    add_files(school, item, [("certificate.pdf", _tiny_pdf(f"{item.title} - {person.full_name}"))],
                              applies_on=verified, user=hr)
            elif not started:
                stage = rng.choice(["not_started", "requested", "received"])
                if stage != "not_started":
                    people.update_check(school, item, version=item.version, check_status=stage, user=hr)
            else:
                people.update_check(school, item, version=item.version, check_status="requested", user=hr,
                                    notes="Chased by e-mail; the certificate is on its way.")
    # One police check that cannot be obtained, covered by a risk assessment the head has signed.
    syria = db.session.execute(db.select(Item).where(Item.school_id == school.id, Item.country == "Syria")
                               ).scalars().first()
    if syria is not None:
        people.update_check(school, syria, version=syria.version, check_status="requested", user=hr,
                            notes="The authorities do not issue certificates to people living abroad.")
        people.record_risk_assessment(
            school, syria, user=hr,
            summary="No certificate can be obtained. Statement from the former school received and references "
                    "followed up by video call; no concerns raised. Probation review includes safeguarding.")
        people.sign_risk_assessment(school, syria, user=head)
    # Training: for each activity, its audience split into people trained recently (current), about a
    # year or two ago (expiring within the month), too long ago (overdue) and not yet (never). One session
    # per group, recorded once for everyone in it.
    lead = members["lead"]
    for activity in training.activities():
        audience = [p for p in persons if p.start_on <= today and not p.has_left(today)
                    and training.in_audience(p, activity.audience, today)]
        rng.shuffle(audience)
        n = len(audience)
        lifetime = {"yearly": 365, "every_two_years": 730, "termly": 120}.get(activity.repeat)
        if lifetime is None:  # once, at induction: most have done it
            groups = [(audience[: n * 4 // 5], rng.randint(20, 300))]
        else:
            cut = [0, n * 11 // 20, n * 3 // 4, n * 7 // 8]
            groups = [(audience[cut[0]:cut[1]], lifetime // 3),
                      (audience[cut[1]:cut[2]], lifetime - rng.randint(5, 25)),
                      (audience[cut[2]:cut[3]], lifetime + rng.randint(10, 60))]
        for group, age_days in groups:
            if group:
                training.record_session(school, activity=activity, held_on=today - timedelta(days=age_days),
                                        provider=rng.choice(["Safeguarding lead", "Regional safeguarding trainer",
                                                             "Online course"]), notes="", people=group, user=lead)
    return True
