"""Near-duplicate detection of article texts by word-shingle overlap."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

_WORD = re.compile(r"\w+", re.UNICODE)
SHINGLE_WORDS = 5


def shingles(text: str, size: int = SHINGLE_WORDS) -> frozenset[int]:
    """Return hashed word n-grams of the case-folded text (the unit of near-duplicate overlap)."""
    words = _WORD.findall(text.casefold())
    if len(words) < size:
        return frozenset({hash(" ".join(words))}) if words else frozenset()
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
