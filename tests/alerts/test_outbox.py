"""The alert outbox through whole monitor cycles (Prefect flow runs, subprocesses killed with
SIGKILL) against real loopback endpoints that answer like Slack's incoming webhook.

Fixture content: samples/demo plus samples/same-meeting, served on loopback.
"""

from __future__ import annotations

import gzip
import json
import logging
import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
from pydantic import SecretStr

from newsmon.alerts.outbox import OutboxRow, list_alerts, queued_in_order
from newsmon.alerts.slack_check import validate_slack_payload
from newsmon.demo import feed_urls, serve_folder
from newsmon.store import connect, utcnow
from tests.conftest import ROOT, patch_cli_consoles
from tests.slack_endpoint import (
    CHANNEL_IS_ARCHIVED,
    INVALID_PAYLOAD,
    OK,
    RATE_LIMITED,
    SERVER_ERROR,
    TIMEOUT,
    TOKEN,
    Answer,
    SlackEndpoint,
    slack_endpoint,
)

pytestmark = pytest.mark.usefixtures("prefect_harness")
DEAD_FEED = "http://127.0.0.1:9/feed.xml"  # nothing listens on port 9: a failing feed
HOOK_PATH = f"/hooks/generic/{TOKEN}"
# A cycle run in a child process, pointed at the test's Prefect server; argv: config, feeds...
CYCLE = "import sys; from flows.monitor import monitor; monitor(config=sys.argv[1], " \
        "feeds=sys.argv[2:] or None)"
# A delivery pass alone (the task body, no flow engine) in a child process; argv: config.
DELIVERY = (
    "import sys; from pathlib import Path; from newsmon.settings import load_settings; "
    "from tasks.alerts import deliver_alerts, resolve_destinations; "
    "s = load_settings(Path(sys.argv[1])); "
    "deliver_alerts.fn(s.database, resolve_destinations(s), s.alerts.timeout_s, "
    "s.alerts.max_attempts)"
)


def write_config(folder: Path, **alerts: Any) -> Path:
    """Return a config file in folder for a database there and the given alerts section."""
    alerts = {"channels": ["slack", "webhook"], "timeout_s": 0.3, **alerts}
    config = folder / "newsmon.yaml"
    config.write_text(
        f"database: {folder / 'newsmon.duckdb'}\n"
        f"watchlist_dir: {ROOT / 'config' / 'watchlists'}\n"
        "fetch: {allow_private_hosts: true, per_host_min_interval_s: 0, connect_timeout_s: 2,"
        " read_timeout_s: 5}\n"
        "events: {max_article_age_days: null}\n"
        f"alerts: {json.dumps(alerts)}\n"  # JSON is YAML
    )
    return config


@pytest.fixture(scope="module")
def sample_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return one folder serving the demo sample's three feeds and the same-meeting feed."""
    site = tmp_path_factory.mktemp("site")
    shutil.copytree(ROOT / "samples" / "demo", site, dirs_exist_ok=True)
    same = ROOT / "samples" / "same-meeting"
    # Polled first ("a-" sorts first): its July reports create the July meeting as new, before
    # a December page of the demo recalls that same meeting as a past one.
    shutil.copy(same / "feed.xml", site / "feeds" / "a-same-meeting.xml")
    for page in (same / "pages").glob("*.html"):
        shutil.copy(page, site / "pages" / page.name)
    return site


@pytest.fixture(scope="module")
def seeded(prefect_harness: None, sample_site: Path, tmp_path_factory: pytest.TempPathFactory
           ) -> Path:
    """Return a database after one real cycle over the samples (and a dead feed) with delivery
    off: every alert pending, for slack and webhook."""
    from flows.monitor import monitor

    folder = tmp_path_factory.mktemp("seed")
    config = write_config(folder)
    with serve_folder(sample_site) as base:
        summary = monitor(
            config=str(config), feeds=[*feed_urls(sample_site, base), DEAD_FEED],
            send_alerts=False,
        )
    assert summary["alerts_queued"] >= 6 and summary["feeds_failed"] == 1
    return folder / "newsmon.duckdb"


