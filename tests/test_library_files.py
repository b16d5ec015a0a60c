"""Every resource page leads somewhere: the installation's document (a file or an address, set by a platform
admin or `flask library load-files`), a school's own copies and translations, and the way back to the item."""

import io
import re
from pathlib import Path

import pytest
import sqlalchemy as sa

from tracker.audit import AuditEvent
from tracker.extensions import db
from tracker.library_files.models import ResourceFile
from tracker.library_files.storage import path_of

from .test_library import text_of
from .world import sign_in

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
KEY = "safer-recruitment-checklist"


@pytest.fixture
def worlds(app, worlds):
    a, b = worlds  # conftest's: built once for the module, each test sees them as built
    admin_user = a.members["head"].user
    admin_user.is_platform_admin = True
    db.session.commit()
    return a, b, sign_in(app.test_client(), admin_user)


def _client(app, world, role):
    return sign_in(app.test_client(), world.members[role].user)


def _events(action):
    return db.session.scalar(sa.select(sa.func.count()).where(AuditEvent.action == action))


def _installation_row(key=KEY):
    return db.session.execute(
        sa.select(ResourceFile)
        .join(ResourceFile.resource)
        .where(ResourceFile.school_id.is_(None), ResourceFile.resource.has(key=key))
    ).scalar_one_or_none()


def _attach(admin, data=PDF, name="checklist.pdf", key=KEY):
    return admin.post(f"/admin/library/{key}", data={"file": (io.BytesIO(data), name)})


def test_an_admin_attaches_a_file_once_and_every_school_downloads_it(app, worlds):
    a, b, admin = worlds
    response = _attach(admin)
    assert response.status_code == 302
    row = _installation_row()
    assert row.kind == "file" and row.name == "checklist.pdf" and row.size == len(PDF)
    path = path_of(row)
    assert path.read_bytes() == PDF
    # kept with the evidence store's rules, in a folder that is no school's
    assert path.parent.name == "library" and path.parent.parent.name == "installation"
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert (
        db.session.scalar(sa.select(sa.func.count()).where(AuditEvent.action == "library.document_set")) == 1
    )

    for world in (a, b):
        for role in ("lead", "staff", "accreditor"):
            client = _client(app, world, role)
            page = client.get(f"/s/{world.school.slug}/library/r/{KEY}")
            assert "Download checklist.pdf" in text_of(page)
            link = re.search(r'href="([^"]+/files/[^"]+)"', page.get_data(as_text=True)).group(1)
            download = client.get(link)
            assert download.status_code == 200 and download.data == PDF
            assert "attachment" in download.headers["Content-Disposition"]


def test_replacing_the_file_removes_the_old_one_after_the_save(worlds):
    _, _, admin = worlds
    _attach(admin)
    first = path_of(_installation_row())
    _attach(admin, data=PDF + b"% second\n", name="checklist-2024.pdf")
    db.session.expire_all()
    assert _installation_row().name == "checklist-2024.pdf"
    assert not first.exists()


def test_an_admin_can_give_an_address_instead(app, worlds):
    a, _, admin = worlds
    response = admin.post(f"/admin/library/{KEY}", data={"url": "https://example.org/checklist"})
    assert response.status_code == 302
    page = _client(app, a, "staff").get(f"/s/{a.school.slug}/library/r/{KEY}")
    assert 'href="https://example.org/checklist"' in page.get_data(as_text=True)
    assert "No document is attached yet" not in text_of(page)


@pytest.mark.parametrize(
    "data,message",
    [
        ({"url": "javascript:alert(1)"}, "full web address"),
        ({}, "Choose a file"),
        ({"file": (io.BytesIO(b"MZ\x90\x00 not a pdf"), "checklist.pdf")}, "not"),
        ({"file": (io.BytesIO(b"#!/bin/sh\n"), "run.sh")}, "cannot be uploaded"),
        ({"file": (io.BytesIO(PDF), "a.pdf"), "url": "https://example.org/x"}, "not both"),
    ],
)
def test_a_bad_document_is_refused_and_nothing_is_kept(worlds, data, message):
    _, _, admin = worlds
    response = admin.post(f"/admin/library/{KEY}", data=data)
    assert response.status_code == 400
    assert message in text_of(response)
    assert _installation_row() is None


