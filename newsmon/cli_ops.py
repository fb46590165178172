"""Operations commands of the `newsmon` CLI: serve on a schedule, backfill, replay.

Registered on the app by newsmon/cli.py; Prefect is imported only inside the commands.
"""

from __future__ import annotations

import json
import os
from datetime import date
from typing import Annotated, Any

import typer
from rich.table import Table

from newsmon.cli import (
    ConfigOpt,
    DbOpt,
    _config_path,
    _fail,
    _print_summary,
    _quiet_prefect,
    app,
    err,
    out,
)
from newsmon.settings import ConfigError, load_settings

SinceOpt = Annotated[str, typer.Option("--since", help="First day, YYYY-MM-DD (UTC)")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the summary as JSON")]


def _day(value: str | None, option: str) -> date | None:
    """Return a YYYY-MM-DD option as a date (None stays None); exit 2 naming the option."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        _fail(f"{option} {value!r} is not a date; use YYYY-MM-DD")
    return None


def print_skipped(summary: dict[str, Any], json_out: bool) -> bool:
    """Print a skipped run's message; return True if the run was skipped (exit 0 follows)."""
    if summary.get("status") != "skipped":
        return False
    if json_out:
        print(json.dumps(summary, default=str))
    else:
        out.print(summary["reason"], highlight=False)
    return True


@app.command()
def serve(
    config: ConfigOpt = None,
    db: DbOpt = None,
    cron: Annotated[
        str | None, typer.Option(help="Cron schedule (default: schedule.cron, '0 * * * *')")
    ] = None,
    timezone: Annotated[
        str | None, typer.Option(help="Time zone of the cron (default: schedule.timezone)")
    ] = None,
    interval_seconds: Annotated[
        float | None, typer.Option("--interval-seconds", help="Run every N seconds instead")
    ] = None,
    name: Annotated[str, typer.Option(help="Deployment name")] = "newsmon-hourly",
) -> None:
    """Run the monitor flow on a schedule until stopped (Ctrl-C / SIGTERM), through Prefect.

    Uses the Prefect server at PREFECT_API_URL; when none is set, starts `prefect server start`
    itself and stops it on exit.
    """
    _quiet_prefect()
    os.environ["PREFECT_LOGGING_LEVEL"] = os.environ.get("NEWSMON_SERVE_LOG_LEVEL", "INFO")
    if cron and interval_seconds:
        _fail("give --cron or --interval-seconds, not both")
    if interval_seconds is not None and interval_seconds <= 0:
        _fail("--interval-seconds must be positive")
    config_path = _config_path(config)
    try:
        base = load_settings(config_path, database=str(db) if db else None)
        schedule = {**base.schedule.model_dump(),
                    **{k: v for k, v in (("cron", cron), ("timezone", timezone)) if v}}
        settings = load_settings(config_path, database=str(db) if db else None,
                                 schedule=schedule)
    except ConfigError as exc:
        _fail(str(exc))
        return
    from flows.serve import ServerError, prefect_server, raise_on_sigterm, serve_monitor

    # Absolute paths: the flow runs in child processes that may start elsewhere.
    parameters = {
        "config": str(config_path.resolve()) if config_path else None,
        "db": str(settings.database.resolve()),
    }
    when = (f"every {interval_seconds:g} s" if interval_seconds
            else f"cron '{settings.schedule.cron}' ({settings.schedule.timezone})")
    raise_on_sigterm()
    try:
        with prefect_server(lambda line: err.print(line, highlight=False)):
            err.print(f"serving flow 'monitor' as deployment '{name}', {when}, one run at a "
                      f"time, database {parameters['db']}", highlight=False)
            serve_monitor(parameters, cron=settings.schedule.cron,
                          timezone=settings.schedule.timezone, interval_s=interval_seconds,
                          name=name)
    except ServerError as exc:
        _fail(str(exc), code=1)
    except KeyboardInterrupt:
        err.print("newsmon serve stopped")


@app.command()
def backfill(
    since: SinceOpt,
    config: ConfigOpt = None,
    db: DbOpt = None,
    feed: Annotated[
        list[str] | None, typer.Option("--feed", help="Only this feed URL (repeatable)")
    ] = None,
    send: Annotated[
        bool, typer.Option("--send", help="Queue and send alerts for what it finds")
    ] = False,
    allow_private_hosts: Annotated[
        bool, typer.Option("--allow-private-hosts", help="Allow loopback/private addresses")
    ] = False,
    json_out: JsonOpt = False,
) -> None:
    """Re-poll every feed now (ignoring its schedule and cache headers) and take the items
    published since DATE; events found are stored, alerts only with --send."""
    _quiet_prefect()
    day = _day(since, "--since")
    from flows.monitor import monitor
    from newsmon.store import DatabaseError

    try:
        summary = monitor(
            config=str(_config_path(config)) if _config_path(config) else None,
            db=str(db) if db else None, feeds=list(feed) if feed else None,
            allow_private_hosts=True if allow_private_hosts else None,
            since=day.isoformat() if day else None, queue_alerts=send, send_alerts=send,
        )
    except (ConfigError, DatabaseError) as exc:
        _fail(str(exc))
        return
    if print_skipped(summary, json_out):
        return
    if json_out:
        print(json.dumps(summary, default=str))
        return
    _print_summary(summary)
    if not send:
        out.print("backfill without --send: events stored, no alert queued or sent")


@app.command()
def replay(
    since: SinceOpt,
    until: Annotated[
        str | None, typer.Option("--until", help="Last day, YYYY-MM-DD (default: today)")
    ] = None,
    config: ConfigOpt = None,
    db: DbOpt = None,
    send: Annotated[
        bool, typer.Option("--send", help="Store the result and send the new alerts (once)")
    ] = False,
    nlp_only: Annotated[
        bool, typer.Option("--nlp-only", help="Keep the stored texts; re-run NLP only")
    ] = False,
    json_out: JsonOpt = False,
) -> None:
    """Re-run extraction and NLP over the archived pages fetched in a date range and print the
    alert diff (new, changed, gone events); a dry run unless --send."""
    _quiet_prefect()
    first, last = _day(since, "--since"), _day(until, "--until")
    if first and last and last < first:
        _fail("--until is before --since")
    from flows.replay import diff_markdown
    from flows.replay import replay as replay_flow
    from newsmon.store import DatabaseError

    try:
        summary = replay_flow(since=first.isoformat() if first else since,
                              until=last.isoformat() if last else None,
                              config=str(_config_path(config)) if _config_path(config) else None,
                              db=str(db) if db else None, send=send, nlp_only=nlp_only)
    except (ConfigError, DatabaseError, FileNotFoundError) as exc:
        _fail(str(exc))
        return
    if print_skipped(summary, json_out):
        return
    if json_out:
        print(json.dumps(summary, default=str))
        return
    out.print(diff_markdown(summary), highlight=False, markup=False)
    table = Table(title="replay")
    table.add_column("measure")
    table.add_column("value", justify="right")
    for key, value in summary.items():
        if not isinstance(value, dict | list):
            table.add_row(key, str(value))
    out.print(table)
