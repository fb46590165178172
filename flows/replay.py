"""The replay flow: re-run extraction and NLP over the raw archive for a date range, after a code
or watchlist change, and report the alert diff (events now new, changed or gone).

Nothing is fetched: pages come from table `pages` (gzip), feed items from `items`. The result is
stored through the cycle's own store code inside one DuckDB transaction; without `send` that
transaction is rolled back (a dry run: the database is unchanged, nothing is queued or sent).
With `send` it commits and the outbox delivers the new alerts once: the alert idempotency keys
and event matching make a second replay with the same code queue nothing again.
"""

from __future__ import annotations

import time
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.states import Completed

from flows.monitor import extraction_rules, parse_day, skipped_cycle
from flows.runners import fanout_width, task_runner_from_env
from flows.stages import analyse_stage, extract_stage
from newsmon.alerts.policy import AlertPolicy
from newsmon.analysis.pipeline import Analysis, AnalysisRules
from newsmon.analysis.watchlist import load_watchlist
from newsmon.articles.archive import archived_fetch, stored_item
from newsmon.cycle.pages import AlertRules, PageWork, analysis_input, needs_nlp, with_analysis
from newsmon.cycle.replay_diff import event_diff
from newsmon.cycle.runreport import StageClock, stage_line
from newsmon.lock import CycleLocked, cycle_lock
from newsmon.models import ArticleRow, FeedItem
from newsmon.settings import Settings, load_settings
from newsmon.sources.fetch import FetchResult
from newsmon.store import connect, migrate, utcnow
from newsmon.store.replaying import (
    ArchivedArticle,
    alert_rows,
    archived_articles,
    rewrite_article,
    snapshot_events,
    stored_article_row,
)
from newsmon.store.repo import finish_run, start_run
from tasks.alerts import deliver_alerts, resolve_destinations
from tasks.store import store_pages


@task(name="load-archive", cache_policy=NO_CACHE)
def load_archive(
    db_path: Path, since: datetime, until: datetime
) -> list[tuple[ArchivedArticle, FeedItem, FetchResult, ArticleRow]]:
    """Return the archived pages of the range with their feed item, fetch and stored row."""
    con = connect(db_path, read_only=True)
    try:
        out = []
        for archived in archived_articles(con, since, until):
            found = archived_fetch(con, archived.canonical_url)
            if found is None:
                continue
            fetched, _ = found
            item = stored_item(con, archived.canonical_url, fetched.url)
            out.append((archived, item, fetched,
                        stored_article_row(con, archived.article_id)))
        return out
    finally:
        con.close()


def _replayed_rows(
    archive: list[tuple[ArchivedArticle, FeedItem, FetchResult, ArticleRow]],
    settings: Settings, nlp_only: bool, width: int,
) -> list[ArticleRow]:
    """Return the article rows to analyse: re-extracted from the raw pages, or as stored."""
    stored = [entry[3] for entry in archive]
    if nlp_only:
        return stored
    # A text taken from the feed summary (the page failed) cannot be rebuilt from the page
    # archive, which has no feed summary: such rows keep their stored text.
    redo = [i for i, e in enumerate(archive) if e[0].extraction_path != "feed_summary"]
    fresh = extract_stage(
        [(archive[i][1], archive[i][0].canonical_url) for i in redo],
        [archive[i][2] for i in redo], extraction_rules(settings), settings.nlp.languages,
        [archive[i][0].fetched_at for i in redo], width,
    )
    rows = list(stored)
    for i, row in zip(redo, fresh, strict=True):
        # Near-duplicate links are kept as stored: a replay re-reads articles, it does not
        # re-decide which copy of a wire story came first.
        rows[i] = ArticleRow(row.id, row.article, row.feed_url, row.status, row.error,
                             stored[i].duplicate_of)
    return rows