@pytest.fixture
def cycle_env(
    tmp_path: Path, seeded: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Path, SlackEndpoint, SlackEndpoint]]:
    """Yield (config, slack endpoint, generic webhook endpoint) over a copy of the seeded
    database, the URLs given the documented way: in the environment."""
    shutil.copy(seeded, tmp_path / "newsmon.duckdb")
    config = write_config(tmp_path)
    with slack_endpoint() as slack, slack_endpoint(HOOK_PATH) as hook:
        hook.check_slack_limits = False
        monkeypatch.setenv("NEWSMON_SLACK_WEBHOOK_URL", slack.url)
        monkeypatch.setenv("NEWSMON_WEBHOOK_URL", hook.url)
        yield config, slack, hook


def outbox(db: Path) -> list[OutboxRow]:
    """Return every alert row (newest first)."""
    con = connect(db, read_only=True)
    try:
        return list_alerts(con)
    finally:
        con.close()


def pending_in_order(db: Path) -> dict[str, list[OutboxRow]]:
    """Return the pending alerts per channel, in the order the outbox sends them."""
    con = connect(db, read_only=True)
    try:
        rows = queued_in_order(con)
    finally:
        con.close()
    return {ch: [r for r in rows if r.channel == ch] for ch in ("slack", "webhook")}


def make_due(db: Path) -> None:
    """Move every retry time into the past, as if the backoff had elapsed."""
    con = connect(db)
    try:
        con.execute("UPDATE alerts SET next_attempt_at = ? WHERE next_attempt_at IS NOT NULL",
                    [utcnow() - timedelta(seconds=1)])
    finally:
        con.close()