def test_the_admin_pages_list_documents_and_remove_one(worlds):
    _, _, admin = worlds
    page = admin.get("/admin/library")
    assert page.status_code == 200 and "Without a document" in text_of(page)
    before = int(re.search(r"With a document \((\d+)\)", text_of(page)).group(1))
    assert before == 1  # the CyberTipline, whose address is in the seed file
    _attach(admin)
    listing = text_of(admin.get("/admin/library?show=present"))
    assert "checklist.pdf" in listing and f"With a document ({before + 1})" in listing
    assert "report.cybertip.org" in listing and "(from the seed file)" in listing
    assert admin.get("/admin/library?show=nonsense").status_code == 400
    assert admin.get(f"/admin/library/{KEY}/document").data == PDF
    path = path_of(_installation_row())
    assert admin.post(f"/admin/library/{KEY}/remove").status_code == 302
    assert _installation_row() is None and not path.exists()
    assert admin.get("/admin/library/no-such-resource").status_code == 404


def test_a_schools_own_resource_has_no_installation_document(worlds):
    a, _, admin = worlds
    assert admin.get(f"/admin/library/{a.objects['key']}").status_code == 404


@pytest.mark.parametrize("role", ["lead", "head", "hr", "staff", "accreditor"])
def test_only_platform_admins_reach_the_admin_pages(app, worlds, role):
    a, _, _ = worlds
    if role == "head":
        a.members["head"].user.is_platform_admin = False
        db.session.commit()
    client = _client(app, a, role)
    assert client.get("/admin/library").status_code == 403
    assert client.get(f"/admin/library/{KEY}").status_code == 403
    response = client.post(f"/admin/library/{KEY}", data={"file": (io.BytesIO(PDF), "x.pdf")})
    assert response.status_code == 403 and _installation_row() is None


# --- a school's copies -------------------------------------------------------------------------------------


def test_a_lead_adds_a_translation_that_only_their_school_sees(app, worlds):
    a, b, _ = worlds
    lead = _client(app, a, "lead")
    response = lead.post(
        f"/s/{a.school.slug}/library/r/{KEY}/copies",
        data={
            "label": "Thai copy for parents",
            "language": "th",
            "file": (io.BytesIO(PDF), "checklist-th.pdf"),
        },
    )
    assert response.status_code == 302
    row = db.session.execute(
        sa.select(ResourceFile).where(
            ResourceFile.school_id == a.school.id, ResourceFile.label == "Thai copy for parents"
        )
    ).scalar_one()
    # kept in the school's own evidence folder
    assert path_of(row).parent.name == a.school.id.hex
    staff_page = text_of(_client(app, a, "staff").get(f"/s/{a.school.slug}/library/r/{KEY}"))
    assert "Thai copy for parents" in staff_page and "Thai" in staff_page
    other = text_of(_client(app, b, "lead").get(f"/s/{b.school.slug}/library/r/{KEY}"))
    assert "Thai copy for parents" not in other
    # B cannot fetch A's copy under its own address, nor A's under A's without membership
    assert (
        _client(app, b, "lead").get(f"/s/{b.school.slug}/library/r/{KEY}/files/{row.id}").status_code == 404
    )
    assert (
        _client(app, b, "lead").get(f"/s/{a.school.slug}/library/r/{KEY}/files/{row.id}").status_code == 404
    )
    download = _client(app, a, "accreditor").get(f"/s/{a.school.slug}/library/r/{KEY}/files/{row.id}")
    assert download.status_code == 200 and download.data == PDF


def test_a_copy_can_be_an_address_and_needs_a_label(app, worlds):
    a, _, _ = worlds
    lead = _client(app, a, "lead")
    url = f"/s/{a.school.slug}/library/r/{KEY}/copies"
    refused = lead.post(url, data={"url": "https://intranet.example.org/checklist"})
    assert refused.status_code == 400 and "Say what this copy is" in text_of(refused)
    refused = lead.post(url, data={"label": "X", "language": "klingon", "url": "https://example.org"})
    assert refused.status_code == 400
    assert (
        lead.post(
            url, data={"label": "Our annotated copy", "url": "https://intranet.example.org/c"}
        ).status_code
        == 302
    )
    page = lead.get(f"/s/{a.school.slug}/library/r/{KEY}").get_data(as_text=True)
    assert 'href="https://intranet.example.org/c"' in page


