"""Never overlapping: the cycle lock on the database, and two cycles started at the same moment."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from newsmon.demo import feed_urls, serve_folder
from newsmon.lock import CycleLocked, cycle_lock, lock_path
from tests.conftest import ROOT, SlackReceiver, db_rows

SKIP_MESSAGE = "skipped: another newsmon cycle is still running on"
NEWSMON = str(Path(sys.executable).with_name("newsmon"))  # the installed console script


def test_second_holder_waits_the_bounded_time_then_gets_a_clear_refusal(tmp_path: Path) -> None:
    db = tmp_path / "newsmon.duckdb"
    with cycle_lock(db, wait_s=0, what="first cycle") as held:
        assert held.path == lock_path(db) and held.waited_s < 0.5
        started = time.monotonic()
        with pytest.raises(CycleLocked) as refused, cycle_lock(db, wait_s=0.6):
            pass
        waited = time.monotonic() - started
    assert 0.6 <= waited < 2.0
    message = str(refused.value)
    assert message.startswith(SKIP_MESSAGE) and "first cycle" in message
    assert f"pid {os.getpid()}" in message and "lock_wait_s" in message
    assert refused.value.holder["pid"] == os.getpid()
    # Released on exit: the next cycle gets it at once.
    with cycle_lock(db, wait_s=0) as again:
        assert again.waited_s < 0.5


def test_a_killed_holder_never_leaves_a_stale_lock(tmp_path: Path) -> None:
    db = tmp_path / "newsmon.duckdb"
    code = ("import sys, time; from pathlib import Path; from newsmon.lock import cycle_lock\n"
            "with cycle_lock(Path(sys.argv[1]), 0, 'doomed'):\n"
            "    print('held', flush=True); time.sleep(60)\n")
    child = subprocess.Popen([sys.executable, "-c", code, str(db)], stdout=subprocess.PIPE,
                             text=True, cwd=ROOT)
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "held"
        with pytest.raises(CycleLocked, match="doomed"), cycle_lock(db, wait_s=0.2):
            pass
        os.kill(child.pid, signal.SIGKILL)  # no finally, no unlock: the kernel drops the flock
        child.wait(10)
        with cycle_lock(db, wait_s=5) as held:
            assert held.waited_s < 1.0
    finally:
        if child.poll() is None:
            child.kill()


@pytest.mark.usefixtures("prefect_harness")
def test_two_cycles_at_the_same_moment_one_works_the_other_waits_and_skips(
    tmp_path: Path, slack: SlackReceiver
) -> None:
    from prefect.settings import PREFECT_API_URL

    db = tmp_path / "newsmon.duckdb"
    config = tmp_path / "newsmon.yaml"
    # 0.5 s between requests to the one sample host: fetching the 12 pages alone keeps the
    # first cycle busy for ~6 s, far longer than the other's 2 s of waiting.
    config.write_text(
        f"database: {db}\n"
        f"watchlist_dir: {ROOT / 'config' / 'watchlists'}\n"
        "lock_wait_s: 2\n"
        "fetch: {allow_private_hosts: true, per_host_min_interval_s: 0.5, connect_timeout_s: 2,"
        " read_timeout_s: 5}\n"
        "events: {max_article_age_days: null}\n"
        "alerts: {channels: [slack]}\n"
    )
    env = {**os.environ, "NEWSMON_SLACK_WEBHOOK_URL": slack.url,
           "PREFECT_API_URL": str(PREFECT_API_URL.value())}
    samples = ROOT / "samples" / "demo"
    with serve_folder(samples) as base:
        feeds = [arg for url in feed_urls(samples, base) for arg in ("--feed", url)]
        command = [NEWSMON, "run", "--config", str(config), *feeds]
        children = [subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True) for _ in range(2)]
        results = [(child.wait(180), *child.communicate()) for child in children]
    assert [code for code, _, _ in results] == [0, 0], results
    skipped = [out for _, out, _ in results if SKIP_MESSAGE in " ".join(out.split())]
    assert len(skipped) == 1, results
    assert "waited 2 s" in " ".join(skipped[0].split())
    statuses = sorted(row[0] for row in db_rows(db, "SELECT status FROM runs"))
    assert statuses == ["ok", "skipped_locked"], statuses
    reason = db_rows(db, "SELECT error, summary->>'status' FROM runs "
                       "WHERE status = 'skipped_locked'")[0]
    assert reason[0].startswith(SKIP_MESSAGE) and reason[1] == "skipped"
    # The database is intact and no alert is doubled: the demo's two meetings, once each.
    assert db_rows(db, "SELECT count(*), count(DISTINCT canonical_url) FROM articles") == [(12, 12)]
    assert db_rows(db, "SELECT count(*) FROM alerts WHERE status = 'delivered'") == [(2,)]
    assert len(slack.bodies) == 2


@pytest.mark.usefixtures("prefect_harness")
def test_a_skipped_flow_run_is_completed_named_skipped_and_counted_in_runs(
    tmp_path: Path,
) -> None:
    from flows.monitor import monitor

    db = tmp_path / "newsmon.duckdb"
    config = tmp_path / "newsmon.yaml"
    config.write_text(f"database: {db}\nwatchlist_dir: {ROOT / 'config' / 'watchlists'}\n"
                      "lock_wait_s: 0.3\n")
    monitor(config=str(config))  # creates the database (no feeds)
    with cycle_lock(db, wait_s=0, what="a long cycle"):
        state = monitor(config=str(config), return_state=True)
    assert state.is_completed() and state.name == "Skipped"
    summary = state.result()
    assert summary["status"] == "skipped" and summary["reason"].startswith(SKIP_MESSAGE)
    assert "a long cycle" in summary["reason"]
    assert sorted(r[0] for r in db_rows(db, "SELECT status FROM runs")) == ["ok", "skipped_locked"]
