"""Training coverage; recording, changing and deleting sessions; certificates.

Who attended is chosen with the people picker (templates/training/_people_picker.html: checkboxes by
category, with a search box and "select all" per group when JavaScript runs). Opened from a coverage
drill-down (`?activity=KEY&bucket=never`), the record form comes with those people already ticked."""

from flask import abort, current_app, flash, g, redirect, render_template, request, send_file, url_for
from flask_login import current_user

from .. import audit, pagecache
from ..access import school_roles
from ..db import get_for_school_or_404
from ..evidence.checks import describe_accepted
from ..evidence.storage import EvidenceStore
from ..pagination import paginate_list
from ..people.models import CATEGORIES, CATEGORY_LABELS
from ..tenancy import ACCREDITOR, HEAD, HR, LEAD
from ..transactions import saving
from . import bp, queries, self_service, services
from .forms import SessionForm
from .models import TrainingSession

READERS = (LEAD, HEAD, HR, ACCREDITOR)
RECORDERS = (LEAD, HR)


@bp.route("/")
@school_roles(*READERS, group="programme")
def index():
    role = g.membership.role if g.membership else "group"

    def render():  # the coverage table and recent sessions: kept while the school's data stands still
        return render_template(
            "training/_coverage_body.html",
            coverage=services.coverage(g.school),
            sessions=queries.recent_sessions(g.school),
        )

    return render_template(
        "training/index.html",
        body=pagecache.school_fragment(g.school, ("training", role), render),
        to_verify=self_service.waiting_for_role(g.school, role),
    )


BUCKETS = {
    "current": "Current",
    "expiring": "Expiring within 30 days",
    "overdue": "Overdue",
    "never": "Never trained",
}


@bp.route("/activities/<activity_key>/<bucket>")
@school_roles(*READERS, group="registers")
def who(activity_key, bucket):
    """The people behind one number of the coverage table, a page at a time."""
    if bucket not in BUCKETS:
        abort(404)
    found = services.coverage(g.school, only=activity_key)
    if not found:
        abort(404)
    cov = found[0]
    page = paginate_list(getattr(cov, bucket), per_page=50)
    return render_template(
        "training/who.html",
        cov=cov,
        bucket=bucket,
        buckets=BUCKETS,
        page=page,
        categories=CATEGORY_LABELS,
        today=g.school.today(),
    )


def _form(session=None):
    """The session form with its choices: the activities and the people who have not left (and, when changing
    a session, its own activity and attendees, even if the activity is retired or they have left)."""
    form = SessionForm()
    activities = services.activities()
    form.activity.choices = [(a.key, f"{a.title} ({a.section.title})") for a in activities]
    if session is not None:
        if session.requirement_key not in {a.key for a in activities}:
            title = session.requirement.title if session.requirement else session.requirement_key
            form.activity.choices.append((session.requirement_key, title))
    people = queries.people_to_offer(g.school, g.school.today(), session)
    form.people.choices = [(str(p.id), p.full_name) for p in people]
    return form, {a.key: a for a in activities}, {str(p.id): p for p in people}


#: "Select all ..." of each group of the picker
PICKER_ALL_LABELS = {
    "teaching": "teaching staff",
    "support": "support staff",
    "volunteer": "volunteers",
    "contractor": "contractors",
    "board": "board members",
}


def picker_groups(people, today) -> list[dict]:
    """The picker's groups: the people offered, by register category in the register's order (a person who
    has left is in their category, marked)."""
    by_category = {c: [] for c in CATEGORIES}
    for p in people.values():
        by_category.setdefault(p.category, []).append(p)
    return [
        {
            "key": category,
            "label": CATEGORY_LABELS.get(category, category),
            "all_label": PICKER_ALL_LABELS.get(category, category),
            "people": [(str(p.id), p.full_name, p.has_left(today)) for p in members],
        }
        for category, members in by_category.items()
        if members
    ]


def _prefill(form, activities, people):
    """Tick the people behind a coverage number (`?activity=KEY&bucket=never|overdue|expiring`) and choose
    that activity; a 400 for an activity or bucket that does not exist."""
    key, bucket = request.args.get("activity"), request.args.get("bucket")
    if not key and not bucket:
        return 0
    if key not in activities:
        abort(400, "That training activity does not exist. Choose it from the list instead.")
    if bucket not in ("never", "overdue", "expiring"):
        abort(400, "Choose people who were never trained, are overdue or are expiring.")
    [cov] = services.coverage(g.school, only=key)
    form.activity.data = key
    form.people.data = [str(p.id) for p, _expires in getattr(cov, bucket) if str(p.id) in people]
    return len(form.people.data)


