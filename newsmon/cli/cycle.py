"""Cycle commands: `newsmon run` (one monitoring cycle) and `newsmon demo`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from newsmon.cli.common import (
    ConfigOpt,
    DbOpt,
    app,
    config_path,
    fail,
    out,
    print_skipped,
    print_summary,
    quiet_prefect,
    write_failure,
)
from newsmon.settings import ConfigError, load_settings
from newsmon.urls import is_http_url


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
    quiet_prefect()
    for url in feed or []:
        if not is_http_url(url):
            fail(f"--feed {url!r} is not an http(s) URL with a host; pass a full feed URL "
                  "such as https://example.org/rss.xml")
    try:
        # Pre-flight, before the flow starts: a bad config or watchlist is one error line, not
        # a failed flow run with Prefect's logged traceback above the line.
        from newsmon.analysis.watchlist import load_watchlist

        checked = load_settings(config_path(config), database=str(db) if db else None)
        load_watchlist(checked.watchlist_dir, checked.watchlist)
    except ConfigError as exc:
        fail(str(exc))
    # Imported only now: Prefect costs seconds to import, and bad input fails before that.
    from flows.monitor import monitor
    from newsmon.store import DatabaseError

    try:
        summary = monitor(
            config=str(config_path(config)) if config_path(config) else None,
            db=str(db) if db else None,
            feeds=list(feed) if feed else None,
            allow_private_hosts=True if allow_private_hosts else None,
        )
    except (ConfigError, DatabaseError) as exc:
        fail(str(exc))
        return
    except Exception as exc:
        reason = write_failure(exc)
        if reason is None:
            raise  # a bug: the traceback is what a developer needs
        fail(f"the cycle stopped: it could not write to disk ({reason}). What it committed "
              "before is safe and the next cycle fetches the rest again; free disk space, "
              "then run again", code=1)
        return
    if print_skipped(summary, json_out):
        return  # another cycle holds the database: not a failure (exit 0), the message says so
    if json_out:
        print(json.dumps(summary, default=str))
    else:
        print_summary(summary)


@app.command()
def demo(
    db: DbOpt = None,
    samples: Annotated[Path, typer.Option(help="Sample folder to serve")] = Path("samples/demo"),
) -> None:
    """Serve the bundled offline sample on loopback and run one real cycle on it."""
    quiet_prefect()
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
    print_summary(summary)
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