@flow(name="replay", log_prints=True, task_runner=task_runner_from_env())
def replay(
    since: str,
    until: str | None = None,
    config: str | None = None,
    db: str | None = None,
    send: bool = False,
    nlp_only: bool = False,
) -> dict[str, Any]:
    """Replay the archive fetched from `since` to `until` (YYYY-MM-DD, inclusive, UTC); return
    the diff.

    Without send the database is left unchanged; with send the replayed result is stored and the
    new alerts are delivered once.
    """
    started_at = utcnow()
    settings = load_settings(Path(config) if config else None, database=db)
    try:
        with cycle_lock(settings.database, settings.lock_wait_s, "replay flow run"):
            return _replay(settings, date.fromisoformat(str(since)), parse_day(until), send,
                           nlp_only)
    except CycleLocked as exc:
        summary = skipped_cycle(settings.database, started_at, exc)
        # As in monitor: a Completed state named "Skipped"; callers get the summary dict.
        skipped = Completed(message=str(exc), name="Skipped", data=summary)
        return skipped  # type: ignore[return-value]


def _replay(
    settings: Settings, since: date, until: date | None, send: bool, nlp_only: bool
) -> dict[str, Any]:
    """Run the replay under the cycle lock; return its summary with the diff."""
    logger = get_run_logger()
    started = time.monotonic()
    clock = StageClock()
    db_path = settings.database
    if not db_path.exists():
        raise FileNotFoundError(f"database {db_path} does not exist: nothing to replay")
    watchlist = load_watchlist(settings.watchlist_dir, settings.watchlist)
    width = fanout_width()
    start = datetime.combine(since, datetime.min.time())
    end = datetime.combine(until or utcnow().date(), datetime.min.time()) + timedelta(days=1)
    con = connect(db_path)
    try:
        migrate(con)
        run_id = start_run(con)
    finally:
        con.close()

    with clock.stage("poll") as counts:  # "poll" of a replay: reading the archive
        archive = load_archive(db_path, start, end)
        counts.update(articles=len(archive))
    logger.info("%s", stage_line(run_id, "poll", counts))
    with clock.stage("extract") as counts:
        rows = _replayed_rows(archive, settings, nlp_only, width)
        counts.update(articles=len(rows), re_extracted=0 if nlp_only else
                      sum(e[0].extraction_path != "feed_summary" for e in archive))
    logger.info("%s", stage_line(run_id, "extract", counts))
    with clock.stage("analyse") as counts:
        inputs = [analysis_input(r) for r in rows if needs_nlp(r)]
        analyses: list[Analysis] = analyse_stage(
            inputs, settings.nlp.model, settings.nlp.fallback_model,
            str(settings.watchlist_dir), settings.watchlist,
            AnalysisRules(settings.relevance.threshold, settings.events.new_window_days,
                          settings.nlp.batch_size), width,
        )
        counts.update(texts=len(inputs), relevant=sum(a.relevant for a in analyses),
                      events=sum(len(a.events) for a in analyses))
    logger.info("%s", stage_line(run_id, "analyse", counts))
    by_id = {a.id: a for a in analyses}
    rows = [with_analysis(r, by_id[r.id]) if r.id in by_id else r for r in rows]
    work = [PageWork(item, archived.canonical_url, fetched, row)
            for (archived, item, fetched, _), row in zip(archive, rows, strict=True)]

    with clock.stage("store") as counts:
        now = utcnow()
        con = connect(db_path)
        try:
            before_events = snapshot_events(con, watchlist.name)
            before_alerts = alert_rows(con)
            con.execute("BEGIN TRANSACTION")
            try:
                for row in rows:
                    rewrite_article(con, row, now)
                stored = store_pages(
                    con, work, by_id, watchlist.name, watchlist.title,
                    AlertPolicy.from_settings(settings.alerts, watchlist),
                    AlertRules(settings.events.alert_types, settings.events.alert_planned,
                               settings.events.max_article_age_days),
                    now, now,
                )
                after_events = snapshot_events(con, watchlist.name)
                queued: dict[str, list[str]] = {}
                for alert_id, (event_id, _, _) in alert_rows(con).items():
                    if alert_id not in before_alerts:
                        queued.setdefault(event_id, []).append(alert_id)
            except BaseException:
                con.execute("ROLLBACK")
                raise
            # The dry run's whole point: the same store code ran, and nothing of it is kept.
            con.execute("COMMIT" if send else "ROLLBACK")
        finally:
            con.close()
        diff = event_diff(before_events, after_events, [r.id for r in rows], stored.links,
                          queued)
        counts.update(new=len(diff.new), changed=len(diff.changed), gone=len(diff.gone),
                      alerts=sum(len(v) for v in queued.values()), committed=send)
    logger.info("%s", stage_line(run_id, "store", counts))

    with clock.stage("deliver") as counts:
        delivery = (deliver_alerts(db_path, resolve_destinations(settings),
                                   settings.alerts.timeout_s, settings.alerts.max_attempts)
                    if send else None)
        counts.update(delivered=delivery.delivered if delivery else 0, skipped=not send)
    logger.info("%s", stage_line(run_id, "deliver", counts))

    summary: dict[str, Any] = {
        "status": "ok",
        "run_id": run_id,
        "kind": "replay",
        "since": since.isoformat(),
        "until": (until or utcnow().date()).isoformat(),
        "mode": "nlp-only" if nlp_only else "extraction+nlp",
        "sent": send,
        "articles_replayed": len(rows),
        "texts_analysed": len(inputs),
        "relevant": sum(a.relevant for a in analyses),
        "events_new": len(diff.new),
        "events_changed": len(diff.changed),
        "events_gone": len(diff.gone),
        "alerts_queued": sum(len(v) for v in queued.values()) if send else 0,
        "alerts_would_queue": 0 if send else sum(len(v) for v in queued.values()),
        "alerts_delivered": delivery.delivered if delivery else 0,
        "alerts_failed": delivery.failed if delivery else 0,
        "stages": clock.rounded(),
        "seconds": round(time.monotonic() - started, 2),
        "diff": diff.as_dict(),
    }
    con = connect(db_path)
    try:
        finish_run(con, run_id, "ok", summary)
    finally:
        con.close()
    create_markdown_artifact(key="replay-diff", markdown=diff_markdown(summary),
                             description="newsmon replay: alert diff")
    return summary


