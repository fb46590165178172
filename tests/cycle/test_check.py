"""`newsmon check`: every check's ok, warn and fail against loopback servers and broken files;
the channel that has a secret but is not enabled, in check, run and alerts test."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from rich.console import Console
from typer.testing import CliRunner

from newsmon.cli.common import print_summary
from newsmon.cli.main import app
from newsmon.cycle.check import (
    FAIL,
    OK,
    WARN,
    check_channels,
    check_config,
    check_database,
    check_feeds,
    check_idle_channels,
    check_lock,
    check_model,
    check_prefect,
)
from newsmon.settings import load_settings
from newsmon.sources.fetch import FetchLimits, make_client
from newsmon.store import connect, head_version, migrate
from tests.conftest import ROOT, SlackReceiver, patch_cli_consoles
from tests.feedserver import RecordingServer, Reply, rss

WATCHLISTS = ROOT / "config" / "watchlists"


def write_config(tmp_path: Path, body: str = "") -> Path:
    """Return a config file in tmp_path with the given extra YAML lines."""
    config = tmp_path / "newsmon.yaml"
    config.write_text(f"database: {tmp_path / 'n.duckdb'}\nwatchlist_dir: {WATCHLISTS}\n{body}")
    return config


@pytest.fixture
def server() -> Iterator[RecordingServer]:
    """Yield a recording loopback server."""
    srv = RecordingServer()
    yield srv
    srv.close()


def test_config_ok_and_fail(tmp_path: Path) -> None:
    ok, settings = check_config(write_config(tmp_path))
    assert ok.outcome == OK and "watchlist syria-russia" in ok.detail and settings is not None
    bad, none = check_config(write_config(tmp_path, "alerts: {channel: [slack]}\n"))
    assert bad.outcome == FAIL and none is None and "alerts.channel" in bad.detail


def test_model_ok_and_fail(tmp_path: Path) -> None:
    settings = load_settings(write_config(tmp_path))
    ok = check_model(settings)
    assert ok.outcome == OK and "loaded in" in ok.detail
    missing = settings.model_copy(update={"nlp": settings.nlp.model_copy(
        update={"model": "no_such_model", "fallback_model": "nor_this"})})
    failed = check_model(missing)
    assert failed.outcome == FAIL and "make install" in failed.fix


def test_database_new_migrated_newer_and_broken(tmp_path: Path) -> None:
    fresh = check_database(tmp_path / "new.duckdb")
    assert fresh.outcome == OK and "will be created" in fresh.detail
    con = connect(tmp_path / "old.duckdb")
    migrate(con)
    con.close()
    migrated = check_database(tmp_path / "old.duckdb")
    assert migrated.outcome == OK and f"schema v{head_version()}" in migrated.detail
    assert "GB free" in migrated.detail
    con = connect(tmp_path / "future.duckdb")
    migrate(con)
    con.execute("INSERT INTO schema_migrations VALUES (99, 'future', now())")
    con.close()
    assert check_database(tmp_path / "future.duckdb").outcome == FAIL
    (tmp_path / "junk.duckdb").write_bytes(b"this is not a database" * 100)
    broken = check_database(tmp_path / "junk.duckdb")
    assert broken.outcome == FAIL and "junk.duckdb" in broken.detail


def test_lock_file_ok_and_fail(tmp_path: Path) -> None:
    assert check_lock(tmp_path / "n.duckdb").outcome == OK
    (tmp_path / "afile").write_text("x")  # a file where the database's folder should be
    failed = check_lock(tmp_path / "afile" / "n.duckdb")
    assert failed.outcome == FAIL and "writable" in failed.fix


def test_each_feed_ok_warn_or_its_named_error(tmp_path: Path, server: RecordingServer) -> None:
    server.feed("/good.xml", rss([("1", "/a"), ("2", "/b")]))
    server.feed("/empty.xml", rss([]))
    server.reply("/gone.xml", Reply(404, b"no"))
    server.page("/page", "<html><body>not a feed</body></html>")
    feeds = "".join(f"  - {{name: {n}, url: '{server.base}/{p}'}}\n" for n, p in (
        ("good", "good.xml"), ("empty", "empty.xml"), ("gone", "gone.xml"), ("page", "page")))
    settings = load_settings(write_config(
        tmp_path, f"feeds:\n{feeds}fetch: {{allow_private_hosts: true}}\n"))
    limits = FetchLimits.from_settings(settings.fetch)
    with make_client(limits) as client:
        results = {c.name: c for c in check_feeds(settings, client, limits)}
    assert results["feed good"].outcome == OK and "2 items" in results["feed good"].detail
    assert results["feed empty"].outcome == WARN
    assert results["feed gone"].outcome == FAIL and "http_status" in results["feed gone"].detail
    assert results["feed page"].outcome == FAIL and "not_a_feed" in results["feed page"].detail


def test_channels_idle_secret_answering_endpoint_and_missing_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, slack: SlackReceiver
) -> None:
    monkeypatch.setenv("NEWSMON_SLACK_WEBHOOK_URL", slack.url)
    settings = load_settings(write_config(tmp_path))  # channels: [console]
    with httpx.Client(trust_env=False, timeout=5) as client:
        by_name = {c.name: c for c in check_channels(settings, client)}
        [idle] = check_idle_channels(settings)
        assert idle.outcome == WARN and "channels: [console, slack]" in idle.detail
        assert by_name["channel slack"].outcome == OK  # answers (a GET: no message sent)
        assert "SECRET" not in by_name["channel slack"].detail and slack.bodies == []
        monkeypatch.setenv("NEWSMON_SLACK_WEBHOOK_URL", "http://127.0.0.1:9/services/X")
        down = {c.name: c for c in check_channels(load_settings(write_config(
            tmp_path, "alerts: {channels: [slack]}\n")), client)}
        assert down["channel slack"].outcome == FAIL
        monkeypatch.delenv("NEWSMON_SLACK_WEBHOOK_URL")
        unset = {c.name: c for c in check_channels(load_settings(write_config(
            tmp_path, "alerts: {channels: [slack]}\n")), client)}
        assert unset["channel slack"].outcome == FAIL
        assert "NEWSMON_SLACK_WEBHOOK_URL" in unset["channel slack"].fix


def test_send_test_posts_to_slack_only_when_asked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, slack: SlackReceiver
) -> None:
    monkeypatch.setenv("NEWSMON_SLACK_WEBHOOK_URL", slack.url)
    result = CliRunner().invoke(app, ["check", "--config", str(write_config(
        tmp_path, "alerts: {channels: [slack]}\n")), "--send-test"])
    assert "test message delivered" in result.output, result.output
    assert len(slack.bodies) == 1 and "[TEST]" in str(slack.bodies[0])


def test_prefect_ok_without_api_fail_when_unreachable(
    monkeypatch: pytest.MonkeyPatch, server: RecordingServer
) -> None:
    with httpx.Client(trust_env=False, timeout=5) as client:
        monkeypatch.delenv("PREFECT_API_URL", raising=False)
        assert check_prefect(client).outcome == OK
        monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:9/api")
        assert check_prefect(client).outcome == FAIL
        server.reply("/api/health", Reply(200, b"true"))
        monkeypatch.setenv("PREFECT_API_URL", f"{server.base}/api")
        assert check_prefect(client).outcome == OK


def test_check_exits_1_only_on_a_fail(tmp_path: Path) -> None:
    fine = CliRunner().invoke(app, ["check", "--config", str(write_config(tmp_path)),
                                    "--no-network"])
    assert fine.exit_code == 0, fine.output
    assert "ok   nlp model" in fine.output and "warn network" in fine.output
    assert "warn channels" not in fine.output
    broken = CliRunner().invoke(app, ["check", "--config", str(write_config(
        tmp_path, "nlp: {model: nope, fallback_model: neither}\n")), "--no-network"])
    assert broken.exit_code == 1 and "fail nlp model" in broken.output


def test_run_summary_starts_with_the_idle_channel_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    buffer = io.StringIO()
    patch_cli_consoles(monkeypatch, out=Console(file=buffer, width=300))
    print_summary({"warnings": [("NEWSMON_SLACK_WEBHOOK_URL is set, but channel slack is not in "
                                "alerts.channels")], "status": "ok"})
    assert buffer.getvalue().startswith("warning: NEWSMON_SLACK_WEBHOOK_URL is set")


def test_alerts_test_tries_every_channel_with_a_secret_and_says_which_the_cycle_uses(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, slack: SlackReceiver
) -> None:
    monkeypatch.setenv("NEWSMON_SLACK_WEBHOOK_URL", slack.url)
    buffer = io.StringIO()
    patch_cli_consoles(monkeypatch, out=Console(file=buffer, width=300))
    result = CliRunner().invoke(app, ["alerts", "test", "--config", str(write_config(tmp_path))])
    output = buffer.getvalue() + result.output
    assert result.exit_code == 0, output
    assert "channel slack is not in alerts.channels" in output
    assert "no: not in alerts.channels" in output and len(slack.bodies) == 1


def test_check_warns_of_an_idle_channel_without_the_network(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEWSMON_SLACK_WEBHOOK_URL", "https://hooks.slack.invalid/services/T/B/X")
    result = CliRunner().invoke(app, ["check", "--config", str(write_config(tmp_path)),
                                      "--no-network"])
    assert result.exit_code == 0  # a warning is not a failure
    assert "warn channels: NEWSMON_SLACK_WEBHOOK_URL is set" in result.output
    assert "services/T/B/X" not in result.output  # the secret is never printed
