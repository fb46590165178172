"""The hourly monitoring cycle: poll -> fetch -> extract -> analyse -> store -> alert."""

from __future__ import annotations

import gc
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.states import Completed
from prefect.utilities.annotations import quote

from flows.runners import fanout_width, task_runner_from_env
from flows.stages import BatchAhead, analyse_stage
from newsmon.alerts.policy import AlertPolicy, idle_channel_warnings
from newsmon.analysis.pipeline import AnalysisRules
from newsmon.analysis.watchlist import Watchlist, load_watchlist
from newsmon.articles.dedup import DuplicateIndex, duplicate_index, mark_duplicates
from newsmon.articles.extract import ExtractionRules
from newsmon.articles.workers import worker_count
from newsmon.cycle.pages import AlertRules, PageWork, analysis_input, needs_nlp, with_analysis
from newsmon.cycle.runreport import (
    StageClock,
    feed_health_table,
    feed_problems,
    run_markdown,
    stage_line,
)
from newsmon.lock import CycleLocked, cycle_lock
from newsmon.models import FeedItem
from newsmon.settings import Settings, load_settings
from newsmon.sources.crawl import Politeness
from newsmon.sources.fetch import FetchLimits
from newsmon.sources.polling import PollSchedule, is_due
from newsmon.store import DatabaseError, connect, migrate, utcnow
from newsmon.store.repo import feed_states, finish_run, recent_texts, register_feeds, start_run
from newsmon.store.repo import unseen_items as filter_unseen
from newsmon.store.reports import events_since, record_skipped_run
from newsmon.urls import dedup_key
from tasks.alerts import deliver_alerts, resolve_destinations
from tasks.faults import fault_point
from tasks.feeds import poll_feeds
from tasks.snapshot import snapshot_views
from tasks.store import StoreCounts, feeds_health, save_feed_states, store_batch

BATCH = 200


def fetch_limits(settings: Settings) -> FetchLimits:
    """Return the fetch limits slice of the settings."""
    return FetchLimits.from_settings(settings.fetch)


def extraction_rules(settings: Settings) -> ExtractionRules:
    """Return the extraction rules slice of the settings."""
    e = settings.extraction
    return ExtractionRules(e.min_text_chars, e.max_future_skew_hours, e.oldest_year)


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


def week_texts_index(db_path: Path) -> DuplicateIndex:
    """Return the near-duplicate index of this week's stored articles."""
    con = connect(db_path, read_only=True)
    try:
        earlier = recent_texts(con, utcnow().replace(hour=0, minute=0) - timedelta(days=7))
    finally:
        con.close()
    return duplicate_index(earlier)


@task(name="mark-duplicates", cache_policy=NO_CACHE)
def mark_batch_duplicates(
    work: list[PageWork], threshold: float, index: DuplicateIndex
) -> list[PageWork]:
    """Return the batch with near-duplicates of this week's articles (or of each other) linked.

    A cycle passes one index to all its batches (built from the week's texts before the first,
    then extended with each batch's texts): reading and shingling the week again per batch made
    this stage quadratic in the cycle's size (issue 10).
    """
    rows = mark_duplicates([w.row for w in work], index, threshold)
    return [replace(w, row=row) for w, row in zip(work, rows, strict=True)]


def parse_day(value: str | date | None) -> date | None:
    """Return a YYYY-MM-DD parameter as a date (None stays None).

    Date parameters are typed str: a deployment passes JSON, and Prefect builds the parameter
    model of a deployed flow from its source, where `date` cannot be resolved.
    """
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(value)


def _run_label() -> str:
    """Return who holds the cycle lock, as waiting cycles will print it."""
    try:
        from prefect.runtime import flow_run

        return f"monitor flow run {flow_run.name!r}"
    except Exception:  # noqa: BLE001 - only a label
        return "monitor flow run"


