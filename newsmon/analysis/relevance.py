"""Score how much an article is about the relation between the two sides, with a reason."""

from __future__ import annotations

import math
import re
from collections import defaultdict
from dataclasses import dataclass, field
from itertools import pairwise

from newsmon.analysis.vocab import (
    ATTACK_LEMMAS,
    ATTRIBUTION_VERBS,
    ATTRIBUTION_WORDS,
    BACKGROUND_PAIRS,
    BACKGROUND_WORDS,
    BACKING_AFTER,
    BACKING_BEFORE,
    BACKING_NOUNS,
    FORCE_NOUNS,
    NEWS_TIME_WORDS,
    RELATION_TERMS,
    STANCE_VERBS,
)
from newsmon.models import EventMention, Mention

# Mention kinds that name a side by itself; persons and office holders are stronger signals.
_OFFICIAL_KINDS = ("person", "office", "institution")
# Entity labels that can be items of a list of countries or parties.
_LISTABLE_LABELS = ("GPE", "NORP", "ORG", "LOC")
# What may stand between two items of a list: "Iran, Turkey and Russia", "Syria / Iraq".
# Flag emoji (regional-indicator pairs) may stand before each item, as in ministry posts.
_FLAGS = "[\U0001F1E6-\U0001F1FF]*"
_LIST_GAP = re.compile(
    rf"\s*(?:,\s*(?:and|or)?|and|or|&|/|;)\s*{_FLAGS}\s*", re.IGNORECASE
)
# Parts of speech that may stand between a side's name and its armed force: "Russian air
# force", "Syrian and Russian warplanes", "Russia's jets"; a verb or preposition may not.
_FORCE_GAP_POS = frozenset(["ADJ", "PROPN", "NOUN", "CCONJ", "PUNCT", "PART"])
# What may precede a name within its own phrase: "backed by [the Syrian and] Russian jets".
_NAME_PHRASE_POS = frozenset(["ADJ", "PROPN", "CCONJ", "DET", "PUNCT", "NOUN"])
# Prepositions that link a name to a word of support: "backed by", "support of", "help from".
_LINK_WORDS = frozenset(["by", "of", "from", "with"])
# Words between a name and its force noun that make it another body ("Syrian Democratic
# Forces", "Syrian opposition fighters"): not the side's state.
_NOT_STATE_WORDS = frozenset(
    ["democratic", "opposition", "rebel", "rebels", "islamic", "revolutionary", "kurdish",
     "liberation", "free", "observatory", "civil"]
)
# Dependency links a name may climb to reach the force it owns or the attack it carries out:
# "aircraft belonging to the Syrian government or its ally Russia", "strikes by Russia".
_OWNER_PATH_DEPS = frozenset(["pobj", "prep", "agent", "conj", "appos", "acl", "poss",
                              "compound", "nmod"])
_MAX_OWNER_STEPS = 6
_OWNER_PREPOSITIONS = frozenset(["of", "by", "from", "to"])
# Dependency labels by which a name modifies the subject: "the Russian military said".
_MODIFIER_DEPS = frozenset(["amod", "compound", "poss", "nmod"])


@dataclass(frozen=True)
class Word:
    """One token of a sentence, as the relevance signals need it."""

    start: int  # character offset in the analysed text
    lower: str
    lemma: str
    pos: str
    dep: str
    head: int  # index of the head token in the sentence (itself for the root)


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
    acting_sides: frozenset[str] = frozenset()  # whose armed forces act here
    speaking_sides: frozenset[str] = frozenset()  # whose state takes a stance here
    listed_sides: frozenset[str] = frozenset()  # named here only as items of a list (not in sides)
    engaged_sides: frozenset[str] = frozenset()  # named here other than as a backer
    # Set for sentences where a side acts (the only ones armed_news reads): it reports a dated
    # or attributed event, not background (time_frame).
    news: bool = False


def listed_mentions(mentions: list[Mention], text: str) -> set[Mention]:
    """Return the mentions that are items of a list of three or more entities in one sentence.

    "Belarus, North Korea, Nicaragua and Syria" names Syria as one of many: the issue's
    definition of a passing mention. Two items ("Syria and Russia") are not a list.
    """
    listed: set[Mention] = set()
    by_sentence: dict[int, list[Mention]] = defaultdict(list)
    for m in mentions:
        if m.label in _LISTABLE_LABELS or m.kind in ("country", "demonym", "capital"):
            by_sentence[m.sentence].append(m)
    for items in by_sentence.values():
        items.sort(key=lambda m: m.start)
        run = items[:1]
        for previous, current in pairwise(items):
            if _LIST_GAP.fullmatch(text[previous.end : current.start]):
                run.append(current)
                continue
            if len(run) >= 3:
                listed.update(run)
            run = [current]
        if len(run) >= 3:
            listed.update(run)
    return listed


