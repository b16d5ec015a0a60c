"""Evidence upload checks and storage, against a corpus of valid and hostile files built here (no binary
fixtures).

These tests need no database: the suite's autouse transaction fixture is replaced below by a no-op.
"""

import hashlib
import io
import os
import stat
import struct
import unicodedata
import uuid
import zipfile
import zlib

import pytest

from tracker.evidence.checks import ACCEPTED, CheckedFile, UploadRejected, check_upload, describe_accepted
from tracker.evidence.storage import EvidenceStore

MB = 1024 * 1024
LIMIT = 20 * MB


@pytest.fixture(autouse=True)
def _transaction():
    """Override the suite-wide database fixture: these checks are pure functions and files."""
    yield


# --- the corpus ----------------------------------------------------------------------------------------


def _png():
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00"))
        + chunk(b"IEND", b"")
    )


PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = _png()
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 32 + b"\xff\xd9"
GIF = (
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00"
    b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
)
WEBP_BODY = b"WEBPVP8 " + struct.pack("<I", 10) + b"\x00" * 10
WEBP = b"RIFF" + struct.pack("<I", len(WEBP_BODY)) + WEBP_BODY
OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504
EXE = (
    b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff"
    + b"\x00" * 100
    + b"This program cannot be run in DOS mode"
)
HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><circle r="5"/></svg>'

CONTENT_TYPES = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    b'<Default Extension="xml" ContentType="application/xml"/></Types>'
)
RELS = b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="x"/>'


def _zip(entries, compression=zipfile.ZIP_DEFLATED):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as zf:
        for name, body in entries:
            zf.writestr(name, body)
    return buf.getvalue()


def _ooxml(folder, main, extra=()):
    return _zip(
        [
            ("[Content_Types].xml", CONTENT_TYPES),
            ("_rels/.rels", RELS),
            (f"{folder}/{main}", b"<?xml version='1.0'?><doc>Safeguarding policy</doc>"),
            *extra,
        ]
    )


DOCX = _ooxml("word", "document.xml")
XLSX = _ooxml("xl", "workbook.xml", [("xl/worksheets/sheet1.xml", b"<worksheet/>")])
PPTX = _ooxml("ppt", "presentation.xml", [("ppt/slides/slide1.xml", b"<sld/>")])


def _odf(mimetype):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(zipfile.ZipInfo("mimetype"), mimetype, compress_type=zipfile.ZIP_STORED)  # first, stored
        zf.writestr("content.xml", b"<office:document-content/>")
        zf.writestr("META-INF/manifest.xml", b"<manifest:manifest/>")
    return buf.getvalue()


ODT = _odf(b"application/vnd.oasis.opendocument.text")
ODS = _odf(b"application/vnd.oasis.opendocument.spreadsheet")
TEXT_BOM = "\ufeffRecord of safeguarding training — 3 staff, £0 cost, ✓ done\n".encode()
CSV = "name,date,course\nAna Pérez,2026-01-12,Level 3 DSL\n".encode()
MARKDOWN = b"# Policy review\n\n* Reviewed by the board\n* Next review: 2027\n"


def _docx_with_small_padding():
    """A 500 KB run of zeros compresses far beyond 100:1 but is under the 1 MB floor, so it is fine."""
    return _ooxml("word", "document.xml", [("word/media/blank.bin", b"\x00" * 500_000)])


