"""Dashboard and school-year pages: start, roll over and upgrade a year (its sign-off is sign_off_views.py).
Item pages are in item_views.py, evidence pages in the evidence package; writes go through `saving()`."""

import uuid

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_login import current_user

from .. import pagecache
from ..access import school_roles
from ..db import get_for_school_or_404
from ..frameworks.services import compare_versions, latest_versions
from ..tenancy import ALL_MEMBERS, MANAGERS
from ..transactions import saving
from ..waiting import lines_for
from . import bp, queries, services
from .forms import StartYearForm
from .models import SchoolYear


def year_or_404(year_id=None):
    """The school's year `year_id` (a 404 if it is not the school's), or its current year when none is
    given."""
    if year_id is not None:
        return get_for_school_or_404(SchoolYear, year_id, g.school)
    return services.current_year(g.school)


@bp.route("/")
@school_roles(*ALL_MEMBERS, group="programme")
def home():
    years = queries.years(g.school)
    if request.args.get("year"):
        year = year_or_404(parse_uuid(request.args["year"]))
    else:
        year = services.current_year(g.school, years)
    if year is None:
        today = g.school.today()  # what waits for the member (documents, checks) waits without a year too
        return render_template(
            "tracking/no_year.html",
            form=StartYearForm(start_year=_suggested_start()),
            waiting=lines_for(g.school, g.membership, today),
            today=today,
        )

    def render():
        data = queries.dashboard(g.school, year, g.membership, current_user.id)
        return render_template("tracking/_dashboard_body.html", year=year, years=years, **data)

    body = pagecache.school_fragment(
        g.school, ("dashboard", year.id, g.membership.role, current_user.id), render
    )
    return render_template("tracking/dashboard.html", body=body)


def parse_uuid(value):
    """A UUID from a query argument; anything else is a 404."""
    try:
        return uuid.UUID(value)
    except ValueError:
        abort(404)


def _suggested_start():
    today = g.school.today()
    return today.year if today.month >= g.school.year_start_month else today.year - 1


@bp.route("/years")
@school_roles(*ALL_MEMBERS, group="programme")
def years():
    return render_template(
        "tracking/years.html",
        years=queries.years(g.school),
        form=StartYearForm(start_year=_suggested_start()),
        newer=_newer_versions(),
    )


def _newer_versions():
    return {f.key: f for f in latest_versions()}


@bp.route("/years/start", methods=["POST"])
@school_roles(*MANAGERS)
def start_year():
    form = StartYearForm()
    if form.validate_on_submit():
        with saving(form, "start_year") as tx:
            year = services.start_year(g.school, form.start_year.data)
        if tx.ok:
            flash(
                f"{year.label} has started: every task, training activity and policy question has a due "
                "date. Assign owners next.",
                "success",
            )
            return redirect(url_for(".home", year=year.id))
    return render_template(
        "tracking/years.html", years=queries.years(g.school), form=form, newer=_newer_versions()
    ), 400


@bp.route("/years/<uuid:year_id>/rollover", methods=["POST"])
@school_roles(*MANAGERS)
def rollover(year_id):
    previous = year_or_404(year_id)
    with saving() as tx:
        year = services.roll_over(g.school, previous)
    if not tx.ok:
        return redirect(url_for(".years"))
    flash(
        f"{year.label} started from {previous.label}: recurring items have new dates and policy answers are "
        "carried forward as drafts to review.",
        "success",
    )
    return redirect(url_for(".home", year=year.id))


@bp.route("/years/<uuid:year_id>/upgrade/<framework_key>", methods=["GET", "POST"])
@school_roles(*MANAGERS)
def upgrade(year_id, framework_key):
    year = year_or_404(year_id)
    new = _newer_versions().get(framework_key)
    old = next((f for f in year.frameworks if f.key == framework_key), None)
    if new is None or old is None:
        abort(404)
    if request.method == "POST":
        with saving() as tx:
            report = services.upgrade_framework(g.school, year, new)
        if not tx.ok:
            return redirect(url_for(".years"))
        flash(
            f"{report.framework} is now version {report.new_version}: {len(report.kept)} kept, "
            f"{len(report.added)} added, {len(report.removed)} removed"
            + (
                f", {len(report.moved)} moved to another framework "
                f"({report.evidence_moved} evidence moved with them)."
                if report.moved
                else "."
            ),
            "success",
        )
        return redirect(url_for(".years"))
    return render_template(
        "tracking/upgrade.html", year=year, old=old, new=new, change=compare_versions(old, new)
    )