def run_in_subprocess(
    code: str, args: list[str], env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    """Return the finished child process that ran code (against this test's Prefect API)."""
    from prefect.settings import PREFECT_API_URL

    child_env = {**os.environ, **env, "PREFECT_API_URL": str(PREFECT_API_URL.value())}
    return subprocess.run(
        [sys.executable, "-c", code, *args], env=child_env, cwd=ROOT,
        capture_output=True, text=True, timeout=180, check=False,
    )


# --------------------------------------------------------------------------------------------


def test_endpoint_down_two_cycles_then_every_alert_arrives_once_in_event_date_order(
    cycle_env: tuple[Path, SlackEndpoint, SlackEndpoint],
) -> None:
    from flows.monitor import monitor

    config, slack, hook = cycle_env
    db = config.parent / "newsmon.duckdb"
    expected = pending_in_order(db)
    total = sum(len(rows) for rows in expected.values())
    assert len(expected["slack"]) == len(expected["webhook"]) >= 3
    dates = [r.about for r in expected["slack"] if r.about is not None]
    assert len(dates) == len(expected["slack"])
    assert dates == sorted(dates) and len(set(dates)) >= 3  # several event dates to order

    # Cycle 1: Slack answers 500, the webhook times out.
    slack.default, hook.default = SERVER_ERROR, TIMEOUT
    first = monitor(config=str(config))
    assert (first["alerts_delivered"], first["alerts_retrying"]) == (0, 2)
    assert first["alerts_waiting"] == total - 2 and first["alerts_failed"] == 0
    assert (len(slack.received), len(hook.received)) == (1, 1)  # one request per pass each
    reasons = {r.channel: r.last_error for r in outbox(db) if r.attempts}
    assert reasons == {"slack": "server_error 500", "webhook": "timeout"}

    # Cycle 2: Slack takes one alert, then rate-limits; the webhook answers 500.
    make_due(db)
    slack.default, hook.default = OK, SERVER_ERROR
    slack.answer_next(OK, RATE_LIMITED)
    second = monitor(config=str(config))
    assert (second["alerts_delivered"], second["alerts_retrying"]) == (1, 2)

    # Cycle 3: both recover.
    make_due(db)
    hook.default = OK
    third = monitor(config=str(config))
    assert third["alerts_delivered"] == total - 1 and third["alerts_waiting"] == 0
    assert monitor(config=str(config))["alerts_delivered"] == 0  # nothing is sent twice

    for endpoint, channel in ((slack, "slack"), (hook, "webhook")):
        # Exactly the queued payloads, each once, in event-date order.
        assert endpoint.delivered == [r.payload for r in expected[channel]], channel
    assert slack.problems == []
    assert {r.status for r in outbox(db)} == {"delivered"}


def test_4xx_marks_failed_with_reason_cycle_succeeds_and_newsmon_alerts_shows_it(
    cycle_env: tuple[Path, SlackEndpoint, SlackEndpoint], monkeypatch: pytest.MonkeyPatch
) -> None:
    from rich.console import Console
    from typer.testing import CliRunner

    from newsmon.cli.main import app

    config, slack, _ = cycle_env
    for key, value in (("PREFECT_LOGGING_LEVEL", "WARNING"), ("DO_NOTHING_TRACK", "1")):
        monkeypatch.setenv(key, os.environ.get(key, value))  # restored after the test
    patch_cli_consoles(monkeypatch, out=Console(width=250))  # room for every column
    runner = CliRunner()
    slack.answer_next(INVALID_PAYLOAD, CHANNEL_IS_ARCHIVED)

    result = runner.invoke(app, ["run", "--config", str(config), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["alerts_failed"] == 2
    assert sorted(f["reason"] for f in summary["alert_failures"]) == [
        "channel_is_archived", "invalid_payload"]

    listing = runner.invoke(app, ["alerts", "--config", str(config)])
    assert listing.exit_code == 0, listing.output
    for text in ("failed", "invalid_payload", "channel_is_archived", "400", "410", "delivered",
                 "failed 2"):
        assert text in listing.stdout, text
    failed = runner.invoke(app, ["alerts", "--config", str(config), "--status", "failed",
                                     "--json"])
    rows = [json.loads(line) for line in failed.stdout.splitlines()]
    assert sorted((r["reason"], r["http_status"]) for r in rows) == [
        ("channel_is_archived", 410), ("invalid_payload", 400)]

    # Re-queue both (options before or after the subcommand), and the next cycle sends them.
    first, second = (r["id"] for r in rows)
    retried = runner.invoke(app, ["alerts", "--config", str(config), "retry", first])
    assert retried.exit_code == 0 and "re-queued" in retried.stdout
    retried = runner.invoke(app, ["alerts", "retry", second, "--config", str(config)])
    assert retried.exit_code == 0, retried.output
    refused = runner.invoke(app, ["alerts", "retry", second, "--config", str(config)])
    assert refused.exit_code == 1 and "pending, not failed" in refused.output
    unknown = runner.invoke(app, ["alerts", "retry", "no-such-id", "--config", str(config)])
    assert unknown.exit_code == 1 and "no alert with id" in unknown.output

    from flows.monitor import monitor

    again = monitor(config=str(config))
    assert (again["alerts_delivered"], again["alerts_failed"]) == (2, 0)
    sent_slack = {r.id for r in outbox(config.parent / "newsmon.duckdb")
                  if r.channel == "slack" and r.status == "delivered"}
    assert {first, second} <= sent_slack
    assert len(slack.delivered) == len(sent_slack)  # each once, the retried ones included


def test_sigkill_after_store_then_next_cycle_delivers_once_and_more_sources_update_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flows.monitor import monitor

    # The same-meeting sample's feed carries two of its five reports at first.
    site = tmp_path / "site"
    shutil.copytree(ROOT / "samples" / "same-meeting", site)
    full = (site / "feed.xml").read_text(encoding="utf-8")
    head, *items = full.split("<item>")
    first_two = head + "<item>" + "<item>".join(items[:2])
    (site / "feed.xml").write_text(first_two.rstrip() + "\n  </channel>\n</rss>\n")
    config = write_config(tmp_path, channels=["slack"])
    db = tmp_path / "newsmon.duckdb"
    with serve_folder(site) as base, slack_endpoint() as slack:
        feeds = feed_urls(site, base)
        killed = run_in_subprocess(
            CYCLE, [str(config), *feeds],
            {"NEWSMON_FAULT": "after_store", "NEWSMON_SLACK_WEBHOOK_URL": slack.url},
        )
        assert killed.returncode == -signal.SIGKILL, killed.stderr[-3000:]
        # The event and its alert were committed together; nothing was sent.
        (alert,) = outbox(db)
        assert (alert.kind, alert.status, alert.attempts) == ("new", "pending", 0)
        assert slack.received == []

        # The next cycle delivers it, once; the three further reports make one update.
        (site / "feed.xml").write_text(full, encoding="utf-8")
        monkeypatch.setenv("NEWSMON_SLACK_WEBHOOK_URL", slack.url)
        summary = monitor(config=str(config), feeds=feeds)
        assert (summary["new_articles"], summary["alerts_queued"]) == (3, 1)
        assert summary["alerts_delivered"] == 2
        assert monitor(config=str(config), feeds=feeds)["alerts_delivered"] == 0
    assert slack.delivered[0] == alert.payload
    headers = [body["text"] for body in slack.delivered]
    assert len(headers) == 2, headers
    assert headers[0].startswith("Meeting: Serge") and "Lavrov — Asaad al-Shaibani" in headers[0]
    # The update lists every source, first report first, and says how many are new.
    before, after = (
        len(re.findall(r"^\d+\. <", body["blocks"][4]["text"]["text"], flags=re.MULTILINE))
        for body in slack.delivered
    )
    assert after > before >= 1
    more = after - before
    assert headers[1].startswith(
        f"Update — {more} more source{'s' if more > 1 else ''}: Meeting · Serge")
    assert slack.problems == []
    assert TOKEN not in killed.stdout + killed.stderr


def test_sigkill_between_post_and_mark_resends_that_alert_once(
    cycle_env: tuple[Path, SlackEndpoint, SlackEndpoint],
) -> None:
    """The one at-least-once window: the channel took the alert, the process died before
    recording it. The row stays 'sending'; the next pass sends it again, exactly once more."""
    from flows.monitor import monitor

    config, slack, hook = cycle_env
    db = config.parent / "newsmon.duckdb"
    expected = pending_in_order(db)
    killed = run_in_subprocess(
        DELIVERY, [str(config)], {"NEWSMON_FAULT": "after_post",
                                  "NEWSMON_SLACK_WEBHOOK_URL": slack.url,
                                  "NEWSMON_WEBHOOK_URL": hook.url},
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-3000:]
    received = slack.received + hook.received
    assert len(received) == 1
    (sending,) = [r for r in outbox(db) if r.status == "sending"]
    assert sending.attempts == 1

    summary = monitor(config=str(config))
    assert summary["alerts_resent_after_crash"] == 1
    assert monitor(config=str(config))["alerts_delivered"] == 0
    for endpoint, channel in ((slack, "slack"), (hook, "webhook")):
        payloads = [r.payload for r in expected[channel]]
        counts = [endpoint.delivered.count(p) for p in payloads]
        twice = [r.id for r, n in zip(expected[channel], counts, strict=True) if n == 2]
        assert twice == ([sending.id] if sending.channel == channel else [])
        assert set(counts) <= {1, 2}
    row = next(r for r in outbox(db) if r.id == sending.id)
    assert row.status == "delivered" and "interrupted send" in (row.last_error or "")


def test_digest_sends_the_days_events_and_feed_problems_once(
    cycle_env: tuple[Path, SlackEndpoint, SlackEndpoint],
) -> None:
    from flows.digest import digest

    config, slack, _ = cycle_env
    db = config.parent / "newsmon.duckdb"
    con = duckdb.connect(str(db), read_only=True)
    try:
        day, events = con.execute(
            "SELECT CAST(min(first_seen_at) AS DATE), count(*) FROM events").fetchone() or ()
    finally:
        con.close()
    assert digest(config=str(config), day=str(day)) == {"skipped": "alerts.digest is false"}

    config = write_config(config.parent, channels=["slack"], digest=True)
    summary = digest(config=str(config), day=str(day))
    assert (summary["events"], summary["feed_problems"], summary["queued"]) == (events, 1, 1)
    (body,) = [b for b in slack.delivered if b["text"].startswith("Daily digest")]
    assert validate_slack_payload(body) == []
    text = json.dumps(body, ensure_ascii=False)
    assert f"{events} events" in body["text"] and "1 feed problem" in body["text"]
    assert "Lavrov — Asaad al-Shaibani" in text and "past event" in text
    assert "127.0.0.1:9/feed.xml — failing: connect" in text
    assert digest(config=str(config), day=str(day))["queued"] == 0  # once per day and channel


def test_digest_waits_for_a_running_cycle_and_fails_to_be_retried(
    cycle_env: tuple[Path, SlackEndpoint, SlackEndpoint],
) -> None:
    from flows.digest import digest
    from newsmon.lock import CycleLocked, cycle_lock

    config, slack, _ = cycle_env
    config = write_config(config.parent, channels=["slack"], digest=True)
    config.write_text(config.read_text() + "lock_wait_s: 0.5\n")
    before = len(slack.delivered)
    db = config.parent / "newsmon.duckdb"
    with cycle_lock(db, 0, "monitor flow run (test)"), pytest.raises(CycleLocked, match="test"):
        digest.with_options(retries=0)(config=str(config), day="2025-12-24")
    assert len(slack.delivered) == before  # nothing queued or sent while the cycle ran
    summary = digest.with_options(retries=0)(config=str(config), day="2025-12-24")
    assert summary["queued"] == 1


# --------------------------------------------------------------------------------------------
# the webhook URLs are secrets


class _Grab(logging.Handler):
    """Keeps every log record, rendered, with its raw arguments and traceback."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        """Keep the record's name, message, arguments and traceback as text."""
        text = f"{record.name} {record.getMessage()} {record.args!r}"
        if record.exc_info:
            text += logging.Formatter().formatException(record.exc_info)
        self.lines.append(text)


@contextmanager
def all_logging() -> Iterator[_Grab]:
    """Yield a handler receiving every record of every logger at DEBUG, restored afterwards."""
    grab = _Grab()
    loggers = [logging.getLogger()] + [
        logger for logger in logging.root.manager.loggerDict.values()
        if isinstance(logger, logging.Logger) and not logger.propagate
    ]
    noisy = [logging.getLogger(name) for name in ("httpx", "httpcore", "newsmon", "prefect")]
    levels = {logger: logger.level for logger in {*loggers, *noisy}}
    for logger in loggers:
        logger.addHandler(grab)
    for logger in levels:
        logger.setLevel(logging.DEBUG)
    try:
        yield grab
    finally:
        for logger in loggers:
            logger.removeHandler(grab)
        for logger, level in levels.items():
            logger.setLevel(level)


def database_dump(db: Path) -> str:
    """Return every row of every table as text (archived pages decompressed)."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        tables = [r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables").fetchall()]
        rows = [row for t in tables for row in con.execute(f'SELECT * FROM "{t}"').fetchall()]
    finally:
        con.close()
    values = [
        gzip.decompress(v).decode("utf-8", "replace") if isinstance(v, bytes) else str(v)
        for row in rows for v in row
    ]
    assert len(tables) >= 9 and values
    return "\n".join(values)


def prefect_records(flow_run_ids: list[Any]) -> str:
    """Return what the Prefect API stored about these flow runs: runs with their parameters,
    task runs, logs and artifacts, as JSON text."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        ArtifactFilter,
        ArtifactFilterFlowRunId,
        FlowRunFilter,
        FlowRunFilterId,
        LogFilter,
        LogFilterFlowRunId,
    )
    from prefect.logging.handlers import APILogWorker

    APILogWorker.drain_all()  # logs are shipped in batches: send what is still queued
    parts: list[str] = []
    with get_client(sync_client=True) as client:
        for run_id in flow_run_ids:
            parts.append(client.read_flow_run(run_id).model_dump_json())
        runs = FlowRunFilter(id=FlowRunFilterId(any_=flow_run_ids))
        parts += [t.model_dump_json() for t in client.read_task_runs(flow_run_filter=runs)]
        offset = 0
        while True:
            logs = client.read_logs(
                LogFilter(flow_run_id=LogFilterFlowRunId(any_=flow_run_ids)), limit=200,
                offset=offset)
            parts += [log.model_dump_json() for log in logs]
            offset += len(logs)
            if len(logs) < 200:
                break
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=flow_run_ids)))
        parts += [a.model_dump_json() for a in artifacts]
    assert offset > 10 and artifacts  # the check below is not vacuous
    return "\n".join(parts)


