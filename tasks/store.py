"""Tasks that write a cycle's results to DuckDB (the single writer) in one transaction each."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb
from prefect import task
from prefect.cache_policies import NO_CACHE

from newsmon.alerts.outbox import queue_event_alerts
from newsmon.alerts.policy import AlertPolicy
from newsmon.analysis.pipeline import Analysis
from newsmon.cycle.pages import AlertRules, PageWork, alert_kind
from newsmon.sources.polling import PollResult
from newsmon.store import connect, utcnow
from newsmon.store.events import store_event
from newsmon.store.repo import (
    FeedHealth,
    feed_health,
    record_items,
    save_articles,
    save_mentions_of,
    save_pages,
    save_poll_results,
    transaction,
)
from tasks.runlog import run_logger


@dataclass(frozen=True)
class StoreCounts:
    """What one batch added."""

    articles: int = 0
    events_created: int = 0
    events_merged: int = 0
    alerts_queued: int = 0  # outbox rows (one per channel), first alerts and updates


@dataclass(frozen=True)
class StoredPages:
    """What storing a batch of pages did, event by event (the replay diff reads the links)."""

    counts: StoreCounts
    links: tuple[tuple[str, str, bool], ...]  # (article id, event id, event created) per report


def store_pages(
    con: duckdb.DuckDBPyConnection,
    work: list[PageWork],
    analyses: dict[str, Analysis],
    watchlist_name: str,
    watchlist_title: str,
    policy: AlertPolicy,
    rules: AlertRules,
    now: datetime,
    cycle_started: datetime,
) -> StoredPages:
    """Store pages, articles, mentions, events and their alerts on an open transaction; return
    what was stored. The caller commits (a cycle) or may roll back (a replay's dry run)."""
    created = merged = queued = 0
    links: list[tuple[str, str, bool]] = []
    # event id -> the first alert it deserves (None: none, but maybe an update); insertion order
    # is report order, so alerts are queued in the order their events were reported.
    touched: dict[str, str | None] = {}
    record_items(con, [(w.item, w.canonical_url) for w in work])
    # Pages, articles and mentions go in one statement per table for the whole batch
    # (a round trip per row was most of a batch's store time; issue 10).
    save_pages(con, [(w.canonical_url, w.fetched) for w in work])
    save_articles(con, [w.row for w in work])
    save_mentions_of(con, [(w.row.id, analyses[w.row.id].mentions)
                           for w in work if w.row.id in analyses])
    for w in work:
        analysis = analyses.get(w.row.id)
        if analysis is None:
            continue
        for event in analysis.events:
            stored = store_event(con, watchlist_name, w.row.id, event, now)
            links.append((w.row.id, stored.event_id, stored.created))
            created += stored.created
            merged += not stored.created
            # A planned event that now took place alerts like a new one if it never
            # alerted while planned (alert_planned off), judged on this report.
            became_occurred = (
                stored.previous_status == "planned" and event.status == "occurred"
            )
            kind = alert_kind(
                event, stored.created or became_occurred or stored.became_new, w.row.article,
                now, rules,
            )
            previous = touched.get(stored.event_id)
            touched[stored.event_id] = "new" if "new" in (kind, previous) else (
                kind or previous
            )
    # Alerts are built after the whole batch is stored, so an alert shows every
    # participant and source the batch reported, in the same transaction as the events:
    # an event and its alert rows commit together or not at all (the outbox).
    for event_id, kind in touched.items():
        queued += queue_event_alerts(
            con, event_id, kind, policy, watchlist_title, now, cycle_started
        )
    return StoredPages(StoreCounts(len(work), created, merged, queued), tuple(links))


@task(name="store-batch", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=[2, 10])
def store_batch(
    db_path: Path,
    work: list[PageWork],
    analyses: dict[str, Analysis],
    watchlist_name: str,
    watchlist_title: str,
    policy: AlertPolicy,
    rules: AlertRules,
    cycle_started: datetime | None = None,
) -> StoreCounts:
    """Store a batch of pages, articles, mentions, events and their alerts in one transaction."""
    now = utcnow()
    con = connect(db_path)
    try:
        with transaction(con):
            stored = store_pages(con, work, analyses, watchlist_name, watchlist_title, policy,
                                 rules, now, cycle_started or now)
    finally:
        con.close()
    counts = stored.counts
    run_logger("newsmon.store").info(
        "stored %d articles, %d new events, %d merged reports, %d alerts queued",
        len(work), counts.events_created, counts.events_merged, counts.alerts_queued,
    )
    return counts


@task(name="save-feed-states", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=[2, 10])
def save_feed_states(db_path: Path, polls: list[PollResult], quiet_after_days: int = 14) -> None:
    """Store the feeds' new poll state, once the items they carried are safely stored."""
    con = connect(db_path)
    try:
        with transaction(con):
            save_poll_results(con, polls, quiet_after_days)
    finally:
        con.close()


@task(name="feed-health", cache_policy=NO_CACHE)
def feeds_health(db_path: Path, urls: list[str], quiet_after_days: int) -> list[FeedHealth]:
    """Return the health of the run's feeds (status ok, quiet, failing, gone or new)."""
    con = connect(db_path, read_only=True)
    try:
        return feed_health(con, utcnow(), quiet_after_days, urls)
    finally:
        con.close()
