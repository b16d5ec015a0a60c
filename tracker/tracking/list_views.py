"""The item list: filters, search and sort (kept in every link of the page), bulk changes of the selected
items (leads and heads) and the export of everything the filters find as CSV or XLSX.

The list's state lives in its query string (`?q=&status=&sort=&dir=...`): pagination, the column headers, the
export links and the bulk form's address all carry it, so a change keeps the list as it was.
"""

import uuid
from datetime import date
from functools import lru_cache
from types import SimpleNamespace

from flask import Response, abort, flash, g, redirect, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy.orm.exc import StaleDataError
from wtforms import DateField, IntegerField, SelectField, SelectMultipleField, StringField
from wtforms.validators import Length, NumberRange, Optional

from .. import audit, pagecache
from ..access import school_roles
from ..forms_common import Form, strip
from ..pagination import page_after_change, paginate
from ..tenancy import ACCREDITOR, ALL_MEMBERS, MANAGERS
from ..transactions import saving
from ..validation import DatePolicy, check_text
from . import bp, bulk, item_export, queries
from .models import NOT_APPLICABLE, STATUS_LABELS, STATUSES
from .views import parse_uuid, year_or_404

PER_PAGE = 50
#: the list's columns: (sort key, heading, what the heading says when the list is sorted by it)
COLUMNS = (
    ("title", "Item", ("A to Z", "Z to A")),
    ("framework", "Framework", ("A to Z", "Z to A")),
    ("due", "Due", ("earliest first", "latest first")),
    ("owner", "Owner", ("A to Z", "Z to A")),
    ("status", "Status", ("not started first", "not applicable first")),
)


def _sees_all():
    return g.membership.role in queries.SEES_EVERYTHING


def _filters() -> queries.ItemFilters:
    """The list's filters, search and sort from the query string; anything unknown is a 400 that says why."""
    args = request.args
    status = args.get("status") or None
    if status and status not in STATUSES:
        abort(400, "Unknown status filter.")
    owner = args.get("owner") or None
    if owner and owner not in ("me", "none"):
        owner = parse_uuid(owner)
    month = None
    if args.get("month"):
        try:
            month = date.fromisoformat(args["month"] + "-01")
        except ValueError:
            abort(400, "Give the month as YYYY-MM.")
    q = " ".join((args.get("q") or "").split())
    if len(q) > queries.SEARCH_MAX:
        abort(400, f"Search for at most {queries.SEARCH_MAX} characters.")
    problem = check_text(q)
    if problem:
        abort(400, f"Search: {problem}")
    framework = args.get("framework") or None
    if framework and (len(framework) > 80 or check_text(framework)):
        abort(400, "Unknown framework filter.")
    sort = args.get("sort") or queries.DEFAULT_SORT
    if sort not in queries.SORT_KEYS:
        abort(400, "Unknown sort column: sort by " + ", ".join(queries.SORT_KEYS) + ".")
    direction = args.get("dir") or "asc"
    if direction not in ("asc", "desc"):
        abort(400, "Sort direction must be asc or desc.")
    return queries.ItemFilters(
        status=status,
        owner=owner,
        framework=framework,
        month=month,
        overdue=args.get("overdue") == "1",
        due_soon=args.get("due_soon") == "1",
        q=q,
        sort=sort,
        desc=direction == "desc",
    )


def list_args(year, f: queries.ItemFilters) -> dict:
    """The query string that shows this list again (without the page number)."""
    args = {
        "year": year.id,
        "q": f.q or None,
        "status": f.status,
        "owner": f.owner,
        "framework": f.framework,
        "month": f.month.strftime("%Y-%m") if f.month else None,
        "overdue": 1 if f.overdue else None,
        "due_soon": 1 if f.due_soon else None,
        "sort": f.sort if f.sort != queries.DEFAULT_SORT else None,
        "dir": "desc" if f.desc else None,
    }
    return {k: v for k, v in args.items() if v is not None}


def _sort_headers(year, f):
    """(key, heading, url, aria-sort or None, what the link does) for each column heading."""
    base = list_args(year, f)
    out = []
    for key, heading, ways in COLUMNS:
        current = f.sort == key
        desc = current and not f.desc  # a second click turns the order round
        url = url_for(".items", **{**base, "sort": key, "dir": "desc" if desc else None})
        aria = ("descending" if f.desc else "ascending") if current else None
        action = f"Sort by {heading.lower()}, {ways[1] if desc else ways[0]}"
        out.append((key, heading, url, aria, action))
    return out


