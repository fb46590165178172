"""The heavy stages of a cycle, fanned out through the flow's task runner when it is wider than one.

With the default thread runner (width 1) each stage is one task called in the flow, as before.
With NEWSMON_TASK_RUNNER=dask the stage is split (fetches by host, pages and texts in chunks),
submitted to the Dask workers, and gathered back in input order. None of these tasks touches
DuckDB: the flow process alone reads and writes it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from prefect.utilities.annotations import opaque, quote

from newsmon.analysis.pipeline import Analysis, AnalysisInput, AnalysisRules
from newsmon.articles.extract import ExtractionRules
from newsmon.cycle.fanout import chunks, shard_by_host, shard_politeness
from newsmon.models import ArticleRow, FeedItem
from newsmon.sources.crawl import Politeness
from newsmon.sources.fetch import FetchLimits, FetchResult
from tasks.extract import extract_pages
from tasks.feeds import fetch_page_batch
from tasks.nlp import analyze_batch

# _PARAMETERS_NOTE: Prefect walks every task parameter, recursively (dataclasses included), to
# find futures and record inputs: for a batch of 200 pages that is ~90,000 visits, twice per
# task, ~6 ms a page over a cycle (issue 10). Batches are therefore passed quote()d (not walked,
# handed over as they are) and the fetch future opaque() (awaited, its result not walked).

# Below this many texts per chunk the cost of shipping a chunk outweighs the parallel gain.
MIN_TEXTS_PER_CHUNK = 8
MIN_PAGES_PER_CHUNK = 8


def fetch_stage(
    urls: Sequence[str], limits: FetchLimits, politeness: Politeness, width: int
) -> list[FetchResult]:
    """Return one fetch result per URL, in order, fetched by `width` tasks sharded by host."""
    if width <= 1 or len(urls) < 2:
        return fetch_page_batch(list(urls), limits, politeness)
    shards = shard_by_host(urls, width)
    if len(shards) == 1:
        return fetch_page_batch(list(urls), limits, politeness)
    polite = shard_politeness(politeness, len(shards))
    futures = [fetch_page_batch.submit([urls[i] for i in shard], limits, polite)
               for shard in shards]
    results: list[Any] = [None] * len(urls)
    for shard, future in zip(shards, futures, strict=True):
        for index, result in zip(shard, future.result(), strict=True):
            results[index] = result
    return results


def extract_stage(
    batch: Sequence[tuple[FeedItem, str]],
    fetched: Sequence[FetchResult],
    rules: ExtractionRules,
    languages: Sequence[str],
    now: datetime | Sequence[datetime],
    width: int,
    processes: int = 1,
) -> list[ArticleRow]:
    """Return one article row per fetched page, in order, extracted by up to `width` tasks
    (with the thread runner: one task, its pages spread over `processes` worker processes)."""
    times = [now] * len(batch) if isinstance(now, datetime) else list(now)
    pieces = chunks(list(zip(batch, fetched, times, strict=True)), width, MIN_PAGES_PER_CHUNK)
    if len(pieces) <= 1:
        return extract_pages(quote(list(batch)), quote(list(fetched)), rules, list(languages),
                             quote(times), processes if width <= 1 else 1)
    futures = [
        extract_pages.submit([p[0] for p in piece], [p[1] for p in piece], rules,
                             list(languages), [p[2] for p in piece])
        for piece in pieces
    ]
    return [row for future in futures for row in future.result()]


def analyse_stage(
    inputs: Sequence[AnalysisInput],
    model: str,
    fallback: str,
    watchlist_dir: str,
    watchlist_name: str,
    rules: AnalysisRules,
    width: int,
) -> list[Analysis]:
    """Return the analyses of the texts, in order, by up to `width` NLP tasks."""
    pieces = chunks(list(inputs), width, MIN_TEXTS_PER_CHUNK)
    if len(pieces) <= 1:
        return analyze_batch(quote(list(inputs)), model, fallback, watchlist_dir, watchlist_name,
                             rules)
    futures = [
        analyze_batch.submit(piece, model, fallback, watchlist_dir, watchlist_name, rules)
        for piece in pieces
    ]
    return [analysis for future in futures for analysis in future.result()]


class BatchAhead:
    """A batch on its way: its pages fetched and extracted while the flow works on the last one.

    With the thread runner both tasks are submitted at once (the extraction task waits for the
    fetch, then hands the pages to the worker processes) and collected later, so downloading
    and extracting batch k+1 overlaps spaCy and the database writes of batch k (issue 10). A
    wider runner fans each stage out itself: there the stages run when they are collected.
    """

    def __init__(
        self,
        batch: Sequence[tuple[FeedItem, str]],
        limits: FetchLimits,
        politeness: Politeness,
        rules: ExtractionRules,
        languages: Sequence[str],
        now: datetime,
        width: int,
        processes: int,
    ) -> None:
        self.batch = list(batch)
        self.limits, self.politeness, self.rules = limits, politeness, rules
        self.languages, self.now, self.width = list(languages), now, width
        # A Prefect future (thread runner, submitted now) or, once collected, the list itself.
        self._fetched: Any = None
        self._rows: Any = None
        if width <= 1:
            urls = [item.url for item, _ in self.batch]
            self._fetched = fetch_page_batch.submit(urls, limits, politeness)
            # opaque: wait for the fetch but do not walk its pages (see _PARAMETERS_NOTE).
            self._rows = extract_pages.submit(
                quote(self.batch), opaque(self._fetched), rules, list(languages), now, processes
            )

    def fetched(self) -> list[FetchResult]:
        """Return the batch's fetch results (waiting for them if need be)."""
        if self._fetched is None:
            self._fetched = fetch_stage([item.url for item, _ in self.batch], self.limits,
                                        self.politeness, self.width)
        return list(self._fetched.result() if hasattr(self._fetched, "result")
                    else self._fetched)

    def rows(self) -> list[ArticleRow]:
        """Return the batch's article rows, in order (waiting for them if need be)."""
        if self._rows is None:
            self._rows = extract_stage(self.batch, self.fetched(), self.rules, self.languages,
                                       self.now, self.width)
        return list(self._rows.result() if hasattr(self._rows, "result") else self._rows)

