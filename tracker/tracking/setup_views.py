"""The first-year setup pages (tracker/tracking/setup.py): 1. the year, 2. who holds each role, 3. what
already happened, 4. whom to invite; and the role holders page for later changes. Each step saves on its own
through `saving()`; the year exists once step 1 is saved, so a lead can stop and come back."""

import uuid

from flask import flash, g, redirect, render_template, request, url_for
from flask_login import current_user

from ..access import school_roles
from ..links import external_url
from ..tenancy import LEAD, MANAGERS, ROLE_LABELS
from ..transactions import saving
from . import bp, holders, queries, setup, setup_queries
from .setup_forms import InviteTeamForm, PastItemsForm, RoleHoldersForm, SetupYearForm
from .views import year_or_404

STEPS = ("The school year", "Who holds each role", "What already happened", "Invite your team")


def _steps(number, year=None):
    return {"number": number, "names": STEPS, "year": year}


@bp.route("/setup", methods=["GET", "POST"])
@school_roles(*MANAGERS)
def setup_year():
    """Step 1: choose the year (never one the school has) and start it."""
    offered = setup_queries.offered_years(g.school)
    form = SetupYearForm(years=offered, start_year=str(offered[0].start_year) if offered else None)
    if request.method == "POST" and form.validate_on_submit():
        with saving(form, "start_year") as tx:
            year, moved = setup.start_first_year(g.school, int(form.start_year.data))
        if tx.ok:
            message = f"{year.label} has started."
            if moved:
                until = setup.default_catch_up(g.school, year)
                message += (
                    f" {moved} items were due before today: they are not overdue, they are to catch up by "
                    f"{until:%-d %B %Y} until you say otherwise in step 3."
                )
            flash(message, "success")
            return redirect(url_for(".setup_roles", year_id=year.id))
    status = 400 if request.method == "POST" else 200
    return render_template(
        "tracking/setup_year.html",
        form=form,
        offered=offered,
        years=queries.years(g.school),
        steps=_steps(1),
    ), status


def _member_choices():
    return queries.owner_choices(g.school)


def _holders_form(reassign_default):
    """The holders form: stored holders, else the only current member of that role (the lead: you)."""
    stored = holders.holders(g.school)
    by_role = setup_queries.members_by_role(g.school)
    defaults = {}
    for role in holders.HOLDER_ROLES:
        if role in stored:
            defaults[f"holder_{role}"] = str(stored[role].user_id)
        elif role == LEAD and g.membership.role == LEAD:
            defaults[f"holder_{role}"] = str(current_user.id)
        elif len(by_role.get(role, [])) == 1:
            defaults[f"holder_{role}"] = str(by_role[role][0])
    return RoleHoldersForm(member_choices=_member_choices(), reassign=reassign_default, **defaults)


def _save_holders(form):
    """Save the submitted holders; returns the transaction and {role: items given}."""
    chosen = {}
    for role in holders.HOLDER_ROLES:
        value = form[f"holder_{role}"].data
        chosen[role] = queries.member(g.school, uuid.UUID(value)) if value else None
    moved = {}
    with saving(form, "holder_lead") as tx:
        moved = holders.set_holders(
            g.school, chosen, reassign=set(holders.HOLDER_ROLES) if form.reassign.data else set()
        )
    if tx.ok:
        given = sum(moved.values())
        flash(
            "Role holders saved."
            + (f" {given} open items now have an owner from their role." if given else ""),
            "success",
        )
    return tx


def _roles_page(form, year, steps, status=200):
    counts = setup_queries.role_counts(g.school, year) if year else {}
    stored = holders.holders(g.school)
    missing = [holders.HOLDER_LABELS[r] for r in holders.HOLDER_ROLES if r not in stored]
    return render_template(
        "tracking/setup_roles.html",
        form=form,
        year=year,
        steps=steps,
        counts=counts,
        unowned=holders.open_unowned_counts(g.school),
        labels=holders.HOLDER_LABELS,
        roles=holders.HOLDER_ROLES,
        missing=missing,
    ), status