@flow(name="monitor", log_prints=True, task_runner=task_runner_from_env())
def monitor(
    config: str | None = None,
    db: str | None = None,
    feeds: list[str] | None = None,
    allow_private_hosts: bool | None = None,
    send_alerts: bool = True,
    since: str | None = None,
    queue_alerts: bool = True,
) -> dict[str, Any]:
    """Run one monitoring cycle and return its summary; a cycle that finds another one still
    running on the database waits `lock_wait_s`, then returns a "skipped" summary.

    since: backfill (YYYY-MM-DD): poll every feed now, unconditionally, and take only items
    published on or after this day (undated items too). queue_alerts False stores events
    without queueing any alert (they never alert later either); send_alerts False leaves the
    outbox undelivered.
    """
    cycle_started = utcnow()  # updates are rate-limited per event per cycle from here
    overrides: dict[str, Any] = {"database": db}
    settings = load_settings(Path(config) if config else None, **overrides)
    if allow_private_hosts is not None:
        settings = settings.model_copy(
            update={"fetch": settings.fetch.model_copy(
                update={"allow_private_hosts": allow_private_hosts})}
        )
    try:
        with cycle_lock(settings.database, settings.lock_wait_s, _run_label()) as lock:
            return run_cycle(settings, feeds, send_alerts, parse_day(since), queue_alerts,
                             lock.waited_s,
                             cycle_started)
    except CycleLocked as exc:
        summary = skipped_cycle(settings.database, cycle_started, exc)
        # Completed, named "Skipped": a skipped hour is not a failure, and shows as such in the
        # Prefect UI; Prefect hands the caller the state's data, the summary dict.
        skipped = Completed(message=str(exc), name="Skipped", data=summary)
        return skipped  # type: ignore[return-value]


def skipped_cycle(db_path: Path, started_at: datetime, exc: CycleLocked) -> dict[str, Any]:
    """Record a cycle skipped because another one held the lock; return its summary."""
    logger = get_run_logger()
    logger.warning("%s", exc)
    summary: dict[str, Any] = {
        "status": "skipped", "reason": str(exc), "waited_s": round(exc.waited_s, 1),
        "lock_holder": exc.holder,
    }
    try:
        # The holder's write connections are short (one batch, one delivery pass): wait for one.
        con = connect(db_path, wait_s=30)
        try:
            summary["run_id"] = record_skipped_run(con, started_at, summary, str(exc))
        finally:
            con.close()
    except (DatabaseError, duckdb.Error) as db_exc:
        logger.warning("the skipped run could not be recorded in runs: %s", db_exc)
    create_markdown_artifact(
        key="monitor-summary", markdown=f"# newsmon cycle skipped\n\n{exc}",
        description="newsmon cycle (skipped)",
    )
    return summary


def run_cycle(
    settings: Settings,
    feeds: list[str] | None,
    send_alerts: bool,
    since: date | None,
    queue_alerts: bool,
    lock_waited_s: float,
    cycle_started: datetime,
) -> dict[str, Any]:
    """Run the stages of one cycle under the lock; return the summary (also the runs row)."""
    logger = get_run_logger()
    started = time.monotonic()
    clock = StageClock()
    watchlist = load_watchlist(settings.watchlist_dir, settings.watchlist)
    feed_list = [(f, f) for f in feeds] if feeds else [(f.url, f.name) for f in settings.feeds]
    db_path = settings.database
    run_id = open_database(db_path, feed_list)
    width = fanout_width()
    try:
        return _stages(Cycle(settings, watchlist, feed_list, db_path, run_id, clock, width, feeds,
                             send_alerts, since, queue_alerts, lock_waited_s, cycle_started,
                             started))
    except BaseException as exc:
        # The run row says how far the cycle got and why it stopped (a crash by SIGKILL leaves
        # it 'running': that too is visible in the history).
        error = f"{type(exc).__name__}: {exc}"
        try:
            con = connect(db_path)
            try:
                finish_run(con, run_id, "failed", {"status": "failed", "run_id": run_id,
                                                   "stages": clock.rounded(), "error": error},
                           error)
            finally:
                con.close()
        except Exception as db_exc:  # noqa: BLE001 - the original error matters more
            logger.warning("run %s could not be marked failed: %s", run_id, db_exc)
        raise


@dataclass(frozen=True)
class Cycle:
    """What every step of one cycle reads: its settings, watchlist, feeds, database and clock."""

    settings: Settings
    watchlist: Any
    feed_list: list[tuple[str, str]]
    db_path: Path
    run_id: str
    clock: StageClock
    width: int
    feeds: list[str] | None
    send_alerts: bool
    since: date | None
    queue_alerts: bool
    lock_waited_s: float
    cycle_started: datetime
    started: float

    def done(self, stage: str, counts: dict[str, Any], batch: int | None = None) -> None:
        """Log a stage's counts as one structured line."""
        get_run_logger().info("%s", stage_line(
            self.run_id, stage, {**({"batch": batch} if batch else {}), **counts}))


