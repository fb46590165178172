"""Score how much an article is about the relation between the two sides, with a reason."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field

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
    features: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class SentenceSides:
    """Which sides one sentence names, and whether it carries relation vocabulary."""

    sides: frozenset[str]
    official_sides: frozenset[str]
    relation_words: tuple[str, ...]


def sentence_sides(
    mentions: list[Mention], sentence_words: list[list[str]], publisher: str | None = None
) -> list[SentenceSides]:
    """Return per-sentence side presence from resolved mentions and lower-case words.

    An official publisher (a side's own site) is present in every sentence: it is speaking.
    """
    sides: dict[int, set[str]] = defaultdict(set)
    officials: dict[int, set[str]] = defaultdict(set)
    for mention in mentions:
        if mention.side is None or mention.kind in ("media", "boilerplate"):
            # A news agency's credit and "(banned in Russia)" say nothing about the relation;
            # a place does: "Russian jets struck Idlib" is about Russia in Syria.
            continue
        sides[mention.sentence].add(mention.side)
        if mention.kind in _OFFICIAL_KINDS:
            officials[mention.sentence].add(mention.side)
    if publisher:
        for i in range(len(sentence_words)):
            sides[i].add(publisher)
            officials[i].add(publisher)
    return [
        SentenceSides(
            frozenset(sides[i]),
            frozenset(officials[i]),
            tuple(sorted({w for w in words if w in RELATION_TERMS})),
        )
        for i, words in enumerate(sentence_words)
    ]


# Feature weights on a log-odds scale. Each feature is one way an article shows that the
# relation, not just the two names, is its subject. Fitted by logistic regression on the
# labelled dev set with 5-fold cross-validation (scripts/fit_relevance.py, docs/evaluation.md);
# the fit is refreshed only with the dev set, never for one item.
WEIGHTS: dict[str, float] = {
    "bias": -1.74,
    "both_in_headline": 1.61,
    "both_in_lead": 2.18,
    "both_sentences": 0.17,       # sentences naming both sides, up to 4
    "related_sentences": 0.22,    # ... that also carry relation vocabulary, up to 3
    "official_link": 0.20,        # an official of one side in a sentence with the other side
    "bilateral_event": 0.61,      # a meeting, call or visit between the sides
    "minority_share": 2.15,       # share of sentences naming the less-named side, up to 0.5
    "passing_mention": -1.28,     # one side named once in a long article
}


def relevance_features(
    per_sentence: list[SentenceSides], headline_sides: frozenset[str],
    events: list[EventMention],
) -> dict[str, float]:
    """Return the relevance features of an article (the inputs of the weighted score)."""
    n = max(len(per_sentence), 1)
    both = [i for i, s in enumerate(per_sentence) if len(s.sides) == 2]
    side_counts: dict[str, int] = defaultdict(int)
    for s in per_sentence:
        for side in s.sides:
            side_counts[side] += 1
    minority = min(side_counts.values()) if len(side_counts) == 2 else 0
    in_headline = len(headline_sides) == 2
    return {
        "both_in_headline": float(in_headline),
        "both_in_lead": float(any(len(s.sides) == 2 for s in per_sentence[:2])),
        "both_sentences": float(min(len(both), 4)),
        "related_sentences": float(min(sum(1 for i in both if per_sentence[i].relation_words), 3)),
        "official_link": float(any(
            per_sentence[i].official_sides and per_sentence[i].relation_words for i in both)),
        "bilateral_event": float(any(e.status != "cancelled" for e in events)),
        "minority_share": min(minority / n, 0.5),
        "passing_mention": float(minority <= 1 and n >= 6 and not in_headline),
    }


def weighted_score(features: dict[str, float], weights: dict[str, float] = WEIGHTS) -> float:
    """Return the logistic score of the features under the weights."""
    logit = weights["bias"] + sum(weights[name] * value for name, value in features.items())
    return 1 / (1 + math.exp(-logit))


def score_relevance(
    per_sentence: list[SentenceSides],
    headline_sides: frozenset[str],
    events: list[EventMention],
    names: dict[str, list[str]],
    threshold: float,
) -> Relevance:
    """Return the relevance score (0..1), decision and a short human-readable reason."""
    features = relevance_features(per_sentence, headline_sides, events)
    score = weighted_score(features)
    n = max(len(per_sentence), 1)
    both = [i for i, s in enumerate(per_sentence) if len(s.sides) == 2]
    parts: list[str] = []
    if features["bilateral_event"]:
        parts.append(f"{sum(e.status != 'cancelled' for e in events)} event(s) between the sides")
    if features["both_in_headline"]:
        parts.append("both sides in the headline")
    if both:
        parts.append(f"{len(both)}/{n} sentences name both sides")
    related = sorted({w for i in both for w in per_sentence[i].relation_words})[:5]
    if related:
        parts.append("relation words: " + ", ".join(related))
    for side, side_names in sorted(names.items()):
        if side_names:
            parts.append(f"{side}: " + ", ".join(side_names[:3]))
    if features["passing_mention"]:
        parts.append("one side only mentioned in passing")
    if not any(len(s.sides) for s in per_sentence) or not both and features["minority_share"] == 0:
        parts.append("only one side named")
    return Relevance(
        round(score, 3), score >= threshold, "; ".join(parts) or "no side named", features
    )
