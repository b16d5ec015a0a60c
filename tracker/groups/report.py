"""The group report: a PDF/A (the reports' one renderer, tracker/reports/render.py) with the summary table of
the group dashboard and one page per school."""

from flask import render_template

from ..db import utcnow
from ..reports.render import render_pdf
from .dashboard import school_rows


def group_report(group, *, in_process=False):
    """(the Rendered PDF, rows): the dashboard's figures as of now, rendered under the reports' time limit."""
    rows = school_rows(group)
    html = render_template(
        "groups/report.html", group=group, rows=rows, generated_at=utcnow().strftime("%Y-%m-%d %H:%M UTC")
    )
    return render_pdf(html, title=f"Group report · {group.name}", in_process=in_process), rows
