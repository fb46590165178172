"""Worker processes for the CPU-heavy per-page work (extraction), so a cycle uses every core.

Extraction (trafilatura twice, htmldate, language identification) is pure Python under the
GIL: threads cannot spread it over cores, processes can. The pool is created on first use and
kept for the life of the process, so a long-running `newsmon serve` pays the workers' start-up
(imports, about a second) once, not every hour.
"""

from __future__ import annotations

import atexit
import multiprocessing
import os
import threading
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from datetime import datetime

from newsmon.articles.build import build_article
from newsmon.articles.extract import ExtractionRules
from newsmon.models import ArticleRow, FeedItem
from newsmon.sources.fetch import FetchResult

# A worker is replaced after this many chunks: whatever lxml or a parser leaks in a worker is
# returned to the system now and then, in a process that stays up for weeks.
MAX_CHUNKS_PER_WORKER = 500
# Below this many pages a batch is extracted in the calling process: starting the workers (about
# a second of imports each) would cost more than it saves.
MIN_PAGES_FOR_POOL = 32
# Pages per chunk sent to a worker: big enough that pickling and IPC are noise (a page is
# ~40 ms of work), small enough that the last chunks of a batch keep every worker busy.
CHUNK_PAGES = 8

_lock = threading.Lock()
_pool: ProcessPoolExecutor | None = None
_pool_size = 0

PageJob = tuple[FeedItem, str, FetchResult, datetime]


def worker_count(setting: int) -> int:
    """Return the number of extraction processes: the setting, or one per CPU core for 0."""
    return setting if setting > 0 else (os.cpu_count() or 1)


def shared_pool(processes: int) -> ProcessPoolExecutor:
    """Return the process-wide pool of that many workers (created on first use, then reused)."""
    global _pool, _pool_size
    with _lock:
        if _pool is None or _pool_size != processes:
            if _pool is not None:
                _pool.shutdown(wait=True)
            # spawn, not fork: the parent runs threads (Prefect, HTTP clients, the engine), and
            # a forked child can inherit a lock held by one of them forever.
            _pool = ProcessPoolExecutor(
                processes, mp_context=multiprocessing.get_context("spawn"),
                max_tasks_per_child=MAX_CHUNKS_PER_WORKER,
            )
            _pool_size = processes
        return _pool


def shutdown_pool() -> None:
    """Stop the worker processes (the next use starts new ones)."""
    global _pool, _pool_size
    with _lock:
        if _pool is not None:
            _pool.shutdown(wait=True, cancel_futures=True)
        _pool, _pool_size = None, 0


atexit.register(shutdown_pool)


def _build_chunk(
    jobs: Sequence[PageJob], rules: ExtractionRules, languages: Sequence[str]
) -> list[ArticleRow]:
    """Return the article rows of a chunk of pages (runs in a worker process)."""
    return [build_article(item, canonical, fetched, rules, languages, now)
            for item, canonical, fetched, now in jobs]


def submit_articles(
    jobs: Sequence[PageJob], rules: ExtractionRules, languages: Sequence[str], processes: int
) -> list[Future[list[ArticleRow]]]:
    """Return futures of the article rows of the pages, chunk by chunk, in order."""
    pool = shared_pool(processes)
    return [
        pool.submit(_build_chunk, list(jobs[start : start + CHUNK_PAGES]), rules, list(languages))
        for start in range(0, len(jobs), CHUNK_PAGES)
    ]


def build_articles(
    jobs: Sequence[PageJob], rules: ExtractionRules, languages: Sequence[str], processes: int
) -> list[ArticleRow]:
    """Return one article row per page, in order, built by `processes` worker processes."""
    if processes <= 1 or len(jobs) < MIN_PAGES_FOR_POOL:
        return _build_chunk(jobs, rules, languages)
    futures = submit_articles(jobs, rules, languages, processes)
    return [row for future in futures for row in future.result()]
