"""Two schools, A and B, with a member of every role; B's data carries a marker that must never leak to A.

Later features register how to make their objects (WORLD_BUILDERS) and which object a URL parameter
names (PARAM_TARGETS); the cross-tenant, role and CSRF suites then cover their routes without edits.
"""

import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta

import sqlalchemy as sa

from tracker.auth.models import LoginSession
from tracker.extensions import db
from tracker.library.services import add_school_resource
from tracker.schools.services import create_school, invite
from tracker.tenancy import ACCREDITOR, ROLES, Membership

from .conftest import CHEAP_HASHER, PASSWORD

MARKER = "ZZMARKERB"  # appears in every text field of school B; never in any response to A


@dataclass
class SchoolWorld:
    school: object
    members: dict  # role -> Membership
    target_member: object  # a staff member that pages can act on
    objects: dict = field(default_factory=dict)  # param name -> object id/value


def _member(school, role, email, name):
    from tracker.auth.models import User

    user = User(email=email, name=name, password_hash=CHEAP_HASHER.hash(PASSWORD))
    db.session.add(user)
    db.session.flush()
    m = Membership(
        school_id=school.id,
        user_id=user.id,
        role=role,
        access_until=date(2999, 1, 1) if role == ACCREDITOR else None,
    )
    db.session.add(m)
    db.session.flush()
    return m


def _school(tag, marker):
    uid = uuid.uuid4().hex[:6]
    school = create_school(
        slug=f"{tag.lower()}-{uid}",
        name=f"School {tag} {marker}",
        country=f"Country {marker}",
        require_two_factor=False,
    )
    members = {
        role: _member(
            school,
            role,
            f"{role}-{tag.lower()}-{uid}{marker.lower()}@example.org",
            f"{role.title()} {tag} {marker}",
        )
        for role in ROLES
    }
    target = _member(
        school, "staff", f"target-{tag.lower()}-{uid}{marker.lower()}@example.org", f"Target {tag} {marker}"
    )
    world = SchoolWorld(school, members, target)
    issued = invite(school, email=f"invitee-{uid}{marker.lower()}@example.org", role="staff")
    world.objects["member_id"] = target.id
    world.objects["invitation_id"] = issued.invitation.id
    own = add_school_resource(
        school,
        title=f"Own policy {marker}",
        url="https://example.org/policy",
        publishers=f"Publisher {marker}",
        summary=f"Summary {marker}",
        sections=["policies-procedures"],
        tags=[f"Tag {marker}"],
    )
    world.objects["key"] = own.key
    _tracking(world, marker)
    _people(world, marker)
    for builder in WORLD_BUILDERS:
        builder(world, marker)
    return world


def _tracking(world, marker):
    """A school year with one policy question answered, evidence and a comment, all carrying the marker."""
    from tracker.evidence.services import add_files
    from tracker.frameworks.models import Framework, Requirement
    from tracker.tracking.models import Comment, Item
    from tracker.tracking.services import _create_year

    school = world.school
    year = _create_year(school, 2026)
    req = (
        db.session.execute(
            db.select(Requirement)
            .join(Framework)
            .where(
                Framework.key == "policy-form",
                Requirement.id.in_([r.id for f in year.frameworks for r in f.requirements]),
            )
            .order_by(Requirement.position)
        )
        .scalars()
        .first()
    )
    item = Item(
        school_id=school.id,
        year_id=year.id,
        framework_id=req.framework_id,
        requirement_id=req.id,
        requirement_key=req.key,
        kind="answer",
        section_title=f"Section {marker}",
        title=f"Item {marker}",
        owner_role="lead",
        due_on=year.starts_on,
        notes=f"Notes {marker}",
        answer=f"Answer {marker}",
        answer_status="partly",
    )
    db.session.add(item)
    db.session.flush()
    [evidence] = add_files(
        school,
        item,
        [(f"Evidence {marker}.txt", f"Evidence {marker}".encode())],
        applies_on=None,
        user=world.members["lead"].user,
    )
    db.session.add(
        Comment(
            school_id=school.id,
            item_id=item.id,
            body=f"Comment {marker}",
            author_id=world.members["lead"].user_id,
        )
    )
    db.session.flush()
    world.objects.update(year_id=year.id, item_id=item.id, evidence_id=evidence.id)
    world.item = item


def _people(world, marker):
    """A person on the register (linked to the target member) with their checklist and a training session."""
    from tracker.people.services import add_person
    from tracker.tracking.models import Item
    from tracker.training.services import activities, record_session

    school = world.school
    target_user = world.target_member.user
    person = add_person(
        school,
        full_name=f"Person {marker}",
        email=target_user.email,
        category="teaching",
        start_on=date(2026, 8, 1),
        countries=[f"Land {marker}"],
        groups=["response_team"],
    )
    check = (
        db.session.execute(
            db.select(Item)
            .where(Item.school_id == school.id, Item.person_id == person.id)
            .order_by(Item.due_on)
        )
        .scalars()
        .first()
    )
    session = record_session(
        school,
        activity=activities()[0],
        held_on=date(2026, 8, 20),
        provider=f"Provider {marker}",
        notes=f"Training notes {marker}",
        people=[person],
        certificate=(f"Certificate {marker}.txt", f"Certificate {marker}".encode()),
        user=world.members["lead"].user,
    )
    world.objects.update(person_id=person.id, check_item_id=check.id, session_id=session.id)


