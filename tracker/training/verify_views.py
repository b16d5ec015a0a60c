"""Staff self-service pages: a member's own training certificate, and the "To verify" list where HR and the
lead verify or reject what staff uploaded (certificates here, evidence on items from here or the item page).

Rules live in self_service.py and tracker/evidence/verification.py; every change is audited there."""

from flask import abort, flash, g, redirect, render_template, url_for
from flask_login import current_user

from ..access import school_roles
from ..db import get_for_school_or_404
from ..evidence.checks import describe_accepted
from ..evidence.models import Evidence
from ..evidence.verification import reject_evidence as reject_evidence_row
from ..evidence.verification import verify_evidence as verify_evidence_row
from ..people.check_views import check_page
from ..people.queries import person_of
from ..tenancy import HEAD, HR, LEAD, STAFF
from ..tracking.item_views import item_or_404, item_page
from ..transactions import saving
from . import bp, self_service
from .forms import CertificateForm, RejectForm, ReviewForm
from .models import TrainingSession

#: everyone with a "My record" page may send their own certificate
SUBMITTERS = (LEAD, HEAD, HR, STAFF)
#: who opens the "To verify" list: anyone who verifies something
LIST_READERS = tuple(dict.fromkeys(self_service.CERTIFICATE_VERIFIERS + self_service.EVIDENCE_VERIFIERS))


@bp.route("/my-certificate", methods=["GET", "POST"])
@school_roles(*SUBMITTERS)
def my_certificate():
    """Send one's own training certificate; it counts once HR or the lead has verified it."""
    person = person_of(g.school, current_user.id)
    form = CertificateForm()
    choices = self_service.activities_for(person, g.school.today()) if person is not None else []
    form.activity.choices = [(a.key, a.title) for a in choices]
    if person is not None and form.validate_on_submit():
        upload = form.certificate.data
        certificate = (upload.filename, upload.read()) if upload and getattr(upload, "filename", "") else None
        with saving(form, "certificate") as tx:
            self_service.submit_certificate(
                g.school,
                person,
                activity={a.key: a for a in choices}[form.activity.data],
                held_on=form.held_on.data,
                provider=form.provider.data,
                certificate=certificate,
                user=current_user,
            )
        if tx.ok:
            flash(
                "Certificate sent. It shows as pending on your record until HR or the safeguarding lead "
                "verifies it.",
                "success",
            )
            return redirect(url_for("people.me") + "#my-certificates")
    status = 400 if form.errors else (400 if person is None and form.is_submitted() else 200)
    return render_template(
        "training/my_certificate.html",
        form=form,
        person=person,
        accepted=describe_accepted(),
        submissions=self_service.my_submissions(g.school, person) if person is not None else [],
    ), status


@bp.route("/to-verify")
@school_roles(*LIST_READERS)
def to_verify():
    """What staff uploaded and is waiting for this member to verify or reject it."""
    return _list_page()


def _list_page(reject_form=None, rejecting=None, status=200):
    """The "To verify" list; after a refused rejection, with that row's form and its error."""
    role = g.membership.role
    certificates = (
        self_service.pending_certificates(g.school) if role in self_service.CERTIFICATE_VERIFIERS else []
    )
    evidence = self_service.pending_evidence(g.school) if role in self_service.EVIDENCE_VERIFIERS else []
    return render_template(
        "training/to_verify.html",
        certificates=certificates,
        evidence=evidence,
        reject_form=reject_form,
        rejecting=rejecting,
        verifies_certificates=role in self_service.CERTIFICATE_VERIFIERS,
        verifies_evidence=role in self_service.EVIDENCE_VERIFIERS,
    ), status


def _back_to_item(form):
    """Whether the form came from a page of the item (the item page or a recruitment check's page), not the
    list: its errors are flashed at the top of that page."""
    return form.back.data in ("item", "check")


def _check_person(item, form):
    """The person of a recruitment check whose page the form came from (else None: the item page)."""
    return item.person if form.back.data == "check" and item.person_id else None


