"""Engine and session factory for one database URL."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any, cast

from sqlalchemy import CursorResult, Result, create_engine, event
from sqlalchemy.engine import Connection, Engine, ExceptionContext
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker


def rowcount(result: Result[Any]) -> int:
    """Rows an UPDATE or DELETE changed (``execute`` is typed as returning a plain Result)."""
    return cast(CursorResult[Any], result).rowcount


def _normalise(url: str) -> str:
    # psycopg 3 is the driver we ship; plain postgresql:// would ask for psycopg2.
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


class Database:
    """A SQLAlchemy engine plus a ``session()`` context manager that commits or rolls back."""

    def __init__(self, url: str) -> None:
        self.url = _normalise(url)
        self.engine: Engine = self._engine(pool_size=10, max_overflow=20)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        # Connections that stay in autocommit, for single statements: a lone read or a single-row write is
        # one round trip instead of three (psycopg sends BEGIN on its own, then the statement, then COMMIT),
        # and one statement is atomic by itself. A pool of its own: switching a pooled connection's
        # isolation level back and forth costs round trips of its own.
        self._single_engine: Engine = self._engine(pool_size=10, max_overflow=20, isolation_level="AUTOCOMMIT")
        self._single = sessionmaker(self._single_engine, expire_on_commit=False)
        if self.url.rstrip("/").endswith(("sqlite:", ":memory:")):  # a second engine would see another empty database
            self._single = self._sessions
        elif not self.is_sqlite:
            # A lost server drops the connections of both pools: the pool that meets it first empties itself
            # (SQLAlchemy invalidates a pool on a disconnect), and the other one with it, so the next statement
            # there gets a new connection instead of failing once more on a dead one.
            event.listen(self.engine, "handle_error", self._on_error)
            event.listen(self._single_engine, "handle_error", self._on_error)

    def _engine(self, *, pool_size: int, max_overflow: int, **options) -> Engine:
        kwargs: dict = dict(options)
        if self.url.startswith("sqlite"):
            path = self.url.split("///", 1)[-1]
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            # Worker threads share the file; wait for the writer instead of failing.
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
        else:
            kwargs.update(pool_size=pool_size, max_overflow=max_overflow)
        engine = create_engine(self.url, **kwargs)
        if self.url.startswith("sqlite"):
            event.listen(engine, "connect", _sqlite_pragmas)
        else:
            event.listen(engine.pool, "checkout", _ping_if_idle)
            event.listen(engine.pool, "checkin", _mark_used)
        return engine

    @property
    def is_sqlite(self) -> bool:
        return self.url.startswith("sqlite")

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self._sessions() as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    @contextmanager
    def single(self) -> Iterator[Session]:
        """A session for ONE statement (a read, or a single-row insert or update): each statement commits on its own."""
        with self._single() as session:
            yield session
            session.flush()  # an added row is sent here (it commits by itself: no BEGIN was sent)

    @contextmanager
    def reader(self) -> Iterator[Connection]:
        """A Core connection for reads, in autocommit as ``single``'s (each statement on its own), without a Session's
        bookkeeping: for the hot read paths (the API's polled GETs), a fraction of the ORM's CPU per statement."""
        engine = self.engine if self._single is self._sessions else self._single_engine
        with engine.connect() as connection:
            yield connection

    def prefill(self, count: int) -> None:
        """Open ``count`` connections of each pool now: each is a PostgreSQL backend started, several ms, which the
        first requests of a burst would otherwise wait for one after another."""
        if self.is_sqlite:
            return
        for engine in (self.engine, self._single_engine):
            with ExitStack() as held:
                for _ in range(count):
                    held.enter_context(engine.connect())

    def dispose(self) -> None:
        self.engine.dispose()
        self._single_engine.dispose()

    def _on_error(self, context: ExceptionContext) -> None:
        if context.is_disconnect:
            for engine in (self.engine, self._single_engine):
                if engine is not context.engine:
                    engine.pool.dispose()  # connections checked out now are discarded when they come back


#: a pooled connection unused this long is pinged before use (seconds)
PING_AFTER_IDLE_S = 5.0


def _ping_if_idle(dbapi_connection, record, proxy) -> None:
    # pool_pre_ping would add a round trip to every checkout (~a quarter of a busy worker's round trips);
    # a connection in steady use has just proved itself, so only one that sat idle is pinged.
    if time.monotonic() - record.info.get("used_at", 0.0) < PING_AFTER_IDLE_S:
        return
    try:
        cursor = dbapi_connection.cursor()
        cursor.execute("SELECT 1")
        cursor.close()
        dbapi_connection.rollback()
    except Exception as exc:
        raise DisconnectionError(f"stale pooled connection: {exc}") from exc  # the pool retries with a new one


def _mark_used(dbapi_connection, record) -> None:
    record.info["used_at"] = time.monotonic()


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # readers don't block the writer
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()
