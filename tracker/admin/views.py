from flask import flash, redirect, render_template, url_for
from flask_login import current_user

from ..access import platform_admin
from ..db import db
from ..mail import deliver_link
from ..pagination import paginate
from ..schools.forms import NewSchoolForm
from ..schools.services import ServiceError, create_school, invite
from ..tenancy import LEAD, School
from . import bp


@bp.route("/schools")
@platform_admin
def schools():
    page = paginate(db.select(School).order_by(School.name), per_page=50)
    return render_template("admin/schools.html", page=page)


@bp.route("/schools/new", methods=["GET", "POST"])
@platform_admin
def new_school():
    form = NewSchoolForm()
    if form.validate_on_submit():
        try:
            school = create_school(slug=form.slug.data, name=form.name.data, country=form.country.data,
                                   timezone=form.timezone.data, year_start_month=form.year_start_month.data)
            issued = invite(school, email=form.lead_email.data, role=LEAD, invited_by=current_user)
        except ServiceError as exc:
            db.session.rollback()
            form.slug.errors.append(str(exc))
        else:
            db.session.commit()
            link = url_for("auth.accept_invitation", token=issued.token, _external=True)
            deliver_link(issued.invitation.email, f"Invitation to {school.name}", link)
            flash(f"{school.name} created. Send this one-time invitation link to its lead: {link}", "success")
            return redirect(url_for("admin.schools"))
    return render_template("admin/new_school.html", form=form), 400 if form.errors else 200


@bp.route("/frameworks")
@platform_admin
def frameworks():
    from ..frameworks.views import frameworks_list

    return frameworks_list("admin.framework")


@bp.route("/frameworks/<framework_key>")
@platform_admin
def framework(framework_key):
    from ..frameworks.views import framework_page

    return framework_page(framework_key, None)
