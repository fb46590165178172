"""Migrations and storage on a real DuckDB file."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from newsmon.store import (
    DatabaseBusy,
    DatabaseError,
    connect,
    head_version,
    migrate,
    schema_version,
)


def test_empty_database_migrates_to_head_once(tmp_path: Path) -> None:
    con = connect(tmp_path / "a.duckdb")
    assert migrate(con) == list(range(1, head_version() + 1))
    assert migrate(con) == []
    assert schema_version(con) == head_version()
    tables = {
        r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()
    }
    assert {"feeds", "items", "pages", "articles", "mentions", "events", "event_participants",
            "event_articles", "alerts", "runs", "schema_migrations"} <= tables
    con.close()


def test_database_newer_than_the_code_is_refused(tmp_path: Path) -> None:
    con = connect(tmp_path / "b.duckdb")
    migrate(con)
    con.execute("INSERT INTO schema_migrations VALUES (999, 'future', now())")
    with pytest.raises(DatabaseError, match="newer than this newsmon"):
        migrate(con)
    con.close()


def test_a_failed_migration_leaves_no_trace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from newsmon import store

    broken = [(1, "init", "CREATE TABLE t (x INTEGER); CREATE TABLE t (x INTEGER);")]
    monkeypatch.setattr(store, "migrations", lambda: broken)
    con = connect(tmp_path / "c.duckdb")
    with pytest.raises(duckdb.Error):
        migrate(con)
    assert schema_version(con) == 0
    assert not con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 't'"
    ).fetchone()[0]
    con.close()


def test_a_held_lock_gives_a_clear_busy_error(tmp_path: Path) -> None:
    import subprocess
    import sys
    import time

    path = tmp_path / "d.duckdb"
    connect(path).close()
    holder = subprocess.Popen(
        [sys.executable, "-c",
         (f"import duckdb,time; c=duckdb.connect({str(path)!r}); print('held', flush=True); "
          "time.sleep(30)")],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        started = time.monotonic()
        with pytest.raises(DatabaseBusy, match="in use by another process"):
            connect(path, wait_s=1.0)
        assert time.monotonic() - started < 10
    finally:
        holder.kill()
        holder.wait()
