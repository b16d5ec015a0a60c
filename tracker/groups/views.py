"""The group's own pages (/g/<group>/): the dashboard across its schools, the group items and the report."""

import time

from flask import Response, abort, flash, g, redirect, render_template, request, url_for

from ..access import group_roles
from ..group_access import GROUP_LEAD, GROUP_ROLES, REGISTER_READERS
from ..reports.render import RenderError
from ..transactions import saving
from ..validation import check_text
from . import bp, publish
from . import dashboard as board
from .forms import GroupItemForm
from .report import group_report

SEARCH_MAX = 100


@bp.route("/")
@group_roles(*GROUP_ROLES)
def dashboard():
    sort = request.args.get("sort") or "name"
    if sort not in board.SORTS:
        abort(400, "Unknown sort: sort by " + ", ".join(board.SORTS) + ".")
    q = " ".join((request.args.get("q") or "").split())
    if len(q) > SEARCH_MAX or check_text(q):
        abort(400, f"Search for a school name of at most {SEARCH_MAX} plain characters.")
    attention = request.args.get("attention") == "1"
    all_rows = board.school_rows(g.group)
    rows = board.sort_and_filter(all_rows, sort=sort, q=q, attention=attention)
    return render_template(
        "groups/dashboard.html",
        rows=rows,
        total=len(all_rows),
        sort=sort,
        sorts=board.SORT_LABELS,
        q=q,
        attention=attention,
        reads_registers=g.group_role in REGISTER_READERS,
    )


@bp.route("/items", methods=["GET", "POST"])
@group_roles(*GROUP_ROLES)
def items():
    form = GroupItemForm()
    if request.method == "POST":
        if g.group_role != GROUP_LEAD:
            abort(403)
        if form.validate_on_submit():
            with saving(form, "title") as tx:
                result = publish.publish(
                    g.group,
                    title=form.title.data,
                    section_title=form.section_title.data,
                    due_on=form.due_on.data,
                    owner_role=form.owner_role.data,
                )
            if tx.ok:
                message = f"“{result.item.title}” added to {len(result.added)} school(s)."
                if result.skipped:
                    message += " Skipped: " + "; ".join(f"{name} ({why})" for name, why in result.skipped)
                flash(message, "success" if result.added else "error")
                return redirect(url_for(".items"))
    group_items, schools, copies = publish.statuses(g.group)
    status = 400 if form.errors else 200
    return render_template(
        "groups/items.html",
        form=form,
        group_items=group_items,
        group_schools=schools,
        copies=copies,
        may_publish=g.group_role == GROUP_LEAD,
    ), status


@bp.route("/report.pdf")
@group_roles(*GROUP_ROLES)
def report():
    started = time.monotonic()
    try:
        rendered, _ = group_report(g.group)
    except RenderError as exc:
        flash(f"The report could not be made: {exc}", "error")
        return redirect(url_for(".dashboard"))
    name = f"group-report-{g.group.slug}.pdf"
    response = Response(
        rendered.pdf,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
    response.headers["Server-Timing"] = f"render;dur={int(1000 * (time.monotonic() - started))}"
    return response
