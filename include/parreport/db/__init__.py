"""The store's schema under Alembic: ``parreport db upgrade`` creates or upgrades it.

The Alembic environment ships inside the package (``parreport/db/migrations/``: ``env.py``,
``script.py.mako``, ``versions/``), found through :mod:`importlib.resources`, so an installed
wheel migrates its store with no checkout and no ``alembic.ini``. The version is kept in the table
``parreport_alembic_version`` (not Alembic's default ``alembic_version``, which Airflow's own
metadata database already uses), so the store may share a PostgreSQL database with Airflow.

- :func:`upgrade` creates a new store or brings an existing one to the newest revision. A store
  made before migrations existed (every table created by ``create_all``, no version table) is
  adopted by the baseline revision: the tables it has are checked and kept with every row, the
  missing ones created.
- :func:`require_head` is what :class:`parreport.store.Store` calls when it opens a store: one
  that is not at the newest revision raises :class:`StoreNotReady`, in Vietnamese, naming the
  command to run.
- :func:`new_revision` writes a new revision file next to the others (for maintainers; see
  ``docs/README.md``).
"""
from __future__ import annotations

import functools
import tempfile
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, event, inspect, text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import OperationalError, ProgrammingError

VERSION_TABLE = "parreport_alembic_version"
UPGRADE_COMMAND = "parreport db upgrade"

__all__ = ["VERSION_TABLE", "StoreNotReady", "UpgradeResult", "alembic_config", "current_revision", "head_revision",
           "new_revision", "require_head", "upgrade", "safe_url"]


class StoreNotReady(RuntimeError):
    """The store does not exist yet or is not at the revision this code expects."""


@dataclass(frozen=True)
class UpgradeResult:
    before: str | None  # the revision the store was at (None: new, or made before migrations)
    after: str
    adopted: tuple[str, ...] = ()  # the store's tables a pre-migration store already had, kept as they were

    @property
    def changed(self) -> bool:
        return self.before != self.after


def script_location() -> str:
    return str(files("parreport.db") / "migrations")


def alembic_config(url: str | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", script_location())
    cfg.set_main_option("file_template", "%%(rev)s_%%(slug)s")  # versions/0002_add_x.py
    if url is not None:
        cfg.attributes["url"] = url  # not through set_main_option: a '%' in a password would be interpolated
    return cfg


@functools.lru_cache(maxsize=1)
def head_revision() -> str:
    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    if len(heads) != 1:
        raise RuntimeError(f"the store's migrations have {len(heads)} heads {heads}: merge them "
                           "(alembic merge) before releasing")
    return heads[0]


def safe_url(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def _engine(url: str, create_dir: bool = False) -> Engine:
    u = make_url(url)
    if u.get_backend_name() != "sqlite":
        return create_engine(url)  # PostgreSQL: DDL is transactional already
    if u.database and u.database != ":memory:" and create_dir:
        Path(u.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url)

    # pysqlite commits before every DDL statement; take over BEGIN so that an upgrade that fails
    # half-way leaves the SQLite store exactly as it was (SQLAlchemy's documented recipe).
    @event.listens_for(engine, "connect")
    def _no_implicit_transactions(dbapi_connection, _record):
        dbapi_connection.isolation_level = None

    @event.listens_for(engine, "begin")
    def _begin(conn):
        conn.exec_driver_sql("BEGIN")

    return engine


def current_revision(conn: Connection) -> str | None:
    return MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE}).get_current_revision()


