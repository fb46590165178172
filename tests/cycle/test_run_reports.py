"""Run reports: per-stage timings in `runs`, one structured log line per stage, the markdown and
feed-health artifacts; and the pure pieces behind them and behind the Dask fan-out."""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from flows.runners import fanout_width, runner_name, task_runner_from_env
from newsmon.cycle.fanout import chunks, shard_by_host, shard_politeness
from newsmon.cycle.replay_diff import event_diff
from newsmon.cycle.runreport import (
    STAGES,
    StageClock,
    feed_problems,
    parse_stage_line,
    run_markdown,
    stage_line,
)
from newsmon.demo import feed_urls, serve_folder
from newsmon.sources.crawl import Politeness
from newsmon.store.replaying import EventSnapshot
from newsmon.store.repo import FeedHealth
from tests.conftest import ROOT


def test_stage_clock_sums_batches_and_stage_line_is_parseable_json() -> None:
    ticks = iter([0.0, 1.5, 10.0, 10.25])
    clock = StageClock(clock=lambda: next(ticks))
    with clock.stage("fetch") as counts:
        counts["pages"] = 3
    with clock.stage("fetch"):
        pass
    assert clock.rounded() == {**dict.fromkeys(STAGES, 0.0), "fetch": 1.75}
    line = stage_line("r1", "fetch", counts)
    assert line.startswith("newsmon.stage {")
    assert parse_stage_line(f"12:00 | INFO | {line}") == {
        "run_id": "r1", "stage": "fetch", "pages": 3, "seconds": 1.5}
    assert parse_stage_line("no stage here") is None
    with pytest.raises(ValueError, match="unknown stage"), clock.stage("nap"):
        pass


def _health(url: str, status: str, **extra: object) -> FeedHealth:
    """Return a FeedHealth row with defaults."""
    base = FeedHealth(url, None, None, status, 0, 0, None, None, None, None, None, None, None,
                      None)
    return replace(base, **extra)  # type: ignore[arg-type]


def test_feed_problems_name_failing_gone_quiet_and_moved_feeds_once_each() -> None:
    health = [
        _health("http://a/f", "failing", last_error_kind="timeout", last_error="slow"),
        _health("http://b/f", "gone", last_error_kind="http_status", last_error="410"),
        _health("http://c/f", "quiet", last_new_item_at=datetime(2026, 1, 2, 3, 4)),
        _health("http://d/f", "ok", moved_to="http://d/new"),
        _health("http://e/f", "ok"),
    ]
    errors = [{"feed": "http://a/f", "kind": "timeout", "error": "read timed out"}]
    rows = {r["feed"]: r for r in feed_problems(health, errors)}
    assert set(rows) == {"http://a/f", "http://b/f", "http://c/f", "http://d/f"}
    assert rows["http://a/f"]["problem"] == "timeout: read timed out"
    assert "2026-01-02 03:04" in rows["http://c/f"]["problem"]
    assert "moved permanently to http://d/new" in rows["http://d/f"]["problem"]
    markdown = run_markdown({"status": "ok", "stages": {"poll": 0.1}, "new_events": [],
                             "feed_problems": list(rows.values()), "alert_failures": []})
    assert "## Feed problems (4)" in markdown and "No new event this run." in markdown
    assert "| poll |" in markdown


def test_shards_keep_each_host_whole_and_balance_the_rest() -> None:
    urls = [f"http://{host}/{i}" for i, host in enumerate("aaaabbbcdd")]
    shards = shard_by_host(urls, 2)
    assert sorted(i for s in shards for i in s) == list(range(10))
    hosts = [{urls[i].split("/")[2] for i in shard} for shard in shards]
    assert not hosts[0] & hosts[1]  # no host in two shards
    assert sorted(len(s) for s in shards) == [5, 5]
    assert shard_by_host(urls[:4], 3) == [[0, 1, 2, 3]]  # one host: one shard
    assert shard_politeness(Politeness(16, 2, 1.0), 2).global_concurrency == 8
    assert chunks(list(range(10)), 3) == [[0, 1, 2, 3], [4, 5, 6], [7, 8, 9]]
    assert chunks(list(range(10)), 4, min_size=8) == [list(range(10))]
    assert chunks([], 2) == []


