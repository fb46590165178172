"""The `newsmon` command: every command group registered on one Typer app."""

from __future__ import annotations

# Imported for their commands, in the order `newsmon --help` lists them: the cycle first.
from newsmon.cli import cycle  # noqa: F401

# isort: split
# Then analysis and evaluation, what analysts read, and operations.
from newsmon.cli import analysis, analyst, evaluation, operations  # noqa: F401
from newsmon.cli.alerts import alerts_app
from newsmon.cli.common import app
from newsmon.cli.feeds import feeds_app

app.add_typer(feeds_app, name="feeds")
app.add_typer(alerts_app, name="alerts")


def main() -> None:
    """Run the command line (the `newsmon` entry point)."""
    app()
