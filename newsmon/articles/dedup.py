"""Near-duplicate detection of article texts by word-shingle overlap."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import replace

import numpy as np

from newsmon.models import ArticleRow

_WORD = re.compile(r"\w+", re.UNICODE)
SHINGLE_WORDS = 5
_MASK64 = (1 << 64) - 1


def shingles(text: str, size: int = SHINGLE_WORDS) -> frozenset[int]:
    """Return hashed word n-grams of the case-folded text (the unit of near-duplicate overlap)."""
    words = _WORD.findall(text.casefold())
    if len(words) < size:
        # Masked to 64 bits like the blake2b shingles, so every value fits a uint64 index.
        return frozenset({hash(" ".join(words)) & _MASK64}) if words else frozenset()
    return frozenset(
        int.from_bytes(hashlib.blake2b(" ".join(words[i : i + size]).encode(), digest_size=8)
                       .digest(), "big")
        for i in range(len(words) - size + 1)
    )


def containment(a: frozenset[int], b: frozenset[int]) -> float:
    """Return the share of the smaller set found in the larger (robust to added boilerplate)."""
    if not a or not b:
        return 0.0
    small, large = (a, b) if len(a) <= len(b) else (b, a)
    return len(small & large) / len(small)


def find_original(
    text: str, earlier: Iterable[tuple[str, frozenset[int]]], threshold: float
) -> str | None:
    """Return the id of the first earlier text this one nearly duplicates, if any."""
    mine = shingles(text)
    for article_id, theirs in earlier:
        if containment(mine, theirs) >= threshold:
            return article_id
    return None


class DuplicateIndex:
    """Shingle sets of known texts, searched by containment without comparing every pair.

    The linear scan of find_original costs one set intersection per known text, per new text:
    quadratic over a cycle of thousands of pages. Here every (shingle, text) pair is kept in
    sorted numpy blocks, a query looks up only its own shingles, and the shared-shingle count
    per known text gives the exact containment: the result is the one find_original returns
    for the same texts in the same order (the first known text at or above the threshold).
    """

    _PENDING_MAX = 32  # texts kept as sets before they are sorted into a block

    def __init__(self) -> None:
        self._ids: list[str] = []
        self._sizes: list[int] = []
        self._blocks: list[tuple[np.ndarray, np.ndarray]] = []  # (sorted hashes, text numbers)
        self._pending: list[tuple[int, frozenset[int]]] = []
        self._block_sizes = np.zeros(0, dtype=np.float64)  # shingle count per flushed text

    def __len__(self) -> int:
        return len(self._ids)

    def add(self, article_id: str, shingle_set: frozenset[int]) -> None:
        """Remember a text's shingles under its article id (after every earlier text)."""
        number = len(self._ids)
        self._ids.append(article_id)
        self._sizes.append(len(shingle_set))
        if shingle_set:
            self._pending.append((number, shingle_set))
        if len(self._pending) >= self._PENDING_MAX:
            self._flush()

    def _flush(self) -> None:
        """Sort the pending sets into a block; merge blocks of similar size (few blocks)."""
        if not self._pending:
            return
        hashes = np.fromiter(
            (h for _, s in self._pending for h in s), dtype=np.uint64,
            count=sum(len(s) for _, s in self._pending),
        )
        texts = np.repeat(
            np.array([n for n, _ in self._pending], dtype=np.int64),
            [len(s) for _, s in self._pending],
        )
        self._pending = []
        self._block_sizes = np.asarray(self._sizes, dtype=np.float64)
        self._blocks.append(_sorted_block(hashes, texts))
        # Merging a block into its neighbour only when that is at most twice as large keeps
        # O(log n) blocks and O(n log n) merge work in all.
        while len(self._blocks) >= 2 and self._blocks[-2][0].size <= 2 * self._blocks[-1][0].size:
            (h1, t1), (h2, t2) = self._blocks.pop(), self._blocks.pop()
            self._blocks.append(_sorted_block(np.concatenate([h2, h1]), np.concatenate([t2, t1])))

    def find(self, shingle_set: frozenset[int], threshold: float) -> str | None:
        """Return the id of the first known text this one nearly duplicates, if any."""
        if not shingle_set:
            return None
        mine = len(shingle_set)
        best: int | None = None
        for number, theirs in self._pending:
            if best is not None and number >= best:
                break
            if containment(shingle_set, theirs) >= threshold:
                best = number
        if not self._blocks:
            return self._ids[best] if best is not None else None
        query = np.fromiter(shingle_set, dtype=np.uint64, count=mine)
        sizes = self._block_sizes
        for hashes, texts in self._blocks:
            lo = np.searchsorted(hashes, query, side="left")
            hi = np.searchsorted(hashes, query, side="right")
            runs = hi - lo
            hit = runs > 0
            if not hit.any():
                continue
            starts, lengths = lo[hit], runs[hit]
            # Positions lo..hi-1 of every query hash, concatenated.
            offsets = np.repeat(starts - np.cumsum(lengths) + lengths, lengths)
            shared_texts = texts[offsets + np.arange(int(lengths.sum()))]
            numbers, shared = np.unique(shared_texts, return_counts=True)
            smaller = np.minimum(sizes[numbers], mine)
            matches = numbers[shared / smaller >= threshold]
            if matches.size:
                first = int(matches.min())
                best = first if best is None else min(best, first)
        return self._ids[best] if best is not None else None


def _sorted_block(hashes: np.ndarray, texts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return (hashes, texts) ordered by hash (stable, so text order is kept within a hash)."""
    order = np.argsort(hashes, kind="stable")
    return hashes[order], texts[order]


def duplicate_index(earlier: Iterable[tuple[str, str]]) -> DuplicateIndex:
    """Return a near-duplicate index of earlier (article id, text) pairs, oldest first."""
    index = DuplicateIndex()
    for aid, text in earlier:
        index.add(aid, shingles(text))
    return index


def mark_duplicates(
    rows: list[ArticleRow],
    earlier: list[tuple[str, str]] | DuplicateIndex,
    threshold: float,
) -> list[ArticleRow]:
    """Return rows with duplicate_of set for near-copies of an earlier or same-batch article.

    Given an index, the rows' texts are added to it: a cycle builds the index of the week's
    texts once and passes it to every batch, instead of re-reading and re-shingling them.
    """
    index = earlier if isinstance(earlier, DuplicateIndex) else duplicate_index(earlier)
    out: list[ArticleRow] = []
    for row in rows:
        original = None
        if row.article.text:
            mine = shingles(row.article.text)
            original = index.find(mine, threshold)
            index.add(row.id, mine)
        out.append(replace(row, duplicate_of=original) if original else row)
    return out