@dataclass(frozen=True)
class Polled:
    """The poll step's outcome: every poll, the items seen, and the ones never seen before."""

    polls: list[Any]
    items: list[FeedItem]
    new_items: list[tuple[FeedItem, str]]


@dataclass(frozen=True)
class CycleRules:
    """The settings slices the batch steps need."""

    limits: FetchLimits
    politeness: Politeness
    extraction: ExtractionRules
    analysis: AnalysisRules
    alerts: AlertRules
    policy: AlertPolicy


@dataclass(frozen=True)
class BatchTotals:
    """What the batches stored and found, summed over the cycle."""

    stored: StoreCounts = field(default_factory=StoreCounts)
    relevant: int = 0
    thin: int = 0
    duplicates: int = 0

    def plus(self, other: BatchTotals) -> BatchTotals:
        """Return the sum of two totals."""
        stored = StoreCounts(*(a + b for a, b in zip(asdict(self.stored).values(),
                                                     asdict(other.stored).values(), strict=True)))
        return BatchTotals(stored, self.relevant + other.relevant, self.thin + other.thin,
                           self.duplicates + other.duplicates)


def _stages(cycle: Cycle) -> dict[str, Any]:
    """Return the summary of the cycle's stages, each timed and logged as one structured line."""
    polled = poll_step(cycle)
    rules = cycle_rules(cycle.settings, cycle.queue_alerts, cycle.watchlist)
    totals = process_batches(cycle, rules, polled.new_items)
    health = feed_health_step(cycle, polled.polls)
    # Test hook (NEWSMON_FAULT=after_store): die here, events and their alerts committed and
    # nothing delivered, to show that the next cycle delivers them (docs/alerts.md).
    fault_point("after_store")
    delivery = deliver_step(cycle)
    summary = cycle_summary(cycle, polled, totals, health, delivery)
    finish_cycle(cycle, summary, health)
    return summary


def poll_step(cycle: Cycle) -> Polled:
    """Poll the feeds that are due and return the polls, the items and the new items."""
    settings, since = cycle.settings, cycle.since
    with cycle.clock.stage("poll") as poll_counts:
        con = connect(cycle.db_path, read_only=True)
        try:
            states = feed_states(con, [url for url, _ in cycle.feed_list])
        finally:
            con.close()
        now = utcnow()
        if since is not None:
            # Backfill: every feed now, and no conditional request: a 304 or an unchanged body
            # would parse nothing, and the point is to see every item the feed still holds.
            due = [replace(s, etag=None, last_modified=None, body_hash=None)
                   for s in states.values()]
        else:
            # --feed polls now; configured feeds wait for their backoff / Retry-After / <ttl>.
            due = [s for s in states.values() if cycle.feeds or is_due(s, now)]
        polls = poll_feeds(due, fetch_limits(settings), PollSchedule(),
                           settings.fetch.global_concurrency)
        items = [item for poll in polls for item in poll.items]
        if since is not None:
            items = [i for i in items if i.published is None or i.published.date() >= since]
        new_items = select_new_items(cycle.db_path, items, settings.fetch.max_new_items_per_feed)
        poll_counts.update(feeds=len(polls), failed=sum(p.outcome == "failed" for p in polls),
                           items=len(items), new_items=len(new_items))
    cycle.done("poll", poll_counts)
    return Polled(polls, items, new_items)


def cycle_rules(settings: Settings, queue_alerts: bool, watchlist: Watchlist) -> CycleRules:
    """Return the settings slices of the batch steps (no alerts queued without queue_alerts)."""
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
    policy = AlertPolicy.from_settings(settings.alerts, watchlist)
    if not queue_alerts:
        # Backfill without --send: events are stored as seen, but nothing is queued, now or by
        # a later report (no first alert, no update).
        alert_rules = replace(alert_rules, alert_types=())
        policy = replace(policy, updates=False)
    return CycleRules(fetch_limits(settings), politeness, extraction_rules(settings),
                      analysis_rules, alert_rules, policy)


