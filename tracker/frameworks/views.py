"""Framework template pages, for a school's team and (through admin) for platform admins."""

from flask import abort, render_template, request

from ..access import school_roles
from ..library import queries as library
from ..tenancy import HEAD, HR, LEAD
from . import bp, queries
from .models import AUDIENCE_LABELS, REPEAT_LABELS
from .services import latest_versions

READERS = (LEAD, HEAD, HR)


def framework_page(key, link_endpoint):
    """Render one framework (newest version, or ?version=) for any of the blueprints that show it."""
    versions = queries.versions_of(key)
    if not versions:
        abort(404)
    wanted = request.args.get("version")
    framework = next((f for f in versions if f.version == wanted), None) if wanted else versions[0]
    if framework is None:
        abort(404)
    targets, referenced_by = queries.shared_duties(framework)
    linked = [res for section in framework.sections for r in section.requirements for res in r.resources]
    return render_template(
        "frameworks/detail.html",
        framework=framework,
        targets=targets,
        referenced_by=referenced_by,
        detail_endpoint=request.endpoint,
        versions=versions,
        repeat_labels=REPEAT_LABELS,
        audience_labels=AUDIENCE_LABELS,
        link_endpoint=link_endpoint,
        successors=library.successors(linked),
    )


def frameworks_list(detail_endpoint):
    return render_template(
        "frameworks/index.html", frameworks=latest_versions(), detail_endpoint=detail_endpoint
    )


@bp.route("/")
@school_roles(*READERS)
def index():
    return frameworks_list("frameworks.detail")


@bp.route("/<framework_key>")
@school_roles(*READERS)
def detail(framework_key):
    return framework_page(framework_key, "library.resource")
