"""The logger tasks write to: Prefect's run logger inside a run, a plain one outside."""

from __future__ import annotations

import logging

from prefect import get_run_logger
from prefect.exceptions import MissingContextError


def run_logger(fallback: str = "newsmon") -> logging.Logger | logging.LoggerAdapter[logging.Logger]:
    """Return the Prefect run logger inside a flow/task run, else the named standard logger.

    Outside a run (the CLI, or a task body called with .fn() in tests) get_run_logger raises.
    """
    try:
        return get_run_logger()
    except MissingContextError:
        return logging.getLogger(fallback)