VALID = [
    ("Policy 2026.pdf", PDF, "application/pdf", "Policy 2026.pdf", "pdf"),
    ("photo.PNG", PNG, "image/png", "photo.PNG", "png"),
    ("Certificate.jpg", JPEG, "image/jpeg", "Certificate.jpg", "jpg"),
    ("Certificate.jpeg", JPEG, "image/jpeg", "Certificate.jpeg", "jpeg"),
    ("sign.gif", GIF, "image/gif", "sign.gif", "gif"),
    ("poster.webp", WEBP, "image/webp", "poster.webp", "webp"),
    ("Child protection policy.docx", DOCX, ACCEPTED["docx"][0], "Child protection policy.docx", "docx"),
    ("Training log.xlsx", XLSX, ACCEPTED["xlsx"][0], "Training log.xlsx", "xlsx"),
    ("INSET slides.pptx", PPTX, ACCEPTED["pptx"][0], "INSET slides.pptx", "pptx"),
    ("old policy.doc", OLE2, "application/msword", "old policy.doc", "doc"),
    ("old register.xls", OLE2, "application/vnd.ms-excel", "old register.xls", "xls"),
    ("old slides.ppt", OLE2, "application/vnd.ms-powerpoint", "old slides.ppt", "ppt"),
    ("Minutes.odt", ODT, "application/vnd.oasis.opendocument.text", "Minutes.odt", "odt"),
    ("Register.ods", ODS, "application/vnd.oasis.opendocument.spreadsheet", "Register.ods", "ods"),
    ("notes.txt", TEXT_BOM, "text/plain", "notes.txt", "txt"),
    ("staff.csv", CSV, "text/csv", "staff.csv", "csv"),
    ("review.md", MARKDOWN, "text/markdown", "review.md", "md"),
    ("Política de protección.pdf", PDF, "application/pdf", "Política de protección.pdf", "pdf"),
    # decomposed accents (as macOS sends them) are normalised to NFC
    (
        unicodedata.normalize("NFD", "Política de protección.pdf"),
        PDF,
        "application/pdf",
        "Política de protección.pdf",
        "pdf",
    ),
    ("  Policy.PDF  ", PDF, "application/pdf", "Policy.PDF", "pdf"),
    ("سياسة الحماية.pdf", PDF, "application/pdf", "سياسة الحماية.pdf", "pdf"),
    # Persian uses the zero-width non-joiner inside words
    ("می\u200cخواهم.pdf", PDF, "application/pdf", "می\u200cخواهم.pdf", "pdf"),
    ("report..final.pdf", PDF, "application/pdf", "report..final.pdf", "pdf"),
    ("a" * 196 + ".pdf", PDF, "application/pdf", "a" * 196 + ".pdf", "pdf"),  # exactly 200 characters
    ("scan.docx", _docx_with_small_padding(), ACCEPTED["docx"][0], "scan.docx", "docx"),
]


@pytest.mark.parametrize("filename,data,content_type,name,extension", VALID, ids=[v[3][:40] for v in VALID])
def test_valid_files_are_accepted(filename, data, content_type, name, extension):
    checked = check_upload(filename, data, LIMIT)
    assert isinstance(checked, CheckedFile)
    assert checked.content_type == content_type
    assert checked.name == name
    assert unicodedata.is_normalized("NFC", checked.name)
    assert checked.extension == extension
    assert checked.size == len(data)
    assert checked.sha256 == hashlib.sha256(data).hexdigest()
    assert checked.data == data


def test_every_accepted_extension_has_a_valid_case():
    assert {v[4] for v in VALID} == set(ACCEPTED)


def test_a_file_exactly_at_the_limit_is_accepted():
    data = PDF + b"%" * (MB - len(PDF))
    assert check_upload("big.pdf", data, MB).size == MB


def test_checked_file_is_frozen_and_its_repr_hides_the_bytes():
    checked = check_upload("x.pdf", PDF, LIMIT)
    with pytest.raises(AttributeError):
        checked.name = "y.pdf"
    assert "%PDF" not in repr(checked)


def test_describe_accepted():
    text = describe_accepted()
    words = ("PDF", "Word", "Excel", "PowerPoint", "OpenDocument", "PNG", "JPEG", "GIF", "WebP", "plain text")
    for word in words:
        assert word in text


# --- hostile files -------------------------------------------------------------------------------------


def _zip_declaring(entries):
    """A zip whose central directory lies: each (name, real body, declared size, declared compressed size)."""
    data = bytearray(_zip([(name, body) for name, body, _, _ in entries]))
    # patch each central-directory record: compressed size at +20, uncompressed size at +24
    offset = 0
    for name, _, size, csize in entries:
        offset = data.index(b"PK\x01\x02", offset)
        name_len = struct.unpack_from("<H", data, offset + 28)[0]
        assert data[offset + 46 : offset + 46 + name_len] == name.encode()
        struct.pack_into("<II", data, offset + 20, csize, size)
        offset += 46
    return bytes(data)