def _summary(f, owners) -> list[str]:
    """The filters in words, for the heading of the list (and of its printout)."""
    parts = []
    if f.q:
        parts.append(f"matching “{f.q}”")
    if f.status:
        parts.append(STATUS_LABELS[f.status].lower())
    if f.owner == "me":
        parts.append("owned by me")
    elif f.owner == "none":
        parts.append("with no owner")
    elif f.owner:
        name = dict(owners).get(str(f.owner), "one member")
        parts.append(f"owned by {name}")
    if f.framework == "own":
        parts.append("the school's own")
    elif f.framework:
        parts.append(f"in {f.framework}")
    if f.month:
        parts.append(f"due in {f.month:%B %Y}")
    if f.overdue:
        parts.append("overdue")
    if f.due_soon:
        parts.append("due in the next 30 days")
    return parts


class BulkForm(Form):
    """A change to the selected items: the pressed button (`change`: its value) says which fields count."""

    items = SelectMultipleField("Selected items", choices=[], validate_choice=False)
    change = SelectField("What to do", choices=[(a, a) for a in bulk.ACTIONS], validate_choice=False)
    owner = SelectField("New owner", choices=[], validate_choice=False)
    due_on = DateField("New due date", validators=[Optional(), DatePolicy("due")])
    shift_days = IntegerField(
        "Or move by days",
        validators=[
            Optional(),
            NumberRange(
                -bulk.MAX_SHIFT_DAYS,
                bulk.MAX_SHIFT_DAYS,
                f"Move by at most {bulk.MAX_SHIFT_DAYS} days either way.",
            ),
        ],
        description="7 moves them a week later, -7 a week earlier.",
    )
    status = SelectField("New status", choices=[], validate_choice=False)
    completed_on = DateField(
        "Completed on",
        validators=[Optional(), DatePolicy("happened")],
        description="For Done. Empty: the day each was done, else today.",
    )
    na_reason = StringField(
        "Why they do not apply",
        filters=[strip],
        validators=[Length(max=2000)],
        description="Needed for Not applicable.",
    )

    #: the fields each action reads (the others are left alone, whatever they hold)
    FIELDS = {
        bulk.ASSIGN: ("owner",),
        bulk.MOVE: ("due_on", "shift_days"),
        bulk.STATUS: ("status", "completed_on", "na_reason"),
    }

    def __init__(self, *args, owner_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.owner.choices = [("", "Choose someone"), ("none", "Nobody (take the owner off)")] + list(
            owner_choices
        )
        self.status.choices = [("", "Choose a status")] + [(s, STATUS_LABELS[s]) for s in STATUSES]

    def validate(self, extra_validators=None):
        super().validate(extra_validators)
        action = self.change.data
        if action in bulk.ACTIONS:
            relevant = set(self.FIELDS[action]) | {"items", "change", "csrf_token"}
            for field in self:
                if field.name not in relevant:
                    field.errors = []  # a half-typed date beside another button does not stop this one
        if action not in bulk.ACTIONS:
            self.change.errors = ["Choose what to do: press one of the buttons."]
        if not self.items.data:
            self.items.errors = ["Select at least one item first."]
        elif len(self.items.data) > bulk.MAX_ITEMS:
            self.items.errors = [f"Select at most {bulk.MAX_ITEMS} items at once."]
        if action == bulk.ASSIGN and self.owner.data not in {v for v, _ in self.owner.choices if v}:
            self.owner.errors = ["Choose the new owner from the list."]
        if action == bulk.MOVE and not (self.due_on.errors or self.shift_days.errors):
            if self.due_on.data is None and self.shift_days.data is None:
                self.due_on.errors = ["Give a new due date, or a number of days to move them by."]
            elif self.due_on.data is not None and self.shift_days.data is not None:
                self.due_on.errors = ["Give either a new due date or a number of days, not both."]
            elif self.shift_days.data == 0:
                self.shift_days.errors = ["Give a number of days other than 0."]
        if action == bulk.STATUS:
            if self.status.data not in STATUSES:
                self.status.errors = ["Choose the new status."]
            elif self.status.data == NOT_APPLICABLE and not self.na_reason.data:
                self.na_reason.errors = ["Say why the items do not apply to your school."]
        return not any(field.errors for field in self)

    def item_ids(self) -> list:
        """The selected items' ids (a 400 for anything that is not one)."""
        try:
            return list(dict.fromkeys(uuid.UUID(str(v)) for v in self.items.data or []))
        except ValueError:
            abort(400, "Select items from the list.")


def _bulk_actions(form) -> Markup:
    return Markup(render_template("tracking/_bulk_actions.html", form=form))


@lru_cache(maxsize=64)
def _empty_bulk_actions(owners: tuple) -> Markup:
    """The bulk form's fields as a plain list shows them (nothing sent, no errors): the same HTML for the
    same owner list, so it is made once per process and owner list. Six fields through WTForms and the
    `field` macro were about a tenth of the list's CPU."""
    return _bulk_actions(BulkForm(formdata=None, owner_choices=owners))


#: the bulk form of a plain list, as its template reads it (nothing sent, so no errors)
_UNSENT = SimpleNamespace(errors={})
#: where the bulk form's CSRF token goes in the list's HTML (cut there, so a cached part holds no token)
_CSRF_SLOT = Markup(f"<!--csrf-{uuid.uuid4().hex}-->")


def _member_key() -> tuple:
    """What the list's HTML depends on about who asks: the member and their role (visibility, "owned by me",
    the bulk form, the links `can()` shows), and whether they visit as a group reader."""
    m = g.membership
    return (type(m).__name__, str(current_user.id), m.role, getattr(m, "group_role", None))


def _render_list(year, f, *, form, status, error=None, failing=None, selected=None):
    """The list page with the bulk form sent back (its errors, its selection): never from the page cache."""
    parts = _list_parts(year, f, form=form, error=error, failing=failing, selected=selected)
    return render_template("tracking/items.html", parts=parts), status


def _list_parts(year, f, **body) -> tuple:
    """The list's HTML cut where the bulk form's CSRF token goes (one part when there is no bulk form)."""
    return tuple(Markup(part) for part in _list_body(year, f, **body).split(_CSRF_SLOT))


def _list_body(year, f, *, form=None, error=None, failing=None, selected=None) -> str:
    """The list's HTML with _CSRF_SLOT where the bulk form's token goes."""
    query = queries.item_query(g.school, year, g.membership, current_user.id, f, g.school.today())
    page = paginate(query.options(*queries.list_row_options(with_framework=True)), per_page=PER_PAGE)
    owners = queries.owner_choices(g.school) if _sees_all() else []
    manage = g.membership.role in MANAGERS
    bulk_actions = None
    if manage and form is None:
        form = _UNSENT  # its fields come ready made (_empty_bulk_actions): no form is built for a plain list
        bulk_actions = _empty_bulk_actions(tuple(owners))
    elif manage:
        bulk_actions = _bulk_actions(form)
    if selected is None:
        selected = {str(i.id) for i in page.items} if request.args.get("select") == "page" else set()
    args = list_args(year, f)
    return render_template(
        "tracking/_items_body.html",
        year=year,
        page=page,
        f=f,
        today=g.school.today(),
        owners=owners,
        status_labels=STATUS_LABELS,
        args=args,
        headers=_sort_headers(year, f),
        summary=_summary(f, owners),
        sort_label=next(
            f"{heading}, {ways[1] if f.desc else ways[0]}" for key, heading, ways in COLUMNS if key == f.sort
        ),
        form=form,
        bulk_actions=bulk_actions,
        manage=manage,
        selected=selected,
        bulk_error=error,
        failing=failing,
        csrf_input=_CSRF_SLOT,
    )


def _year():
    year = year_or_404(request.args.get("year") and parse_uuid(request.args["year"]))
    if year is None:
        abort(404)
    return year


@bp.route("/items")
@school_roles(*ALL_MEMBERS, group="programme")
def items():
    """The list. Its content is kept in the page cache for this member and query string while the school's
    data and the day stand still (they decide the year shown, too); only the CSRF token is each request's.
    A request served from the cache reads neither the year nor the items."""

    def render():  # None: the school has no year yet (not kept)
        year = year_or_404(request.args.get("year") and parse_uuid(request.args["year"]))
        if year is None:
            return None
        return _list_parts(year, _filters())

    parts = pagecache.school_value(g.school, ("items", _member_key(), request.query_string), render)
    if parts is None:
        return redirect(url_for(".home"))
    return render_template("tracking/items.html", parts=parts)


@bp.route("/items/bulk", methods=["POST"])
@school_roles(*MANAGERS)
def bulk_items():
    """Change the selected items of the list (its filters in the query string): all of them, or none."""
    year = _year()
    f = _filters()
    form = BulkForm(owner_choices=queries.owner_choices(g.school))
    chosen = {str(v) for v in form.items.data or []}
    if not form.validate():
        return _render_list(year, f, form=form, status=400, selected=chosen)
    ids = form.item_ids()
    items = queries.selected_items(g.school, year, g.membership, ids)
    if len(items) != len(ids):
        missing = len(ids) - len(items)
        message = (
            f"{missing} of the selected items {'is' if missing == 1 else 'are'} no longer in {year.label}'s "
            "list (removed, or of another year). Nothing was changed: select them again."
        )
        return _render_list(year, f, form=form, status=400, error=message, selected=chosen)
    change = _change(form)
    if change is None:
        form.owner.errors = ["Choose the new owner from the list."]
        return _render_list(year, f, form=form, status=400, selected=chosen)
    try:
        with saving(form, show=False) as tx:
            count = bulk.apply(g.school, items, change, g.school.today())
    except StaleDataError:
        message = "Someone changed one of these items while you were saving. Nothing was changed: try again."
        return _render_list(year, f, form=form, status=409, error=message, selected=chosen)
    if not tx.ok:
        failing = getattr(tx.error, "item", None)
        return _render_list(
            year,
            f,
            form=form,
            status=400,
            error=str(tx.error),
            failing=failing.id if failing is not None else None,
            selected=chosen,
        )
    flash(bulk.done_message(change, len(items), count), "success")
    return redirect(_back_to_list(year, f))


def _change(form) -> bulk.BulkChange | None:
    """The form as a BulkChange (None when the chosen owner is not a member who may own items)."""
    action = form.change.data
    if action == bulk.ASSIGN:
        if form.owner.data == "none":
            return bulk.BulkChange(bulk.ASSIGN, owner=None)
        try:
            found = queries.owner_member(g.school, uuid.UUID(form.owner.data))
        except ValueError:
            found = None
        if found is None:
            return None
        return bulk.BulkChange(bulk.ASSIGN, owner=bulk.Owner(*found))
    if action == bulk.MOVE:
        return bulk.BulkChange(bulk.MOVE, due_on=form.due_on.data, shift_days=form.shift_days.data)
    return bulk.BulkChange(
        bulk.STATUS,
        status=form.status.data,
        na_reason=form.na_reason.data,
        completed_on=form.completed_on.data,
    )


def _back_to_list(year, f) -> str:
    """The list as it was (filters, sort, page), or its last page when the change emptied the one it was
    on."""
    args = list_args(year, f)
    query = queries.item_query(g.school, year, g.membership, current_user.id, f, g.school.today())
    page = page_after_change(query, per_page=PER_PAGE)
    return url_for(".items", **args, page=page if page > 1 else None)


@bp.route("/items/export.<fmt>")
@school_roles(*ALL_MEMBERS, group="programme")
def export_items(fmt):
    """Every item the list's filters find (not only one page), as CSV or XLSX (rows read in batches)."""
    if fmt not in ("csv", "xlsx"):
        abort(404)
    year = _year()
    f = _filters()
    today = g.school.today()
    query = queries.item_query(g.school, year, g.membership, current_user.id, f, today)
    name = f"items-{g.school.slug}-{year.starts_on.year}-{today.isoformat()}.{fmt}"
    if g.membership.role == ACCREDITOR:  # every download an accreditor makes is in the audit trail
        with saving():
            audit.record(
                "items.exported",
                school=g.school,
                subject=year,
                after={"file": name, "filters": {k: str(v) for k, v in list_args(year, f).items()}},
            )
    headers = {"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"}
    table = item_export.rows(query, today)
    if fmt == "csv":
        # built here, not streamed: a streamed body would read the database after the view has returned,
        # outside the request's transaction handling; the text of 5,000 items is about 1 MB
        body = b"".join(item_export.csv_chunks(table))
        return Response(body, mimetype="text/csv; charset=utf-8", headers=headers)
    return Response(item_export.xlsx_bytes(table), mimetype=item_export.XLSX_MIME, headers=headers)
