"""Alembic environment of the pipeline's store (run by parreport.db, never by hand).

The connection comes from ``config.attributes["connection"]`` (parreport.db opens it, inside
one transaction) or, failing that, from the URL in ``config.attributes["url"]`` /
``PARREPORT_STORE_URL`` via the pipeline's settings. The target metadata is
``parreport.store.metadata``, so ``parreport db revision --autogenerate`` compares the newest
revision with what store/tables.py declares.
"""
from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from parreport.db import VERSION_TABLE
from parreport.store import metadata

config = context.config


def _configure(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        version_table=VERSION_TABLE,
        # SQLite cannot ALTER most things: autogenerate writes batch operations (copy and move),
        # which PostgreSQL runs as plain ALTER TABLE.
        render_as_batch=True,
        compare_type=True,
    )


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    url = config.attributes.get("url")
    if url is None:
        from parreport.config import load_settings

        url = load_settings().store_url
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            _configure(conn)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():  # pragma: no cover - SQL scripts are not how this store is migrated
    raise SystemExit("parreport: offline (--sql) migrations are not supported; run `parreport db upgrade`")
run_migrations_online()
