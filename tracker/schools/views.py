"""School pages: the picker, members and invitations, settings and the audit trail. Writes go through
`saving()`, the one transaction boundary."""

from flask import flash, g, redirect, render_template, request, url_for
from flask_login import current_user

from .. import audit
from ..access import school_roles, signed_in
from ..auth.second_factor import enrolled_methods, method_labels, reset_second_factor
from ..auth.step_up import step_up_required
from ..db import get_for_school_or_404
from ..links import external_url
from ..pagination import paginate
from ..tenancy import LEAD, MANAGERS, Membership, memberships_for
from ..transactions import saving
from . import bp, picker_bp, queries
from .forms import InviteForm, RoleForm, SchoolSettingsForm
from .models import Invitation
from .services import (
    change_role,
    invite,
    latest_accreditor_end,
    refusal,
    remove_member,
    revoke_invitation,
    update_settings,
)


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
    return external_url("auth.accept_invitation", token=token)


@bp.route("/members")
@school_roles(*MANAGERS)
def members():
    rows = queries.members(g.school)
    invitations = queries.pending_invitations(g.school)
    return render_template(
        "schools/members.html",
        members=rows,
        invitations=invitations,
        form=_invite_form(),
        locked=_locked(rows),
    )


def _locked(rows):
    """Ids of the memberships the current member may look at but not change."""
    return {m.id for m in rows if refusal(g.membership, m)}


def _leads_only():
    """Whether the current member may give the lead role (only a lead may)."""
    return g.membership.role == LEAD


def _invite_form():
    return InviteForm(lead_allowed=_leads_only(), latest_end=latest_accreditor_end(g.school))


@bp.route("/members/invite", methods=["POST"])
@school_roles(*MANAGERS)
def invite_member():
    form = _invite_form()
    if form.validate_on_submit():
        with saving(form, "email") as tx:
            issued = invite(
                g.school,
                email=form.email.data,
                role=form.role.data,
                access_until=form.access_until.data,
                invited_by=current_user,
                by=g.membership,
            )
            link = _invitation_link(issued.token)  # the e-mail itself was queued by invite()
        if tx.ok:
            flash(
                f"Invitation created for {issued.invitation.email} and e-mailed to them (see the outbox). "
                f"If it does not arrive, send them this link yourself (it works once, for "
                f"{(issued.invitation.expires_at - issued.invitation.created_at).days} days): {link}",
                "success",
            )
            return redirect(url_for(".members"))
    return _members_with_errors(form), 400


def _members_with_errors(form):
    g.invite_errors = True
    rows = queries.members(g.school, ordered=False)
    invitations = queries.pending_invitations(g.school, ordered=False)
    return render_template(
        "schools/members.html", members=rows, invitations=invitations, form=form, locked=_locked(rows)
    )


@bp.route("/invitations/<uuid:invitation_id>/revoke", methods=["POST"])
@school_roles(*MANAGERS)
def revoke(invitation_id):
    invitation = get_for_school_or_404(Invitation, invitation_id, g.school)
    with saving() as tx:
        revoke_invitation(g.school, invitation)
    if not tx.ok:
        return redirect(url_for(".members"))
    flash(f"The invitation for {invitation.email} no longer works.", "success")
    return redirect(url_for(".members"))


def _role_form(membership, **kwargs):
    return RoleForm(
        obj=membership,
        lead_allowed=_leads_only() or membership.role == LEAD,
        latest_end=latest_accreditor_end(g.school),
        **kwargs,
    )


def _member_page(membership, form, *, status=200, remove_error=None):
    """The member page; `locked` explains why this member cannot be changed by the one looking, if so."""
    return render_template(
        "schools/member.html",
        member=membership,
        form=form,
        remove_error=remove_error,
        locked=refusal(g.membership, membership),
        factors=method_labels(enrolled_methods(membership.user)),
        own=membership.id == g.membership.id,
    ), status


@bp.route("/members/<uuid:member_id>", methods=["GET", "POST"])
@school_roles(*MANAGERS)
@step_up_required("member.role", writes_only=True)
def member(member_id):
    membership = get_for_school_or_404(Membership, member_id, g.school)
    form = _role_form(membership)
    if form.validate_on_submit():
        with saving(form, "role") as tx:
            change_role(
                g.school,
                membership,
                role=form.role.data,
                access_until=form.access_until.data,
                by=g.membership,
            )
        if tx.ok:
            flash(f"{membership.user.display_name} is now: {membership.role_label}.", "success")
            return redirect(url_for(".members"))
    return _member_page(membership, form, status=400 if form.errors else 200)


@bp.route("/members/<uuid:member_id>/remove", methods=["POST"])
@school_roles(*MANAGERS)
@step_up_required("member.remove")
def remove(member_id):
    membership = get_for_school_or_404(Membership, member_id, g.school)
    name = membership.user.display_name
    with saving(show=False) as tx:
        remove_member(g.school, membership, by=g.membership)
    if not tx.ok:
        membership = get_for_school_or_404(Membership, member_id, g.school)
        return _member_page(
            membership, _role_form(membership, formdata=None), status=400, remove_error=str(tx.error)
        )
    flash(f"{name} is no longer a member of {g.school.name}.", "success")
    return redirect(url_for(".members"))


@bp.route("/members/<uuid:member_id>/second-factor/reset", methods=["POST"])
@school_roles(LEAD)
@step_up_required("member.second_factor_reset")
def reset_factor(member_id):
    """A lead removes a member's second factors (app, passkeys) and recovery codes, e.g. after a lost phone:
    their next sign-in asks for the password only (and, where the school requires it, to enrol again)."""
    membership = get_for_school_or_404(Membership, member_id, g.school)
    user = membership.user
    if membership.id == g.membership.id:
        flash("Change your own second factor under Your account → Two-factor sign-in.", "error")
        return redirect(url_for(".member", member_id=membership.id))
    with saving():
        had = reset_second_factor(user)
        audit.record(
            "auth.second_factor_reset", school=g.school, subject=user, after={"methods": had, "by": "lead"}
        )
    if had:
        flash(
            f"{user.display_name}'s second factor is removed, with their recovery codes. They sign in with "
            "their password and set up a new one.",
            "success",
        )
    else:
        flash(f"{user.display_name} had no second factor; their recovery codes are removed.", "info")
    return redirect(url_for(".member", member_id=membership.id))


@bp.route("/settings", methods=["GET", "POST"])
@school_roles(*MANAGERS)
def settings():
    form = SchoolSettingsForm(obj=g.school)
    if form.validate_on_submit():
        with saving(form, "name") as tx:
            update_settings(
                g.school,
                name=form.name.data,
                country=form.country.data,
                timezone=form.timezone.data,
                year_start_month=form.year_start_month.data,
                # only a lead turns two-factor on or off (a head sees it, disabled)
                require_two_factor=(
                    form.require_two_factor.data if _leads_only() else g.school.require_two_factor
                ),
            )
        if tx.ok:
            flash("Settings saved.", "success")
            return redirect(url_for(".settings"))
    return render_template(
        "schools/settings.html", form=form, two_factor_editable=_leads_only()
    ), 400 if form.errors else 200


@bp.route("/audit")
@school_roles(*MANAGERS)
def audit_trail():
    page = paginate(queries.audit_events(g.school), per_page=50)
    return render_template("schools/audit.html", page=page, anchor=audit.anchor(g.school))
