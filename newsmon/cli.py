"""The `newsmon` command line: run cycles, analyse texts, evaluate, inspect the database."""

from __future__ import annotations

import errno
import json
import os
import sys
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from newsmon.settings import ConfigError, load_settings
from newsmon.urls import is_http_url

app = typer.Typer(
    help="newsmon: monitor news feeds for a watched relationship and alert on new meetings.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
err = Console(stderr=True)
out = Console()

ConfigOpt = Annotated[
    Path | None, typer.Option("--config", "-c", help="YAML config file (default config/newsmon.yaml)")
]
DbOpt = Annotated[Path | None, typer.Option("--db", help="DuckDB file (overrides the config)")]
DEFAULT_CONFIG = Path("config/newsmon.yaml")


def _quiet_prefect() -> None:
    """Set Prefect's offline-friendly defaults unless the user set them."""
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DO_NOTHING_TRACK", "1")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")


def _config_path(config: Path | None) -> Path | None:
    """Return the config file to use: the given one, else config/newsmon.yaml if present."""
    if config is not None:
        return config
    return DEFAULT_CONFIG if DEFAULT_CONFIG.exists() else None


_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EFBIG, errno.EDQUOT})
_FULL_WORDS = ("could not write", "no space left", "file too large", "disk quota")


def _write_failure(exc: BaseException) -> str | None:
    """Return the first line of exc when it (or its cause) is a full disk or failed write
    (ENOSPC, EFBIG, EDQUOT, or DuckDB's "Could not write file"), else None."""
    seen: BaseException | None = exc
    while seen is not None:
        text = str(seen).splitlines()[0] if str(seen) else type(seen).__name__
        if isinstance(seen, OSError) and seen.errno in _FULL_ERRNOS:
            return text
        if type(seen).__module__.startswith(("duckdb", "_duckdb")) and any(
            word in text.lower() for word in _FULL_WORDS
        ):
            return text
        seen = seen.__cause__ or seen.__context__
    return None


def _fail(message: str, code: int = 2) -> None:
    """Print an error line and exit with the code."""
    from rich.text import Text

    # Text, not markup: messages quote user input and URLs ("[::1]:8080" is not a style tag);
    # soft_wrap: one logical line stays one line in a log or a pipe, whatever the width.
    err.print(Text.assemble(("error: ", "bold red"), message), soft_wrap=True)
    raise typer.Exit(code)


def _print_summary(summary: dict[str, Any]) -> None:
    """Print a run summary as a table."""
    table = Table(title="newsmon cycle")
    table.add_column("measure")
    table.add_column("value", justify="right")
    for key, value in summary.items():
        if key not in ("feed_errors", "new_events", "feed_problems", "stages"):
            table.add_row(key, str(value))
    out.print(table)
    if summary.get("stages"):
        out.print("stage seconds: " + ", ".join(f"{k} {v}" for k, v in summary["stages"].items()))
    for event in summary.get("new_events", []):
        alert = "alerted" if event["alerted"] else f"no alert: {event['why_not']}"
        out.print(f"[green]new event[/] {event['date']} {event['type']} ({event['status']}) "
                  f"{', '.join(event['participants'])} [{alert}]", highlight=False)
    for problem in summary.get("feed_errors", []):
        out.print(f"[yellow]feed problem[/] {problem['feed']}: {problem['kind']}: {problem['error']}")


