"""Read-and-sign pages: the documents and their coverage, publish a document or a new version, withdraw a
version, enter a sign sheet, read and acknowledge, and a member's own list. Writes go through `saving()`."""

import uuid

from flask import abort, current_app, flash, g, redirect, render_template, request, send_file, url_for
from flask_login import current_user

from .. import audit
from ..access import school_roles
from ..evidence.checks import describe_accepted
from ..evidence.storage import EvidenceStore
from ..pagination import paginate_list
from ..tenancy import ACCREDITOR, ALL_MEMBERS, HEAD, HR, LEAD, STAFF
from ..transactions import saving
from . import bp, queries, services
from .forms import ButtonForm, PublishForm, SheetForm, VersionForm
from .models import KIND_LABELS

READERS = (LEAD, HEAD, HR, ACCREDITOR)
PUBLISHERS = (LEAD, HEAD)
SHEET_KEEPERS = (LEAD, HR)
SIGNERS = (LEAD, HEAD, HR, STAFF)
FILTERS = {"all": "Everyone", "missing": "Not yet", "overdue": "Overdue", "done": "Acknowledged"}


def _upload(form):
    data = form.file.data
    if data and getattr(data, "filename", None):
        return data.filename, data.read()
    return None


@bp.route("/")
@school_roles(*READERS)
def index():
    docs = services.documents(g.school)
    covs = {c.document.id: c for c in services.coverage(g.school)}
    return render_template("policies/index.html", docs=docs, covs=covs, today=g.school.today())


@bp.route("/new", methods=["GET", "POST"])
@school_roles(*PUBLISHERS)
def add():
    form = PublishForm()
    if form.validate_on_submit():
        stored = []
        with saving(form, "title") as tx:
            tx.after_rollback(services.discard, g.school, stored)
            version = services.publish(
                g.school,
                title=form.title.data,
                kind=form.kind.data,
                roles=form.roles.data,
                categories=form.categories.data,
                button_text=form.button_text.data,
                label=form.label.data,
                body=form.body.data,
                upload=_upload(form),
                deadline=form.deadline.data,
                user=current_user,
                stored=stored,
            )
        if tx.ok:
            flash(
                f"Published. Everyone in its audience now sees “{version.document.title}” to read and sign.",
                "success",
            )
            return redirect(url_for(".document", document_id=version.document_id))
    return render_template(
        "policies/form.html", form=form, document=None, accepted=describe_accepted()
    ), 400 if form.errors else 200


@bp.route("/<uuid:document_id>")
@school_roles(*READERS)
def document(document_id):
    """Coverage of one version (the current one unless ?version= names another): who has and has not
    acknowledged it, overdue after their deadline."""
    doc = queries.document_or_404(g.school, document_id)
    version = doc.current_version()
    if request.args.get("version"):
        try:
            wanted = uuid.UUID(request.args["version"])
        except ValueError:
            abort(404)
        version = queries.version_or_404(g.school, doc, wanted)
    shown = request.args.get("filter") or "all"
    if shown not in FILTERS:
        abort(400, "Unknown filter.")
    cov = services.coverage(g.school, only=doc, version=version)[0] if version is not None else None
    entries = []
    if cov is not None:
        entries = {"all": cov.entries, "missing": cov.missing, "overdue": cov.overdue, "done": cov.done}[
            shown
        ]
    page = paginate_list(entries, per_page=50)
    return render_template(
        "policies/document.html",
        doc=doc,
        version=version,
        current=doc.current_version(),
        cov=cov,
        page=page,
        shown=shown,
        filters=FILTERS,
        kinds=KIND_LABELS,
        button=ButtonForm(),
        today=g.school.today(),
    )


@bp.route("/<uuid:document_id>/versions/new", methods=["GET", "POST"])
@school_roles(*PUBLISHERS)
def new_version(document_id):
    doc = queries.document_or_404(g.school, document_id)
    form = VersionForm()
    current = doc.current_version()
    if request.method == "GET" and current is not None:
        form.deadline.data = current.deadline
    if form.validate_on_submit():
        stored = []
        with saving(form, "label") as tx:
            tx.after_rollback(services.discard, g.school, stored)
            version = services.add_version(
                g.school,
                doc,
                label=form.label.data,
                body=form.body.data,
                upload=_upload(form),
                material=form.material.data == "material",
                change_note=form.change_note.data,
                deadline=form.deadline.data,
                user=current_user,
                stored=stored,
            )
        if tx.ok:
            flash(
                f"Version {version.label} published. "
                + (
                    "Everyone in the audience must read and sign it again."
                    if version.material
                    else "Signatures already given still count."
                ),
                "success",
            )
            return redirect(url_for(".document", document_id=doc.id))
    return render_template(
        "policies/form.html", form=form, document=doc, current=current, accepted=describe_accepted()
    ), 400 if form.errors else 200


