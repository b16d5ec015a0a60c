"""The evidence file types accepted (by extension), and UploadRejected, the error for a refused upload."""

from ..transactions import DomainError


class UploadRejected(DomainError):
    """The file cannot be accepted; str(exc) is a clear message for the user (no internals)."""


_WORD = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
_EXCEL = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_POWERPOINT = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
_ODT = "application/vnd.oasis.opendocument.text"
_ODS = "application/vnd.oasis.opendocument.spreadsheet"


#: extension -> (content type, human label)
ACCEPTED = {
    "pdf": ("application/pdf", "PDF"),
    "docx": (_WORD, "Word document"),
    "xlsx": (_EXCEL, "Excel spreadsheet"),
    "pptx": (_POWERPOINT, "PowerPoint presentation"),
    "doc": ("application/msword", "Word document"),
    "xls": ("application/vnd.ms-excel", "Excel spreadsheet"),
    "ppt": ("application/vnd.ms-powerpoint", "PowerPoint presentation"),
    "odt": (_ODT, "OpenDocument text document"),
    "ods": (_ODS, "OpenDocument spreadsheet"),
    "png": ("image/png", "PNG image"),
    "jpg": ("image/jpeg", "JPEG image"),
    "jpeg": ("image/jpeg", "JPEG image"),
    "gif": ("image/gif", "GIF image"),
    "webp": ("image/webp", "WebP image"),
    "txt": ("text/plain", "plain text file"),
    "csv": ("text/csv", "CSV file"),
    "md": ("text/markdown", "Markdown text file"),
}


def describe_accepted() -> str:
    return "PDF, Word, Excel, PowerPoint, OpenDocument, images (PNG, JPEG, GIF, WebP) or plain text"