@app.command()
def run(
    config: ConfigOpt = None,
    db: DbOpt = None,
    feed: Annotated[
        list[str] | None, typer.Option("--feed", help="Poll this feed URL instead (repeatable)")
    ] = None,
    allow_private_hosts: Annotated[
        bool, typer.Option("--allow-private-hosts", help="Allow loopback/private addresses")
    ] = False,
    json_out: Annotated[bool, typer.Option("--json", help="Print the summary as JSON")] = False,
) -> None:
    """Run one monitoring cycle: poll feeds, fetch, analyse, store, alert."""
    _quiet_prefect()
    for url in feed or []:
        if not is_http_url(url):
            _fail(f"--feed {url!r} is not an http(s) URL with a host; pass a full feed URL "
                  "such as https://example.org/rss.xml")
    try:
        # Pre-flight, before the flow starts: a bad config or watchlist is one error line, not
        # a failed flow run with Prefect's logged traceback above the line.
        from newsmon.watchlist import load_watchlist

        checked = load_settings(_config_path(config), database=str(db) if db else None)
        load_watchlist(checked.watchlist_dir, checked.watchlist)
    except ConfigError as exc:
        _fail(str(exc))
    # Imported only now: Prefect costs seconds to import, and bad input fails before that.
    from flows.monitor import monitor
    from newsmon.store import DatabaseError

    try:
        summary = monitor(
            config=str(_config_path(config)) if _config_path(config) else None,
            db=str(db) if db else None,
            feeds=list(feed) if feed else None,
            allow_private_hosts=True if allow_private_hosts else None,
        )
    except (ConfigError, DatabaseError) as exc:
        _fail(str(exc))
        return
    except Exception as exc:
        reason = _write_failure(exc)
        if reason is None:
            raise  # a bug: the traceback is what a developer needs
        _fail(f"the cycle stopped: it could not write to disk ({reason}). What it committed "
              "before is safe and the next cycle fetches the rest again; free disk space, "
              "then run again", code=1)
        return
    if summary.get("status") == "skipped":
        # Another cycle holds the database: not a failure (exit 0), the message says so.
        print(json.dumps(summary, default=str)) if json_out else out.print(
            summary["reason"], highlight=False)
        return
    if json_out:
        print(json.dumps(summary, default=str))
    else:
        _print_summary(summary)


@app.command()
def demo(
    db: DbOpt = None,
    samples: Annotated[Path, typer.Option(help="Sample folder to serve")] = Path("samples/demo"),
) -> None:
    """Serve the bundled offline sample on loopback and run one real cycle on it."""
    _quiet_prefect()
    from flows.monitor import monitor
    from newsmon.demo import feed_urls, serve_folder

    db = db or Path("data/demo.duckdb")
    if db.exists():
        db.unlink()  # the demo starts fresh so its alerts show every time
    with serve_folder(samples) as base:
        out.print(f"serving {samples} at {base}")
        summary = monitor(
            config="config/demo.yaml", db=str(db), feeds=feed_urls(samples, base),
            allow_private_hosts=True,
        )
    _print_summary(summary)
    from newsmon.store import connect

    con = connect(db, read_only=True)
    try:
        texts = con.execute(
            "SELECT payload->>'text' FROM alerts WHERE channel = 'console' ORDER BY created_at"
        ).fetchall()
    finally:
        con.close()
    for (text,) in texts:
        out.print(f"\n[bold green]ALERT[/]\n{text}")
    out.print(f"database: {db} — try: newsmon query --db {db} 'SELECT * FROM events'")


def _read_jsonl(source: str) -> list[tuple[int, str]]:
    """Return (line number, line) of a JSON-lines file or stdin ('-')."""
    handle = sys.stdin if source == "-" else open(source, encoding="utf-8")  # noqa: SIM115
    try:
        return [(n, line) for n, line in enumerate(handle, 1) if line.strip()]
    finally:
        if handle is not sys.stdin:
            handle.close()


def _load_pipeline(config: Path | None, watchlist: str | None, watchlist_dir: Path | None):  # type: ignore[no-untyped-def]
    """Return (nlp, watchlist, settings) for analysis commands."""
    from newsmon.nlp import build_pipeline, load_nlp
    from newsmon.watchlist import load_watchlist

    settings = load_settings(_config_path(config))
    directory = watchlist_dir or settings.watchlist_dir
    if watchlist and (Path(watchlist).suffix == ".yaml"):
        directory, watchlist = Path(watchlist).parent, Path(watchlist).stem
    wl = load_watchlist(directory, watchlist or settings.watchlist)
    nlp = build_pipeline(load_nlp(settings.nlp.model, settings.nlp.fallback_model), wl)
    return nlp, wl, settings


def analysis_json(analysis: Any) -> dict[str, Any]:
    """Return the public JSON form of an Analysis (the `newsmon analyze` contract)."""
    from newsmon.dates import format_date

    return {
        "id": analysis.id,
        "relevant": analysis.relevant,
        "relevance": analysis.relevance,
        "reason": analysis.reason,
        "actors": [
            {"name": a.name, "country": a.country, "role": a.role, "mentions": a.mentions,
             "inferred": a.inferred}
            for a in analysis.actors
        ],
        "events": [
            {"type": e.type, "status": e.status,
             "date": format_date(e.date, e.date_precision or "day"),
             "date_precision": e.date_precision, "place": e.place,
             "participants": [{"name": p.name, "country": p.side, "role": p.role}
                              for p in e.participants],
             "evidence": e.evidence, "new": e.new}
            for e in analysis.events
        ],
    }


