"""Platform admin pages for the shared library's documents: which resources have one, attach a file or set an
address for a resource once for the whole installation, remove it, and download it to check it."""

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user

from ..access import platform_admin
from ..db import db
from ..evidence.checks import describe_accepted
from ..library.models import Resource
from ..library_files import services
from ..library_files.forms import InstallationCopyForm
from ..library_files.storage import path_of
from ..pagination import paginate_list
from ..transactions import saving
from . import bp

FILTERS = {"all": "All", "missing": "Without a document", "present": "With a document"}


def _shared_or_404(key):
    resource = db.session.execute(
        db.select(Resource).where(Resource.key == key, Resource.school_id.is_(None))
    ).scalar_one_or_none()
    if resource is None:
        abort(404)
    return resource


@bp.route("/library")
@platform_admin
def library():
    shown = request.args.get("show", "all")
    if shown not in FILTERS:
        abort(400, "Unknown filter.")
    resources = db.session.execute(
        db.select(Resource).where(Resource.school_id.is_(None)).order_by(Resource.title)
    ).scalars()
    documents = services.installation_copies()
    rows = [(r, documents.get(r.id)) for r in resources]
    leads = {r.id for r, d in rows if d is not None or r.url}  # a document, or an address in the seed file
    counts = {"all": len(rows), "present": len(leads), "missing": len(rows) - len(leads)}
    if shown != "all":
        rows = [(r, d) for r, d in rows if (r.id in leads) == (shown == "present")]
    page = paginate_list(rows, per_page=50)
    return render_template("admin/library.html", page=page, shown=shown, filters=FILTERS, counts=counts)


@bp.route("/library/<key>", methods=["GET", "POST"])
@platform_admin
def library_resource(key):
    resource = _shared_or_404(key)
    form = InstallationCopyForm()
    if form.validate_on_submit():
        chosen = form.chosen_file()
        change = services.Change()
        with saving(form, "file") as tx:
            tx.after_rollback(lambda: change.discard_stored())
            change = services.set_installation_copy(
                resource,
                filename=chosen.filename if chosen else None,
                data=chosen.read() if chosen else None,
                url=form.url.data if not chosen else "",
                user=current_user,
            )
            tx.after_commit(lambda: change.delete_replaced())
        if tx.ok:
            flash(f"Every school now finds the document on “{resource.title}”.", "success")
            return redirect(url_for("admin.library_resource", key=key))
        resource = _shared_or_404(key)
    return render_template(
        "admin/library_resource.html",
        resource=resource,
        document=services.installation_copy(resource),
        form=form,
        accepted=describe_accepted(),
    ), 400 if form.errors else 200


@bp.route("/library/<key>/remove", methods=["POST"])
@platform_admin
def library_remove(key):
    resource = _shared_or_404(key)
    with saving() as tx:
        change = services.clear_installation_copy(resource, user=current_user)
        tx.after_commit(change.delete_replaced)
    flash(f"“{resource.title}” has no document now.", "success")
    return redirect(url_for("admin.library_resource", key=key))


@bp.route("/library/<key>/document")
@platform_admin
def library_document(key):
    document = services.installation_copy(_shared_or_404(key))
    if document is None or not document.is_file:
        abort(404)
    try:
        path = path_of(document)
    except ValueError:
        abort(404)
    if not path.exists():
        abort(404)
    return send_file(path, mimetype=document.content_type, as_attachment=True, download_name=document.name)
