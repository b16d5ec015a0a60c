"""Library pages: browse by section and tag, search, resource pages, and the school's own resources; and the
library's block on item pages (`library_for_item`, templates/library/_item_resources.html)."""

from dataclasses import dataclass, field
from urllib.parse import urlsplit

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_login import current_user

from ..access import school_roles
from ..pagination import paginate_list
from ..signals import page_values, resource_page
from ..tenancy import ALL_MEMBERS, MANAGERS
from ..transactions import saving
from . import bp, queries
from .forms import ResourceForm
from .models import TAG_KINDS
from .services import add_school_resource, delete_school_resource, update_school_resource
from .vocabulary import language_name

PER_PAGE = 20


def _tag_filters():
    tags = []
    for raw in request.args.getlist("tag"):
        kind, _, value = raw.partition(":")
        if kind not in TAG_KINDS or not value or len(value) > 100:
            abort(400, "That tag filter is not valid.")
        tags.append((kind, value))
    return tags


@bp.route("/")
@school_roles(*ALL_MEMBERS, group="programme")
def index():
    q = request.args.get("q", "").strip()[:200]
    section = request.args.get("section") or None
    tags = _tag_filters()
    all_sections = queries.sections()
    if section and section not in {s.key for s in all_sections}:
        abort(404)
    filtering = bool(q or section or tags)
    ids = queries.find(g.school, q=q, section=section, tags=tags)
    page = paginate_list(ids, per_page=PER_PAGE)
    results = queries.load(page.items) if filtering else []
    start = queries.start_here([s.start_here_key for s in all_sections])
    own = [] if filtering else queries.load(queries.own_resource_ids(g.school))
    country = [] if filtering else queries.load(queries.country_resource_ids(g.school))
    return render_template(
        "library/index.html",
        q=q,
        section=section,
        tags=tags,
        sections=all_sections,
        filtering=filtering,
        counts=queries.section_counts(g.school),
        results=results,
        total=page.total,
        page=page.page,
        pages=page.pages,
        facets=queries.facets(ids),
        start=start,
        own=own,
        country=country,
        successors=queries.successors([*results, *start.values(), *own, *country]),
        back=safe_back(request.args.get("from")),
        also=queries.also_searched(q) if q else [],
    )


@bp.route("/r/<key>")
@school_roles(*ALL_MEMBERS, group="programme")
def resource(key):
    item = queries.resource_by_key(g.school, key)
    if item is None:
        abort(404)
    return render_resource(item)


def render_resource(item, status=200, **overrides):
    """The resource page; `overrides` replace values of the page (a submitted form with its errors)."""
    # what later features add (frameworks: the requirements that use it; library_files: the document and
    # the school's copies), tracker/signals.py
    back = safe_back(request.values.get("from"))
    values = page_values(resource_page, item)
    values.update(overrides)
    return render_template(
        "library/resource.html",
        resource=item,
        sections={s.key: s for s in queries.sections()},
        successor=queries.successors([item]).get(item.key),
        back=back,
        **values,
    ), status


def safe_back(value):
    """`value` when it is a path of this school's pages (for a back link), else None: never another site."""
    if not isinstance(value, str) or len(value) > 500:
        return None
    if any(ch in value for ch in "\\\r\n\t") or value.startswith("//"):
        return None
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or not parts.path.startswith(f"/s/{g.school.slug}/"):
        return None
    return value


def _own_or_404(key):
    item = queries.resource_by_key(g.school, key)
    if item is None or item.school_id != g.school.id:
        abort(404)
    return item


def _form(obj=None):
    form = ResourceForm(obj=obj, section_choices=[(s.key, s.title) for s in queries.sections()])
    if obj is not None and request.method == "GET":
        form.sections.data = obj.section_keys
        form.tags.data = ", ".join(obj.tag_values("topic"))
    return form


@bp.route("/new", methods=["GET", "POST"])
@school_roles(*MANAGERS)
def add():
    form = _form()
    if form.validate_on_submit():
        with saving(form, "title") as tx:
            item = add_school_resource(
                g.school,
                title=form.title.data,
                url=form.url.data,
                publishers=form.publishers.data,
                published=form.published.data or "",
                summary=form.summary.data,
                sections=form.sections.data,
                tags=form.tag_list(),
                actor=current_user,
            )
        if tx.ok:
            flash(
                f"“{item.title}” is in your school's library. Only members of {g.school.name} see it.",
                "success",
            )
            return redirect(url_for(".resource", key=item.key))
    return render_template("library/form.html", form=form, item=None), 400 if form.errors else 200


@bp.route("/r/<key>/edit", methods=["GET", "POST"])
@school_roles(*MANAGERS)
def edit(key):
    item = _own_or_404(key)
    form = _form(item)
    if form.validate_on_submit():
        with saving(form, "title") as tx:
            update_school_resource(
                g.school,
                item,
                title=form.title.data,
                url=form.url.data,
                publishers=form.publishers.data,
                published=form.published.data or "",
                summary=form.summary.data,
                sections=form.sections.data,
                tags=form.tag_list(),
            )
        if tx.ok:
            flash("Saved.", "success")
            return redirect(url_for(".resource", key=item.key))
    return render_template("library/form.html", form=form, item=item), 400 if form.errors else 200


@bp.route("/r/<key>/delete", methods=["POST"])
@school_roles(*MANAGERS)
def delete(key):
    item = _own_or_404(key)
    title = item.title
    with saving():
        delete_school_resource(g.school, item)
    flash(f"“{title}” was removed from your school's library.", "success")
    return redirect(url_for(".index"))


@dataclass
class ItemResources:
    """What the library shows on an item page: the requirement's resources (with what supersedes them), the
    school's country resources (items about local law and reporting contacts) and related resources."""

    resources: list = field(default_factory=list)
    country: list = field(default_factory=list)
    related: list = field(default_factory=list)
    successors: dict = field(default_factory=dict)


def library_for_item(requirement) -> ItemResources:
    if requirement is None or getattr(g, "school", None) is None:
        return ItemResources()
    key = f"{requirement.framework.key}/{requirement.key}"
    listed = list(requirement.resources)
    shown = {r.id for r in listed}
    country = []
    if key in queries.country_item_keys():
        country = [r for r in queries.load(queries.country_resource_ids(g.school)) if r.id not in shown]
    shown |= {r.id for r in country}
    related = [r for r in queries.related_to(key) if r.id not in shown]
    return ItemResources(
        resources=listed,
        country=country,
        related=related,
        successors=queries.successors([*listed, *country, *related]),
    )


@bp.app_context_processor
def _library_helpers():
    return {"library_for_item": library_for_item, "language_name": language_name}