def parse_analysis_line(line: str, number: int) -> Any:
    """Return an AnalysisInput from one JSON line, or raise ValueError naming the problem."""
    from newsmon.analysis import AnalysisInput
    from newsmon.extract import ExtractionRules, extract_article

    try:
        data = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ValueError(
            f"line {number}: not valid JSON ({exc.msg}); write one JSON object per line"
        ) from exc
    if not isinstance(data, dict) or "id" not in data:
        raise ValueError(
            f"line {number}: expected an object with an 'id', e.g. "
            '{"id": "a1", "text": "..."}'
        )
    text = data.get("text")
    title = data.get("title") or ""
    if text is None and data.get("html") is not None:
        article = extract_article(str(data["html"]), data.get("url") or "", ExtractionRules(0))
        text, title = article.text, title or article.title
    if not isinstance(text, str):
        raise ValueError(  # noqa: TRY004 - reported to the user as a bad input line
            f"line {number} (id {data['id']}): needs 'text' or 'html'; add one of them"
        )
    published = None
    if data.get("published"):
        try:
            published = date.fromisoformat(str(data["published"])[:10])
        except ValueError as exc:
            raise ValueError(
                f"line {number} (id {data['id']}): 'published' must be YYYY-MM-DD"
            ) from exc
    return AnalysisInput(str(data["id"]), text, str(title), published, str(data.get("url") or ""))


@app.command()
def analyze(
    source: Annotated[str, typer.Argument(help="JSON-lines file, or - for stdin")],
    config: ConfigOpt = None,
    watchlist: Annotated[str | None, typer.Option(help="Watchlist name or YAML file")] = None,
) -> None:
    """Analyse JSON lines {id, text|html, title?, url?, published?}; print one JSON line each."""
    from newsmon.analysis import AnalysisRules
    from newsmon.analysis import analyze as run_analysis

    try:
        lines = _read_jsonl(source)  # before the model loads: a wrong path fails at once
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        _fail(f"{source}: cannot read it ({reason}); pass a UTF-8 JSON-lines file, or - for "
              "stdin")
        return
    try:
        nlp, wl, settings = _load_pipeline(config, watchlist, None)
    except ConfigError as exc:
        _fail(str(exc))
        return
    rules = AnalysisRules(settings.relevance.threshold, settings.events.new_window_days)
    errors = 0
    for number, line in lines:
        try:
            item = parse_analysis_line(line, number)
        except ValueError as exc:
            print(json.dumps({"id": _line_id(line), "error": str(exc)}))
            errors += 1
            continue
        for analysis in run_analysis(nlp, wl, [item], rules):
            print(json.dumps(analysis_json(analysis), ensure_ascii=False))
    if lines and errors == len(lines):
        # Not one line could be analysed: the whole command failed (wrong file?).
        _fail(f"{source}: none of its {errors} lines could be analysed (see the error lines); "
              'each line must be a JSON object such as {"id": "a1", "text": "..."}', code=1)


def _line_id(line: str) -> Any:
    """Return the id of a JSON line if it has one (for error lines)."""
    try:
        return json.loads(line).get("id")
    except (json.JSONDecodeError, AttributeError):
        return None


@app.command()
def extract(
    source: Annotated[str, typer.Argument(help="HTML file, .html.gz file, or http(s) URL")],
    url: Annotated[str | None, typer.Option(help="Original URL of a saved page")] = None,
    json_out: Annotated[bool, typer.Option("--json")] = False,
    allow_private_hosts: Annotated[bool, typer.Option("--allow-private-hosts")] = False,
) -> None:
    """Print the article extracted from one page, by the same code path as the cycle."""
    import gzip

    from newsmon.charset import decode_html
    from newsmon.extract import ExtractionRules, extract_article
    from newsmon.fetch import FetchLimits, fetch, make_client

    if source.startswith(("http://", "https://")):
        limits = FetchLimits(allow_private_hosts=allow_private_hosts)
        with make_client(limits) as client:
            result = fetch(client, source, limits)
        if result.error_kind:
            _fail(result.error or result.error_kind)
        # The cycle's decoder: BOM, valid UTF-8, the declared charset, then cp1252.
        html = decode_html(result.body, result.headers.get("content-type", ""))
        url = url or result.final_url
    else:
        path = Path(source)
        if not path.exists():
            _fail(f"{source}: no such file")
        raw = path.read_bytes()
        html = decode_html(gzip.decompress(raw) if path.suffix == ".gz" else raw)
    article = extract_article(html, url or source, ExtractionRules())
    data = {
        "url": article.url, "title": article.title, "author": article.author,
        "site": article.site,
        "published": article.published.isoformat() if article.published else None,
        "published_source": article.published_source, "language": article.language,
        "extraction_path": article.extraction_path, "status": article.status,
        "chars": len(article.text), "text": article.text,
    }
    if json_out:
        print(json.dumps(data, ensure_ascii=False))
        return
    for key, value in data.items():
        if key != "text":
            out.print(f"[bold]{key}[/]: {value}")
    out.print()
    out.print(article.text)


