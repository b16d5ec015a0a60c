"""Training coverage and recording sessions."""
from flask import abort, flash, g, redirect, render_template, send_file, url_for
from flask_login import current_user
from sqlalchemy.orm import selectinload

from ..access import school_roles
from ..db import db, get_for_school_or_404
from ..evidence.checks import UploadRejected, describe_accepted
from ..pagination import paginate_list
from ..evidence.storage import EvidenceStore
from ..people.models import CATEGORY_LABELS, Person
from ..tenancy import ACCREDITOR, HEAD, HR, LEAD
from . import bp, services
from .forms import SessionForm
from .models import TrainingAttendance, TrainingSession

READERS = (LEAD, HEAD, HR, ACCREDITOR)
RECORDERS = (LEAD, HR)


@bp.route("/")
@school_roles(*READERS)
def index():
    attended = (db.select(db.func.count()).where(TrainingAttendance.session_id == TrainingSession.id)
                .correlate(TrainingSession).scalar_subquery())
    sessions = db.session.execute(
        db.select(TrainingSession, attended).where(TrainingSession.school_id == g.school.id)
        .options(selectinload(TrainingSession.requirement))
        .order_by(TrainingSession.held_on.desc()).limit(20)).all()
    return render_template("training/index.html", coverage=services.coverage(g.school), sessions=sessions,
                           today=g.school.today())


BUCKETS = {"current": "Current", "expiring": "Expiring within 30 days", "overdue": "Overdue",
           "never": "Never trained"}


@bp.route("/activities/<activity_key>/<bucket>")
@school_roles(*READERS)
def who(activity_key, bucket):
    """The people behind one number of the coverage table, a page at a time."""
    if bucket not in BUCKETS:
        abort(404)
    found = services.coverage(g.school, only=activity_key)
    if not found:
        abort(404)
    cov = found[0]
    page = paginate_list(getattr(cov, bucket), per_page=50)
    return render_template("training/who.html", cov=cov, bucket=bucket, buckets=BUCKETS, page=page,
                           categories=CATEGORY_LABELS, today=g.school.today())


def _form():
    form = SessionForm()
    activities = services.activities()
    form.activity.choices = [(a.key, f"{a.title} ({a.section.title})") for a in activities]
    today = g.school.today()
    people = db.session.execute(db.select(Person).where(
        Person.school_id == g.school.id, (Person.leave_on.is_(None)) | (Person.leave_on >= today))
        .order_by(Person.full_name)).scalars().all()
    form.people.choices = [(str(p.id), p.full_name) for p in people]
    return form, {a.key: a for a in activities}, {str(p.id): p for p in people}


@bp.route("/record", methods=["GET", "POST"])
@school_roles(*RECORDERS)
def record():
    form, activities, people = _form()
    if form.validate_on_submit():
        chosen = [people[i] for i in form.people.data if i in people]
        upload = form.certificate.data
        certificate = (upload.filename, upload.read()) if upload and upload.filename else None
        try:
            services.record_session(g.school, activity=activities[form.activity.data], held_on=form.held_on.data,
                                    provider=form.provider.data, notes=form.notes.data, people=chosen,
                                    certificate=certificate, user=current_user)
            db.session.commit()
        except UploadRejected as exc:
            db.session.rollback()
            form.certificate.errors.append(f"{exc} Nothing was recorded.")
        else:
            flash(f"Recorded for {len(chosen)} {'person' if len(chosen) == 1 else 'people'}.", "success")
            return redirect(url_for(".index"))
    return render_template("training/record.html", form=form, accepted=describe_accepted()), \
        400 if form.errors else 200


@bp.route("/sessions/<uuid:session_id>/certificate")
@school_roles(*READERS)
def certificate(session_id):
    session = get_for_school_or_404(TrainingSession, session_id, g.school)
    if not session.certificate_stored:
        abort(404)
    from flask import current_app

    path = EvidenceStore(current_app.config["TRACKER_EVIDENCE_DIR"]).path(g.school.id, session.certificate_stored)
    if not path.exists():
        abort(404)
    return send_file(path, mimetype=session.certificate_type, as_attachment=True,
                     download_name=session.certificate_name, max_age=0)
