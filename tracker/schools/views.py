"""School pages. Each view parses its form, calls a service, commits once and redirects."""

from flask import flash, g, redirect, render_template, request, url_for
from flask_login import current_user

from .. import audit
from ..access import school_roles, signed_in
from ..db import db, get_for_school_or_404
from ..mail import deliver_link
from ..pagination import paginate
from ..tenancy import LEAD, MANAGERS, Membership, memberships_for
from . import bp, picker_bp
from .forms import InviteForm, RoleForm, SchoolSettingsForm
from .models import Invitation
from .services import (ServiceError, change_role, invite, latest_accreditor_end, refusal, remove_member,
                       revoke_invitation, update_settings)


@picker_bp.route("/")
@signed_in
def index():
    """Send the user to their school, or to the picker when they have several (or none)."""
    memberships = memberships_for(current_user)
    if len(memberships) == 1:
        return redirect(url_for("tracking.home", school=memberships[0].school.slug))
    return redirect(url_for("picker.choose"))


@picker_bp.route("/schools")
@signed_in
def choose():
    return render_template("schools/choose.html", memberships=memberships_for(current_user))


@picker_bp.route("/switch", methods=["POST"])
@signed_in
def switch():
    slug = request.form.get("school", "")
    if any(m.school.slug == slug for m in memberships_for(current_user)):
        return redirect(url_for("tracking.home", school=slug))
    flash("You are not a member of that school.", "error")
    return redirect(url_for("picker.choose"))


def _invitation_link(token):
    return url_for("auth.accept_invitation", token=token, _external=True)


@bp.route("/members")
@school_roles(*MANAGERS)
def members():
    rows = db.session.execute(
        db.select(Membership).where(Membership.school_id == g.school.id).order_by(Membership.role)
    ).scalars().all()
    rows.sort(key=lambda m: (m.role, m.user.display_name.lower()))
    invitations = db.session.execute(
        db.select(Invitation).where(Invitation.school_id == g.school.id, Invitation.accepted_at.is_(None),
                                    Invitation.revoked_at.is_(None)).order_by(Invitation.created_at.desc())
    ).scalars().all()
    return render_template("schools/members.html", members=rows, invitations=invitations, form=_invite_form(),
                           locked=_locked(rows))


def _locked(rows):
    """Ids of the memberships the current member may look at but not change."""
    return {m.id for m in rows if refusal(g.membership, m)}


def _leads_only():
    """Whether the current member may give the lead role (only a lead may)."""
    return g.membership.role == LEAD


def _invite_form():
    return InviteForm(lead_allowed=_leads_only(), latest_end=latest_accreditor_end(g.school))


def _field_error(form, exc, default):
    """Show a service's refusal beside the field it is about."""
    field = exc.field if exc.field and exc.field in form else default
    form[field].errors = list(form[field].errors) + [str(exc)]


@bp.route("/members/invite", methods=["POST"])
@school_roles(*MANAGERS)
def invite_member():
    form = _invite_form()
    if form.validate_on_submit():
        try:
            issued = invite(g.school, email=form.email.data, role=form.role.data,
                            access_until=form.access_until.data, invited_by=current_user, by=g.membership)
        except ServiceError as exc:
            _field_error(form, exc, "email")
        else:
            db.session.commit()
            link = _invitation_link(issued.token)
            deliver_link(issued.invitation.email, f"Invitation to {g.school.name}", link)
            flash(f"Invitation created for {issued.invitation.email}. E-mail sending is not set up yet, "
                  f"so send them this link yourself (it works once, for "
                  f"{(issued.invitation.expires_at - issued.invitation.created_at).days} days): {link}",
                  "success")
            return redirect(url_for(".members"))
    return _members_with_errors(form), 400


def _members_with_errors(form):
    g.invite_errors = True
    rows = db.session.execute(db.select(Membership).where(Membership.school_id == g.school.id)).scalars().all()
    invitations = db.session.execute(
        db.select(Invitation).where(Invitation.school_id == g.school.id, Invitation.accepted_at.is_(None),
                                    Invitation.revoked_at.is_(None))
    ).scalars().all()
    return render_template("schools/members.html", members=rows, invitations=invitations, form=form,
                           locked=_locked(rows))


@bp.route("/invitations/<uuid:invitation_id>/revoke", methods=["POST"])
@school_roles(*MANAGERS)
def revoke(invitation_id):
    invitation = get_for_school_or_404(Invitation, invitation_id, g.school)
    try:
        revoke_invitation(g.school, invitation)
    except ServiceError as exc:
        flash(str(exc), "error")
        return redirect(url_for(".members"))
    db.session.commit()
    flash(f"The invitation for {invitation.email} no longer works.", "success")
    return redirect(url_for(".members"))


def _role_form(membership, **kwargs):
    return RoleForm(obj=membership, lead_allowed=_leads_only() or membership.role == LEAD,
                    latest_end=latest_accreditor_end(g.school), **kwargs)


def _member_page(membership, form, *, status=200, remove_error=None):
    """The member page; `locked` explains why this member cannot be changed by the one looking, if so."""
    return render_template("schools/member.html", member=membership, form=form, remove_error=remove_error,
                           locked=refusal(g.membership, membership)), status


@bp.route("/members/<uuid:member_id>", methods=["GET", "POST"])
@school_roles(*MANAGERS)
def member(member_id):
    membership = get_for_school_or_404(Membership, member_id, g.school)
    form = _role_form(membership)
    if form.validate_on_submit():
        try:
            change_role(g.school, membership, role=form.role.data, access_until=form.access_until.data,
                        by=g.membership)
        except ServiceError as exc:
            db.session.rollback()
            _field_error(form, exc, "role")
        else:
            db.session.commit()
            flash(f"{membership.user.display_name} is now: {membership.role_label}.", "success")
            return redirect(url_for(".members"))
    return _member_page(membership, form, status=400 if form.errors else 200)


@bp.route("/members/<uuid:member_id>/remove", methods=["POST"])
@school_roles(*MANAGERS)
def remove(member_id):
    membership = get_for_school_or_404(Membership, member_id, g.school)
    name = membership.user.display_name
    try:
        remove_member(g.school, membership, by=g.membership)
    except ServiceError as exc:
        db.session.rollback()
        membership = get_for_school_or_404(Membership, member_id, g.school)
        return _member_page(membership, _role_form(membership, formdata=None), status=400,
                            remove_error=str(exc))
    db.session.commit()
    flash(f"{name} is no longer a member of {g.school.name}.", "success")
    return redirect(url_for(".members"))


@bp.route("/settings", methods=["GET", "POST"])
@school_roles(*MANAGERS)
def settings():
    form = SchoolSettingsForm(obj=g.school)
    if form.validate_on_submit():
        update_settings(g.school, name=form.name.data, country=form.country.data, timezone=form.timezone.data,
                        year_start_month=form.year_start_month.data)
        db.session.commit()
        flash("Settings saved.", "success")
        return redirect(url_for(".settings"))
    return render_template("schools/settings.html", form=form), 400 if form.errors else 200


@bp.route("/audit")
@school_roles(*MANAGERS)
def audit_trail():
    query = (db.select(audit.AuditEvent).where(audit.AuditEvent.school_id == g.school.id)
             .order_by(audit.AuditEvent.seq.desc()))
    page = paginate(query, per_page=50)
    return render_template("schools/audit.html", page=page)


