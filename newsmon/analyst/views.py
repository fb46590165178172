"""The analyst views as files: Parquet exports, the snapshot written after each cycle, reading it.

DuckDB lets one process write a file and nobody else open it meanwhile, so an analyst querying
the live database can be refused (or, holding it open, delay the hourly cycle). The Parquet
snapshot beside the database is the always-readable alternative; `newsmon export` writes the same
files for a date range. See docs/schema.md.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import duckdb

from newsmon.store import head_version, schema_version, utcnow

# The stable views of migration 0005, in the order they are written and listed.
VIEWS = ("meetings", "relevant_articles", "actor_mentions", "feed_health")
FIRST_VIEWS_VERSION = 5
MANIFEST = "snapshot.json"
VIEWS_SQL = "views.sql"

# Which rows a `--since DATE` export keeps, per view (the parameter is the date).
_SINCE = {
    # Events dated on or after the day; undated ones by when newsmon first stored them.
    "meetings": "event_date >= $1 OR (event_date IS NULL AND first_seen_at >= $1)",
    # Articles published on or after the day (first seen, when the page gave no date).
    "relevant_articles": "coalesce(published_at, first_seen_at) >= $1",
    "actor_mentions": "article_id IN (SELECT id FROM articles "
                      "WHERE coalesce(published_at, first_seen_at) >= $1)",
    # Feed health is a current state: every feed, whatever the date.
    "feed_health": "TRUE",
}


class ViewsMissing(Exception):
    """The database predates the analyst views (schema < 5)."""


@dataclass(frozen=True)
class Written:
    """One Parquet file written: its view, path and row count."""

    view: str
    path: Path
    rows: int


def snapshot_dir(db_path: Path) -> Path:
    """Return the snapshot folder of a database: `<db stem>-snapshot/` beside the file."""
    return db_path.parent / f"{db_path.stem}-snapshot"


def check_views(con: duckdb.DuckDBPyConnection) -> None:
    """Raise ViewsMissing when the database has no analyst views yet."""
    version = schema_version(con)
    if version < FIRST_VIEWS_VERSION:
        raise ViewsMissing(
            f"database schema version {version} predates the analyst views (version "
            f"{FIRST_VIEWS_VERSION}, this newsmon writes {head_version()}); the next "
            "'newsmon run' migrates it"
        )


def _sql_string(text: str) -> str:
    """Return text as a quoted SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def export_views(
    con: duckdb.DuckDBPyConnection,
    folder: Path,
    since: date | None = None,
    *,
    now: datetime | None = None,
) -> list[Written]:
    """Write one Parquet file per view (rows since a date, or all) into folder; return them."""
    check_views(con)
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Written] = []
    for view in VIEWS:
        target = folder / f"{view}.parquet"
        # Written beside, then renamed: a reader of the folder sees the old file or the new
        # one, never half a file (os.replace is atomic on one filesystem).
        partial = folder / f".{view}.parquet.partial"
        where = _SINCE[view] if since is not None else "TRUE"
        query = f"SELECT * FROM {view} WHERE {where}"
        params = [since] if "$1" in where else []
        con.execute(
            f"COPY ({query}) TO {_sql_string(str(partial))} (FORMAT parquet)", params
        ).fetchall()
        # The row count from the file's footer: no second run of the query.
        counted = con.execute(
            f"SELECT count(*) FROM read_parquet({_sql_string(str(partial))})"
        ).fetchall()
        os.replace(partial, target)
        written.append(Written(view, target, int(counted[0][0])))
    _write_sidecars(con, folder, written, since, now or utcnow())
    return written


def _write_sidecars(
    con: duckdb.DuckDBPyConnection,
    folder: Path,
    written: list[Written],
    since: date | None,
    now: datetime,
) -> None:
    """Write the manifest (what, when, how many rows) and a DuckDB script naming the files."""
    manifest = {
        "written_at_utc": now.isoformat(timespec="seconds"),
        "schema_version": schema_version(con),
        "since": since.isoformat() if since else None,
        "rows": {w.view: w.rows for w in written},
    }
    _replace_text(folder / MANIFEST, json.dumps(manifest, indent=2) + "\n")
    # `duckdb -init <folder>/views.sql` gives the same view names over the files, so queries
    # written for the live database run unchanged on the snapshot.
    lines = [f"-- newsmon analyst views as of {manifest['written_at_utc']} UTC"]
    lines += [
        f"CREATE OR REPLACE VIEW {w.view} AS "
        f"SELECT * FROM read_parquet({_sql_string(str(w.path.resolve()))});"
        for w in written
    ]
    _replace_text(folder / VIEWS_SQL, "\n".join(lines) + "\n")


def _replace_text(path: Path, text: str) -> None:
    """Write a small text file atomically (beside, then renamed)."""
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)


def open_snapshot(folder: Path) -> duckdb.DuckDBPyConnection:
    """Return an in-memory connection whose views read a snapshot (or export) folder."""
    missing = [v for v in VIEWS if not (folder / f"{v}.parquet").exists()]
    if missing:
        raise FileNotFoundError(
            f"no snapshot in {folder} (missing {', '.join(missing)}.parquet): it is written "
            "after each cycle, or run 'newsmon export DIR'"
        )
    con = duckdb.connect(":memory:")
    for view in VIEWS:
        path = _sql_string(str((folder / f"{view}.parquet").resolve()))
        con.execute(f"CREATE VIEW {view} AS SELECT * FROM read_parquet({path})")
    return con


def snapshot_written_at(folder: Path) -> str | None:
    """Return when a snapshot was written (ISO, UTC) from its manifest, or None if unknown."""
    try:
        return str(json.loads((folder / MANIFEST).read_text(encoding="utf-8"))["written_at_utc"])
    except (OSError, ValueError, KeyError):
        return None