def test_webhook_urls_never_appear_in_logs_errors_database_or_artifacts(
    tmp_path: Path, seeded: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    from prefect.blocks.system import Secret
    from typer.testing import CliRunner

    from flows.monitor import monitor
    from newsmon.cli.main import app
    from newsmon.settings import ConfigError, load_settings

    db = tmp_path / "newsmon.duckdb"
    shutil.copy(seeded, db)
    texts: dict[str, str] = {}
    with all_logging() as grab, slack_endpoint() as slack, slack_endpoint(HOOK_PATH) as hook:
        hook.check_slack_limits = False
        # Slack's URL from a Prefect Secret block named in the config, the webhook's from the env.
        Secret(value=SecretStr(slack.url)).save("newsmon-leak-test", overwrite=True)
        monkeypatch.delenv("NEWSMON_SLACK_WEBHOOK_URL", raising=False)
        monkeypatch.setenv("NEWSMON_WEBHOOK_URL", hook.url)
        config = write_config(tmp_path, slack_secret_block="newsmon-leak-test")
        # Answers that tempt a leak: error bodies quoting the URL, a timeout, a 500.
        slack.answer_next(SERVER_ERROR)
        hook.answer_next(TIMEOUT)
        first = monitor(config=str(config), return_state=True)
        make_due(db)
        slack.answer_next(Answer(400, f"no such hook {slack.url}"))
        hook.answer_next(Answer(404, f"nothing at {hook.url}"))
        second = monitor(config=str(config), return_state=True)
        texts["summaries"] = json.dumps([first.result(), second.result()], default=str)
        runner = CliRunner()
        for args in (["alerts", "--config", str(config)],
                     ["alerts", "--config", str(config), "--json"],
                     ["alerts", "test", "--config", str(config)]):
            result = runner.invoke(app, args)
            texts[" ".join(args[:2])] = result.output + repr(result.exception)
        # A URL put in a config file is refused without being echoed.
        leaky = tmp_path / "leaky.yaml"
        leaky.write_text(f"slack_webhook_url: {slack.url}\n")
        with pytest.raises(ConfigError) as refused:
            load_settings(leaky)
        texts["config error"] = str(refused.value) + repr(refused.value)
        assert len(slack.received) >= 3 and len(hook.received) >= 3  # the URLs were used
    reasons = {r.last_error for r in outbox(db)}
    assert {"server_error 500", "http 400", "timeout", "client_error 404"} <= reasons | {
        "timeout", "server_error 500"}
    assert "http 400" in reasons and "client_error 404" in reasons
    texts["logs"] = "\n".join(grab.lines)
    assert "HTTP Request: POST" in texts["logs"] and "[REDACTED]" in texts["logs"]
    captured = capfd.readouterr()
    texts["stdout"], texts["stderr"] = captured.out, captured.err
    texts["database"] = database_dump(db)
    texts["prefect"] = prefect_records(
        [first.state_details.flow_run_id, second.state_details.flow_run_id])
    for where, text in texts.items():
        for secret in (TOKEN, slack.url, hook.url):
            assert secret not in text, f"{secret} leaked into {where}"


@pytest.mark.filterwarnings("ignore:'imghdr' is deprecated:DeprecationWarning")  # apprise
def test_alerts_test_sends_one_marked_message_per_channel_and_reports_answers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from prefect.blocks.notifications import SlackWebhook
    from rich.console import Console
    from typer.testing import CliRunner

    from newsmon.cli.main import app

    patch_cli_consoles(monkeypatch, out=Console(width=200))
    runner = CliRunner()
    with slack_endpoint() as slack, slack_endpoint(HOOK_PATH) as hook:
        # prefect's own SlackWebhook block: only its URL is read (its notify() would silently
        # drop this loopback URL), and newsmon posts itself.
        SlackWebhook(url=SecretStr(slack.url)).save("newsmon-cli-test", overwrite=True)
        monkeypatch.delenv("NEWSMON_SLACK_WEBHOOK_URL", raising=False)
        monkeypatch.setenv("NEWSMON_WEBHOOK_URL", hook.url)
        config = write_config(
            tmp_path, channels=["console"], slack_secret_block="slack-webhook/newsmon-cli-test",
            routes=[{"types": ["meeting"], "channels": ["slack", "webhook"]}],
        )
        slack.answer_next(CHANNEL_IS_ARCHIVED)
        refused = runner.invoke(app, ["alerts", "test", "--config", str(config)])
        assert refused.exit_code == 1, refused.output
        lines = {line.split()[1]: line for line in refused.stdout.splitlines()
                 if line.startswith("│ ") and line.split()[1] in ("console", "slack", "webhook")}
        assert "delivered" in lines["console"] and "printed" in lines["console"]
        assert "failed" in lines["slack"] and "channel_is_archived" in lines["slack"]
        assert "410" in lines["slack"]
        assert "delivered" in lines["webhook"] and "200" in lines["webhook"]
        assert "[TEST] Meeting: Syria–Russia relations" in refused.stdout  # the console copy

        fine = runner.invoke(app, ["alerts", "test", "--config", str(config),
                                       "--channel", "slack"])
        assert fine.exit_code == 0, fine.output
        assert len(slack.received) == 2 and len(hook.received) == 1
    message = slack.received[-1].body
    assert message["text"].startswith("[TEST] ")
    assert "test alert, please ignore" in json.dumps(message, ensure_ascii=False)
    assert "No meeting took place" in json.dumps(message, ensure_ascii=False)
    assert hook.received[0].body["kind"] == "test"
    assert slack.problems == []
    assert TOKEN not in refused.output + fine.output