def test_staff_cannot_add_or_remove_copies(app, worlds):
    a, _, _ = worlds
    staff = _client(app, a, "staff")
    response = staff.post(
        f"/s/{a.school.slug}/library/r/{KEY}/copies", data={"label": "x", "url": "https://e.org"}
    )
    assert response.status_code == 403
    remove = staff.post(
        f"/s/{a.school.slug}/library/r/{a.objects['key']}/files/{a.objects['file_id']}/remove"
    )
    assert remove.status_code == 403


def test_removing_a_copy_deletes_its_file_after_the_save(app, worlds):
    a, _, _ = worlds
    row = db.session.get(ResourceFile, a.objects["file_id"])
    path = path_of(row)
    assert path.exists()
    lead = _client(app, a, "lead")
    response = lead.post(f"/s/{a.school.slug}/library/r/{a.objects['key']}/files/{row.id}/remove")
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(ResourceFile, a.objects["file_id"]) is None and not path.exists()
    assert (
        db.session.scalar(sa.select(sa.func.count()).where(AuditEvent.action == "library.copy_removed")) == 1
    )


def test_the_installation_copy_cannot_be_removed_by_a_school(app, worlds):
    a, _, admin = worlds
    _attach(admin)
    row = _installation_row()
    response = _client(app, a, "lead").post(f"/s/{a.school.slug}/library/r/{KEY}/files/{row.id}/remove")
    assert response.status_code == 404 and _installation_row() is not None


# --- the way back ------------------------------------------------------------------------------------------


def test_the_back_link_returns_to_the_item_and_never_leaves_the_site(app, worlds):
    a, b, _ = worlds
    lead = _client(app, a, "lead")
    item_path = f"/s/{a.school.slug}/items/{a.objects['item_id']}"
    page = lead.get(f"/s/{a.school.slug}/library/r/{KEY}", query_string={"from": item_path})
    assert f'<a href="{item_path}">← Back to the item</a>' in page.get_data(as_text=True)
    for bad in (
        "https://evil.example/x",
        "//evil.example/x",
        "/\\evil.example",
        "javascript:alert(1)",
        f"/s/{b.school.slug}/items/{b.objects['item_id']}",
        "/login?next=/x",
        "x" * 600,
    ):
        body = lead.get(f"/s/{a.school.slug}/library/r/{KEY}", query_string={"from": bad}).get_data(
            as_text=True
        )
        assert "Back to the item" not in body, bad
        assert "← Library" in text_of(body)


def test_item_pages_link_resources_with_the_way_back(app, worlds):
    a, _, _ = worlds
    lead = _client(app, a, "lead")
    body = lead.get(f"/s/{a.school.slug}/items/{a.objects['item_id']}").get_data(as_text=True)
    links = re.findall(r'href="(/s/[^"]+/library/r/[^"?]+\?from=[^"]+)"', body)
    assert links, "the item's resources link back to it"
    page = lead.get(links[0].replace("&amp;", "&"))
    assert "Back to the item" in text_of(page)


# --- the folder command ------------------------------------------------------------------------------------


def test_load_files_attaches_by_key_and_reports_what_did_not_match(app, tmp_path):
    (tmp_path / f"{KEY}.pdf").write_bytes(PDF)
    (tmp_path / "take-it-down.txt").write_bytes(b"Take It Down: a note\n")
    (tmp_path / "no-such-resource.pdf").write_bytes(PDF)
    (tmp_path / "alecto-ai.pdf").write_bytes(b"MZ not really a pdf")
    (tmp_path / ".hidden").write_bytes(b"x")
    result = app.test_cli_runner().invoke(args=["library", "load-files", str(tmp_path)])
    out = result.output
    assert f"attached  {KEY}.pdf -> {KEY}" in out
    assert "attached  take-it-down.txt -> take-it-down" in out
    assert "no match  no-such-resource.pdf" in out
    assert "refused   alecto-ai.pdf" in out
    assert "2 attached, 1 without a matching resource, 1 refused" in out
    assert "without a document: " in out and "alecto-ai" in out.split("without a document: ")[1]
    assert result.exit_code == 1  # something was refused
    assert path_of(_installation_row()).read_bytes() == PDF
    assert _installation_row("alecto-ai") is None


def test_load_files_of_a_clean_folder_succeeds(app, tmp_path):
    (tmp_path / f"{KEY}.pdf").write_bytes(PDF)
    result = app.test_cli_runner().invoke(args=["library", "load-files", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "1 attached, 0 without a matching resource, 0 refused" in result.output
    assert Path(path_of(_installation_row())).exists()