def diff_markdown(summary: dict[str, Any]) -> str:
    """Return the replay summary and its diff as markdown (artifact and CLI output)."""
    d = summary["diff"]
    mode = "stored and sent" if summary["sent"] else "dry run: nothing stored or sent"
    lines = [
        f"# newsmon replay {summary['since']} .. {summary['until']} ({summary['mode']}, {mode})",
        "",
        (f"{summary['articles_replayed']} articles replayed, {summary['texts_analysed']} "
         f"analysed, {summary['relevant']} relevant."),
        "",
    ]
    for title, rows in (("New events", d["new"]), ("Changed events", d["changed"]),
                        ("Gone events", d["gone"])):
        lines += [f"## {title} ({len(rows)})", ""]
        if not rows:
            lines += ["none", ""]
            continue
        lines += ["| date | type | status | place | participants | detail |",
                  "|---|---|---|---|---|---|"]
        for e in rows:
            if "would_alert" in e:
                detail = ("would alert: " + ", ".join(e["alerts"]) if e["would_alert"]
                          else "stored, no alert (past, planned, or article too old)")
            elif "changes" in e:
                detail = "; ".join(e["changes"])
            else:
                detail = e["note"]
            lines.append(f"| {e['date'] or ''} | {e['type']} | {e['status']} | {e['place'] or ''}"
                         f" | {', '.join(e['participants'])} | {detail} |")
        lines.append("")
    return "\n".join(lines)