def _zip_bomb():
    """One member of 50 MB of zeros, deflated (about 50 KB): a ratio near 1000:1; streamed, to keep memory
    small."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", CONTENT_TYPES)
        zf.writestr("word/document.xml", b"<doc/>")
        chunk = bytes(MB)
        with zf.open("word/media/zeros.bin", "w") as member:
            for _ in range(50):
                member.write(chunk)
    return buf.getvalue()


def _many_entries():
    return _ooxml("word", "document.xml", [(f"word/media/{i}.xml", b"") for i in range(2001)])


def _huge_total():
    """Three members that declare 90 MB each, at 90:1 (under the ratio limit), 270 MB in all."""
    small = [("[Content_Types].xml", CONTENT_TYPES, len(CONTENT_TYPES), len(CONTENT_TYPES))]
    big = [(f"word/part{i}.xml", b"<x/>", 90 * MB, MB) for i in range(3)]
    return _zip_declaring(small + big)


def _polyglot():
    """An HTML page with a valid docx appended: zipfile alone reads it (it finds the directory at the end)."""
    return HTML + DOCX


def _corrupt_zip():
    return XLSX[: len(XLSX) // 2]


def _broken_local_header():
    data = bytearray(DOCX)  # its first member, [Content_Types].xml, has its local header at offset 0
    data[30:32] = b"XX"  # the name in the local header no longer matches the central directory
    return bytes(data)


def _cp1252_csv():
    return "name,role\nJosé Núñez,DSL\n".encode("cp1252")


HOSTILE = [
    # (id, filename, data, max_bytes, message fragment)
    ("html-as-pdf", "policy.pdf", HTML, LIMIT, "content is not a PDF"),
    ("svg-as-png", "logo.png", SVG, LIMIT, "content is not a PNG image"),
    ("png-as-jpg", "photo.jpg", PNG, LIMIT, "content is not a JPEG image"),
    ("jpeg-as-png", "photo.png", JPEG, LIMIT, "content is not a PNG image"),
    ("html-as-gif", "x.gif", HTML, LIMIT, "content is not a GIF image"),
    (
        "riff-not-webp",
        "x.webp",
        b"RIFF\x10\x00\x00\x00WAVEfmt " + bytes(8),
        LIMIT,
        "content is not a WebP image",
    ),
    ("exe-as-pdf", "invoice.pdf", EXE, LIMIT, "content is not a PDF"),
    ("pdf-as-doc", "policy.doc", PDF, LIMIT, "content is not a Word document"),
    ("docx-as-doc", "policy.doc", DOCX, LIMIT, "rename it to .docx"),
    (
        "html-in-txt",
        "notes.txt",
        b"  \n<!DOCTYPE html><html><body>hi</body></html>",
        LIMIT,
        "looks like a web page",
    ),
    ("html-tag-in-md", "notes.md", b"<HTML><body>hi</body></HTML>", LIMIT, "looks like a web page"),
    ("svg-in-txt", "notes.txt", SVG, LIMIT, "looks like a web page"),
    ("xml-in-csv", "data.csv", b'<?xml version="1.0"?><svg/>', LIMIT, "looks like a web page"),
    (
        "script-in-csv",
        "data.csv",
        b"name,note\nx,<ScRiPt>alert(1)</script>\n",
        LIMIT,
        "looks like a web page",
    ),
    ("bom-then-html", "notes.txt", b"\xef\xbb\xbf<html>", LIMIT, "looks like a web page"),
    ("nul-in-text", "notes.txt", b"hello\x00world", LIMIT, "binary data"),
    ("utf16-text", "notes.txt", "hello".encode("utf-16"), LIMIT, "UTF-8"),
    ("cp1252-csv", "staff.csv", _cp1252_csv(), LIMIT, "UTF-8"),
    ("traversal-posix", "../../etc/passwd.pdf", PDF, LIMIT, "rename the file and try again"),
    ("traversal-windows", "..\\..\\x.pdf", PDF, LIMIT, "rename the file and try again"),
    ("absolute-path", "/abs/x.pdf", PDF, LIMIT, "rename the file and try again"),
    ("windows-path", "C:\\Users\\me\\x.pdf", PDF, LIMIT, "rename the file and try again"),
    ("dot-dot", "..", PDF, LIMIT, "rename the file and try again"),
    ("nul-in-name", "a\x00.pdf", PDF, LIMIT, "rename the file and try again"),
    ("control-in-name", "a\x07b.pdf", PDF, LIMIT, "rename the file and try again"),
    ("newline-in-name", "a\nb.pdf", PDF, LIMIT, "rename the file and try again"),
    ("tab-in-name", "a\tb.pdf", PDF, LIMIT, "rename the file and try again"),
    ("c1-control-in-name", "a\x85b.pdf", PDF, LIMIT, "rename the file and try again"),
    ("bidi-override-in-name", "invoice\u202efdp.exe", PDF, LIMIT, "rename the file and try again"),
    ("hidden", ".hidden.pdf", PDF, LIMIT, "must not start with a dot"),
    ("only-extension", ".pdf", PDF, LIMIT, "must not start with a dot"),
    ("too-long", "a" * 296 + ".pdf", PDF, LIMIT, "too long"),
    ("201-chars", "a" * 197 + ".pdf", PDF, LIMIT, "too long"),
    ("none-name", None, PDF, LIMIT, "Choose a file"),
    ("empty-name", "", PDF, LIMIT, "Choose a file"),
    ("blank-name", "   ", PDF, LIMIT, "Choose a file"),
    ("no-extension", "policy", PDF, LIMIT, "without a type"),
    ("trailing-dot", "policy.pdf.", PDF, LIMIT, "without a type"),
    ("exe", "setup.exe", EXE, LIMIT, "“.exe” files cannot be uploaded"),
    ("html", "page.html", HTML, LIMIT, "“.html” files cannot be uploaded"),
    ("svg", "logo.svg", SVG, LIMIT, "“.svg” files cannot be uploaded"),
    ("js", "app.js", b"alert(1)", LIMIT, "“.js” files cannot be uploaded"),
    ("double-extension", "policy.pdf.exe", EXE, LIMIT, "“.exe” files cannot be uploaded"),
    ("empty-file", "policy.pdf", b"", LIMIT, "empty"),
    ("oversize", "policy.pdf", PDF + b"%" * MB, MB, "limit is 1 MB"),
    ("zip-bomb-ratio", "policy.docx", _zip_bomb(), LIMIT, "compressed archive bomb"),
    ("zip-bomb-entries", "policy.docx", _many_entries(), LIMIT, "compressed archive bomb"),
    ("zip-bomb-total", "policy.docx", _huge_total(), LIMIT, "compressed archive bomb"),
    (
        "zip-not-ooxml",
        "policy.docx",
        _zip([("readme.txt", b"hello"), ("word/x.xml", b"<x/>")]),
        LIMIT,
        "content is not a Word document",
    ),
    (
        "zip-no-word-folder",
        "policy.docx",
        _zip([("[Content_Types].xml", CONTENT_TYPES)]),
        LIMIT,
        "content is not a Word document",
    ),
    ("corrupt-zip", "register.xlsx", _corrupt_zip(), LIMIT, "damaged"),
    ("broken-local-header", "policy.docx", _broken_local_header(), LIMIT, "damaged"),
    ("docx-as-xlsx", "register.xlsx", DOCX, LIMIT, "content is not an Excel spreadsheet"),
    ("xlsx-as-pptx", "slides.pptx", XLSX, LIMIT, "content is not a PowerPoint presentation"),
    ("html-then-docx", "policy.docx", _polyglot(), LIMIT, "content is not a Word document"),
    ("ole2-as-docx", "policy.docx", OLE2, LIMIT, "password-protected"),
    ("pdf-as-docx", "policy.docx", PDF, LIMIT, "content is not a Word document"),
    ("ods-as-odt", "minutes.odt", ODS, LIMIT, "content is not an OpenDocument text document"),
    ("docx-as-odt", "minutes.odt", DOCX, LIMIT, "content is not an OpenDocument text document"),
    ("odt-as-ods", "register.ods", ODT, LIMIT, "content is not an OpenDocument spreadsheet"),
]


@pytest.mark.parametrize(
    "filename,data,max_bytes,fragment", [h[1:] for h in HOSTILE], ids=[h[0] for h in HOSTILE]
)
def test_hostile_files_are_rejected(filename, data, max_bytes, fragment):
    with pytest.raises(UploadRejected) as caught:
        check_upload(filename, data, max_bytes)
    message = str(caught.value)
    assert fragment.lower() in message.lower()
    # a message for people: no exception internals, no echo of hidden characters
    for internal in ("Traceback", "BadZipFile", "zipfile", "Error", "\x00", "\u202e"):
        assert internal not in message


def test_an_unaccepted_type_is_told_what_is_accepted():
    with pytest.raises(UploadRejected) as caught:
        check_upload("setup.exe", EXE, LIMIT)
    assert describe_accepted() in str(caught.value)


def test_the_size_limit_is_named_with_a_fraction():
    with pytest.raises(UploadRejected, match=r"1\.5 MB"):
        check_upload("policy.pdf", PDF + b"%" * (2 * MB), MB + MB // 2)


def test_the_zip_bomb_is_not_decompressed(monkeypatch):
    """The bomb is refused from the declared sizes alone: no member is ever opened."""

    def refuse(*args, **kwargs):
        raise AssertionError("a member of the bomb was opened")

    data = _zip_bomb()
    monkeypatch.setattr(zipfile.ZipFile, "open", refuse)
    with pytest.raises(UploadRejected, match="archive bomb"):
        check_upload("policy.docx", data, LIMIT)


def test_a_huge_central_directory_is_refused_before_it_is_indexed(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("zipfile indexed the archive")

    data = _ooxml("word", "document.xml", [(f"{i}", b"") for i in range(20_001)])
    monkeypatch.setattr(zipfile.ZipFile, "__init__", refuse)
    with pytest.raises(UploadRejected, match="archive bomb"):
        check_upload("policy.docx", data, LIMIT)


def test_a_member_that_lies_about_its_size_is_read_only_a_little():
    """mimetype declares a small size but holds 50 MB of zeros: only its first bytes are read, so it is
    refused for its content, quickly, rather than inflated."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        with zf.open("mimetype", "w") as member:
            for _ in range(50):
                member.write(bytes(MB))
    data = bytearray(buf.getvalue())
    cd = data.index(b"PK\x01\x02")
    struct.pack_into("<I", data, cd + 24, 100)  # declared size 100 bytes in the central directory
    with pytest.raises(UploadRejected):
        check_upload("minutes.odt", bytes(data), LIMIT)