def _create_postgres_database(url: str) -> bool:
    """Create the PostgreSQL database the URL names when the server does not have it yet.

    Asked through the server's ``postgres`` database; a role that may not read it (or create a
    database) changes nothing here, and the upgrade then says what is missing."""
    u = make_url(url)
    if u.get_backend_name() != "postgresql" or not u.database or u.database == "postgres":
        return False
    admin = create_engine(u.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            if conn.execute(text("select 1 from pg_database where datname = :n"), {"n": u.database}).first():
                return False
            conn.execute(text(f"create database {admin.dialect.identifier_preparer.quote(u.database)}"))
            return True
    except (OperationalError, ProgrammingError):
        return False
    finally:
        admin.dispose()


def upgrade(url: str, revision: str = "head") -> UpgradeResult:
    """Create the store at ``url`` (a SQLite file, a PostgreSQL database) or upgrade it to
    ``revision``; keeps every row it holds."""
    from ..store import metadata

    _create_postgres_database(url)
    engine = _engine(url, create_dir=True)
    try:
        with engine.begin() as conn:
            before = current_revision(conn)
            existing = tuple(sorted(set(inspect(conn).get_table_names()) & set(metadata.tables))) if before is None else ()
            cfg = alembic_config(url)
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
            after = current_revision(conn)
    finally:
        engine.dispose()
    return UpgradeResult(before, after or "", existing)


def require_head(engine: Engine) -> None:
    """Raise :class:`StoreNotReady` unless the store behind ``engine`` is at the newest revision."""
    where = engine.url.render_as_string(hide_password=True)
    db = engine.url.database
    if engine.url.get_backend_name() == "sqlite" and db and db != ":memory:" and not Path(db).exists():
        raise StoreNotReady(f"Chưa có kho dữ liệu của báo cáo tại {where}. Tạo kho bằng lệnh: {UPGRADE_COMMAND} "
                            "(cùng PARREPORT_STORE_URL / AIRFLOW_HOME với pipeline).")
    head = head_revision()
    with engine.connect() as conn:  # one query, no Alembic context (it logs at every opening)
        current = (conn.execute(text(f"select version_num from {VERSION_TABLE}")).scalar()
                   if inspect(conn).has_table(VERSION_TABLE) else None)
    if current == head:
        return
    if current is None:
        raise StoreNotReady(f"Kho dữ liệu của báo cáo tại {where} chưa được tạo hoặc được tạo trước khi có quản lý "
                            f"phiên bản lược đồ. Chạy: {UPGRADE_COMMAND} (giữ nguyên mọi dữ liệu đã có).")
    known = {s.revision for s in ScriptDirectory.from_config(alembic_config()).walk_revisions()}
    if current not in known:
        raise StoreNotReady(f"Kho dữ liệu của báo cáo tại {where} ở phiên bản lược đồ {current}, mới hơn mã nguồn "
                            f"này (phiên bản {head}): hãy cài phiên bản parreport mới hơn, không hạ cấp kho.")
    raise StoreNotReady(f"Kho dữ liệu của báo cáo tại {where} ở phiên bản lược đồ {current}, cũ hơn phiên bản mã "
                        f"nguồn cần ({head}). Chạy: {UPGRADE_COMMAND} (giữ nguyên mọi dữ liệu đã có).")


def _next_rev_id() -> str:
    head = head_revision()
    return f"{int(head) + 1:04d}" if head.isdigit() else None  # 0001, 0002, ... in file-name order


def new_revision(message: str, autogenerate: bool = True) -> list[str]:
    """Write a new revision file into ``migrations/versions`` (a maintainer's command).

    With ``autogenerate`` its operations are the difference between ``store.metadata`` and a
    scratch SQLite store upgraded to the current head; read and edit it before committing.
    """
    cfg = alembic_config()
    with tempfile.TemporaryDirectory(prefix="parreport-revision-") as tmp:
        url = f"sqlite:///{tmp}/scratch.db"
        upgrade(url)
        engine = _engine(url)
        try:
            with engine.begin() as conn:
                cfg.attributes["connection"] = conn
                scripts = command.revision(cfg, message=message, autogenerate=autogenerate,
                                           rev_id=_next_rev_id())
        finally:
            engine.dispose()
    scripts = scripts if isinstance(scripts, list) else [scripts]
    head_revision.cache_clear()
    return [s.path for s in scripts if s is not None]
