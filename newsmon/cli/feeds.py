"""Feed commands: the health table (`newsmon feeds`) and discovery (`feeds add URL`)."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from newsmon.cli.common import DEFAULT_CONFIG, ConfigOpt, DbOpt, config_path, fail, out
from newsmon.settings import ConfigError, load_settings
from newsmon.urls import is_http_url

feeds_app = typer.Typer(
    help="Feed health (default) and feed discovery (feeds add URL).", no_args_is_help=False
)
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
        settings = load_settings(config_path(config), database=str(db) if db else None)
        con = connect(settings.database, read_only=True, wait_s=5)
    except (ConfigError, DatabaseError) as exc:
        fail(str(exc))
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

    from newsmon.sources.discover import (
        DiscoveryError,
        add_feed_to_config,
        discover_feed,
        yaml_feed_line,
    )
    from newsmon.sources.fetch import FetchLimits, make_client

    if not is_http_url(url):
        fail(f"{url!r} is not an http(s) URL with a host; pass a full page or feed URL such "
              "as https://example.org/")
    try:
        settings = load_settings(config_path(config))
    except ConfigError as exc:
        fail(str(exc))
        return
    f = settings.fetch
    limits = FetchLimits.from_settings(f, allow_private_hosts)
    try:
        with make_client(limits) as client:
            found = discover_feed(client, url, limits)
    except DiscoveryError as exc:
        fail(str(exc), code=1)
        return
    label = name or found.title or urlsplit(found.url).netloc
    out.print(
        f"found {found.version or 'feed'} [bold]{found.title or found.url}[/] at {found.url} "
        f"({found.items} items)", highlight=False,
    )
    line = yaml_feed_line(label, found.url)
    target = config_path(config)
    if not save:
        out.print(f"add this line under 'feeds:' in {target or DEFAULT_CONFIG}:", highlight=False)
        print(line)
        return
    if target is None:
        fail(f"no config file to save to ({DEFAULT_CONFIG} is absent); pass --config FILE")
        return
    try:
        add_feed_to_config(target, label, found.url)
    except ValueError as exc:
        fail(str(exc), code=1)
        return
    out.print(f"added to {target}: {line.strip()}", highlight=False)