def test_the_mimetype_must_match_exactly():
    with pytest.raises(UploadRejected, match="OpenDocument text"):
        check_upload("minutes.odt", _odf(b"application/vnd.oasis.opendocument.text-template-evil"), LIMIT)


# --- storage -------------------------------------------------------------------------------------------


def _is_stored_name(name):
    return len(name) == 32 and all(c in "0123456789abcdef" for c in name)


@pytest.fixture
def store(tmp_path):
    return EvidenceStore(tmp_path / "instance" / "evidence")


def test_save_writes_a_private_file_under_the_school_folder(store, tmp_path):
    school = uuid.uuid4()
    checked = check_upload("Política.pdf", PDF, LIMIT)
    stored = store.save(school, checked)
    assert _is_stored_name(stored)
    expected = tmp_path / "instance" / "evidence" / school.hex / stored
    assert store.path(school, stored) == expected
    assert expected.read_bytes() == PDF
    assert stat.S_IMODE(expected.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "instance" / "evidence").stat().st_mode) == 0o700
    assert stat.S_IMODE(expected.parent.stat().st_mode) == 0o700
    # only the generated name is on disk: no user file name, no temporary file left behind
    assert os.listdir(expected.parent) == [stored]


@pytest.mark.parametrize("umask", [0o000, 0o022, 0o177])
def test_save_is_private_whatever_the_umask(store, umask):
    old = os.umask(umask)
    try:
        school = uuid.uuid4()
        stored = store.save(school, check_upload("x.pdf", PDF, LIMIT))
    finally:
        os.umask(old)
    path = store.path(school, stored)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_the_same_content_twice_gets_two_stored_names(store):
    school = uuid.uuid4()
    checked = check_upload("x.pdf", PDF, LIMIT)
    first, second = store.save(school, checked), store.save(school, checked)
    assert first != second
    assert sorted(os.listdir(store.path(school, first).parent)) == sorted([first, second])


