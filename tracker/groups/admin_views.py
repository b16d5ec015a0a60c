"""The operator's group pages (/admin/groups/): make a group, add and remove its schools, give and take away
group roles. Platform admins only; every change is audited (services.py)."""

from flask import flash, redirect, render_template, url_for

from ..access import platform_admin
from ..db import db
from ..group_access import SchoolGroup
from ..pagination import paginate
from ..transactions import saving
from . import admin_bp, services
from .forms import AddSchoolForm, GroupRoleForm, NewGroupForm


@admin_bp.route("/", methods=["GET", "POST"])
@platform_admin
def index():
    form = NewGroupForm()
    if form.validate_on_submit():
        with saving(form, "slug") as tx:
            group = services.create_group(slug=form.slug.data, name=form.name.data)
        if tx.ok:
            flash(f"Group {group.name} created. Add its schools and people.", "success")
            return redirect(url_for(".group", group_id=group.id))
    page = paginate(services.all_groups(), per_page=50)
    return render_template("groups/admin_index.html", form=form, page=page), 400 if form.errors else 200


def _group_or_404(group_id):
    return db.get_or_404(SchoolGroup, group_id)


def _group_page(group, *, school_form=None, role_form=None, status=200):
    return render_template(
        "groups/admin_group.html",
        group=group,
        group_schools=services.group_schools(group),
        people=services.group_people(group),
        school_form=school_form or AddSchoolForm(formdata=None),
        role_form=role_form or GroupRoleForm(formdata=None),
    ), status


@admin_bp.route("/<uuid:group_id>")
@platform_admin
def group(group_id):
    return _group_page(_group_or_404(group_id))


def _change(group, change, *, form=None, field=None, form_name=None):
    """Every change on a group's page: `change()` (it returns the message to flash) in one transaction once
    `form`, if any, is valid, then back to the group page; else that page again (400) with the form's errors,
    a refused change's message beside `field` (or flashed)."""
    if form is None or form.validate_on_submit():
        with saving(form, field) as tx:
            message = change()
        if tx.ok:
            flash(message, "success")
            return redirect(url_for(".group", group_id=group.id))
    return _group_page(group, status=400, **({form_name: form} if form_name else {}))


@admin_bp.route("/<uuid:group_id>/schools", methods=["POST"])
@platform_admin
def add_school(group_id):
    group, form = _group_or_404(group_id), AddSchoolForm()

    def change():
        return f"{services.add_school(group, form.school.data).name} is now in {group.name}."

    return _change(group, change, form=form, field="school", form_name="school_form")


@admin_bp.route("/<uuid:group_id>/schools/<uuid:school_uuid>/remove", methods=["POST"])
@platform_admin
def remove_school(group_id, school_uuid):
    group = _group_or_404(group_id)
    return _change(group, lambda: f"{services.remove_school(group, school_uuid).name} has left {group.name}.")


@admin_bp.route("/<uuid:group_id>/roles", methods=["POST"])
@platform_admin
def give_role(group_id):
    group, form = _group_or_404(group_id), GroupRoleForm()

    def change():
        services.give_role(group, email=form.email.data, role=form.role.data)
        return f"{form.email.data} now holds a role in {group.name}."

    return _change(group, change, form=form, field="email", form_name="role_form")


@admin_bp.route("/<uuid:group_id>/roles/<uuid:gm_id>/remove", methods=["POST"])
@platform_admin
def remove_role(group_id, gm_id):
    group = _group_or_404(group_id)

    def change():
        services.remove_role(group, gm_id)
        return "The group role was removed."

    return _change(group, change)
