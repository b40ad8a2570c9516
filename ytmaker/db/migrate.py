"""Schema migrations with Alembic: ``ytmaker db upgrade`` and the automatic upgrade in ``make``.

Several processes may start at once on a fresh database (workers booting
together, three ``ytmaker make`` on one data dir), so the upgrade runs under
a lock: PostgreSQL's advisory lock, held for the transaction, or an
exclusive lock on a file next to the SQLite database. The first holder
creates the schema; the others then find it at head and do nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config

from ytmaker.db.session import Database

MIGRATIONS = Path(__file__).parent / "migrations"
#: PostgreSQL advisory lock key of schema changes
ADVISORY_LOCK = 74657937


def alembic_config(db: Database) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = db.engine
    return config


def upgrade(db: Database, revision: str = "head") -> None:
    """Create or migrate the schema to ``revision``; safe to run any number of times, from several processes at once."""
    with _file_lock(db), db.engine.connect() as connection, _sqlite_foreign_keys_off(db, connection), connection.begin():
        if not db.is_sqlite:  # two workers starting at once must not both run the DDL
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({ADVISORY_LOCK})")
        config = alembic_config(db)
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


@contextmanager
def _sqlite_foreign_keys_off(db: Database, connection) -> Iterator[None]:
    """SQLite without foreign-key enforcement while the schema changes.

    SQLite alters most of a table by copying it and dropping the old one; with
    enforcement on, dropping ``projects`` deletes every row that cascades from
    it (scripts, assets, publications). The pragma is a no-op inside a
    transaction, so it is set before the migration's transaction begins.
    """
    if not db.is_sqlite:
        yield
        return
    connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
    connection.commit()
    try:
        yield
    finally:
        connection.exec_driver_sql("PRAGMA foreign_keys=ON")
        connection.commit()


@contextmanager
def _file_lock(db: Database) -> Iterator[None]:
    """An exclusive lock on ``<database file>.migrate.lock`` (SQLite files only; POSIX flock)."""
    path = db.url.split("///", 1)[-1] if db.is_sqlite else ""
    if not path or path == ":memory:" or "?" in path:
        yield
        return
    try:
        import fcntl
    except ImportError:  # Windows: SQLite's own busy wait is all there is
        yield
        return
    lock = Path(path + ".migrate.lock")
    lock.parent.mkdir(parents=True, exist_ok=True)
    with open(lock, "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
