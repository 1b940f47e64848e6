"""The store: SQLAlchemy over a SQLite file in the data directory, or PostgreSQL by URL."""

from __future__ import annotations

from sqlalchemy import Engine, create_engine, event

from patrol.datadir import data_dir

DEFAULT_DB_NAME = "gridpatrol.db"


def default_url() -> str:
    return f"sqlite:///{data_dir() / DEFAULT_DB_NAME}"


def open_engine(url: str | None = None, **options: object) -> Engine:
    """An engine for ``url`` (default: the SQLite file in the data directory). SQLite runs in
    WAL mode so that a console, a runner and an agent can share one file. ``options`` go to
    SQLAlchemy's create_engine (e.g. a pool size for a server)."""
    engine = create_engine(url or default_url(), **options)
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

    return engine