#: callables (world, marker) that add a feature's objects to a school and record their ids in world.objects
WORLD_BUILDERS = []

#: URL parameters that are not school objects: the value used everywhere
FIXED_PARAMS = {
    "token": "not-a-real-token",
    "framework_key": "policy-form",
    "fmt": "csv",
    "activity_key": "lead-formal-training",
    "bucket": "current",
    "device_id": "0" * 24,  # auth.revoke (My sessions): no such session of the signed-in user
}  # a training activity of the seeds

#: endpoint -> {URL parameter: key in world.objects}, where a parameter names a different object on that page
ENDPOINT_PARAMS = {
    "people.update_check": {"item_id": "check_item_id"},
    "people.risk": {"item_id": "check_item_id"},
    "people.sign_risk": {"item_id": "check_item_id"},
}


def build_worlds():
    """Return (A, B): B's text fields all contain MARKER, A's contain none."""
    a = _school("A", "plain")
    b = _school("B", MARKER)
    db.session.commit()
    return a, b


def attached(world):
    """A copy of a world built in another session (a module's shared worlds: conftest's `worlds`) whose rows
    are loaded in the current session, so a test can read and change them."""

    def load(value):
        if isinstance(value, dict):
            return {key: load(item) for key, item in value.items()}
        state = sa.inspect(value, raiseerr=False)
        if isinstance(state, sa.orm.InstanceState):
            return db.session.get(state.mapper.class_, state.identity)
        return value

    copy = SchoolWorld(world.school, world.members, world.target_member)
    copy.__dict__.update({name: load(value) for name, value in vars(world).items()})
    return copy


def sign_in(client, user):
    """Give the test client a live session for `user` without going through the login form."""
    token = LoginSession.open(user)
    db.session.commit()
    with client.session_transaction() as sess:
        sess["_user_id"] = token
        sess["_fresh"] = True
    return client


def url_args(rule, school_slug, world):
    """Fill a rule's parameters with the given school's slug and the world's objects."""
    args = {}
    renamed = ENDPOINT_PARAMS.get(rule.endpoint, {})
    for name in rule.arguments:
        if name == "school":
            args[name] = school_slug
        elif name in renamed:
            args[name] = world.objects[renamed[name]]
        elif name in world.objects:
            args[name] = world.objects[name]
        elif name in FIXED_PARAMS:
            args[name] = FIXED_PARAMS[name]
        else:
            raise AssertionError(
                f"{rule.endpoint}: no test value for URL parameter <{name}>; "
                f"register it in tests/world.py (WORLD_BUILDERS / PARAM values)"
            )
    return args


#: a last day of access inside the date policy (tracker/validation.py: up to five years ahead)
ACCESS_UNTIL = (date.today() + timedelta(days=90)).isoformat()

#: form data sent with every POST: plausible values, so a missing check would let the change through
FORM_DATA = {
    "email": "someone-new@example.org",
    "role": "lead",
    "name": "New Name",
    "country": "Nowhere",
    "timezone": "UTC",
    "year_start_month": "1",
    "access_until": ACCESS_UNTIL,
    "password": "lantern orchard quietly hums",
    "confirm": "lantern orchard quietly hums",
    "current": PASSWORD,
    "slug": "new-school",
    "lead_email": "lead-new@example.org",
    "school": "",
    "status": "done",
    "sections": "introduction",
    "tags": "One, Two",
    "url": "https://example.org",
    "start_year": "2031",
    "answer": "An answer",
    "answer_status": "partly",
    "due_on": "2026-09-01",
    "notes": "Some notes",
    "na_reason": "",
    "version": "1",
    "link_title": "Link",
    "owner": "",
    "body": "text",
    "title": "A title",
    "note": "note",
    "reason": "Not the right file",
    "label": "Thai translation",
    # the term dates page (tracker/tracking/terms_views.py): the world's year starts 1 August 2026
    "term1_name": "Autumn",
    "term1_starts_on": "2026-08-17",
    "term1_ends_on": "2026-12-11",
    "term2_name": "Spring",
    "term2_starts_on": "2027-01-06",
    "term2_ends_on": "2027-03-26",
    "term3_name": "Summer",
    "term3_starts_on": "2027-04-12",
    "term3_ends_on": "2027-06-25",
}


def methods_of(rule):
    return sorted(rule.methods - {"HEAD", "OPTIONS"})


# the worlds of later features register themselves here, once the helpers above exist
from . import (  # noqa: E402
    world_archive,  # noqa: F401
    world_checks,  # noqa: F401
    world_groups,  # noqa: F401
    world_library_files,  # noqa: F401
    world_oidc,  # noqa: F401
    world_passkeys,  # noqa: F401
    world_people_import,  # noqa: F401
    world_policies,  # noqa: F401
    world_reminders,  # noqa: F401
    world_reports,  # noqa: F401
    world_retention,  # noqa: F401
    world_self_service,  # noqa: F401
    world_two_factor,  # noqa: F401
)