def process_batches(
    cycle: Cycle, rules: CycleRules, new_items: list[tuple[FeedItem, str]]
) -> BatchTotals:
    """Fetch, extract, analyse and store the new items batch by batch; return the totals."""
    settings = cycle.settings
    batches = [new_items[start : start + BATCH] for start in range(0, len(new_items), BATCH)]
    # Extraction worker processes with the thread runner; a wider runner fans out itself.
    processes = worker_count(settings.extraction.workers) if cycle.width <= 1 else 1

    def ahead(number: int) -> BatchAhead | None:
        """Start fetching and extracting batch `number` (1-based), if there is one."""
        if number > len(batches):
            return None
        return BatchAhead(batches[number - 1], rules.limits, rules.politeness, rules.extraction,
                          settings.nlp.languages, utcnow(), cycle.width, processes)

    totals = BatchTotals()
    coming = ahead(1)
    index = DuplicateIndex()
    if batches:
        with cycle.clock.stage("extract"):  # the week's texts, read once while batch 1 downloads
            index = week_texts_index(cycle.db_path)
    for number, batch in enumerate(batches, 1):
        assert coming is not None
        found, coming = process_batch(cycle, rules, number, batch, coming,
                                      lambda n=number: ahead(n + 1), index)
        totals = totals.plus(found)
        # This batch's pages are stored: let them go before the batch after next is fetched,
        # so at most two batches of raw pages are held at a time. Part of a batch is held in
        # reference cycles (Prefect futures and states) that only a full collection frees;
        # without one per batch the process grew ~40 MB a batch (issue 10, docs/performance.md).
        gc.collect()
    return totals


def process_batch(
    cycle: Cycle, rules: CycleRules, number: int, batch: list[tuple[FeedItem, str]],
    current: BatchAhead, start_next: Callable[[], BatchAhead | None], index: DuplicateIndex,
) -> tuple[BatchTotals, BatchAhead | None]:
    """Fetch, extract, analyse and store one batch; return its totals and the next batch."""
    settings, clock = cycle.settings, cycle.clock
    # Stage times below are the waits of the flow: with the look-ahead, a stage that ran
    # while the flow analysed the previous batch costs only what is left of it.
    with clock.stage("fetch") as counts:
        fetched = current.fetched()
        counts.update(pages=len(fetched), failed=sum(1 for r in fetched if r.error_kind))
    cycle.done("fetch", counts, number)
    with clock.stage("extract") as counts:
        # The next batch starts downloading now, one fetch task at a time (politeness
        # holds per fetch task), and queues for the workers behind this one.
        coming = start_next()
        rows = current.rows()
        work = [PageWork(item, canonical, result, row)
                for (item, canonical), result, row in zip(batch, fetched, rows, strict=True)]
        # quote(): the batch is handed over as it is, not walked by Prefect (flows/stages.py).
        work = mark_batch_duplicates(quote(work),
                                     settings.extraction.near_duplicate_threshold, index)
        counts.update(articles=len(work),
                      thin_or_empty=sum(w.row.status in ("thin", "empty") for w in work),
                      duplicates=sum(w.row.duplicate_of is not None for w in work))
    cycle.done("extract", counts, number)
    with clock.stage("analyse") as counts:
        inputs = [analysis_input(w.row) for w in work if needs_nlp(w.row)]
        analyses = analyse_stage(
            inputs, settings.nlp.model, settings.nlp.fallback_model,
            str(settings.watchlist_dir), settings.watchlist, rules.analysis, cycle.width,
        )
        counts.update(texts=len(inputs), relevant=sum(a.relevant for a in analyses),
                      events=sum(len(a.events) for a in analyses))
    cycle.done("analyse", counts, number)
    by_id = {a.id: a for a in analyses}
    work = [
        PageWork(w.item, w.canonical_url, w.fetched, with_analysis(w.row, by_id[w.row.id]))
        if w.row.id in by_id else w
        for w in work
    ]
    with clock.stage("store") as counts:
        stored = store_batch(
            cycle.db_path, quote(work), quote(by_id), cycle.watchlist.name,
            cycle.watchlist.title, rules.policy, rules.alerts, cycle.cycle_started,
        )
        counts.update(asdict(stored))
    cycle.done("store", counts, number)
    found = BatchTotals(
        stored, sum(a.relevant for a in analyses),
        sum(w.row.status in ("thin", "empty") for w in work),
        sum(w.row.duplicate_of is not None for w in work),
    )
    return found, coming


