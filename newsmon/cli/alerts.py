"""Alert commands: the outbox, `alerts test`, `alerts retry ID` (docs/alerts.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from newsmon.cli.common import ConfigOpt, DbOpt, config_path, err, fail, out, quiet_prefect
from newsmon.settings import ConfigError, load_settings

alerts_app = typer.Typer(
    help="The alert outbox: list it, test the channels, re-queue failed alerts.",
    no_args_is_help=False,
)
_ALERT_STATUSES = ("pending", "sending", "delivered", "failed")
_STATUS_STYLES = {"failed": "red", "pending": "yellow", "sending": "magenta", "delivered": "green"}


def _alerts_settings(ctx: typer.Context, config: Path | None, db: Path | None) -> Any:
    """Return the settings for an alerts command (options given before the subcommand count)."""
    parent = ctx.obj if isinstance(ctx.obj, dict) else {}
    config = config or parent.get("config")
    db = db or parent.get("db")
    try:
        return load_settings(config_path(config), database=str(db) if db else None)
    except ConfigError as exc:
        fail(str(exc))


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
        fail(f"--status {status!r}: use one of {', '.join(_ALERT_STATUSES)}")
    from newsmon.alerts.outbox import list_alerts, status_counts
    from newsmon.store import DatabaseError, connect, schema_version

    settings = _alerts_settings(ctx, None, None)
    try:
        con = connect(settings.database, read_only=True, wait_s=5)
    except DatabaseError as exc:
        fail(str(exc))
        return
    try:
        if schema_version(con) < 3:
            fail(f"database {settings.database} predates the outbox; run 'newsmon run' once")
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
    """Send one clearly marked test message to each channel: by default every configured one
    and every one whose secret is set; report the answers and which the cycle uses."""
    quiet_prefect()
    from newsmon.alerts.policy import CHANNELS, AlertPolicy, idle_channel_warnings
    from newsmon.analysis.watchlist import load_watchlist

    settings = _alerts_settings(ctx, config, None)
    enabled = AlertPolicy.from_settings(settings.alerts).all_channels()
    secrets = settings.secret_sources()
    # A channel with a secret is tested even when the config leaves it out: that is the
    # mistake this command must show, not hide behind a green console line.
    channels = tuple(channel) if channel else tuple(dict.fromkeys((*enabled, *secrets)))
    for warning in idle_channel_warnings(enabled, secrets):
        out.print(Text.assemble(("warning: ", "bold yellow"), warning), soft_wrap=True)
    unknown = [c for c in channels if c not in CHANNELS]
    if unknown:
        fail(f"unknown channel {unknown[0]!r}: use {', '.join(CHANNELS)}")
    try:
        title = load_watchlist(settings.watchlist_dir, settings.watchlist).title
    except Exception:  # noqa: BLE001 - the test message only needs a title to show
        title = settings.watchlist
    from tasks.alerts import send_test_alerts

    answers = send_test_alerts(settings, channels, title)
    table = Table(title="test message per channel")
    for name in ("channel", "answer", "HTTP", "used by the cycle", "reason"):
        table.add_column(name, overflow="fold")
    for a in answers:
        style = "green" if a.outcome == "delivered" else "red"
        used = "yes" if a.channel in enabled else "no: not in alerts.channels"
        table.add_row(Text(a.channel), Text(a.outcome, style=style),
                      Text("" if a.status is None else str(a.status)), Text(used), Text(a.reason))
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
    from newsmon.alerts.outbox import RetryRefused, requeue
    from newsmon.store import DatabaseError, connect

    settings = _alerts_settings(ctx, config, db)
    try:
        con = connect(settings.database, wait_s=30)
    except DatabaseError as exc:
        fail(str(exc))
        return

    try:
        row = requeue(con, alert_id)
    except RetryRefused as exc:
        err.print(Text.assemble(("error: ", "bold red"), str(exc)))
        raise typer.Exit(1) from None
    finally:
        con.close()
    out.print(Text(f"re-queued {row.id} (failed: {row.last_error}); the next cycle sends it"))
