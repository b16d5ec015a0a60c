"""A resource's documents on its page: open or download the installation's copy and the school's own copies;
leads and heads add or remove the school's copies. The page itself is the library's; these values reach it
through the `resource_page` signal."""

from flask import abort, flash, g, redirect, request, send_file, url_for
from flask_login import current_user

from .. import audit
from ..access import school_roles
from ..library import queries as library
from ..library.views import render_resource, safe_back
from ..signals import resource_page
from ..tenancy import ACCREDITOR, ALL_MEMBERS, MANAGERS
from ..transactions import saving
from . import bp, services
from .forms import CopyForm
from .storage import path_of


@resource_page.connect
def documents_on_resource_page(resource, **kwargs):
    """The installation's copy, the school's copies and the form to add one."""
    school = getattr(g, "school", None)
    return {
        "document": services.installation_copy(resource) if resource.school_id is None else None,
        "copies": services.school_copies(school, resource) if school is not None else [],
        "copy_form": CopyForm(formdata=None),
    }


def _resource_or_404(key):
    resource = library.resource_by_key(g.school, key)
    if resource is None:
        abort(404)
    return resource


def _back_args():
    back = safe_back(request.values.get("from"))
    return {"from": back} if back else {}


@bp.route("/files/<uuid:file_id>")
@school_roles(*ALL_MEMBERS)
def download(key, file_id):
    resource = _resource_or_404(key)
    row = _visible_file(resource, file_id)
    if row is None or not row.is_file:
        abort(404)
    try:
        path = path_of(row)
    except ValueError:
        abort(404)
    if not path.exists():
        abort(404)
    if g.membership.role == ACCREDITOR:  # every download an accreditor makes is in the audit trail
        with saving():
            audit.record("library_file.downloaded", school=g.school, subject=resource, after=row.audit_view())
    return send_file(path, mimetype=row.content_type, as_attachment=True, download_name=row.name, max_age=0)


def _visible_file(resource, file_id):
    row = services.file_row(file_id)
    if row is None or row.resource_id != resource.id or row.school_id not in (None, g.school.id):
        return None
    return row


@bp.route("/copies", methods=["POST"])
@school_roles(*MANAGERS)
def add_copy(key):
    resource = _resource_or_404(key)
    form = CopyForm()
    if not form.validate_on_submit():
        return render_resource(resource, status=400, copy_form=form)
    chosen = form.chosen_file()
    change = services.Change()
    with saving(form, "file") as tx:
        tx.after_rollback(lambda: change.discard_stored())
        change = services.add_school_copy(
            g.school,
            resource,
            label=form.label.data,
            language=form.language.data or "",
            filename=chosen.filename if chosen else None,
            data=chosen.read() if chosen else None,
            url=form.url.data if not chosen else "",
            user=current_user,
        )
    if not tx.ok:
        return render_resource(library.resource_by_key(g.school, key), status=400, copy_form=form)
    flash(f"“{form.label.data}” was added. Members of {g.school.name} see it on this page.", "success")
    return redirect(url_for("library.resource", key=key, **_back_args()) + "#documents")


@bp.route("/files/<uuid:file_id>/remove", methods=["POST"])
@school_roles(*MANAGERS)
def remove_copy(key, file_id):
    resource = _resource_or_404(key)
    row = _visible_file(resource, file_id)
    if row is None or row.school_id != g.school.id:
        abort(404)  # the installation's copy is the platform admin's
    label = row.label
    with saving() as tx:
        change = services.remove_school_copy(g.school, row)
        tx.after_commit(change.delete_replaced)
    flash(f"“{label}” was removed. Its record stays in the audit trail.", "success")
    return redirect(url_for("library.resource", key=key, **_back_args()) + "#documents")
