"""`newsmon serve` with no Prefect server configured: it starts a real `prefect server start`,
the schedule fires, two scheduled runs complete, and stopping serve stops the server too."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import httpx
import pytest

from newsmon.demo import feed_urls, serve_folder
from tests.conftest import ROOT

NEWSMON = str(Path(sys.executable).with_name("newsmon"))


def _ok_runs(db: Path) -> int:
    """Return how many runs finished ok (0 while the database is absent or busy)."""
    if not db.exists():
        return 0
    try:
        con = duckdb.connect(str(db), read_only=True)
    except duckdb.Error:
        return 0  # a cycle is writing right now: ask again later
    try:
        row = con.execute("SELECT count(*) FROM runs WHERE status = 'ok'").fetchone()
        return int(row[0]) if row else 0
    except duckdb.Error:
        return 0
    finally:
        con.close()


def _completed_scheduled_runs(api: str) -> list[dict[str, object]]:
    """Return the completed flow runs of the served deployment that its schedule created."""
    answer = httpx.post(f"{api}/flow_runs/filter", json={
        "flow_runs": {"state": {"type": {"any_": ["COMPLETED"]}}}, "limit": 50,
    }, timeout=10, trust_env=False)
    answer.raise_for_status()
    return [r for r in answer.json()
            if r.get("deployment_id") and r.get("auto_scheduled")]


@pytest.mark.slow
def test_serve_starts_a_server_runs_two_scheduled_cycles_and_stops_both(tmp_path: Path) -> None:
    samples = ROOT / "samples" / "demo"
    db = tmp_path / "newsmon.duckdb"
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env.update({
        "PREFECT_HOME": str(tmp_path / "prefect-home"),  # a fresh SQLite server database
        "PREFECT_RUNNER_POLL_FREQUENCY": "2",  # the runner looks for due runs every 2 s
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1",
    })
    with serve_folder(samples) as base:
        feeds = "".join(f"  - {{name: f{i}, url: '{url}'}}\n"
                        for i, url in enumerate(feed_urls(samples, base)))
        config = tmp_path / "newsmon.yaml"
        config.write_text(
            f"database: {db}\nwatchlist_dir: {ROOT / 'config' / 'watchlists'}\n"
            "fetch: {allow_private_hosts: true, per_host_min_interval_s: 0}\n"
            f"events: {{max_article_age_days: null}}\nfeeds:\n{feeds}"
        )
        log = tmp_path / "serve.log"
        with open(log, "w") as handle:
            serve = subprocess.Popen(
                [NEWSMON, "serve", "--config", str(config), "--interval-seconds", "8"],
                env=env, cwd=tmp_path, stdout=handle, stderr=subprocess.STDOUT,
            )
        try:
            deadline = time.monotonic() + 150
            api = None
            while time.monotonic() < deadline and serve.poll() is None:
                found = re.search(r"started a Prefect server at (\S+) \(pid (\d+)",
                                  log.read_text())
                if found and api is None:
                    api, server_pid = found.group(1), int(found.group(2))
                if api and _ok_runs(db) >= 2 and len(_completed_scheduled_runs(api)) >= 2:
                    break
                time.sleep(1)
            output = log.read_text()
            assert api is not None, output
            assert "PREFECT_API_URL is not set: starting `prefect server start`" in output
            assert _ok_runs(db) >= 2, output
            assert len(_completed_scheduled_runs(api)) >= 2, output
        finally:
            serve.send_signal(signal.SIGTERM)
            try:
                code = serve.wait(60)
            except subprocess.TimeoutExpired:
                serve.kill()
                raise
    output = log.read_text()
    assert code == 0, output
    assert "stopped the Prefect server it started" in output
    # Both are gone: the server's process and its port.
    with pytest.raises(ProcessLookupError):
        for _ in range(50):
            os.kill(server_pid, 0)
            time.sleep(0.2)
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"{api}/health", timeout=2, trust_env=False)
