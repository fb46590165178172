"""Task that turns fetched pages into article rows (CPU-heavy: trafilatura, htmldate, langid)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from prefect import task
from prefect.cache_policies import NO_CACHE

from newsmon.articles.extract import ExtractionRules
from newsmon.articles.workers import build_articles
from newsmon.models import ArticleRow, FeedItem
from newsmon.sources.fetch import FetchResult
from tasks.runlog import run_logger


@task(name="extract-pages", cache_policy=NO_CACHE)
def extract_pages(
    batch: Sequence[tuple[FeedItem, str]],
    fetched: Sequence[FetchResult],
    rules: ExtractionRules,
    languages: Sequence[str],
    now: datetime | Sequence[datetime],
    processes: int = 1,
) -> list[ArticleRow]:
    """Return one article row per fetched page, in order (no database: runs on any worker).

    `now` is one time for a live cycle, or one per page for a replay (each page's fetch time,
    so date plausibility is judged as it was when the page was fetched). With processes > 1
    the pages are extracted by that many worker processes of this machine (newsmon.articles.workers).
    """
    times = [now] * len(batch) if isinstance(now, datetime) else list(now)
    jobs = [(item, canonical, result, when)
            for (item, canonical), result, when in zip(batch, fetched, times, strict=True)]
    rows = build_articles(jobs, rules, languages, processes)
    run_logger("newsmon.articles.extract").info(
        "extracted %d pages: %d ok, %d thin or empty", len(rows),
        sum(r.status == "ok" for r in rows), sum(r.status in ("thin", "empty") for r in rows),
    )
    return rows