def feed_health_step(cycle: Cycle, polls: list[Any]) -> list[Any]:
    """Save the feed states (only now: their items are stored) and return every feed's health."""
    quiet_days = cycle.settings.fetch.quiet_after_days
    with cycle.clock.stage("store") as counts:
        save_feed_states(cycle.db_path, polls, quiet_days)
        health = feeds_health(cycle.db_path, [url for url, _ in cycle.feed_list], quiet_days)
        counts.update(feeds=len(health))
    cycle.done("store", counts)
    return health


def deliver_step(cycle: Cycle) -> Any:
    """Deliver the queued alerts (unless the cycle sends none); return the delivery counts."""
    settings = cycle.settings
    with cycle.clock.stage("deliver") as counts:
        delivery = (
            deliver_alerts(
                cycle.db_path, resolve_destinations(settings), settings.alerts.timeout_s,
                settings.alerts.max_attempts,
            )
            if cycle.send_alerts else None
        )
        counts.update(delivered=delivery.delivered if delivery else 0,
                      failed=delivery.failed if delivery else 0, skipped=not cycle.send_alerts)
    cycle.done("deliver", counts)
    return delivery


def cycle_summary(
    cycle: Cycle, polled: Polled, totals: BatchTotals, health: list[Any], delivery: Any
) -> dict[str, Any]:
    """Return the cycle's summary: feeds, articles, events, alerts, stage times (the runs row)."""
    polls = polled.polls
    feed_counts = Counter(h.status for h in health)  # ok, quiet, failing, gone, new
    feed_errors = [
        {"feed": p.url, "kind": p.error_kind, "error": p.error}
        for p in polls if p.outcome == "failed"
    ]
    con = connect(cycle.db_path, read_only=True)
    try:
        new_events = events_since(con, cycle.cycle_started)
    finally:
        con.close()
    settings = cycle.settings
    return {
        "status": "ok",
        "run_id": cycle.run_id,
        # First in the summary: a channel whose secret is set but that the config leaves out.
        "warnings": idle_channel_warnings(
            AlertPolicy.from_settings(settings.alerts).all_channels(), settings.secret_sources()),
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
        "items_seen": len(polled.items),
        "new_articles": len(polled.new_items),
        "thin_or_empty": totals.thin,
        "near_duplicates": totals.duplicates,
        "relevant": totals.relevant,
        "events_new": totals.stored.events_created,
        "event_reports_merged": totals.stored.events_merged,
        "alerts_queued": totals.stored.alerts_queued,
        "alerts_delivered": delivery.delivered if delivery else 0,
        "alerts_retrying": delivery.retrying if delivery else 0,
        "alerts_failed": delivery.failed if delivery else 0,
        "alerts_waiting": delivery.waiting if delivery else 0,
        "alerts_resent_after_crash": delivery.resent if delivery else 0,
        # Reasons are fixed codes or redacted text: never a webhook URL.
        "alert_failures": [
            {"alert": alert_id, "reason": reason} for alert_id, reason in delivery.failures
        ] if delivery else [],
        "feed_errors": feed_errors,
        "backfill_since": cycle.since.isoformat() if cycle.since else None,
        "lock_waited_s": round(cycle.lock_waited_s, 1),
        "task_runner_width": cycle.width,
        "stages": cycle.clock.rounded(),
        "new_events": new_events,
        "feed_problems": feed_problems(health, feed_errors),
        "seconds": round(time.monotonic() - cycle.started, 2),
    }


def finish_cycle(cycle: Cycle, summary: dict[str, Any], health: list[Any]) -> None:
    """Write the snapshot, close the runs row with the summary, publish the artifacts."""
    # The analyst views as Parquet beside the database: readable while the next cycle writes.
    summary["snapshot"] = snapshot_views(cycle.db_path)
    con = connect(cycle.db_path)
    try:
        finish_run(con, cycle.run_id, "ok", summary)
    finally:
        con.close()
    create_markdown_artifact(
        key="monitor-summary", markdown=summary_markdown(summary), description="newsmon cycle"
    )
    create_table_artifact(
        key="feed-health", table=feed_health_table(health),
        description="Health of the run's feeds (newsmon feeds)",
    )
    get_run_logger().info("cycle summary: %s", {
        k: v for k, v in summary.items() if k not in ("feed_errors", "new_events", "feed_problems")
    })


def summary_markdown(summary: dict[str, Any]) -> str:
    """Return the run summary as markdown (the Prefect artifact): measures, stage timings, new
    events, feed problems, failed alerts."""
    return run_markdown(summary)


if __name__ == "__main__":
    monitor()