@bp.route("/<uuid:document_id>/versions/<uuid:version_id>/withdraw", methods=["POST"])
@school_roles(*PUBLISHERS)
def withdraw(document_id, version_id):
    doc = queries.document_or_404(g.school, document_id)
    version = queries.version_or_404(g.school, doc, version_id)
    form = ButtonForm()
    if form.validate_on_submit():
        with saving() as tx:
            services.withdraw(g.school, version, user=current_user)
        if tx.ok:
            current = doc.current_version()
            flash(
                f"Version {version.label} withdrawn; its record and signatures stay. "
                + (f"The current version is {current.label}." if current else "No version is asked for now."),
                "success",
            )
    return redirect(url_for(".document", document_id=doc.id))


@bp.route("/<uuid:document_id>/sign-sheet", methods=["GET", "POST"])
@school_roles(*SHEET_KEEPERS)
def sign_sheet(document_id):
    """Enter a paper sign sheet: the people (usually without an account) who signed the current version."""
    doc = queries.document_or_404(g.school, document_id)
    version = doc.current_version()
    if version is None:
        flash("Every version of this document is withdrawn: publish a new one first.", "error")
        return redirect(url_for(".document", document_id=doc.id))
    cov = services.coverage(g.school, only=doc)[0]
    missing = [e for e in cov.missing if e.reader.person_id]
    people = queries.people_by_id(g.school, [e.reader.person_id for e in missing])
    form = SheetForm()
    readers = {str(e.reader.person_id): e.reader for e in missing}
    form.people.choices = [
        (pid, f"{p.full_name} ({readers[pid].what}{'' if readers[pid].has_account else ', no account'})")
        for pid, p in people.items()
    ]
    if form.validate_on_submit():
        chosen = [people[i] for i in form.people.data if i in people]
        with saving(form, "people") as tx:
            added = services.record_sheet(
                g.school, version, people=chosen, signed_on=form.signed_on.data, user=current_user
            )
        if tx.ok:
            flash(
                f"Recorded {len(added)} signature{'s' if len(added) != 1 else ''} from the sheet.", "success"
            )
            return redirect(url_for(".document", document_id=doc.id))
    return render_template(
        "policies/sign_sheet.html", form=form, doc=doc, version=version
    ), 400 if form.errors else 200


@bp.route("/<uuid:document_id>/versions/<uuid:version_id>/file")
@school_roles(*ALL_MEMBERS)
def download(document_id, version_id):
    doc = queries.document_or_404(g.school, document_id)
    version = queries.version_or_404(g.school, doc, version_id)
    if not version.stored_name:
        abort(404)
    path = EvidenceStore(current_app.config["TRACKER_EVIDENCE_DIR"]).path(g.school.id, version.stored_name)
    if not path.exists():
        abort(404)
    if g.membership.role == ACCREDITOR:  # every download an accreditor makes is in the audit trail
        with saving():
            audit.record(
                "policy.downloaded",
                school=g.school,
                subject=version,
                after={"file": version.file_name, "sha256": version.sha256},
            )
    return send_file(
        path, mimetype=version.content_type, as_attachment=True, download_name=version.file_name, max_age=0
    )


@bp.route("/<uuid:document_id>/read")
@school_roles(*ALL_MEMBERS)
def read(document_id):
    """The current version to read, and the button to acknowledge it."""
    doc = queries.document_or_404(g.school, document_id)
    version = doc.current_version()
    asked = None
    if g.membership.role in SIGNERS:
        asked = next(
            (a for a in services.for_member(g.school, g.membership) if a.document.id == doc.id), None
        )
    return render_template(
        "policies/read.html", doc=doc, version=version, asked=asked, form=ButtonForm(), today=g.school.today()
    )


@bp.route("/<uuid:document_id>/versions/<uuid:version_id>/acknowledge", methods=["POST"])
@school_roles(*SIGNERS)
def acknowledge(document_id, version_id):
    doc = queries.document_or_404(g.school, document_id)
    version = queries.version_or_404(g.school, doc, version_id)
    form = ButtonForm()
    if not form.validate_on_submit():
        abort(400)
    person = queries.person_of(g.school, current_user.id)
    with saving() as tx:
        services.acknowledge(g.school, version, user=current_user, person=person)
    if tx.ok:
        flash(f"Thank you: your acknowledgement of “{doc.title}” {version.label} is recorded.", "success")
        return redirect(url_for(".mine"))
    return redirect(url_for(".read", document_id=doc.id))


@bp.route("/mine")
@school_roles(*SIGNERS)
def mine():
    """The documents the signed-in member must read and sign, and those they have."""
    asked = services.for_member(g.school, g.membership)
    return render_template(
        "policies/mine.html",
        todo=[a for a in asked if a.ack is None],
        done=[a for a in asked if a.ack is not None],
        today=g.school.today(),
    )
