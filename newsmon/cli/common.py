"""What every command shares: the app, consoles, common options, error exits."""

from __future__ import annotations

import errno
import json
import os
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

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


def quiet_prefect() -> None:
    """Set Prefect's offline-friendly defaults unless the user set them."""
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DO_NOTHING_TRACK", "1")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")


def config_path(config: Path | None) -> Path | None:
    """Return the config file to use: the given one, else config/newsmon.yaml if present."""
    if config is not None:
        return config
    return DEFAULT_CONFIG if DEFAULT_CONFIG.exists() else None


_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EFBIG, errno.EDQUOT})
_FULL_WORDS = ("could not write", "no space left", "file too large", "disk quota")


def write_failure(exc: BaseException) -> str | None:
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


def fail(message: str, code: int = 2) -> None:
    """Print an error line and exit with the code."""
    from rich.text import Text

    # Text, not markup: messages quote user input and URLs ("[::1]:8080" is not a style tag);
    # soft_wrap: one logical line stays one line in a log or a pipe, whatever the width.
    err.print(Text.assemble(("error: ", "bold red"), message), soft_wrap=True)
    raise typer.Exit(code)


def print_summary(summary: dict[str, Any]) -> None:
    """Print a run summary as a table."""
    for warning in summary.get("warnings", []):
        out.print(Text.assemble(("warning: ", "bold yellow"), warning), soft_wrap=True)
    table = Table(title="newsmon cycle")
    table.add_column("measure")
    table.add_column("value", justify="right")
    for key, value in summary.items():
        if key not in ("feed_errors", "new_events", "feed_problems", "stages", "warnings"):
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


def parse_day(value: str | None, option: str) -> date | None:
    """Return a YYYY-MM-DD option as a date (None stays None); exit with a message if invalid."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        fail(f"{option} {value!r}: use a date as YYYY-MM-DD")
        raise


def print_skipped(summary: dict[str, Any], json_out: bool) -> bool:
    """Print a skipped run's message; return True if the run was skipped (exit 0 follows)."""
    if summary.get("status") != "skipped":
        return False
    if json_out:
        print(json.dumps(summary, default=str))
    else:
        out.print(summary["reason"], highlight=False)
    return True
