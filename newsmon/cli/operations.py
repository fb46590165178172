"""Operations commands: serve on a schedule, backfill, replay, bench.

Prefect is imported only inside the commands."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from newsmon.cli.common import (
    ConfigOpt,
    DbOpt,
    app,
    config_path,
    err,
    fail,
    out,
    parse_day,
    print_skipped,
    print_summary,
    quiet_prefect,
)
from newsmon.settings import ConfigError, load_settings


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
    quiet_prefect()
    from flows.bench import DEFAULT_CONFIG, DEFAULT_PAGES, BenchOptions, run_bench
    from newsmon.bench.site import BenchDataMissing

    options = BenchOptions(
        feeds=feeds, items=items, relevant_share=relevant_share, latency_ms=latency_ms,
        warm_cycles=warm_cycles, floor=floor, naive_sample=naive_sample,
        pages_dir=pages or DEFAULT_PAGES, config=config or DEFAULT_CONFIG, json_path=json_path,
        baseline=baseline,
    )
    try:
        _report, table = run_bench(options, progress=lambda line: err.print(line))
    except (BenchDataMissing, ConfigError, ValueError) as exc:
        fail(str(exc))
        return
    print(table)


SinceOpt = Annotated[str, typer.Option("--since", help="First day, YYYY-MM-DD (UTC)")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the summary as JSON")]


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
    quiet_prefect()
    os.environ["PREFECT_LOGGING_LEVEL"] = os.environ.get("NEWSMON_SERVE_LOG_LEVEL", "INFO")
    if cron and interval_seconds:
        fail("give --cron or --interval-seconds, not both")
    if interval_seconds is not None and interval_seconds <= 0:
        fail("--interval-seconds must be positive")
    config_file = config_path(config)
    try:
        base = load_settings(config_file, database=str(db) if db else None)
        schedule = {**base.schedule.model_dump(),
                    **{k: v for k, v in (("cron", cron), ("timezone", timezone)) if v}}
        settings = load_settings(config_file, database=str(db) if db else None,
                                 schedule=schedule)
    except ConfigError as exc:
        fail(str(exc))
        return
    from flows.serve import ServerError, prefect_server, raise_on_sigterm, serve_monitor

    # Absolute paths: the flow runs in child processes that may start elsewhere.
    parameters = {
        "config": str(config_file.resolve()) if config_file else None,
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
        fail(str(exc), code=1)
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
    quiet_prefect()
    day = parse_day(since, "--since")
    from flows.monitor import monitor
    from newsmon.store import DatabaseError

    try:
        summary = monitor(
            config=str(config_path(config)) if config_path(config) else None,
            db=str(db) if db else None, feeds=list(feed) if feed else None,
            allow_private_hosts=True if allow_private_hosts else None,
            since=day.isoformat() if day else None, queue_alerts=send, send_alerts=send,
        )
    except (ConfigError, DatabaseError) as exc:
        fail(str(exc))
        return
    if print_skipped(summary, json_out):
        return
    if json_out:
        print(json.dumps(summary, default=str))
        return
    print_summary(summary)
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
    quiet_prefect()
    first, last = parse_day(since, "--since"), parse_day(until, "--until")
    if first and last and last < first:
        fail("--until is before --since")
    from flows.replay import diff_markdown
    from flows.replay import replay as replay_flow
    from newsmon.store import DatabaseError

    try:
        summary = replay_flow(since=first.isoformat() if first else since,
                              until=last.isoformat() if last else None,
                              config=str(config_path(config)) if config_path(config) else None,
                              db=str(db) if db else None, send=send, nlp_only=nlp_only)
    except (ConfigError, DatabaseError, FileNotFoundError) as exc:
        fail(str(exc))
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


_OUTCOME_STYLE = {"ok": "green", "warn": "yellow", "fail": "bold red"}


@app.command()
def check(
    config: ConfigOpt = None,
    db: DbOpt = None,
    no_network: Annotated[bool, typer.Option(
        "--no-network", help="Skip the feeds, the alert channels and Prefect")] = False,
    send_test: Annotated[bool, typer.Option(
        "--send-test", help="POST one [TEST] message to Slack too")] = False,
) -> None:
    """Check the install before the first hourly run: one line per check with the fix; exit
    1 only when a check fails."""
    quiet_prefect()
    from rich.text import Text

    from newsmon.cycle.check import FAIL, run_checks

    def slack_test(channel: str) -> tuple[str, str]:
        """Send the [TEST] message to one channel; return its outcome and reason."""
        from tasks.alerts import send_test_alerts

        settings = load_settings(config_path(config))
        [answer] = send_test_alerts(settings, (channel,), settings.watchlist)
        return answer.outcome, answer.reason

    failed = False
    for result in run_checks(config_path(config), db, network=not no_network,
                             send_test=slack_test if send_test else None):
        failed = failed or result.outcome == FAIL
        line = Text.assemble((f"{result.outcome:<4}", _OUTCOME_STYLE[result.outcome]),
                             f" {result.name}: {result.detail}")
        if result.fix:
            line.append(f" -> {result.fix}", style="dim")
        out.print(line, soft_wrap=True)
    if failed:
        raise typer.Exit(1)
