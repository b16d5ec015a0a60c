"""Checks that an upload's bytes really are its type: magic numbers, ZIP containers and bomb limits, text.

Nothing is written to disk and ZIP members are never extracted; at most a few hundred bytes of one member are
read, after the archive's declared sizes have passed the bomb limits.
"""

import io
import zipfile

from .file_types import _ODS, _ODT, ACCEPTED, UploadRejected

# ZIP-bomb limits (checked on the declared sizes in the central directory, before anything is read).
MAX_ZIP_ENTRIES = 2000
MAX_ZIP_TOTAL = 200 * 1024 * 1024
MAX_ZIP_RATIO = 100
ZIP_RATIO_FLOOR = 1024 * 1024  # the ratio limit applies to members larger than this

_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_LOCAL_HEADER = b"PK\x03\x04"
_ZIP_CENTRAL_HEADER = b"PK\x01\x02"
_OOXML_FOLDER = {"docx": "word/", "xlsx": "xl/", "pptx": "ppt/"}
_ODF_MIMETYPE = {"odt": _ODT, "ods": _ODS}
_TEXT = {"txt", "csv", "md"}
_IMAGES = {"png", "jpg", "jpeg", "gif", "webp"}

_MARKUP_STARTS = ("<!doctype", "<html", "<svg", "<?xml")


def _a(label):
    return f"an {label}" if label[0].lower() in "aeiou" else f"a {label}"


def _not_a(extension, hint=""):
    label = _a(ACCEPTED[extension][1])
    return UploadRejected(
        f"The file's content is not {label} (.{extension}), although its name ends "
        f"in .{extension}.{hint} Please check you chose the right file, or save it "
        "again in the right format."
    )


def _check_content(extension, data):
    if extension == "pdf":
        if not data.startswith(b"%PDF-"):
            raise _not_a(extension)
    elif extension in _IMAGES:
        if not _is_image(extension, data):
            raise _not_a(extension)
    elif extension in ("doc", "xls", "ppt"):
        if not data.startswith(_OLE2):
            hint = ""
            if data.startswith(_ZIP_LOCAL_HEADER):
                hint = f" It looks like a newer file (.{extension}x): rename it to .{extension}x."
            raise _not_a(extension, hint)
    elif extension in _OOXML_FOLDER or extension in _ODF_MIMETYPE:
        _check_zip(extension, data)
    elif extension in _TEXT:
        _check_text(extension, data)
    else:  # pragma: no cover - ACCEPTED and the branches above are kept in step
        raise _not_a(extension)


def _is_image(extension, data):
    if extension == "png":
        return data.startswith(b"\x89PNG\r\n\x1a\n")
    if extension in ("jpg", "jpeg"):
        return data.startswith(b"\xff\xd8\xff")
    if extension == "gif":
        return data.startswith((b"GIF87a", b"GIF89a"))
    if extension == "webp":
        return len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP"
    return False


def _check_zip(extension, data):
    if not data.startswith(_ZIP_LOCAL_HEADER):
        hint = ""
        if data.startswith(_OLE2):
            hint = (
                " It may be password-protected or an older-format file: remove the password, or save "
                f"it as .{extension}."
            )
        raise _not_a(extension, hint)
    if data.count(_ZIP_CENTRAL_HEADER) > 10 * MAX_ZIP_ENTRIES:  # refuse before zipfile builds a huge index
        raise _bomb()
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except Exception:  # any failure to read the central directory means the file is damaged
        raise _corrupt(extension) from None
    with archive:
        entries = archive.infolist()
        _check_bomb(entries)
        names = {entry.filename for entry in entries}
        try:
            if extension in _OOXML_FOLDER:
                folder = _OOXML_FOLDER[extension]
                if "[Content_Types].xml" not in names or not any(n.startswith(folder) for n in names):
                    raise _not_a(extension)
                # its local header and first bytes must be sound
                _read_start(archive, "[Content_Types].xml", 64)
            else:
                if "mimetype" not in names:
                    raise _not_a(extension)
                mimetype = _read_start(archive, "mimetype", 200).strip()
                if mimetype != _ODF_MIMETYPE[extension].encode():
                    raise _not_a(extension)
        except UploadRejected:
            raise
        except Exception:  # a broken local header, unsupported compression, encryption, bad data...
            raise _corrupt(extension) from None


def _read_start(archive, name, limit):
    """Read at most `limit` bytes of one member: never more, whatever the member declares."""
    with archive.open(name) as member:
        return member.read(limit)


def _bomb():
    return UploadRejected(
        "The file looks like a compressed archive bomb (it would expand to far more than "
        "its size) and cannot be accepted. Please save the document again and upload "
        "that copy."
    )


def _check_bomb(entries):
    if len(entries) > MAX_ZIP_ENTRIES:
        raise _bomb()
    if sum(entry.file_size for entry in entries) > MAX_ZIP_TOTAL:
        raise _bomb()
    for entry in entries:
        ratio_limit = MAX_ZIP_RATIO * max(entry.compress_size, 1)
        if entry.file_size > ZIP_RATIO_FLOOR and entry.file_size > ratio_limit:
            raise _bomb()


def _corrupt(extension):
    label = _a(ACCEPTED[extension][1])
    return UploadRejected(
        f"The file appears to be damaged and cannot be read as {label} (.{extension}). "
        "Please check it opens on your computer, save it again and upload that copy."
    )


def _check_text(extension, data):
    label = _a(ACCEPTED[extension][1])
    if b"\x00" in data:
        raise UploadRejected(
            f"The file's content is not {label} (.{extension}): it contains binary data. "
            "If it is text, save it as UTF-8 and try again."
        )
    body = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise UploadRejected(
            f"The file's content is not UTF-8 text, so it cannot be accepted as {label} "
            f"(.{extension}). Save it as UTF-8 (in Excel: “CSV UTF-8”) and try "
            "again."
        ) from None
    lowered = text.lower()
    if lowered.lstrip().startswith(_MARKUP_STARTS) or "<script" in lowered:
        raise UploadRejected(
            "The file looks like a web page, image or script (HTML, SVG, XML or "
            f"JavaScript), not {label} (.{extension}). Save it as PDF and upload that "
            "instead."
        )