@bp.route("/record", methods=["GET", "POST"])
@school_roles(*RECORDERS)
def record():
    form, activities, people = _form()
    prefilled = _prefill(form, activities, people) if request.method == "GET" else 0
    if form.validate_on_submit():
        chosen = [people[i] for i in form.people.data if i in people]
        upload = form.certificate.data
        certificate = (upload.filename, upload.read()) if upload and upload.filename else None
        with saving(show=False) as tx:
            services.record_session(
                g.school,
                activity=activities[form.activity.data],
                held_on=form.held_on.data,
                provider=form.provider.data,
                notes=form.notes.data,
                people=chosen,
                certificate=certificate,
                user=current_user,
            )
        if not tx.ok:
            form.certificate.errors.append(f"{tx.error} Nothing was recorded.")
        else:
            flash(f"Recorded for {len(chosen)} {'person' if len(chosen) == 1 else 'people'}.", "success")
            return redirect(url_for(".index"))
    return render_template(
        "training/record.html",
        form=form,
        accepted=describe_accepted(),
        groups=picker_groups(people, g.school.today()),
        prefilled=prefilled,
        bucket_label=BUCKETS.get(request.args.get("bucket", ""), "").lower(),
    ), 400 if form.errors else 200


def _session_or_404(session_id):
    return get_for_school_or_404(TrainingSession, session_id, g.school)


def _back(session):
    """Where to go after a change: the person page the user came from, else the training page."""
    person_id = request.args.get("person", "")
    if person_id in {str(a.person_id) for a in session.attendances}:
        return url_for("people.person", person_id=person_id)
    return url_for(".index")


@bp.route("/sessions/<uuid:session_id>/edit", methods=["GET", "POST"])
@school_roles(*RECORDERS)
def edit(session_id):
    """Change a recorded session: its date, activity, provider, notes, attendees or certificate."""
    session = _session_or_404(session_id)
    form, activities, people = _form(session)
    if request.method == "GET":
        form.activity.data = session.requirement_key
        form.held_on.data = session.held_on
        form.provider.data = session.provider
        form.notes.data = session.notes
        form.people.data = [str(a.person_id) for a in session.attendances]
    elif form.validate_on_submit():
        chosen = [people[i] for i in form.people.data if i in people]
        upload = form.certificate.data
        certificate = (upload.filename, upload.read()) if upload and upload.filename else None
        with saving(show=False) as tx:
            replaced = services.update_session(
                g.school,
                session,
                activity=activities.get(form.activity.data),
                held_on=form.held_on.data,
                provider=form.provider.data,
                notes=form.notes.data,
                people=chosen,
                certificate=certificate,
                user=current_user,
            )
            tx.after_commit(services.delete_file, g.school, replaced)  # the old certificate, once replaced
        if not tx.ok:
            form.certificate.errors.append(f"{tx.error} Nothing was changed.")
        else:
            flash("Training session saved.", "success")
            return redirect(_back(session))
    return render_template(
        "training/session.html",
        form=form,
        session=session,
        accepted=describe_accepted(),
        back=_back(session),
        groups=picker_groups(people, g.school.today()),
    ), 400 if form.errors else 200


@bp.route("/sessions/<uuid:session_id>/delete", methods=["POST"])
@school_roles(*RECORDERS)
def delete(session_id):
    """Delete a recorded session (the page asks for confirmation first)."""
    session = _session_or_404(session_id)
    back = _back(session)
    with saving() as tx:
        stored = services.delete_session(g.school, session, user=current_user)
        tx.after_commit(services.delete_file, g.school, stored)  # the certificate goes once that is saved
    flash("Training session deleted. Coverage no longer counts it.", "success")
    return redirect(back)


@bp.route("/sessions/<uuid:session_id>/certificate")
@school_roles(*READERS)
def certificate(session_id):
    session = get_for_school_or_404(TrainingSession, session_id, g.school)
    if not session.certificate_stored:
        abort(404)
    path = EvidenceStore(current_app.config["TRACKER_EVIDENCE_DIR"]).path(
        g.school.id, session.certificate_stored
    )
    if not path.exists():
        abort(404)
    if g.membership.role == ACCREDITOR:  # every download an accreditor makes is in the audit trail
        with saving():
            audit.record(
                "training.certificate_downloaded",
                school=g.school,
                subject=session,
                after={
                    "certificate": session.certificate_name,
                    "sha256": session.certificate_sha256,
                    "held_on": session.held_on,
                },
            )
    return send_file(
        path,
        mimetype=session.certificate_type,
        as_attachment=True,
        download_name=session.certificate_name,
        max_age=0,
    )
