"""Read-side queries of the framework pages: every loaded version of one framework."""

from ..db import db
from .models import Framework


def versions_of(key) -> list:
    """Every loaded version of the framework `key`, newest first."""
    return (
        db.session.execute(
            db.select(Framework).where(Framework.key == key).order_by(Framework.loaded_at.desc())
        )
        .scalars()
        .all()
    )
