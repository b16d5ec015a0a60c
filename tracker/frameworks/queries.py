"""Read-side queries of the framework pages: every loaded version of one framework; the duties it shares
with other frameworks (`same_as`), both ways."""

from ..db import db
from .models import Framework, Requirement


def versions_of(key) -> list:
    """Every loaded version of the framework `key`, newest first."""
    return (
        db.session.execute(
            db.select(Framework).where(Framework.key == key).order_by(Framework.loaded_at.desc())
        )
        .scalars()
        .all()
    )


def _latest_ids() -> dict:
    """{framework key: id of its newest version}."""
    rows = db.session.execute(db.select(Framework.key, Framework.id).order_by(Framework.loaded_at)).all()
    return {key: fw_id for key, fw_id in rows}


def shared_duties(framework) -> tuple[dict, dict]:
    """({same_as: (target framework, target requirement)} for this version's references, {requirement key:
    [(referencing framework, referencing requirement)]} from the newest versions of the other frameworks)."""
    latest = _latest_ids()
    wanted = {r.same_as_parts for r in framework.requirements if r.same_as}
    targets = {}
    if wanted:
        rows = db.session.execute(
            db.select(Framework, Requirement)
            .join(Requirement, Requirement.framework_id == Framework.id)
            .where(Framework.id.in_([latest[k] for k, _ in wanted if k in latest]))
        ).all()
        for fw, req in rows:
            if (fw.key, req.key) in wanted:
                targets[f"{fw.key}/{req.key}"] = (fw, req)
    back = {}
    rows = db.session.execute(
        db.select(Framework, Requirement)
        .join(Requirement, Requirement.framework_id == Framework.id)
        .where(
            Framework.id.in_([i for k, i in latest.items() if k != framework.key]),
            Requirement.same_as.like(f"{framework.key}/%"),
        )
        .order_by(Framework.title, Requirement.position)
    ).all()
    for fw, req in rows:
        back.setdefault(req.same_as_parts[1], []).append((fw, req))
    return targets, back
