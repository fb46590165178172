"""Score how much an article is about the relation between the two sides, with a reason."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

from newsmon.models import EventMention, Mention
from newsmon.vocab import RELATION_TERMS

# Mention kinds that name a side by itself; persons and office holders are stronger signals.
_OFFICIAL_KINDS = ("person", "office", "institution")


@dataclass(frozen=True)
class Relevance:
    """The relevance decision for one article."""

    score: float
    relevant: bool
    reason: str


@dataclass(frozen=True)
class SentenceSides:
    """Which sides one sentence names, and whether it carries relation vocabulary."""

    sides: frozenset[str]
    official_sides: frozenset[str]
    relation_words: tuple[str, ...]


def sentence_sides(
    mentions: list[Mention], sentence_words: list[list[str]]
) -> list[SentenceSides]:
    """Return per-sentence side presence from resolved mentions and lower-case words."""
    sides: dict[int, set[str]] = defaultdict(set)
    officials: dict[int, set[str]] = defaultdict(set)
    for mention in mentions:
        if mention.side is None or mention.kind == "place":
            continue  # a city in Syria says where, not who: places do not make a side present
        sides[mention.sentence].add(mention.side)
        if mention.kind in _OFFICIAL_KINDS:
            officials[mention.sentence].add(mention.side)
    return [
        SentenceSides(
            frozenset(sides[i]),
            frozenset(officials[i]),
            tuple(sorted({w for w in words if w in RELATION_TERMS})),
        )
        for i, words in enumerate(sentence_words)
    ]


def score_relevance(
    per_sentence: list[SentenceSides],
    title_sides: frozenset[str],
    events: list[EventMention],
    names: dict[str, list[str]],
    threshold: float,
) -> Relevance:
    """Return the relevance score (0..1), decision and a short human-readable reason."""
    n = max(len(per_sentence), 1)
    both = [i for i, s in enumerate(per_sentence) if len(s.sides) == 2]
    both_related = [i for i in both if per_sentence[i].relation_words]
    official_links = [
        i for i in both if per_sentence[i].official_sides and per_sentence[i].relation_words
    ]
    side_counts: dict[str, int] = defaultdict(int)
    for s in per_sentence:
        for side in s.sides:
            side_counts[side] += 1
    minority = min(side_counts.values()) if len(side_counts) == 2 else 0
    lead = any(len(s.sides) == 2 for s in per_sentence[:2])
    in_title = len(title_sides) == 2
    bilateral_events = [e for e in events if e.status != "cancelled"]

    # Evidence adds up on a log-odds scale; each feature is one way an article shows that the
    # relation (not just the two names) is its subject.
    logit = -3.0
    logit += 2.2 if in_title else 0.0
    logit += 1.2 if lead else 0.0
    logit += 1.0 * min(len(both), 4)
    logit += 0.8 * min(len(both_related), 3)
    logit += 1.0 if official_links else 0.0
    logit += 3.0 if bilateral_events else 0.0
    logit += 2.0 * min(minority / n, 0.5)
    if minority <= 1 and n >= 6 and not in_title:
        logit -= 2.5  # one side named once in a long article: a passing mention
    score = 1 / (1 + math.exp(-logit))

    parts: list[str] = []
    if bilateral_events:
        parts.append(f"{len(bilateral_events)} event(s) between the sides")
    if in_title:
        parts.append("both sides in the headline")
    if both:
        parts.append(f"{len(both)}/{n} sentences name both sides")
    if both_related:
        words = sorted({w for i in both_related for w in per_sentence[i].relation_words})[:5]
        parts.append("relation words: " + ", ".join(words))
    for side, side_names in sorted(names.items()):
        if side_names:
            parts.append(f"{side}: " + ", ".join(side_names[:3]))
    if minority <= 1 and n >= 6 and not in_title:
        parts.append("one side only mentioned in passing")
    if not side_counts or len(side_counts) < 2:
        parts.append("only one side named")
    return Relevance(round(score, 3), score >= threshold, "; ".join(parts) or "no side named")