@bp.route("/setup/<uuid:year_id>/roles", methods=["GET", "POST"])
@school_roles(*MANAGERS)
def setup_roles(year_id):
    """Step 2: who holds each role; their items get them as owner."""
    year = year_or_404(year_id)
    form = _holders_form(reassign_default=True)
    if request.method == "POST" and form.validate_on_submit():
        if _save_holders(form).ok:
            return redirect(url_for(".setup_past", year_id=year.id))
    return _roles_page(form, year, _steps(2, year), 400 if request.method == "POST" else 200)


@bp.route("/roles", methods=["GET", "POST"])
@school_roles(*MANAGERS)
def role_holders():
    """Who holds each role, changed at any time (the same form as step 2, outside the setup)."""
    form = _holders_form(reassign_default=False)
    if request.method == "POST" and form.validate_on_submit():
        if _save_holders(form).ok:
            return redirect(url_for(".role_holders"))
    from_year = year_or_404()
    return _roles_page(form, from_year, None, 400 if request.method == "POST" else 200)


@bp.route("/setup/<uuid:year_id>/past", methods=["GET", "POST"])
@school_roles(*MANAGERS)
def setup_past(year_id):
    """Step 3: the items due before today, grouped by framework; the lead settles them in bulk."""
    year = year_or_404(year_id)
    items = setup_queries.past_items(g.school, year)
    form = PastItemsForm(
        item_ids=[i.id for i in items],
        action=setup.CATCH_UP,
        catch_up_on=setup.default_catch_up(g.school, year),
    )
    if request.method == "POST" and form.validate_on_submit():
        chosen = set(form.items.data)
        selected = [i for i in items if str(i.id) in chosen]
        with saving(form, "items") as tx:
            count = setup.settle_past_items(
                g.school,
                year,
                selected,
                form.action.data,
                on=form.done_on.data,
                reason=form.reason.data,
                until=form.catch_up_on.data,
            )
        if tx.ok:
            flash(_settled_message(form, count), "success")
            return redirect(url_for(".setup_past", year_id=year.id))
    groups = {}
    for item in items:
        groups.setdefault(item.framework.title if item.framework else "School's own items", []).append(item)
    return render_template(
        "tracking/setup_past.html",
        form=form,
        year=year,
        groups=groups,
        count=len(items),
        today=g.school.today(),
        steps=_steps(3, year),
        actions=setup.PAST_ACTIONS,
    ), 400 if request.method == "POST" else 200


def _settled_message(form, count):
    items = f"{count} item{'s' if count != 1 else ''}"
    action = form.action.data
    if action == setup.DONE_BEFORE:
        return f"Marked {items} done before you started."
    if action == setup.NOT_APPLICABLE_ACTION:
        return f"Marked {items} not applicable."
    if action == setup.CATCH_UP:
        return f"{items.capitalize()} to catch up by {form.catch_up_on.data:%-d %B %Y}."
    return f"{items.capitalize()} back to their planned dates: they show as overdue."


@bp.route("/setup/<uuid:year_id>/invite", methods=["GET", "POST"])
@school_roles(*MANAGERS)
def setup_invite(year_id):
    """Step 4: invite the team (e-mail and role rows); then the dashboard."""
    year = year_or_404(year_id)
    form = InviteTeamForm()
    error = None
    if request.method == "POST" and form.validate_on_submit():
        rows = [(row.form.email.data, row.form.role.data) for row in form.invites if row.form.email.data]
        with saving(form, show=False) as tx:
            issued = setup.invite_team(g.school, rows, invited_by=current_user, by=g.membership)
            links = [
                (i.invitation.email, external_url("auth.accept_invitation", token=i.token)) for i in issued
            ]
        if tx.ok:
            for email, link in links:
                flash(
                    f"Invitation created for {email} and e-mailed to them (see the outbox). If it does not "
                    f"arrive, send them this link yourself (it works once): {link}",
                    "success",
                )
            flash(f"{year.label} is set up. This is your dashboard.", "success")
            return redirect(url_for(".home", year=year.id))
        error = str(tx.error)
    return render_template(
        "tracking/setup_invite.html",
        form=form,
        year=year,
        error=error,
        steps=_steps(4, year),
        # only a lead may invite a lead (the service refuses it too)
        role_choices=[
            (r, ROLE_LABELS[r]) for r in setup.INVITE_ROLES if r != LEAD or g.membership.role == LEAD
        ],
    ), 400 if request.method == "POST" else 200
