"""DuckDB storage: connection with lock retry, and numbered migrations run at start-up."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

import duckdb

MIGRATION_FILE = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
# DuckDB's own default is 80 % of RAM, and a writer's connection keeps what it touched while it
# checkpoints the file on close: at 5,000 pages a cycle peaked ~350 MB above its working set
# there, ~130 MB with this cap (issue 10, docs/performance.md). Past it, DuckDB evicts or spills.
WRITER_MEMORY_LIMIT = "256MB"


class DatabaseError(Exception):
    """The database cannot be used; the message says why and what to do."""


class DatabaseBusy(DatabaseError):
    """Another process holds the DuckDB file."""


def utcnow() -> datetime:
    """Return the current time as naive UTC (the storage convention)."""
    return datetime.now(UTC).replace(tzinfo=None)


def migrations() -> list[tuple[int, str, str]]:
    """Return (version, name, sql) of every migration shipped with the code, in order."""
    folder = resources.files("newsmon.store") / "migrations"
    found = []
    for entry in folder.iterdir():
        match = MIGRATION_FILE.match(entry.name)
        if match:
            found.append((int(match.group(1)), match.group(2), entry.read_text(encoding="utf-8")))
    return sorted(found)


def head_version() -> int:
    """Return the schema version this code writes."""
    return migrations()[-1][0]


def connect(
    path: Path,
    *,
    read_only: bool = False,
    wait_s: float = 30.0,
    sleep: Callable[[float], None] = time.sleep,
) -> duckdb.DuckDBPyConnection:
    """Return a connection, retrying with backoff while another process holds the file lock."""
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    elif not path.exists():
        raise DatabaseError(f"database {path} does not exist yet; run 'newsmon run' first")
    deadline = time.monotonic() + wait_s
    delay = 0.2
    while True:
        try:
            con = duckdb.connect(str(path), read_only=read_only)
            if not read_only:
                con.execute(f"SET memory_limit = '{WRITER_MEMORY_LIMIT}'")
            return con
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower():
                raise DatabaseError(f"cannot open database {path}: {exc}") from exc
            if time.monotonic() >= deadline:
                raise DatabaseBusy(
                    f"database {path} is in use by another process (a running cycle or an open "
                    f"analyst session); waited {wait_s:.0f} s. Close the other session or read "
                    "the Parquet snapshot instead, then try again."
                ) from exc
            sleep(delay)
            delay = min(delay * 2, 2.0)


def schema_version(con: duckdb.DuckDBPyConnection) -> int:
    """Return the database's schema version (0 for an empty database)."""
    exists = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_migrations'"
    ).fetchone()
    if not exists or not exists[0]:
        return 0
    row = con.execute("SELECT max(version) FROM schema_migrations").fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def migrate(
    con: duckdb.DuckDBPyConnection, before_commit: Callable[[int], None] | None = None
) -> list[int]:
    """Apply the pending migrations, each with its record in one transaction; return them.

    before_commit(version), if given, runs inside each migration's transaction just before
    COMMIT: the fault suite kills the process there (a crash in the middle of a migration).
    """
    current = schema_version(con)
    head = head_version()
    if current > head:
        raise DatabaseError(
            f"database schema version {current} is newer than this newsmon ({head}); "
            "upgrade newsmon instead of opening the database with an older version"
        )
    con.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations "
        "(version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMP NOT NULL)"
    )
    applied: list[int] = []
    for version, name, sql in migrations():
        if version <= current:
            continue
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(sql)
            con.execute(
                "INSERT INTO schema_migrations VALUES (?, ?, ?)", [version, name, utcnow()]
            )
            if before_commit is not None:
                before_commit(version)
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
        applied.append(version)
    return applied
