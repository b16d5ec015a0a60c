"""The recruitment register's pages: the register (inspection view, column sets, combined filters), its
validator ("Check the register"), and its CSV/XLSX exports. Writes go through `saving()`."""

from datetime import date

from flask import Response, abort, g, render_template, request

from .. import audit
from ..access import school_roles
from ..auth.step_up import step_up_required
from ..tenancy import ACCREDITOR, HEAD, HR, LEAD
from ..transactions import saving
from ..validation import check_date
from . import bp, register
from .models import CHECK_STATUS_LABELS

READERS = (LEAD, HEAD, HR, ACCREDITOR)


class _Args:
    """The register's query string, checked: filter, joiners since, gaps only, view and custom columns.
    A bad joiners-since date is shown beside its field (`since_error`); anything else unknown is a 400."""

    def __init__(self, default_view="inspection"):
        args = request.args
        self.default_view = default_view
        self.filter_key = args.get("filter") or None
        if self.filter_key and self.filter_key not in register.FILTERS:
            abort(400, "Unknown filter.")
        self.view = args.get("view") or default_view
        if self.view not in register.VIEWS:
            abort(400, f"Unknown view; choose one of: {', '.join(register.VIEWS)}.")
        self.chosen = [k for k in args.getlist("cols") if k]
        try:
            self.cols = register.column_set(self.view, self.chosen)
        except KeyError as exc:
            abort(400, f"Unknown column {exc.args[0]!r}.")
        self.gaps_only = args.get("gaps") == "1"
        self.since_text = (args.get("since") or "").strip()
        self.since, self.since_error = None, None
        if self.since_text:
            try:
                self.since = date.fromisoformat(self.since_text)
            except ValueError:
                self.since_error = f"“{self.since_text}” is not a date: write it as YYYY-MM-DD."
            else:
                self.since_error = check_date("start", self.since, g.school.today())
                if self.since_error:
                    self.since = None

    def build_options(self) -> dict:
        """register.build()'s filters: joiners since, and gaps in the columns shown."""
        return {"since": self.since, "gaps_only": self.gaps_only, "gap_keys": [c.key for c in self.cols]}

    def query(self, **more) -> dict:
        """The query string that keeps these choices (for links and the pagination)."""
        values = {
            "filter": self.filter_key,
            "since": self.since_text or None,
            "gaps": "1" if self.gaps_only else None,
            "view": self.view if self.view != self.default_view else None,
            "cols": self.chosen if self.view == "custom" else None,
        }
        values.update(more)
        return {k: v for k, v in values.items() if v}


@bp.route("/")
@school_roles(*READERS, group="registers")
def index():
    args = _Args()
    all_cols, rows, page = register.build(
        g.school, args.filter_key, paged=True, keys=[c.key for c in args.cols], **args.build_options()
    )
    return (
        render_template(
            "people/index.html",
            cols=args.cols,
            all_cols=all_cols,
            rows=rows,
            page=page,
            args=args,
            filter_key=args.filter_key,
            filters=register.FILTERS,
            views=register.VIEWS,
            labels=CHECK_STATUS_LABELS,
            today=g.school.today(),
        ),
        400 if args.since_error else 200,
    )


@bp.route("/check")
@school_roles(*READERS)
def check():
    """The validator: every blank, overdue, expired or unexplained cell of the register (with its filters and
    columns), with a link to the check's page."""
    args = _Args()
    _, rows, _ = register.build(
        g.school, args.filter_key, keys=[c.key for c in args.cols], **args.build_options()
    )
    gaps = register.gaps(g.school, args.cols, rows)
    return (
        render_template(
            "people/register_check.html",
            gaps=gaps,
            people=len({gap.person.id for gap in gaps}),
            checked=len(rows),
            cols=args.cols,
            args=args,
            views=register.VIEWS,
            filters=register.FILTERS,
        ),
        400 if args.since_error else 200,
    )


@bp.route("/export.<fmt>")
@school_roles(*READERS)
@step_up_required("register-export")
def export(fmt):
    if fmt not in ("csv", "xlsx"):
        abort(404)
    args = _Args(default_view="process")  # the whole register unless a view is asked for
    if args.since_error:
        abort(400, f"Joined since: {args.since_error}")
    _, rows, _ = register.build(g.school, args.filter_key, **args.build_options())
    table = register.to_table(args.cols, rows)
    name = f"recruitment-register-{g.school.slug}-{g.school.today().isoformat()}.{fmt}"
    if g.membership.role == ACCREDITOR:  # every download an accreditor makes is in the audit trail
        with saving():
            audit.record(
                "register.exported",
                school=g.school,
                subject=g.school,
                after={"file": name, "filter": args.filter_key, "view": args.view, "people": len(rows)},
            )
    if fmt == "csv":
        body, mime = register.to_csv(table), "text/csv; charset=utf-8"
    else:
        body, mime = (
            register.to_xlsx(table),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    return Response(body, mimetype=mime, headers={"Content-Disposition": f'attachment; filename="{name}"'})
