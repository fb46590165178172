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

from newsmon.fetch import FetchLimits, FetchResult, fetch


@dataclass(frozen=True)
class Politeness:
    """Concurrency and pacing limits for page fetching."""

    global_concurrency: int = 16
    per_host_concurrency: int = 2
    per_host_min_interval_s: float = 1.0


class HostGate:
    """Per-host semaphore plus a minimum interval between request starts to one host."""

    def __init__(self, politeness: Politeness) -> None:
        self._politeness = politeness
        self._lock = threading.Lock()
        self._semaphores: dict[str, threading.Semaphore] = defaultdict(
            lambda: threading.Semaphore(politeness.per_host_concurrency)
        )
        self._next_start: dict[str, float] = defaultdict(float)

    def run(self, url: str, call: Callable[[], FetchResult]) -> FetchResult:
        """Return call() once the host of url has a free slot and its interval has passed."""
        host = urlsplit(url).netloc.lower()
        with self._lock:
            semaphore = self._semaphores[host]
        with semaphore:
            with self._lock:
                start = max(time.monotonic(), self._next_start[host])
                self._next_start[host] = start + self._politeness.per_host_min_interval_s
            delay = start - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            return call()


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