def _is_backing(words: list[Word], span: range) -> bool:
    """Return True when the name describes support, not an actor: "Russian-backed forces",
    "backed by Syrian and Russian warplanes", "with the support of Russian aircraft"."""
    after = words[span.stop : span.stop + 4]
    if after[:1] and after[0].lower == "-":
        after = after[1:]
    if after[:1] and after[0].lower in BACKING_AFTER:
        return True
    # Walk back over the rest of a coordinated name ("Syrian and Russian", "the Russian").
    i = span.start - 1
    while i >= 0 and words[i].pos in _NAME_PHRASE_POS and words[i].lower not in _LINK_WORDS:
        i -= 1
    if i < 0 or words[i].lower not in _LINK_WORDS:
        return False
    if words[i].lower == "with":  # "with Russian air support"
        return any(w.lower in BACKING_NOUNS for w in after)
    return i > 0 and (words[i - 1].lower in BACKING_BEFORE or words[i - 1].lower in BACKING_NOUNS)


def _token_span(words: list[Word], mention: Mention) -> range:
    """Return the indexes of the sentence's words inside the mention."""
    inside = [i for i, w in enumerate(words) if mention.start <= w.start < mention.end]
    return range(inside[0], inside[-1] + 1) if inside else range(0)


def _span_root(words: list[Word], span: range) -> int | None:
    """Return the first word of the span whose head lies outside it (None when the span holds
    the sentence's root)."""
    return next((i for i in span if not span.start <= words[i].head < span.stop), None)


def _armed_actor(words: list[Word], span: range) -> bool:
    """Return True when the name is followed by its armed force ("Russian jets struck"), owns
    one ("aircraft belonging to ... Russia", "jets of Russia") or is the agent of an attack
    ("air raids by Russia", "targeting of hospitals by Russia")."""
    if span.start > 0 and words[span.start - 1].lower in _NOT_STATE_WORDS:
        return False  # "Free Syrian Army"
    for w in words[span.stop : span.stop + 4]:
        if w.lower in _NOT_STATE_WORDS:
            return False  # "Syrian Democratic Forces"
        if w.lower in FORCE_NOUNS:
            return True
        if w.pos not in _FORCE_GAP_POS or w.lower in ("by", "of"):
            break
    # Up the dependency tree from the name, through prepositions, conjuncts and appositions.
    root = _span_root(words, span)
    i, by_agent = (span.start if root is None else root), False
    if words[i].dep in _MODIFIER_DEPS:
        # "Russian diplomats": the name qualifies its head, which must be the force itself.
        return words[words[i].head].lower in FORCE_NOUNS
    for _ in range(_MAX_OWNER_STEPS):
        word = words[i]
        if word.dep not in _OWNER_PATH_DEPS or word.head == i:
            return False
        i = word.head
        head = words[i]
        if head.pos == "ADP" and head.lower not in _OWNER_PREPOSITIONS:
            return False  # "strikes on Russia's base": the target, not the owner
        by_agent = by_agent or head.lower == "by"
        if word.dep == "conj":
            continue  # "fighters and Russian diplomats": a conjunct is a sibling, not an owner
        if head.lower in FORCE_NOUNS or (by_agent and head.lemma in ATTACK_LEMMAS):
            return True
    return False


def _stance_taker(words: list[Word], span: range) -> bool:
    """Return True when the name is (or modifies) the subject of a stance verb
    ("Moscow denied", "the Russian defence ministry said", "Lavrov warned"), also through a
    verb it governs ("Russia hastened to back up the denials")."""
    i = _span_root(words, span)
    if i is None:
        return False
    token = words[i]
    if token.dep in _MODIFIER_DEPS and token.head != i:
        token = words[token.head]
    if token.dep not in ("nsubj", "nsubjpass"):
        return False
    verb = token.head
    return words[verb].lemma in STANCE_VERBS or any(
        w.head == verb and w.dep == "xcomp" and w.lemma in STANCE_VERBS for w in words
    )


def time_frame(words: list[Word]) -> str | None:
    """Return "background" for a sentence that recalls a pattern or the past ("in recent
    weeks", "regularly", "have carried out"), "news" for one that reports a dated or attributed
    event ("on Monday", "activists said", "suspected"), else None."""
    lowers = [w.lower for w in words]
    pairs = set(pairwise(lowers))
    if BACKGROUND_WORDS.intersection(lowers) or BACKGROUND_PAIRS & pairs:
        return "background"
    if NEWS_TIME_WORDS.intersection(lowers) or ATTRIBUTION_WORDS.intersection(lowers) or any(
        w.dep == "ROOT" and w.lemma in ATTRIBUTION_VERBS for w in words
    ):
        return "news"
    # A perfect without a date or a source recalls ("Russian jets have bombed the province");
    # with one it is often a lead's news ("Russian jets have killed 12, monitors said").
    if any(w.lemma == "have" and w.dep == "aux" for w in words):
        return "background"
    return None


