"""The recruitment register's pages: the register (inspection view, column sets, combined filters), its
validator ("Check the register"), and its CSV/XLSX exports. Writes go through `saving()`.

The register's table is kept in the page cache (tracker/pagecache.py) for each set of choices of the query
string, while the school's audit head, the day and the framework version stand still; its cells are rendered
in Python (`cells_html`), not by a macro call per cell."""

from datetime import date
from functools import cached_property, lru_cache

from flask import Response, abort, g, render_template, request
from markupsafe import Markup, escape

from .. import audit, pagecache
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

    def __init__(self, default_view="inspection", *, lazy_columns=False):
        args = request.args
        self.default_view = default_view
        self.filter_key = args.get("filter") or None
        if self.filter_key and self.filter_key not in register.FILTERS:
            abort(400, "Unknown filter.")
        self.view = args.get("view") or default_view
        if self.view not in register.VIEWS:
            abort(400, f"Unknown view; choose one of: {', '.join(register.VIEWS)}.")
        self.chosen = [k for k in args.getlist("cols") if k]
        if not lazy_columns:
            self.cols  # noqa: B018 -- checked now: an unknown column is a 400 before anything else
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

    @cached_property
    def cols(self) -> list:
        """The view's columns (reading the framework's checks); an unknown one is a 400."""
        try:
            return register.column_set(self.view, self.chosen)
        except KeyError as exc:
            abort(400, f"Unknown column {exc.args[0]!r}.")

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
    # A page kept in the cache was made for this query string, so its columns were checked then: a request
    # served from the cache reads neither the framework's checks nor the register.
    args = _Args(lazy_columns=True)
    today = g.school.today()

    def render():  # the table (or why it is empty): kept while the school's data stands still
        _, rows, page = register.build(
            g.school,
            args.filter_key,
            paged=True,
            keys=[c.key for c in args.cols],
            lean=True,
            **args.build_options(),
        )
        return render_template(
            "people/_register_body.html",
            cols=args.cols,
            rows=rows,
            page=page,
            args=args,
            filter_key=args.filter_key,
            row_cells=lambda row: cells_html(row, args.cols, today),
        )

    # the table is made from the query string alone (and the school's data, the day, the framework version)
    key = ("register", register.columns_version(), request.query_string)
    return (
        render_template(
            "people/index.html",
            all_cols=register.columns() if args.view == "custom" else [],
            args=args,
            filter_key=args.filter_key,
            filters=register.FILTERS,
            views=register.VIEWS,
            body=pagecache.school_fragment(g.school, key, render),
        ),
        400 if args.since_error else 200,
    )


@lru_cache(maxsize=4096)
def _day(value) -> str:
    return str(escape(value.strftime("%-d %b %Y")))


def check_state(i, risk, labels, today) -> str:
    """A check's state as HTML (escaped): its stage, the date verified or the risk assessment, its expiry. The
    page's cells are rendered here in Python rather than by a macro per cell (a page of the register has about
    a thousand cells); templates call it through the `check_state` macro (people/_check_cell.html)."""
    ra = risk.get(i.id) if risk else None
    status = i.check_status
    if status == "verified":
        html = '<span class="tag tag-ok">Verified</span>'
        if i.verified_on:
            html += f' <span class="small">{_day(i.verified_on)}</span>'
        html += "\n  "
    elif ra and ra.signed_at:
        html = (
            '<span class="tag tag-info">Risk assessed</span> '
            f'<span class="small">signed {_day(ra.signed_at)}</span>\n  '
        )
    elif status == "not_required":
        html = '<span class="tag">Not required</span>\n  '
    elif status in ("requested", "received"):
        html = f'<span class="tag tag-warn">{escape(labels[status])}</span>\n  '
    else:
        html = '<span class="tag tag-muted">Not started</span>'
    awaiting = (
        '<span class="tag tag-warn">Risk assessment awaiting head</span>'
        if ra and not ra.signed_at and status != "verified"
        else ""
    )
    expires = ""
    if i.expires_on:
        expired = "error-text" if i.expires_on <= today else ""
        expires = f'<span class="small {expired}"> valid until {_day(i.expires_on)}</span>'
    return f"\n  {html}\n  {awaiting}\n  {expires}"


@bp.app_template_global("check_state_html")
def check_state_html(i, risk, labels, today) -> Markup:
    return Markup(check_state(i, risk, labels, today))


def cells_html(row, cols, today) -> Markup:
    """The check cells of one register row, as the page shows them."""
    out = []
    escaped = {}  # the few names and countries of a page, escaped once

    def esc(text):
        value = escaped.get(text)
        if value is None:
            value = escaped[text] = str(escape(text))
        return value

    for c in cols:
        cell = row.cells[c.key]
        if cell.items:
            parts = []
            for i in cell.items:
                country = f'<span class="small">{esc(i.country)}:</span> ' if i.country else ""
                by = (
                    f' <span class="muted small">by {esc(i.verified_by)}</span>'
                    if i.verified_by and i.check_status == "verified"
                    else ""
                )
                parts.append(
                    f"<div>{country}{check_state(i, cell.risk, CHECK_STATUS_LABELS, today)}{by}</div>"
                )
            out.append(f"\n    <td>{''.join(parts)}</td>\n    ")
        else:
            out.append('\n    <td><span class="muted">—</span></td>\n    ')
    return Markup("".join(out))


@bp.route("/check")
@school_roles(*READERS)
def check():
    """The validator: every blank, overdue, expired or unexplained cell of the register (with its filters and
    columns), grouped by person, with a link to the check's page."""
    args = _Args()
    _, rows, _ = register.build(
        g.school, args.filter_key, keys=[c.key for c in args.cols], **args.build_options()
    )
    gaps = register.gaps(g.school, args.cols, rows)
    by_person = register.gaps_by_person(gaps)
    return (
        render_template(
            "people/register_check.html",
            gaps=gaps,
            by_person=by_person,
            people=len(by_person),
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
    table = register.to_table(args.cols, rows, register.documents_seen(g.school))
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
