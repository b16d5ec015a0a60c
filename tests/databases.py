"""Scratch PostgreSQL databases derived from the test database's URL (a live server's, a worker's, a process
test's)."""

import sqlalchemy as sa


def _admin(url):
    return sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")


def fresh_postgres(url: str, suffix: str) -> str:
    """Drop and create the database `<name><suffix>` beside the one `url` names; return its URL."""
    base = sa.engine.make_url(url)
    mine = base.set(database=f"{base.database}{suffix}")
    admin = _admin(base)
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{mine.database}" WITH (FORCE)')
        conn.exec_driver_sql(f'CREATE DATABASE "{mine.database}"')
    admin.dispose()
    return mine.render_as_string(hide_password=False)


def drop_postgres(url: str) -> None:
    """Drop the database `url` names, disconnecting whoever is still on it."""
    target = sa.engine.make_url(url)
    admin = _admin(target)
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)')
    admin.dispose()
