"""Fetch many pages concurrently within global and per-host politeness limits."""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from newsmon.sources.fetch import FetchLimits, FetchResult, fetch


@dataclass(frozen=True)
class Politeness:
    """Concurrency and pacing limits for page fetching."""

    global_concurrency: int = 16
    per_host_concurrency: int = 2
    per_host_min_interval_s: float = 1.0
    # After this many timeouts or connection failures in a row from one host, its remaining
    # pages in the batch are not requested (0: never give up). Without it one hostile feed of
    # 200 links to a host that never answers held a cycle for 200 x read_timeout_s / 2 (~33 min
    # with the defaults; ~100 min for a trickling host) and every good feed's articles with it.
    max_host_failures: int = 3


# Failures that cost a deadline each: the ones a breaker must stop repeating.
_SLOW_FAILURES = frozenset({"timeout", "connect"})


class HostGate:
    """Per-host semaphore, minimum interval between request starts to one host, and a breaker
    that stops requesting a host after max_host_failures slow failures in a row."""

    def __init__(self, politeness: Politeness) -> None:
        self._politeness = politeness
        self._lock = threading.Lock()
        self._semaphores: dict[str, threading.Semaphore] = defaultdict(
            lambda: threading.Semaphore(politeness.per_host_concurrency)
        )
        self._next_start: dict[str, float] = defaultdict(float)
        self._failures: dict[str, list[str]] = defaultdict(list)  # slow failures in a row

    def _given_up(self, host: str) -> list[str] | None:
        """Return the failures that made the gate give up on host, or None if it has not."""
        limit = self._politeness.max_host_failures
        with self._lock:
            failures = self._failures[host]
            # The streak that tripped the breaker: requests already in flight may add to the
            # list after it, and every skipped page should give the same reason.
            return failures[:limit] if limit and len(failures) >= limit else None

    def run(self, url: str, call: Callable[[], FetchResult]) -> FetchResult:
        """Return call() once the host of url has a free slot and its interval has passed, or
        a "skipped" result without a request when the host has failed too often in a row."""
        host = urlsplit(url).netloc.lower()
        with self._lock:
            semaphore = self._semaphores[host]
        with semaphore:
            if (failures := self._given_up(host)) is not None:
                return skipped(url, host, failures)
            with self._lock:
                start = max(time.monotonic(), self._next_start[host])
                self._next_start[host] = start + self._politeness.per_host_min_interval_s
            delay = start - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            result = call()
        with self._lock:
            if result.error_kind in _SLOW_FAILURES:
                self._failures[host].append(result.error_kind or "")
            elif result.status is not None:
                self._failures[host].clear()  # the host answered: it is alive
        return result


def skipped(url: str, host: str, failures: list[str]) -> FetchResult:
    """Return the result of a page not requested because its host kept failing."""
    return FetchResult(
        url=url, final_url=url, status=None, headers={}, body=b"", elapsed_s=0.0,
        error_kind="skipped",
        error=(
            f"{url}: not requested: host {host} failed {len(failures)} times in a row in this "
            f"batch ({', '.join(failures)}); the feed summary is kept. The host may be down or "
            "hostile; check the feed"
        ),
    )


def fetch_pages(
    client: httpx.Client, urls: list[str], limits: FetchLimits, politeness: Politeness
) -> list[FetchResult]:
    """Return one FetchResult per URL, in input order, fetched concurrently and politely."""
    if not urls:
        return []
    gate = HostGate(politeness)
    workers = max(1, min(politeness.global_concurrency, len(urls)))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="fetch") as pool:
        return list(pool.map(lambda u: gate.run(u, lambda: fetch(client, u, limits)), urls))