def test_schools_are_kept_apart(store):
    a, b = uuid.uuid4(), uuid.uuid4()
    stored = store.save(a, check_upload("x.pdf", PDF, LIMIT))
    assert store.path(a, stored).exists()
    assert not store.path(b, stored).exists()


def test_a_failed_write_leaves_nothing_behind(store, monkeypatch):
    school = uuid.uuid4()

    def fail(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError):
        store.save(school, check_upload("x.pdf", PDF, LIMIT))
    assert os.listdir(store.root / school.hex) == []


@pytest.mark.parametrize(
    "bad",
    [
        "../x",
        "abc",
        "0123456789ABCDEF0123456789ABCDEF",
        "0" * 31,
        "0" * 33,
        "../" + "0" * 29,
        "0" * 31 + "/",
        "0" * 31 + "g",
        "",
        None,
        "０" * 32,
    ],
)  # full-width digits are not hex
def test_path_accepts_only_generated_names(store, bad):
    with pytest.raises(ValueError):
        store.path(uuid.uuid4(), bad)
    with pytest.raises(ValueError):
        store.delete(uuid.uuid4(), bad)


def test_path_refuses_a_school_id_that_is_not_a_uuid(store):
    with pytest.raises(ValueError):
        store.path("../other", "0" * 32)


def test_delete_is_idempotent(store):
    school = uuid.uuid4()
    stored = store.save(school, check_upload("x.pdf", PDF, LIMIT))
    store.delete(school, stored)
    assert not store.path(school, stored).exists()
    store.delete(school, stored)  # already gone: no error
    store.delete(uuid.uuid4(), uuid.uuid4().hex)  # never existed, folder missing too: no error