def test_runner_comes_from_the_environment() -> None:
    assert runner_name({}) == "thread" and fanout_width({}) == 1
    env = {"NEWSMON_TASK_RUNNER": "dask", "NEWSMON_DASK_WORKERS": "3"}
    assert fanout_width(env) == 3
    assert type(task_runner_from_env({})).__name__ == "ThreadPoolTaskRunner"
    with pytest.raises(ValueError, match="NEWSMON_TASK_RUNNER='spark'"):
        runner_name({"NEWSMON_TASK_RUNNER": "spark"})
    with pytest.raises(ValueError, match="at least 1"):
        fanout_width({"NEWSMON_TASK_RUNNER": "dask", "NEWSMON_DASK_WORKERS": "0"})


def _snap(event_id: str, evidence: set[str], **extra: object) -> EventSnapshot:
    """Return an event snapshot with defaults."""
    base = EventSnapshot(event_id, "meeting", "occurred", None, None, None, True, ("A", "B"),
                         frozenset(evidence))
    return replace(base, **extra)  # type: ignore[arg-type]


def test_event_diff_new_changed_gone_and_kept() -> None:
    before = {
        "kept": _snap("kept", {"a1"}),
        "grown": _snap("grown", {"a1", "x9"}, status="planned"),
        "gone": _snap("gone", {"a2"}),
        "outside": _snap("outside", {"x9"}),  # reported only by an article not replayed
    }
    after = {**before, "grown": _snap("grown", {"a1", "a3", "x9"}),
             "fresh": _snap("fresh", {"a3"})}
    links = [("a1", "kept", False), ("a1", "grown", False), ("a3", "grown", False),
             ("a3", "fresh", True)]
    diff = event_diff(before, after, ["a1", "a2", "a3"], links,
                      {"fresh": ["fresh:new:slack"]})
    assert [e["event_id"] for e in diff.new] == ["fresh"] and diff.new[0]["would_alert"]
    assert [e["event_id"] for e in diff.changed] == ["grown"]
    assert diff.changed[0]["changes"] == ["status: planned -> occurred",
                                          "reported by 1 more replayed article(s)"]
    assert [e["event_id"] for e in diff.gone] == ["gone"]


@pytest.mark.usefixtures("prefect_harness")
def test_every_run_records_stage_timings_logs_a_line_per_stage_and_makes_artifacts(
    tmp_path: Path,
) -> None:
    from prefect import get_client

    from flows.monitor import monitor

    config = tmp_path / "newsmon.yaml"
    config.write_text(
        f"database: {tmp_path / 'n.duckdb'}\nwatchlist_dir: {ROOT / 'config' / 'watchlists'}\n"
        "fetch: {allow_private_hosts: true, per_host_min_interval_s: 0}\n"
        "events: {max_article_age_days: null}\n"
    )
    samples = ROOT / "samples" / "demo"
    # Prefect's run loggers do not propagate to the root logger: listen on the flow-run one.
    records: list[logging.LogRecord] = []
    handler = logging.Handler(logging.INFO)
    handler.emit = records.append  # type: ignore[method-assign]
    flow_runs = logging.getLogger("prefect.flow_runs")
    flow_runs.addHandler(handler)
    try:
        with serve_folder(samples) as base:
            state = monitor(config=str(config),
                            feeds=[*feed_urls(samples, base), "http://127.0.0.1:9/dead.xml"],
                            return_state=True)
    finally:
        flow_runs.removeHandler(handler)
    summary = state.result()
    assert set(summary["stages"]) == set(STAGES)
    assert all(isinstance(v, float) and v >= 0 for v in summary["stages"].values())
    assert summary["stages"]["analyse"] > 0 and summary["stages"]["fetch"] > 0
    assert [e["participants"] for e in summary["new_events"] if e["alerted"]]
    assert summary["feed_problems"][0]["problem"].startswith("connect")
    lines = [parse_stage_line(r.getMessage()) for r in records]
    stages = [line["stage"] for line in lines if line]
    assert set(stages) == set(STAGES), stages
    con = duckdb.connect(str(tmp_path / "n.duckdb"), read_only=True)
    try:
        row = con.execute("SELECT status, summary FROM runs").fetchone()
    finally:
        con.close()
    assert row is not None and row[0] == "ok"
    assert json.loads(row[1])["stages"] == summary["stages"]

    async def artifacts() -> dict[str, str]:
        from prefect.client.schemas.filters import ArtifactFilter, FlowRunFilter

        async with get_client() as client:
            found = await client.read_artifacts(
                flow_run_filter=FlowRunFilter(id={"any_": [state.state_details.flow_run_id]}),
                artifact_filter=ArtifactFilter(),
            )
        return {a.key: a.type for a in found if a.key}

    import asyncio

    made = asyncio.run(artifacts())
    assert made.get("monitor-summary") == "markdown" and made.get("feed-health") == "table"
