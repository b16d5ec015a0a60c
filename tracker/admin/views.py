"""Platform admin pages: the schools, a new school with its first lead, and the framework templates."""

from flask import flash, redirect, render_template, url_for
from flask_login import current_user

from ..access import platform_admin
from ..frameworks.views import framework_page, frameworks_list
from ..links import external_url
from ..pagination import paginate
from ..schools.forms import NewSchoolForm
from ..schools.queries import all_schools
from ..schools.services import create_school, invite
from ..tenancy import LEAD
from ..transactions import saving
from . import bp


@bp.route("/schools")
@platform_admin
def schools():
    page = paginate(all_schools(), per_page=50)
    return render_template("admin/schools.html", page=page)


@bp.route("/schools/new", methods=["GET", "POST"])
@platform_admin
def new_school():
    form = NewSchoolForm()
    if form.validate_on_submit():
        with saving(form, "slug") as tx:
            school = create_school(
                slug=form.slug.data,
                name=form.name.data,
                country=form.country.data,
                timezone=form.timezone.data,
                year_start_month=form.year_start_month.data,
                require_two_factor=form.require_two_factor.data,
            )
            issued = invite(school, email=form.lead_email.data, role=LEAD, invited_by=current_user)
            link = external_url("auth.accept_invitation", token=issued.token)  # e-mailed by invite()
        if tx.ok:
            flash(
                f"{school.name} created. Its lead has been e-mailed the invitation; if it does not arrive, "
                f"send them this one-time link yourself: {link}",
                "success",
            )
            return redirect(url_for("admin.schools"))
    return render_template("admin/new_school.html", form=form), 400 if form.errors else 200


@bp.route("/frameworks")
@platform_admin
def frameworks():
    return frameworks_list("admin.framework")


@bp.route("/frameworks/<framework_key>")
@platform_admin
def framework(framework_key):
    return framework_page(framework_key, None)
