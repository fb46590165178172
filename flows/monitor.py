"""The hourly monitoring cycle: poll -> fetch -> extract -> analyse -> store -> alert."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import asdict
from datetime import timedelta
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from newsmon.analysis import AnalysisRules
from newsmon.crawl import Politeness
from newsmon.cycle import (
    AlertRules,
    PageWork,
    analysis_input,
    build_article,
    mark_duplicates,
    needs_nlp,
    with_analysis,
)
from newsmon.extract import ExtractionRules
from newsmon.fetch import FetchLimits
from newsmon.models import FeedItem
from newsmon.outbox import AlertPolicy
from newsmon.polling import PollSchedule, is_due
from newsmon.settings import Settings, load_settings
from newsmon.store import connect, migrate, utcnow
from newsmon.store.repo import feed_states, finish_run, recent_texts, register_feeds, start_run
from newsmon.store.repo import unseen_items as filter_unseen
from newsmon.urls import dedup_key
from newsmon.watchlist import load_watchlist
from tasks.alerts import deliver_alerts, resolve_destinations
from tasks.faults import fault_point
from tasks.feeds import fetch_page_batch, poll_feeds
from tasks.nlp import analyze_batch
from tasks.snapshot import snapshot_views
from tasks.store import StoreCounts, feeds_health, save_feed_states, store_batch

BATCH = 200


def fetch_limits(settings: Settings) -> FetchLimits:
    """Return the fetch limits slice of the settings."""
    f = settings.fetch
    return FetchLimits(
        connect_timeout_s=f.connect_timeout_s, read_timeout_s=f.read_timeout_s,
        total_timeout_s=f.total_timeout_s, max_bytes=f.max_bytes,
        max_redirects=f.max_redirects, allow_private_hosts=f.allow_private_hosts,
        user_agent=f.user_agent, extra_allowed_hosts=f.extra_allowed_hosts,
    )


@task(name="open-database", cache_policy=NO_CACHE)
def open_database(db_path: Path, feeds: list[tuple[str, str]]) -> str:
    """Migrate the database, register the feeds and start a run row; return the run id."""
    con = connect(db_path)
    try:
        # Test hook (NEWSMON_FAULT=during_migration): die inside a migration's transaction.
        migrate(con, before_commit=lambda _version: fault_point("during_migration"))
        register_feeds(con, feeds)
        return start_run(con)
    finally:
        con.close()


@task(name="select-new-items", cache_policy=NO_CACHE)
def select_new_items(
    db_path: Path, items: list[FeedItem], per_feed: int
) -> list[tuple[FeedItem, str]]:
    """Return the items whose canonical URL and GUID were never seen, capped per feed."""
    canon: list[tuple[FeedItem, str]] = []
    taken: dict[str, int] = {}
    for item in items:
        # A file:, ftp: or javascript: link is kept: the fetcher refuses it without a request
        # and the refusal is stored like any other (issue 11), instead of vanishing unseen.
        url = dedup_key(item.url)
        if taken.get(item.feed_url, 0) < per_feed:
            taken[item.feed_url] = taken.get(item.feed_url, 0) + 1
            canon.append((item, url))
    con = connect(db_path)
    try:
        return filter_unseen(con, canon)
    finally:
        con.close()


@task(name="extract-articles", cache_policy=NO_CACHE)
def extract_batch(
    db_path: Path, batch: list[tuple[FeedItem, str]], fetched: list, settings: Settings
) -> list[PageWork]:
    """Return extracted article rows for fetched pages, near-duplicates linked."""
    rules = ExtractionRules(
        settings.extraction.min_text_chars, settings.extraction.max_future_skew_hours,
        settings.extraction.oldest_year,
    )
    now = utcnow()
    rows = [
        build_article(item, canonical, result, rules, settings.nlp.languages, now)
        for (item, canonical), result in zip(batch, fetched, strict=True)
    ]
    con = connect(db_path, read_only=True)
    try:
        earlier = recent_texts(con, now.replace(hour=0, minute=0) - timedelta(days=7))
    finally:
        con.close()
    rows = mark_duplicates(rows, earlier, settings.extraction.near_duplicate_threshold)
    return [
        PageWork(item, canonical, result, row)
        for (item, canonical), result, row in zip(batch, fetched, rows, strict=True)
    ]


@flow(name="monitor", log_prints=True)
def monitor(
    config: str | None = None,
    db: str | None = None,
    feeds: list[str] | None = None,
    allow_private_hosts: bool | None = None,
    send_alerts: bool = True,
) -> dict[str, Any]:
    """Run one monitoring cycle and return its summary."""
    logger = get_run_logger()
    started = time.monotonic()
    cycle_started = utcnow()  # updates are rate-limited per event per cycle from here
    overrides: dict[str, Any] = {"database": db}
    settings = load_settings(Path(config) if config else None, **overrides)
    if allow_private_hosts is not None:
        settings = settings.model_copy(
            update={"fetch": settings.fetch.model_copy(
                update={"allow_private_hosts": allow_private_hosts})}
        )
    watchlist = load_watchlist(settings.watchlist_dir, settings.watchlist)
    feed_list = [(f, f) for f in feeds] if feeds else [(f.url, f.name) for f in settings.feeds]
    db_path = settings.database
    run_id = open_database(db_path, feed_list)

    con = connect(db_path, read_only=True)
    try:
        states = feed_states(con, [url for url, _ in feed_list])
    finally:
        con.close()
    now = utcnow()
    # --feed polls now; configured feeds wait for their backoff / Retry-After / <ttl>.
    due = [s for s in states.values() if feeds or is_due(s, now)]
    limits = fetch_limits(settings)
    polls = poll_feeds(due, limits, PollSchedule(), settings.fetch.global_concurrency)
    items = [item for poll in polls for item in poll.items]
    new_items = select_new_items(db_path, items, settings.fetch.max_new_items_per_feed)

    politeness = Politeness(
        settings.fetch.global_concurrency, settings.fetch.per_host_concurrency,
        settings.fetch.per_host_min_interval_s,
    )
    analysis_rules = AnalysisRules(
        settings.relevance.threshold, settings.events.new_window_days, settings.nlp.batch_size
    )
    alert_rules = AlertRules(
        settings.events.alert_types, settings.events.alert_planned,
        settings.events.max_article_age_days,
    )
    policy = AlertPolicy.from_settings(settings.alerts)
    totals = StoreCounts()
    relevant = thin = duplicates = 0
    for start in range(0, len(new_items), BATCH):
        batch = new_items[start : start + BATCH]
        fetched = fetch_page_batch([item.url for item, _ in batch], limits, politeness)
        work = extract_batch(db_path, batch, fetched, settings)
        inputs = [analysis_input(w.row) for w in work if needs_nlp(w.row)]
        analyses = analyze_batch(
            inputs, settings.nlp.model, settings.nlp.fallback_model,
            str(settings.watchlist_dir), settings.watchlist, analysis_rules,
        )
        by_id = {a.id: a for a in analyses}
        work = [
            PageWork(w.item, w.canonical_url, w.fetched, with_analysis(w.row, by_id[w.row.id]))
            if w.row.id in by_id else w
            for w in work
        ]
        relevant += sum(a.relevant for a in analyses)
        thin += sum(w.row.status in ("thin", "empty") for w in work)
        duplicates += sum(w.row.duplicate_of is not None for w in work)
        counts = store_batch(
            db_path, work, by_id, watchlist.name, watchlist.title, policy, alert_rules,
            cycle_started,
        )
        totals = StoreCounts(*(a + b for a, b in zip(asdict(totals).values(),
                                                     asdict(counts).values(), strict=True)))
    quiet_days = settings.fetch.quiet_after_days
    save_feed_states(db_path, polls, quiet_days)
    health = feeds_health(db_path, [url for url, _ in feed_list], quiet_days)
    feed_counts = Counter(h.status for h in health)  # ok, quiet, failing, gone, new

    # Test hook (NEWSMON_FAULT=after_store): die here, events and their alerts committed and
    # nothing delivered, to show that the next cycle delivers them (docs/alerts.md).
    fault_point("after_store")
    delivery = (
        deliver_alerts(
            db_path, resolve_destinations(settings), settings.alerts.timeout_s,
            settings.alerts.max_attempts,
        )
        if send_alerts else None
    )
    summary: dict[str, Any] = {
        "run_id": run_id,
        "feeds_polled": len(polls),
        "feeds_ok": sum(p.outcome != "failed" for p in polls),
        "feeds_failed": sum(p.outcome == "failed" for p in polls),
        "feeds_not_modified": sum(p.outcome in ("not_modified", "unchanged") for p in polls),
        # Health of every feed of the run, polled this time or not (see `newsmon feeds`).
        "feeds_healthy": feed_counts["ok"],
        "feeds_failing": feed_counts["failing"],
        "feeds_quiet": feed_counts["quiet"],
        "feeds_gone": feed_counts["gone"],
        # Reported every run until the config names the new URL.
        "feeds_moved": [{"feed": h.url, "moved_to": h.moved_to} for h in health if h.moved_to],
        "items_seen": len(items),
        "new_articles": len(new_items),
        "thin_or_empty": thin,
        "near_duplicates": duplicates,
        "relevant": relevant,
        "events_new": totals.events_created,
        "event_reports_merged": totals.events_merged,
        "alerts_queued": totals.alerts_queued,
        "alerts_delivered": delivery.delivered if delivery else 0,
        "alerts_retrying": delivery.retrying if delivery else 0,
        "alerts_failed": delivery.failed if delivery else 0,
        "alerts_waiting": delivery.waiting if delivery else 0,
        "alerts_resent_after_crash": delivery.resent if delivery else 0,
        # Reasons are fixed codes or redacted text: never a webhook URL.
        "alert_failures": [
            {"alert": alert_id, "reason": reason} for alert_id, reason in delivery.failures
        ] if delivery else [],
        "feed_errors": [
            {"feed": p.url, "kind": p.error_kind, "error": p.error}
            for p in polls if p.outcome == "failed"
        ],
        "seconds": round(time.monotonic() - started, 2),
    }
    # The analyst views as Parquet beside the database: readable while the next cycle writes.
    summary["snapshot"] = snapshot_views(db_path)
    con = connect(db_path)
    try:
        finish_run(con, run_id, "ok", summary)
    finally:
        con.close()
    create_markdown_artifact(
        key="monitor-summary", markdown=summary_markdown(summary), description="newsmon cycle"
    )
    logger.info("cycle summary: %s", {k: v for k, v in summary.items() if k != "feed_errors"})
    return summary


def summary_markdown(summary: dict[str, Any]) -> str:
    """Return the run summary as a markdown table (the Prefect artifact)."""
    lines = ["# newsmon cycle", "", "| measure | value |", "|---|---|"]
    lines += [
        f"| {k} | {v} |" for k, v in summary.items() if k not in ("feed_errors", "alert_failures")
    ]
    if summary["feed_errors"]:
        lines += ["", "## Feed problems", "", "| feed | kind | error |", "|---|---|---|"]
        lines += [f"| {e['feed']} | {e['kind']} | {e['error']} |" for e in summary["feed_errors"]]
    if summary.get("alert_failures"):
        lines += ["", "## Alerts that failed", "", "| alert | reason |", "|---|---|"]
        lines += [f"| {f['alert']} | {f['reason']} |" for f in summary["alert_failures"]]
    return "\n".join(lines)


if __name__ == "__main__":
    monitor()
