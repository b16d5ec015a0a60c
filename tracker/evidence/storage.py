"""Evidence files on disk, outside the web root: root/<school id hex>/<32 hex characters>.

The user's file name is never used on disk: each file gets a generated name (uuid4 hex), and path() only
accepts names of that exact form, so a stored name from anywhere cannot reach outside the school's folder.
Files are written atomically (a temporary file in the same folder, then os.replace), readable by the owner
only.
"""

import os
import tempfile
import uuid
from pathlib import Path

from .checks import CheckedFile

_HEX = frozenset("0123456789abcdef")
_DIR_MODE = 0o700
_FILE_MODE = 0o600


class EvidenceStore:
    def __init__(self, root: str | Path):
        self.root = Path(root)

    def save(self, school_id: uuid.UUID, checked: CheckedFile) -> str:
        """Write the checked file's bytes; return its generated stored name."""
        folder = self._folder(school_id)
        _make_private_dir(self.root)
        _make_private_dir(folder)
        stored_name = uuid.uuid4().hex
        fd, temp = tempfile.mkstemp(dir=folder, prefix=".upload-", suffix=".tmp")  # created with mode 0o600
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(checked.data)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(temp, _FILE_MODE)
            os.replace(temp, folder / stored_name)
        except BaseException:
            try:
                os.unlink(temp)
            except FileNotFoundError:
                pass
            raise
        _fsync_dir(folder)
        return stored_name

    def path(self, school_id: uuid.UUID, stored_name: str) -> Path:
        """The file's path; ValueError unless stored_name is exactly 32 lower-case hex characters."""
        if not (isinstance(stored_name, str) and len(stored_name) == 32 and set(stored_name) <= _HEX):
            raise ValueError("not a stored evidence file name")
        return self._folder(school_id) / stored_name

    def delete(self, school_id: uuid.UUID, stored_name: str) -> None:
        """Remove the file; nothing happens if it is already gone."""
        self.path(school_id, stored_name).unlink(missing_ok=True)

    def _folder(self, school_id):
        # uuid.UUID() accepts a UUID (or its text) and refuses anything else, so .hex is always 32 hex digits
        return self.root / uuid.UUID(str(school_id)).hex


def _make_private_dir(folder):
    try:
        folder.mkdir(mode=_DIR_MODE, parents=True)
    except FileExistsError:
        return
    os.chmod(folder, _DIR_MODE)  # mkdir's mode is reduced by the umask; make it exactly owner-only


def _fsync_dir(folder):
    """Make the rename durable; not every platform can open a directory, and that is not an error."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
