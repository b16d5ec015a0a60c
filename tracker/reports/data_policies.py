"""The data of the accreditation report's read-and-sign section: for each document's current version, who in
its audience acknowledged it (when, how) and who has not."""

from ..policies import services as policies
from .data_common import _d


def policies_summary(school) -> list[dict]:
    out = []
    for cov in policies.coverage(school):
        v = cov.version
        out.append(
            {
                "title": cov.document.title,
                "kind": cov.document.kind_label,
                "version": v.label,
                "sha256": v.sha256,
                "material": v.material,
                "published_on": _d(v.published_at.date()),
                "deadline": _d(v.deadline),
                "total": cov.total,
                "done": len(cov.done),
                "missing": len(cov.missing),
                "overdue": len(cov.overdue),
                "percent": cov.percent,
                "people": [
                    {
                        "name": e.reader.name,
                        "what": e.reader.what,
                        "signed_on": _d(e.ack.signed_on) if e.ack else None,
                        "method": e.ack.method if e.ack else None,
                        "version": e.ack.version.label if e.ack else None,
                        "due_on": _d(e.due_on),
                        "overdue": e.overdue,
                    }
                    for e in cov.entries
                ],
            }
        )
    return out