def sentence_sides(
    mentions: list[Mention],
    sentences: list[list[Word]],
    text: str = "",
    publisher: str | None = None,
) -> list[SentenceSides]:
    """Return per-sentence side presence, armed actors, stances and lists from resolved
    mentions and the sentences' words.

    An official publisher (a side's own site) is present in every sentence: it is speaking.
    """
    sides: dict[int, set[str]] = defaultdict(set)
    officials: dict[int, set[str]] = defaultdict(set)
    acting: dict[int, set[str]] = defaultdict(set)
    speaking: dict[int, set[str]] = defaultdict(set)
    listed_names: dict[int, set[str]] = defaultdict(set)
    engaged: dict[int, set[str]] = defaultdict(set)  # named other than as a backer
    listed = listed_mentions(mentions, text)
    for mention in mentions:
        if mention.side is None or mention.kind in ("media", "boilerplate", "dateline"):
            # A news agency's credit and "(banned in Russia)" say nothing about the relation;
            # a place does: "Russian jets struck Idlib" is about Russia in Syria.
            continue
        i = mention.sentence
        if mention in listed:
            # One of a list of countries: a passing mention, not the side taking part here.
            listed_names[i].add(mention.side)
            continue
        sides[i].add(mention.side)
        if mention.kind == "institution" and mention.actor_kind not in (None, "state"):
            # A body outside the state named alone ("Syrian Democratic Forces fighters") places
            # its side in the story but speaks or acts for no state; its people, named or as a
            # delegation, count like officials (issue 16).
            continue
        if mention.kind in _OFFICIAL_KINDS:
            officials[i].add(mention.side)
        span = _token_span(sentences[i], mention) if i < len(sentences) else range(0)
        if not span or _is_backing(sentences[i], span):
            continue
        engaged[i].add(mention.side)
        if _armed_actor(sentences[i], span):
            acting[i].add(mention.side)
        if _stance_taker(sentences[i], span):
            speaking[i].add(mention.side)
    if publisher:
        for i in range(len(sentences)):
            sides[i].add(publisher)
            officials[i].add(publisher)
            engaged[i].add(publisher)
    return [
        SentenceSides(
            frozenset(sides[i]),
            frozenset(officials[i]),
            tuple(sorted({w.lower for w in words if w.lower in RELATION_TERMS})),
            frozenset(acting[i]),
            frozenset(speaking[i]),
            frozenset(listed_names[i] - sides[i]),
            frozenset(engaged[i]),
            bool(acting[i]) and time_frame(words) == "news",
        )
        for i, words in enumerate(sentences)
    ]


# Feature weights on a log-odds scale. Each feature is one way an article shows that the
# relation, not just the two names, is its subject. Fitted by logistic regression on the
# labelled dev set with 5-fold cross-validation (scripts/fit_relevance.py, docs/evaluation.md);
# the fit is refreshed only with the dev set, never for one item.
WEIGHTS: dict[str, float] = {
    "bias": -1.81,
    "both_in_headline": 1.73,
    "both_in_lead": 2.44,
    "both_sentences": 0.33,       # sentences naming both sides, up to 4
    "related_sentences": 0.05,    # ... that also carry relation vocabulary, up to 3
    "official_link": 0.56,        # an official of one side in a sentence with the other side
    "bilateral_event": 0.47,      # a meeting, call or visit between the sides
    "minority_share": 1.65,       # share of sentences naming the less-named side, up to 0.5
    "passing_mention": -1.30,     # one side named once in a long article, not acting there
    "armed_action": 0.22,         # sentences where one side's forces act and the other is named
    "armed_news": 0.99,           # ... in a sentence reporting a dated or attributed event
    "state_action": 1.29,         # sentences where one side's state speaks or acts on the other
    "listed_only": -0.23,         # a side named only as an item of lists of countries
}


def _engaged_near(per_sentence: list[SentenceSides], i: int) -> frozenset[str]:
    """Return the sides engaged in sentence i or its neighbours."""
    return frozenset().union(*(s.engaged_sides for s in per_sentence[max(0, i - 1) : i + 2]))


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
    # The other side may be named in the sentence before or after: "Russian jets struck the
    # town on Monday. Atareb, in Aleppo province, ...".
    armed_sentences = [
        s for i, s in enumerate(per_sentence)
        if any(_engaged_near(per_sentence, i) - {side} for side in s.acting_sides)
    ]
    armed = len(armed_sentences)
    stances = sum(
        1 for s in per_sentence if any(s.engaged_sides - {side} for side in s.speaking_sides)
    )
    listed_only = bool(
        frozenset().union(*(s.listed_sides for s in per_sentence)) - set(side_counts)
    )
    return {
        "both_in_headline": float(in_headline),
        "both_in_lead": float(any(len(s.sides) == 2 for s in per_sentence[:2])),
        "both_sentences": float(min(len(both), 4)),
        "related_sentences": float(min(sum(1 for i in both if per_sentence[i].relation_words), 3)),
        "official_link": float(any(
            per_sentence[i].official_sides and per_sentence[i].relation_words for i in both)),
        "bilateral_event": float(any(e.status != "cancelled" for e in events)),
        "minority_share": min(minority / n, 0.5),
        # Named once, but acting or speaking in the news, is not in passing (docs/devset.md).
        "passing_mention": float(minority <= 1 and n >= 6 and not in_headline
                                 and not armed and not stances),
        "armed_action": float(min(armed, 2)),
        "armed_news": float(any(s.news for s in armed_sentences)),
        "state_action": float(min(stances, 2)),
        "listed_only": float(listed_only),
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
