"""Where library documents are kept on disk.

A school's copies are kept in the school's own evidence folder (TRACKER_EVIDENCE_DIR/<school id hex>/), so
they go with the school's other files. The installation's copies of shared resources belong to no school: they
are kept in TRACKER_EVIDENCE_DIR/installation/library/, a folder whose name can never be a school's (those are
32 hex digits). Both use the evidence store: generated names, atomic writes, owner-only permissions.
"""

import uuid
from pathlib import Path

from flask import current_app

from ..evidence.storage import EvidenceStore

INSTALLATION_FOLDER = ("installation", "library")


class InstallationStore(EvidenceStore):
    """The evidence store with one folder for the whole installation (the school id is ignored)."""

    def __init__(self, evidence_root: str | Path):
        super().__init__(Path(evidence_root).joinpath(*INSTALLATION_FOLDER))
        self.evidence_root = Path(evidence_root)

    def save(self, school_id, checked):
        _private(self.evidence_root)
        _private(self.evidence_root / INSTALLATION_FOLDER[0])
        return super().save(uuid.UUID(int=0), checked)

    def _folder(self, school_id):
        return self.root


def _private(folder: Path):
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)


def installation_store() -> InstallationStore:
    return InstallationStore(current_app.config["TRACKER_EVIDENCE_DIR"])


def school_store() -> EvidenceStore:
    return EvidenceStore(current_app.config["TRACKER_EVIDENCE_DIR"])


def store_for(row) -> EvidenceStore:
    return school_store() if row.school_id else installation_store()


def path_of(row) -> Path:
    """The file of a stored row (ValueError for a name that is not a stored file name)."""
    return store_for(row).path(row.school_id or uuid.UUID(int=0), row.stored_name)
