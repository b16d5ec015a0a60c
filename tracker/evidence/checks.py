"""Upload checks for evidence files: check_upload (a safe name, an accepted type, content truly of that type).

Nothing here trusts the file name or the browser's content type: the type is decided from the bytes (magic
numbers, the inside of ZIP containers, UTF-8 text: content_checks.py), and the name is only kept as a
display/download name. The accepted types and UploadRejected (file_types.py) are re-exported here.
"""

import hashlib
import unicodedata
from dataclasses import dataclass, field

from .content_checks import _check_content
from .file_types import ACCEPTED, UploadRejected, describe_accepted

__all__ = ["ACCEPTED", "MAX_NAME_CHARS", "CheckedFile", "UploadRejected", "check_upload", "describe_accepted"]


@dataclass(frozen=True)
class CheckedFile:
    name: str  # safe display/download name, e.g. "Policy 2026.pdf"
    extension: str  # lower-case, e.g. "pdf"
    content_type: str  # the type detected from the CONTENT, e.g. "application/pdf"
    size: int
    sha256: str  # hex
    data: bytes = field(repr=False)  # kept out of repr so a traceback or log line never dumps the file


MAX_NAME_CHARS = 200

# Invisible characters that can make a name display differently from what it is (e.g. "gpj.exe" shown as
# "exe.jpg"). Other format characters (such as the zero-width non-joiner used in Persian) are allowed.
_BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufeff")


def check_upload(filename: str | None, data: bytes, max_bytes: int) -> CheckedFile:
    """Check one uploaded file: return a CheckedFile, or raise UploadRejected with a message for people."""
    name = _check_name(filename)
    extension = _check_extension(name)
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError("check_upload() needs the file's bytes")
    data = bytes(data)
    if not data:
        raise UploadRejected("The file is empty. Choose the file again, or check it opens on your computer.")
    if len(data) > max_bytes:
        raise UploadRejected(
            f"The file is too large: the limit is {_megabytes(max_bytes)} per file. "
            "Make the file smaller (for example save it as PDF, or compress its images) "
            "and try again."
        )
    _check_content(extension, data)
    return CheckedFile(
        name=name,
        extension=extension,
        content_type=ACCEPTED[extension][0],
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        data=data,
    )


# --- the name -----------------------------------------------------------------------------------------------


def _check_name(filename):
    if filename is None or not isinstance(filename, str):
        raise UploadRejected("Choose a file to upload.")
    name = unicodedata.normalize("NFC", filename).strip()
    if not name:
        raise UploadRejected("Choose a file to upload.")
    if any(_is_hidden(ch) for ch in name):
        raise UploadRejected(
            "The file name contains a hidden or control character. Please rename the file and try again."
        )
    if "/" in name or "\\" in name or ".." in name.replace("\\", "/").split("/"):
        raise UploadRejected(
            "The file name must not include a folder path (“/”, “\\” or “..”). "
            "Please rename the file and try again."
        )
    if name.startswith("."):
        raise UploadRejected("The file name must not start with a dot. Please rename the file and try again.")
    if len(name) > MAX_NAME_CHARS:
        raise UploadRejected(
            f"The file name is too long (more than {MAX_NAME_CHARS} characters). "
            "Please rename the file and try again."
        )
    return name


def _is_hidden(ch):
    category = unicodedata.category(ch)
    return category in ("Cc", "Cs", "Zl", "Zp") or ch in _BIDI_CONTROLS


def _check_extension(name):
    stem, dot, extension = name.rpartition(".")
    extension = extension.lower()
    if not dot or not stem.strip() or extension not in ACCEPTED:
        shown = f"“.{extension[:20]}” files" if dot and extension else "Files without a type (such as .pdf)"
        raise UploadRejected(f"{shown} cannot be uploaded. Accepted: {describe_accepted()}.")
    return extension


def _megabytes(n):
    if n < 1024 * 1024:
        return f"{max(n, 0) // 1024} KB" if n >= 1024 else f"{max(n, 0)} bytes"
    mb = n / (1024 * 1024)
    return f"{mb:.0f} MB" if mb == int(mb) else f"{mb:.1f} MB"
