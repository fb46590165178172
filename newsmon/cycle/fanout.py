"""How a heavy stage is split for parallel workers (pure): page fetches by host, texts in chunks."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TypeVar
from urllib.parse import urlsplit

from newsmon.sources.crawl import Politeness

T = TypeVar("T")


def shard_by_host(urls: Sequence[str], shards: int) -> list[list[int]]:
    """Return the URL indices split into at most `shards` groups, each host in exactly one group.

    Per-host politeness (concurrency, interval) is enforced inside one fetch task; keeping every
    host in one shard keeps it true when shards run on different machines. Hosts are dealt
    largest first to the lightest shard, so the shards stay about the same size.
    """
    by_host: dict[str, list[int]] = {}
    for index, url in enumerate(urls):
        by_host.setdefault(urlsplit(url).netloc.lower(), []).append(index)
    groups: list[list[int]] = [[] for _ in range(max(1, min(shards, len(by_host))))]
    for indices in sorted(by_host.values(), key=len, reverse=True):
        min(groups, key=len).extend(indices)
    return [sorted(g) for g in groups if g]


def shard_politeness(politeness: Politeness, shards: int) -> Politeness:
    """Return the politeness of one shard: the global concurrency divided among the shards."""
    if shards <= 1:
        return politeness
    return replace(politeness, global_concurrency=max(1, politeness.global_concurrency // shards))


def chunks(items: Sequence[T], pieces: int, min_size: int = 1) -> list[list[T]]:
    """Return the items in at most `pieces` contiguous chunks of near-equal size (order kept)."""
    if not items:
        return []
    count = max(1, min(pieces, len(items) // max(1, min_size) or 1))
    size, extra = divmod(len(items), count)
    out: list[list[T]] = []
    start = 0
    for i in range(count):
        end = start + size + (1 if i < extra else 0)
        out.append(list(items[start:end]))
        start = end
    return out
