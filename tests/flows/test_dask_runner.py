"""Scale-out: the monitor flow on a Dask LocalCluster of two worker processes stores the same
rows as with the default thread runner; only the flow process writes DuckDB."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from newsmon.demo import feed_urls, serve_folder
from tests.conftest import ROOT

pytest.importorskip("prefect_dask", reason="the dask extra is not installed (pip install .[dask])")
pytestmark = [pytest.mark.usefixtures("prefect_harness"), pytest.mark.slow]

# What a cycle decides, without ids or times (event ids are random, times are wall-clock).
QUERIES = {
    "articles": "SELECT canonical_url, status, title, published_at, language, text_chars, "
                "duplicate_of IS NOT NULL, relevant, round(relevance, 6) FROM articles ORDER BY 1",
    "mentions": "SELECT a.canonical_url, m.start_char, m.end_char, m.label, m.actor_id "
                "FROM mentions m JOIN articles a ON a.id = m.article_id ORDER BY ALL",
    "events": "SELECT e.type, e.status, e.event_date, e.date_precision, e.place, e.is_new, "
              "e.sources, list_sort(list(p.actor_id)) FROM events e JOIN event_participants p "
              "ON p.event_id = e.id GROUP BY ALL ORDER BY ALL",
    "evidence": "SELECT a.canonical_url, ea.sentence FROM event_articles ea JOIN articles a "
                "ON a.id = ea.article_id ORDER BY ALL",
    # Event ids are random: masked in the alert text.
    "alerts": "SELECT kind, channel, status, regexp_replace(payload->>'text', "
              "'event [0-9a-f]{16}', 'event ?') FROM alerts ORDER BY ALL",
    "pages": "SELECT canonical_url, status_code, body_sha256 FROM pages ORDER BY ALL",
}


def _snapshot(db: Path) -> dict[str, list[tuple[object, ...]]]:
    """Return the result of every comparison query."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {name: con.execute(sql).fetchall() for name, sql in QUERIES.items()}
    finally:
        con.close()


def test_dask_runner_on_two_worker_processes_gives_the_same_rows_as_the_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from distributed import LocalCluster

    from flows.monitor import monitor
    from flows.runners import task_runner_from_env

    site = tmp_path / "site"
    shutil.copytree(ROOT / "samples" / "demo", site)
    for page in (ROOT / "samples" / "same-meeting" / "pages").glob("*.html"):
        shutil.copy(page, site / "pages" / page.name)
    shutil.copy(ROOT / "samples" / "same-meeting" / "feed.xml", site / "feeds" / "same.xml")
    summaries = {}
    with serve_folder(site) as base:
        feeds = feed_urls(site, base)
        for runner in ("thread", "dask"):
            config = tmp_path / f"{runner}.yaml"
            config.write_text(
                f"database: {tmp_path / runner}.duckdb\n"
                f"watchlist_dir: {ROOT / 'config' / 'watchlists'}\n"
                "fetch: {allow_private_hosts: true, per_host_min_interval_s: 0}\n"
                "events: {max_article_age_days: null}\n"
            )
            if runner == "thread":
                summaries[runner] = monitor(config=str(config), feeds=feeds)
                continue
            with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                              dashboard_address=None) as cluster:
                # The documented way: the runner and its cluster come from the environment.
                monkeypatch.setenv("NEWSMON_TASK_RUNNER", "dask")
                monkeypatch.setenv("NEWSMON_DASK_ADDRESS", cluster.scheduler_address)
                monkeypatch.setenv("NEWSMON_DASK_WORKERS", "2")  # the fan-out width
                flow = monitor.with_options(task_runner=task_runner_from_env())
                summaries[runner] = flow(config=str(config), feeds=feeds)
                # The heavy stages ran on the two worker processes, not in the flow's.
                processed = cluster.scheduler_info["workers"]
                assert len(processed) == 2
    assert summaries["dask"]["task_runner_width"] == 2
    assert summaries["thread"]["task_runner_width"] == 1
    for key in ("new_articles", "relevant", "events_new", "alerts_queued", "near_duplicates"):
        assert summaries["dask"][key] == summaries["thread"][key], key
    thread, dask = _snapshot(tmp_path / "thread.duckdb"), _snapshot(tmp_path / "dask.duckdb")
    for name in QUERIES:
        assert dask[name] == thread[name], name
    assert len(thread["articles"]) == 17 and len(thread["events"]) >= 2
