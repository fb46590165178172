"""Tasks that poll feeds and fetch pages (network I/O)."""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from newsmon.sources.crawl import Politeness, fetch_pages
from newsmon.sources.fetch import FetchLimits, FetchResult, make_client
from newsmon.sources.polling import FeedState, PollResult, PollSchedule, poll_feed
from newsmon.store import utcnow


@task(name="poll-feeds", cache_policy=NO_CACHE)
def poll_feeds(
    states: list[FeedState], limits: FetchLimits, schedule: PollSchedule, workers: int
) -> list[PollResult]:
    """Return one poll result per feed, polled concurrently (errors are results, not raises)."""
    logger = get_run_logger()
    now = utcnow()
    rng = random.Random()
    with make_client(limits) as client, ThreadPoolExecutor(max(1, workers)) as pool:
        results = list(
            pool.map(lambda s: poll_feed(client, s, limits, schedule, now, rng), states)
        )
    for r in results:
        if r.outcome == "failed":
            logger.warning("feed %s failed (%s): %s", r.url, r.error_kind, r.error)
        else:
            logger.info("feed %s: %s, %d items", r.url, r.outcome, len(r.items))
        if r.moved_to:
            logger.warning(
                "feed %s moved permanently to %s: polling the new URL from now on; update the "
                "config", r.url, r.moved_to,
            )
    return results


@task(name="fetch-pages", cache_policy=NO_CACHE)
def fetch_page_batch(
    urls: list[str], limits: FetchLimits, politeness: Politeness
) -> list[FetchResult]:
    """Return the fetched pages of a batch of article URLs."""
    with make_client(limits) as client:
        results = fetch_pages(client, urls, limits, politeness)
    failed = sum(1 for r in results if r.error_kind)
    get_run_logger().info("fetched %d pages (%d failed or refused)", len(results), failed)
    return results