@app.command(name="eval")
def evaluate_cmd(
    cases: Annotated[Path, typer.Argument(help="JSON-lines cases with gold labels")],
    config: ConfigOpt = None,
    watchlist: Annotated[str | None, typer.Option(help="Watchlist name or YAML file")] = None,
    report: Annotated[Path | None, typer.Option(help="Write the JSON report here")] = None,
) -> None:
    """Score relevance and meetings against gold labels; list every error."""
    from newsmon.analysis import AnalysisRules
    from newsmon.analysis import analyze as run_analysis
    from newsmon.evaluate import evaluate, format_report, load_cases, report_to_json

    try:
        loaded = load_cases(cases)
    except OSError as exc:
        _fail(f"{cases}: cannot read it ({exc.strerror or exc}); pass a JSON-lines file of "
              "cases (docs/analyze.md)")
        return
    except ValueError as exc:  # CaseError: names the file, the line and what is wrong
        _fail(f"{exc}; fix that line (one JSON case per line: docs/analyze.md)")
        return
    try:
        nlp, wl, settings = _load_pipeline(config, watchlist, None)
    except (ConfigError, ValueError, OSError) as exc:
        _fail(str(exc))
        return
    rules = AnalysisRules(settings.relevance.threshold, settings.events.new_window_days)
    predictions = list(run_analysis(nlp, wl, [c.input for c in loaded], rules))
    result = evaluate(loaded, predictions, wl)
    print(format_report(result))
    if report:
        report.write_text(json.dumps(report_to_json(result), indent=2, default=str))


# --- analyst commands: query, export, report (docs/schema.md) ------------------------------------

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
    from newsmon.store import DatabaseBusy, DatabaseError, connect
    from newsmon.views import open_snapshot, snapshot_dir, snapshot_written_at

    try:
        settings = load_settings(_config_path(config), database=str(db) if db else None)
    except ConfigError as exc:
        _fail(str(exc))
        raise  # unreachable: _fail exits
    folder = snapshot_dir(settings.database)
    if snapshot:
        try:
            con = open_snapshot(folder)
        except FileNotFoundError as exc:
            _fail(str(exc))
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
        _fail(str(exc))
        raise


def _read_sql(sql: str | None, file: Path | None) -> str:
    """Return the SQL to run: from --file (or '-' for stdin), a .sql path, or the argument."""
    if file is not None:
        if str(file) == "-":
            return sys.stdin.read()
        if not file.is_file():
            _fail(f"--file {file}: no such file")
        return file.read_text(encoding="utf-8")
    if sql is None:
        _fail("pass SQL text, a .sql file, or --file FILE")
        raise AssertionError  # unreachable: _fail exits
    if sql.strip().endswith(".sql") and "\n" not in sql and " " not in sql.strip():
        path = Path(sql.strip())
        if not path.is_file():
            _fail(f"{sql}: no such .sql file")
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
        _fail(f"--format {fmt!r}: use one of {', '.join(_QUERY_FORMATS)}")
    if fmt == "parquet" and output is None:
        _fail("--format parquet writes a file: add --output FILE.parquet")
    if fmt == "table" and output is not None:
        _fail("--output needs --format csv, json or parquet")
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
        _fail(f"query failed: {exc}")
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