@bp.route("/to-verify/certificates/<uuid:session_id>/verify", methods=["POST"])
@school_roles(*self_service.CERTIFICATE_VERIFIERS)
def verify_certificate(session_id):
    session = get_for_school_or_404(TrainingSession, session_id, g.school)
    form = ReviewForm()
    if not form.validate_on_submit():
        abort(400, "This page is out of date. Reload it and try again.")
    with saving() as tx:
        self_service.verify_certificate(g.school, session, user=current_user)
    if not tx.ok:
        return _list_page(status=400)
    flash("Certificate verified. It now counts in training coverage.", "success")
    return redirect(url_for(".to_verify"))


@bp.route("/to-verify/certificates/<uuid:session_id>/reject", methods=["POST"])
@school_roles(*self_service.CERTIFICATE_VERIFIERS)
def reject_certificate(session_id):
    session = get_for_school_or_404(TrainingSession, session_id, g.school)
    form = RejectForm()
    if not form.validate_on_submit():
        return _list_page(reject_form=form, rejecting=session.id, status=400)
    with saving(form, "reason") as tx:
        self_service.reject_certificate(g.school, session, user=current_user, reason=form.reason.data)
    if not tx.ok:
        return _list_page(reject_form=form, rejecting=session.id, status=400)
    flash("Certificate rejected. The person sees your reason on their record.", "success")
    return redirect(url_for(".to_verify"))


def _evidence_or_404(item_id, evidence_id):
    item = item_or_404(item_id)
    row = get_for_school_or_404(Evidence, evidence_id, g.school)
    if row.item_id != item.id:
        abort(404)
    return item, row


def _after_evidence(item, form, message):
    flash(message, "success")
    person = _check_person(item, form)
    if person is not None:
        return redirect(url_for("people.update_check", person_id=person.id, item_id=item.id) + "#evidence")
    if _back_to_item(form):
        return redirect(url_for("tracking.item", item_id=item.id) + "#evidence")
    return redirect(url_for(".to_verify"))


def _evidence_failed(item, form, row):
    person = _check_person(item, form)
    if person is not None:
        return check_page(person, item_or_404(item.id), status=400)  # the error is flashed at the top
    if _back_to_item(form):
        return item_page(item_or_404(item.id), status=400)  # the error is flashed at the top of the page
    return _list_page(
        reject_form=form if isinstance(form, RejectForm) else None, rejecting=row.id, status=400
    )


@bp.route("/to-verify/items/<uuid:item_id>/evidence/<uuid:evidence_id>/verify", methods=["POST"])
@school_roles(*self_service.EVIDENCE_VERIFIERS)
def verify_evidence(item_id, evidence_id):
    item, row = _evidence_or_404(item_id, evidence_id)
    form = ReviewForm()
    if not form.validate_on_submit():
        abort(400, "This page is out of date. Reload it and try again.")
    with saving() as tx:
        verify_evidence_row(g.school, item, row, user=current_user)
    if not tx.ok:
        return _evidence_failed(item, form, row)
    return _after_evidence(item, form, f"“{row.name}” verified. It now counts as evidence of this item.")


@bp.route("/to-verify/items/<uuid:item_id>/evidence/<uuid:evidence_id>/reject", methods=["POST"])
@school_roles(*self_service.EVIDENCE_VERIFIERS)
def reject_evidence(item_id, evidence_id):
    item, row = _evidence_or_404(item_id, evidence_id)
    form = RejectForm()
    if form.validate_on_submit():
        with saving(None if _back_to_item(form) else form, "reason") as tx:
            reject_evidence_row(g.school, item, row, user=current_user, reason=form.reason.data)
        if tx.ok:
            return _after_evidence(item, form, f"“{row.name}” rejected. Whoever added it sees your reason.")
    elif _back_to_item(form):
        flash(" ".join(e for errs in form.errors.values() for e in errs), "error")
    return _evidence_failed(item, form, row)
