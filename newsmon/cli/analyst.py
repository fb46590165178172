"""Analyst commands: query, export, report (docs/schema.md)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from newsmon.cli.common import ConfigOpt, DbOpt, app, config_path, err, fail, out, parse_day
from newsmon.settings import ConfigError, load_settings

# Exit status when the database is busy: EX_TEMPFAIL, "try again later", so scripts can retry.
EXIT_BUSY = 75
BUSY_MESSAGE = (
    "database {db} is busy: a newsmon cycle (or another program) is writing to it, and DuckDB "
    "lets nobody else open the file meanwhile. Cycles hold it for seconds at a time: try again "
    "in a minute, or read the last snapshot, written after every cycle, with --snapshot "
    "({snapshot})."
)
WaitOpt = Annotated[
    float, typer.Option("--wait", help="Seconds to wait for a running cycle to release the file")
]
SnapshotOpt = Annotated[
    bool,
    typer.Option("--snapshot", help="Read the Parquet snapshot beside the database (always "
                 "readable, as of the last cycle) instead of the database"),
]
_QUERY_FORMATS = ("table", "csv", "json", "parquet")


def _open_views(
    config: Path | None, db: Path | None, snapshot: bool, wait: float
) -> tuple[Any, str]:
    """Return a read-only connection to the database (or its snapshot) and a note saying which.

    Exits with EXIT_BUSY and the documented message while another process writes the file.
    """
    from newsmon.analyst.views import open_snapshot, snapshot_dir, snapshot_written_at
    from newsmon.store import DatabaseBusy, DatabaseError, connect

    try:
        settings = load_settings(config_path(config), database=str(db) if db else None)
    except ConfigError as exc:
        fail(str(exc))
        raise  # unreachable: fail exits
    folder = snapshot_dir(settings.database)
    if snapshot:
        try:
            con = open_snapshot(folder)
        except FileNotFoundError as exc:
            fail(str(exc))
            raise
        return con, f"snapshot {folder} of {snapshot_written_at(folder) or 'unknown time'} UTC"
    try:
        return connect(settings.database, read_only=True, wait_s=wait), f"database {settings.database}"
    except DatabaseBusy:
        from rich.text import Text

        # Plain text, unwrapped: the message is documented and scripts may match it.
        err.print(Text("error: ", style="bold red") + Text(
            BUSY_MESSAGE.format(db=settings.database, snapshot=folder)), soft_wrap=True)
        raise typer.Exit(EXIT_BUSY) from None
    except DatabaseError as exc:
        fail(str(exc))
        raise


def _read_sql(sql: str | None, file: Path | None) -> str:
    """Return the SQL to run: from --file (or '-' for stdin), a .sql path, or the argument."""
    if file is not None:
        if str(file) == "-":
            return sys.stdin.read()
        if not file.is_file():
            fail(f"--file {file}: no such file")
        return file.read_text(encoding="utf-8")
    if sql is None:
        fail("pass SQL text, a .sql file, or --file FILE")
        raise AssertionError  # unreachable: fail exits
    if sql.strip().endswith(".sql") and "\n" not in sql and " " not in sql.strip():
        path = Path(sql.strip())
        if not path.is_file():
            fail(f"{sql}: no such .sql file")
        return path.read_text(encoding="utf-8")
    return sql


def _cell(value: Any) -> str:
    """Return a value as table/CSV text: lists joined with '; ', None empty."""
    if value is None:
        return ""
    if isinstance(value, list):
        return "; ".join(_cell(v) for v in value)
    return str(value)


@app.command()
def query(
    sql: Annotated[
        str | None, typer.Argument(help="SQL text, or a path to a .sql file")
    ] = None,
    config: ConfigOpt = None,
    db: DbOpt = None,
    file: Annotated[
        Path | None, typer.Option("--file", "-f", help="Read the SQL from this file (- = stdin)")
    ] = None,
    fmt: Annotated[
        str, typer.Option("--format", help="table, csv, json (one object a line) or parquet")
    ] = "table",
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write the result to this file (needed for parquet)"),
    ] = None,
    snapshot: SnapshotOpt = False,
    wait: WaitOpt = 5.0,
) -> None:
    """Run read-only SQL on the database (or its snapshot) and print or save the result."""
    import duckdb

    if fmt not in _QUERY_FORMATS:
        fail(f"--format {fmt!r}: use one of {', '.join(_QUERY_FORMATS)}")
    if fmt == "parquet" and output is None:
        fail("--format parquet writes a file: add --output FILE.parquet")
    if fmt == "table" and output is not None:
        fail("--output needs --format csv, json or parquet")
    text = _read_sql(sql, file)
    con, _ = _open_views(config, db, snapshot, wait)
    try:
        rel = con.sql(text)
        if rel is None:  # a statement without a result (SET, PRAGMA ...)
            return
        if fmt == "parquet":
            assert output is not None
            rel.write_parquet(str(output))
            out.print(f"wrote {output}", highlight=False)
            return
        columns, rows = list(rel.columns), rel.fetchall()
    except duckdb.Error as exc:  # DuckDB's own message names the bad SQL
        fail(f"query failed: {exc}")
        return
    finally:
        con.close()
    handle = open(output, "w", encoding="utf-8", newline="") if output else sys.stdout  # noqa: SIM115
    try:
        if fmt == "json":
            for row in rows:
                handle.write(json.dumps(dict(zip(columns, row, strict=True)), default=str,
                                        ensure_ascii=False) + "\n")
        elif fmt == "csv":
            import csv

            writer = csv.writer(handle)
            writer.writerow(columns)
            writer.writerows([_cell(v) for v in row] for row in rows)
        else:
            table = Table(*columns)
            for row in rows:
                table.add_row(*(_cell(v) for v in row))
            out.print(table)
    finally:
        if handle is not sys.stdout:
            handle.close()


@app.command()
def export(
    folder: Annotated[Path, typer.Argument(help="Folder to write <view>.parquet files into")],
    since: Annotated[
        str | None, typer.Option(help="Only rows dated on or after this day (YYYY-MM-DD)")
    ] = None,
    config: ConfigOpt = None,
    db: DbOpt = None,
    wait: WaitOpt = 5.0,
) -> None:
    """Write the analyst views as Parquet files (meetings, relevant_articles, ...) into a folder."""
    from newsmon.analyst.views import ViewsMissing, export_views

    day = parse_day(since, "--since")
    con, note = _open_views(config, db, False, wait)
    try:
        written = export_views(con, folder, day)
    except ViewsMissing as exc:
        fail(str(exc))
        return
    finally:
        con.close()
    table = Table(title=f"export of {note}" + (f" since {day}" if day else ""))
    table.add_column("view")
    table.add_column("rows", justify="right")
    table.add_column("file")
    for w in written:
        table.add_row(w.view, str(w.rows), str(w.path))
    out.print(table)
    out.print(f"open them with: duckdb -init {folder / 'views.sql'}", highlight=False)


@app.command()
def report(
    since: Annotated[
        str | None, typer.Option(help="First day shown (YYYY-MM-DD; default: a year ago)")
    ] = None,
    output: Annotated[
        Path, typer.Option("--output", "-o", help="HTML file to write")
    ] = Path("newsmon-report.html"),
    limit: Annotated[int, typer.Option(help="Latest events listed")] = 50,
    kind: Annotated[
        list[str] | None,
        typer.Option(help="Only events of this kind (repeatable): state, parliament, party, "
                     "opposition, armed_group, civic, former"),
    ] = None,
    config: ConfigOpt = None,
    db: DbOpt = None,
    snapshot: SnapshotOpt = False,
    wait: WaitOpt = 5.0,
) -> None:
    """Write a self-contained HTML report: meetings timeline, latest events, feed health."""
    from datetime import timedelta

    import duckdb

    from newsmon.models import KINDS

    unknown = [k for k in kind or () if k not in KINDS]
    if unknown:
        fail(f"--kind {unknown[0]!r} is not a kind; use one of {', '.join(KINDS)}")

    from newsmon.analyst.report import render_report, report_data
    from newsmon.analyst.views import ViewsMissing, check_views
    from newsmon.store import utcnow

    now = utcnow()
    day = parse_day(since, "--since") or (now - timedelta(days=365)).date()
    try:
        from newsmon.analysis.watchlist import load_watchlist

        settings = load_settings(config_path(config))
        title = load_watchlist(settings.watchlist_dir, settings.watchlist).title
    except Exception:  # noqa: BLE001 - the title is cosmetic; the report needs only the views
        title = "newsmon"
    con, note = _open_views(config, db, snapshot, wait)
    try:
        if not snapshot:
            check_views(con)
        data = report_data(con, day, now, title=title, source_note=note, limit=limit,
                           kinds=tuple(kind or ()))
    except (ViewsMissing, duckdb.Error) as exc:
        fail(str(exc))
        return
    finally:
        con.close()
    output.write_text(render_report(data), encoding="utf-8")
    out.print(
        f"wrote {output}: {sum(m.total for m in data.months)} meetings charted, "
        f"{len(data.events)} events listed, {len(data.feeds)} feeds", highlight=False,
    )