def _parse_day(value: str | None, option: str) -> date | None:
    """Return a YYYY-MM-DD option as a date (None stays None); exit with a message if invalid."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        _fail(f"{option} {value!r}: use a date as YYYY-MM-DD")
        raise


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
    from newsmon.views import ViewsMissing, export_views

    day = _parse_day(since, "--since")
    con, note = _open_views(config, db, False, wait)
    try:
        written = export_views(con, folder, day)
    except ViewsMissing as exc:
        _fail(str(exc))
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
    config: ConfigOpt = None,
    db: DbOpt = None,
    snapshot: SnapshotOpt = False,
    wait: WaitOpt = 5.0,
) -> None:
    """Write a self-contained HTML report: meetings timeline, latest events, feed health."""
    from datetime import timedelta

    import duckdb

    from newsmon.report import render_report, report_data
    from newsmon.store import utcnow
    from newsmon.views import ViewsMissing, check_views

    now = utcnow()
    day = _parse_day(since, "--since") or (now - timedelta(days=365)).date()
    try:
        from newsmon.watchlist import load_watchlist

        settings = load_settings(_config_path(config))
        title = load_watchlist(settings.watchlist_dir, settings.watchlist).title
    except Exception:  # noqa: BLE001 - the title is cosmetic; the report needs only the views
        title = "newsmon"
    con, note = _open_views(config, db, snapshot, wait)
    try:
        if not snapshot:
            check_views(con)
        data = report_data(con, day, now, title=title, source_note=note, limit=limit)
    except (ViewsMissing, duckdb.Error) as exc:
        _fail(str(exc))
        return
    finally:
        con.close()
    output.write_text(render_report(data), encoding="utf-8")
    out.print(
        f"wrote {output}: {sum(m.total for m in data.months)} meetings charted, "
        f"{len(data.events)} events listed, {len(data.feeds)} feeds", highlight=False,
    )


feeds_app = typer.Typer(
    help="Feed health (default) and feed discovery (feeds add URL).", no_args_is_help=False
)
app.add_typer(feeds_app, name="feeds")
_STATUS_STYLE = {
    "ok": "green", "quiet": "yellow", "failing": "red", "gone": "bold red", "new": "cyan",
}


def _relative(when: Any, now: Any) -> str:
    """Return a time as a short distance from now ('3h ago', 'in 20m'), '-' when None."""
    if when is None:
        return "-"
    seconds = (when - now).total_seconds()
    amount = abs(seconds)
    text = "<1m"
    for unit, size in (("d", 86_400), ("h", 3_600), ("m", 60)):
        if amount >= size:
            text = f"{int(amount // size)}{unit}"
            break
    return f"{text} ago" if seconds < 0 else f"in {text}"


def _error_cell(row: Any, now: Any) -> str:
    """Return the error column of the health table: kind, HTTP code, move, quiet since when."""
    parts: list[str] = []
    if row.status == "quiet":
        parts.append(
            f"no new item since {_relative(row.last_new_item_at, now)}"
            if row.last_new_item_at else "no item since it was added"
        )
    if row.status == "gone":
        parts.append("retired (410 Gone): still checked once a day")
    if row.moved_to:
        parts.append(f"moved permanently -> {row.moved_to} (update the config)")
    if row.last_error_kind:
        kind = row.last_error_kind
        if kind == "http_status" and row.last_status_code:
            kind = f"http_status {row.last_status_code}"
        detail = (row.last_error or "").split(": ", 1)[-1]
        parts.append(f"{kind}: {detail[:120]}" if detail else kind)
    return "\n".join(parts)


@feeds_app.callback(invoke_without_command=True)
def feeds(ctx: typer.Context, config: ConfigOpt = None, db: DbOpt = None) -> None:
    """Print the health of every feed: status, last success, items, failures, next poll, error."""
    if ctx.invoked_subcommand is not None:
        return
    from newsmon.store import DatabaseError, connect, utcnow
    from newsmon.store.repo import feed_health, health_counts

    try:
        settings = load_settings(_config_path(config), database=str(db) if db else None)
        con = connect(settings.database, read_only=True, wait_s=5)
    except (ConfigError, DatabaseError) as exc:
        _fail(str(exc))
        return
    now = utcnow()
    try:
        rows = feed_health(con, now, settings.fetch.quiet_after_days)
    finally:
        con.close()
    table = Table(title=f"feeds ({settings.database})", show_lines=False)
    for column, justify in (("feed", "left"), ("status", "left"), ("last success", "right"),
                            ("items", "right"), ("failures", "right"),
                            ("next poll", "right"), ("error", "left")):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for row in rows:
        style = _STATUS_STYLE.get(row.status, "")
        label = row.name if row.name and row.name != row.url else (row.title or "")
        table.add_row(
            f"{label}\n[dim]{row.url}[/]" if label else row.url,
            f"[{style}]{row.status}[/]" if style else row.status,
            _relative(row.last_success_at, now), str(row.items_total), str(row.failures),
            "next run" if row.next_poll_at is None or row.next_poll_at <= now
            else _relative(row.next_poll_at, now),
            _error_cell(row, now),
        )
    out.print(table)
    counts = health_counts(rows)
    out.print(", ".join(f"{n} {status}" for status, n in counts.items() if n) or "no feeds yet")


@feeds_app.command("add")
def feeds_add(
    url: Annotated[str, typer.Argument(help="A feed URL, or an HTML page that links its feed")],
    config: ConfigOpt = None,
    name: Annotated[str | None, typer.Option(help="Feed name (default: the feed's title)")] = None,
    save: Annotated[
        bool, typer.Option("--save", help="Append the feed to the config file's feeds list")
    ] = False,
    allow_private_hosts: Annotated[
        bool, typer.Option("--allow-private-hosts", help="Allow loopback/private addresses")
    ] = False,
) -> None:
    """Find the feed of a page (or check a feed URL), validate it, print or save its config line."""
    from urllib.parse import urlsplit

    from newsmon.discover import DiscoveryError, add_feed_to_config, discover_feed, yaml_feed_line
    from newsmon.fetch import FetchLimits, make_client

    if not is_http_url(url):
        _fail(f"{url!r} is not an http(s) URL with a host; pass a full page or feed URL such "
              "as https://example.org/")
    try:
        settings = load_settings(_config_path(config))
    except ConfigError as exc:
        _fail(str(exc))
        return
    f = settings.fetch
    limits = FetchLimits(
        connect_timeout_s=f.connect_timeout_s, read_timeout_s=f.read_timeout_s,
        total_timeout_s=f.total_timeout_s, max_bytes=f.max_bytes, max_redirects=f.max_redirects,
        allow_private_hosts=allow_private_hosts or f.allow_private_hosts, user_agent=f.user_agent,
    )
    try:
        with make_client(limits) as client:
            found = discover_feed(client, url, limits)
    except DiscoveryError as exc:
        _fail(str(exc), code=1)
        return
    label = name or found.title or urlsplit(found.url).netloc
    out.print(
        f"found {found.version or 'feed'} [bold]{found.title or found.url}[/] at {found.url} "
        f"({found.items} items)", highlight=False,
    )
    line = yaml_feed_line(label, found.url)
    target = _config_path(config)
    if not save:
        out.print(f"add this line under 'feeds:' in {target or DEFAULT_CONFIG}:", highlight=False)
        print(line)
        return
    if target is None:
        _fail(f"no config file to save to ({DEFAULT_CONFIG} is absent); pass --config FILE")
        return
    try:
        add_feed_to_config(target, label, found.url)
    except ValueError as exc:
        _fail(str(exc), code=1)
        return
    out.print(f"added to {target}: {line.strip()}", highlight=False)


alerts_app = typer.Typer(
    help="The alert outbox: list it, test the channels, re-queue failed alerts.",
    no_args_is_help=False,
)
app.add_typer(alerts_app, name="alerts")
_ALERT_STATUSES = ("pending", "sending", "delivered", "failed")
_STATUS_STYLES = {"failed": "red", "pending": "yellow", "sending": "magenta", "delivered": "green"}


def _alerts_settings(ctx: typer.Context, config: Path | None, db: Path | None) -> Any:
    """Return the settings for an alerts command (options given before the subcommand count)."""
    parent = ctx.obj if isinstance(ctx.obj, dict) else {}
    config = config or parent.get("config")
    db = db or parent.get("db")
    try:
        return load_settings(_config_path(config), database=str(db) if db else None)
    except ConfigError as exc:
        _fail(str(exc))


def _when(value: Any) -> str:
    """Return a timestamp as "2025-12-24 09:14" (UTC), or "" for None."""
    return value.strftime("%Y-%m-%d %H:%M") if value is not None else ""


@alerts_app.callback(invoke_without_command=True)
def alerts(
    ctx: typer.Context,
    config: ConfigOpt = None,
    db: DbOpt = None,
    status: Annotated[
        str | None, typer.Option(help="Only alerts in this status: " + ", ".join(_ALERT_STATUSES))
    ] = None,
    limit: Annotated[int, typer.Option(help="Show at most this many, newest first")] = 100,
    json_out: Annotated[bool, typer.Option("--json", help="One JSON line per alert")] = False,
) -> None:
    """Print the alert outbox: pending, delivered and failed alerts, with reasons."""
    ctx.obj = {"config": config, "db": db}
    if ctx.invoked_subcommand is not None:
        return
    if status is not None and status not in _ALERT_STATUSES:
        _fail(f"--status {status!r}: use one of {', '.join(_ALERT_STATUSES)}")
    from newsmon.store import DatabaseError, connect, schema_version
    from newsmon.store.outbox import list_alerts, status_counts

    settings = _alerts_settings(ctx, None, None)
    try:
        con = connect(settings.database, read_only=True, wait_s=5)
    except DatabaseError as exc:
        _fail(str(exc))
        return
    try:
        if schema_version(con) < 3:
            _fail(f"database {settings.database} predates the outbox; run 'newsmon run' once")
        rows = list_alerts(con, status, limit)
        counts = status_counts(con)
    finally:
        con.close()
    if json_out:
        for r in rows:
            print(json.dumps({
                "id": r.id, "kind": r.kind, "channel": r.channel, "status": r.status,
                "attempts": r.attempts, "reason": r.last_error, "http_status": r.http_status,
                "about": r.about, "created_at": r.created_at, "next_attempt_at": r.next_attempt_at,
                "delivered_at": r.delivered_at, "headline": r.payload.get("text", "")[:200],
            }, default=str, ensure_ascii=False))
        return
    from rich.text import Text

    table = Table(title="alert outbox (newest first, times UTC)")
    for name in ("id", "kind", "channel", "status", "tries", "reason / answer", "HTTP",
                 "event date", "queued", "next try / delivered"):
        table.add_column(name, overflow="fold")
    for r in rows:
        cells = [
            r.id, r.kind, r.channel, r.status, str(r.attempts), r.last_error or "",
            "" if r.http_status is None else str(r.http_status), str(r.about or ""),
            _when(r.created_at),
            _when(r.delivered_at) if r.status == "delivered" else _when(r.next_attempt_at),
        ]
        # Text, not markup: ids hold ":new:" (an emoji code) and reasons "[REDACTED]" (a tag).
        table.add_row(*(Text(c, style=_STATUS_STYLES[c] if i == 3 and c in _STATUS_STYLES else "")
                        for i, c in enumerate(cells)))
    out.print(table)
    out.print(" · ".join(f"{name} {count}" for name, count in counts.items()))
    if counts["failed"]:
        out.print("re-queue a failed alert with: newsmon alerts retry ID")


@alerts_app.command("test")
def alerts_test(
    ctx: typer.Context,
    config: ConfigOpt = None,
    channel: Annotated[
        list[str] | None, typer.Option("--channel", help="Only this channel (repeatable)")
    ] = None,
) -> None:
    """Send one clearly marked test message to each configured channel; report the answers."""
    _quiet_prefect()
    from newsmon.outbox import CHANNELS, AlertPolicy
    from newsmon.watchlist import load_watchlist

    settings = _alerts_settings(ctx, config, None)
    channels = tuple(channel) if channel else AlertPolicy.from_settings(settings.alerts).all_channels()
    unknown = [c for c in channels if c not in CHANNELS]
    if unknown:
        _fail(f"unknown channel {unknown[0]!r}: use {', '.join(CHANNELS)}")
    try:
        title = load_watchlist(settings.watchlist_dir, settings.watchlist).title
    except Exception:  # noqa: BLE001 - the test message only needs a title to show
        title = settings.watchlist
    from tasks.alerts import send_test_alerts

    answers = send_test_alerts(settings, channels, title)
    from rich.text import Text

    table = Table(title="test message per channel")
    for name in ("channel", "answer", "HTTP", "reason"):
        table.add_column(name, overflow="fold")
    for a in answers:
        style = "green" if a.outcome == "delivered" else "red"
        table.add_row(Text(a.channel), Text(a.outcome, style=style),
                      Text("" if a.status is None else str(a.status)), Text(a.reason))
    out.print(table)
    if any(a.outcome != "delivered" for a in answers):
        raise typer.Exit(1)


@alerts_app.command("retry")
def alerts_retry(
    ctx: typer.Context,
    alert_id: Annotated[str, typer.Argument(metavar="ID", help="Alert id from 'newsmon alerts'")],
    config: ConfigOpt = None,
    db: DbOpt = None,
) -> None:
    """Re-queue a failed alert: the next cycle sends it again, with a fresh retry budget."""
    from newsmon.store import DatabaseError, connect
    from newsmon.store.outbox import RetryRefused, requeue

    settings = _alerts_settings(ctx, config, db)
    try:
        con = connect(settings.database, wait_s=30)
    except DatabaseError as exc:
        _fail(str(exc))
        return
    from rich.text import Text

    try:
        row = requeue(con, alert_id)
    except RetryRefused as exc:
        err.print(Text.assemble(("error: ", "bold red"), str(exc)))
        raise typer.Exit(1) from None
    finally:
        con.close()
    out.print(Text(f"re-queued {row.id} (failed: {row.last_error}); the next cycle sends it"))


@app.command(name="eval-extraction")
def eval_extraction(
    folder: Annotated[Path, typer.Argument(help="html/<id>.html.gz + ground-truth.json folder")],
    workers: Annotated[int, typer.Option(help="Worker processes (spawned)")] = 1,
    limit: Annotated[int | None, typer.Option(help="Only the first N pages (by id)")] = None,
    report: Annotated[Path | None, typer.Option(help="Write the JSON report here")] = None,
    baseline: Annotated[
        Path | None, typer.Option(help="Baseline JSON: check its floors (exit 1 if missed)")
    ] = None,
    raise_floors: Annotated[
        bool, typer.Option("--raise-floors", help="Raise the baseline's floors to this run")
    ] = False,
    allow_regression: Annotated[
        bool, typer.Option("--allow-regression", help="With --raise-floors: may lower a floor")
    ] = False,
    reason: Annotated[str | None, typer.Option(help="Why a floor is lowered (recorded)")] = None,
) -> None:
    """Token precision/recall/F1 of our extraction vs plain trafilatura on pages with gold text."""
    from newsmon import extraction_eval as ev

    if raise_floors and baseline is None:
        _fail("--raise-floors needs --baseline FILE")
    try:
        result = ev.evaluate_extraction(folder, workers=max(1, workers), limit=limit)
    except (ValueError, OSError) as exc:
        _fail(str(exc))
        return
    print(ev.format_report(result))
    if report:
        report.write_text(json.dumps(ev.report_to_json(result), indent=2))
    if baseline is None:
        return
    if raise_floors:
        try:
            written = ev.raise_floors(
                baseline, result, allow_regression=allow_regression, reason=reason
            )
        except ev.FloorRegression as exc:
            _fail(str(exc), code=1)
            return
        print(f"floors in {baseline}: {json.dumps(written['floors'])}")
        return
    failures = ev.gate_failures(result, ev.load_baseline(baseline))
    for failure in failures:
        err.print(f"[bold red]gate:[/] {failure}")
    if failures:
        raise typer.Exit(1)
    print(f"gate passed: floors in {baseline} met, F1 at least plain trafilatura's")


@app.command()
def bench(
    feeds: Annotated[int, typer.Option(help="Feeds on the loopback site")] = 200,
    items: Annotated[int, typer.Option(help="Items (pages) per feed")] = 25,
    relevant_share: Annotated[
        float, typer.Option(help="Share of pages naming officials of both sides")
    ] = 0.05,
    latency_ms: Annotated[float, typer.Option(help="Delay of every HTTP answer, ms")] = 0.0,
    warm_cycles: Annotated[
        int, typer.Option(help="Warm cycles (nothing new) after the cold one")
    ] = 1,
    floor: Annotated[
        bool, typer.Option("--floor/--no-floor", help="Measure the floor and the naive order")
    ] = True,
    naive_sample: Annotated[
        int, typer.Option(help="Texts run for the naive figure (the rest scaled by words); 0: all")
    ] = 500,
    pages: Annotated[
        Path | None,
        typer.Option(help="Folder of *.html.gz pages (default: ../shared extraction benchmark)"),
    ] = None,
    config: Annotated[Path | None, typer.Option(help="Config (default config/bench.yaml)")] = None,
    json_path: Annotated[Path | None, typer.Option("--json", help="Write the report here")] = None,
    baseline: Annotated[
        Path | None, typer.Option(help="A zero-latency report of the same size to compare to")
    ] = None,
) -> None:
    """Benchmark cold and warm cycles on a loopback site of N feeds x M pages, against the floor."""
    _quiet_prefect()
    from flows.bench import DEFAULT_CONFIG, DEFAULT_PAGES, BenchOptions, run_bench
    from newsmon.benchsite import BenchDataMissing

    options = BenchOptions(
        feeds=feeds, items=items, relevant_share=relevant_share, latency_ms=latency_ms,
        warm_cycles=warm_cycles, floor=floor, naive_sample=naive_sample,
        pages_dir=pages or DEFAULT_PAGES, config=config or DEFAULT_CONFIG, json_path=json_path,
        baseline=baseline,
    )
    try:
        _report, table = run_bench(options, progress=lambda line: err.print(line))
    except (BenchDataMissing, ConfigError, ValueError) as exc:
        _fail(str(exc))
        return
    print(table)


# serve, backfill, replay: registered on `app` when their module is imported.
from newsmon import cli_ops  # noqa: F401

if __name__ == "__main__":
    app()
