"""Tasks that write a cycle's results to DuckDB (the single writer) in one transaction each."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from newsmon.analysis import Analysis
from newsmon.cycle import AlertRules, PageWork, alert_kind
from newsmon.notify import alert_event, channel_payload
from newsmon.polling import PollResult
from newsmon.store import connect, utcnow
from newsmon.store.repo import (
    FeedHealth,
    event_alert_facts,
    feed_health,
    queue_alert,
    record_items,
    save_article,
    save_mentions,
    save_page,
    save_poll_results,
    store_event,
    transaction,
)


@dataclass(frozen=True)
class StoreCounts:
    """What one batch added."""

    articles: int = 0
    events_created: int = 0
    events_merged: int = 0
    alerts_queued: int = 0


@task(name="store-batch", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=[2, 10])
def store_batch(
    db_path: Path,
    work: list[PageWork],
    analyses: dict[str, Analysis],
    watchlist_name: str,
    watchlist_title: str,
    channels: tuple[str, ...],
    rules: AlertRules,
) -> StoreCounts:
    """Store a batch of pages, articles, mentions, events and their alerts in one transaction."""
    created = merged = queued = 0
    to_alert: list[tuple[str, str]] = []
    now = utcnow()
    con = connect(db_path)
    try:
        with transaction(con):
            record_items(con, [(w.item, w.canonical_url) for w in work])
            for w in work:
                save_page(con, w.canonical_url, w.fetched)
                save_article(con, w.row)
                analysis = analyses.get(w.row.id)
                if analysis is None:
                    continue
                save_mentions(con, w.row.id, analysis.mentions)
                for event in analysis.events:
                    stored = store_event(con, watchlist_name, w.row.id, event, now)
                    created += stored.created
                    merged += not stored.created
                    kind = alert_kind(event, stored.created, w.row.article, now, rules)
                    if kind is not None:
                        to_alert.append((stored.event_id, kind))
            # Alerts are built after the whole batch is stored, so an alert shows every
            # participant and source the batch reported, in the same transaction as the events.
            for event_id, kind in to_alert:
                alert = alert_event(event_alert_facts(con, event_id), kind, watchlist_title)
                for channel in channels:
                    queued += queue_alert(
                        con, event_id, kind, channel, channel_payload(alert, channel), now
                    )
    finally:
        con.close()
    get_run_logger().info(
        "stored %d articles, %d new events, %d merged reports, %d alerts queued",
        len(work), created, merged, queued,
    )
    return StoreCounts(len(work), created, merged, queued)


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
