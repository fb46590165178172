"""Analyse article texts: prefilter, NER with the watchlist, actors, relevance and events."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date

from spacy.language import Language

from newsmon.analysis.events import find_event_mentions, is_new
from newsmon.analysis.identity import consolidate
from newsmon.analysis.mentions import resolve_mentions
from newsmon.analysis.nlp import may_name_both_sides, prefilter
from newsmon.analysis.relevance import Word, score_relevance, sentence_sides
from newsmon.analysis.watchlist import Watchlist
from newsmon.models import EventMention, Mention

# spaCy refuses a text longer than nlp.max_length (1,000,000 characters) with an exception that
# used to stop the whole cycle, and its memory grows with the length (peak RSS ~440 MB at
# 100,000 characters, ~950 MB at 300,000 here). A news article rarely reaches 60,000: only the
# first 100,000 characters are analysed, the whole text is still stored.
MAX_NLP_CHARS = 100_000


@dataclass(frozen=True)
class AnalysisInput:
    """One text to analyse."""

    id: str
    text: str
    title: str = ""
    published: date | None = None
    url: str = ""


@dataclass(frozen=True)
class ActorSummary:
    """An actor named in an article, with how often."""

    actor_id: str
    name: str
    country: str
    role: str | None
    mentions: int
    inferred: bool


@dataclass(frozen=True)
class Analysis:
    """Everything the NLP stages found in one text."""

    id: str
    prefiltered: bool
    relevant: bool
    relevance: float
    reason: str
    actors: tuple[ActorSummary, ...] = ()
    events: tuple[EventMention, ...] = ()
    mentions: tuple[Mention, ...] = ()
    features: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class AnalysisRules:
    """The slice of settings the analysis needs."""

    threshold: float = 0.5
    new_window_days: int = 7
    batch_size: int = 32


def summarise_actors(mentions: Iterable[Mention]) -> tuple[ActorSummary, ...]:
    """Return one summary per resolved person or office holder, most mentioned first."""
    counts: dict[str, int] = defaultdict(int)
    first: dict[str, Mention] = {}
    inferred: dict[str, bool] = {}
    for m in mentions:
        if m.actor_id and m.side and m.kind in ("person", "office"):
            counts[m.actor_id] += 1
            first.setdefault(m.actor_id, m)
            inferred[m.actor_id] = inferred.get(m.actor_id, True) and m.inferred
    return tuple(
        ActorSummary(
            actor_id, first[actor_id].name or first[actor_id].text, first[actor_id].side or "",
            first[actor_id].role, counts[actor_id], inferred[actor_id],
        )
        for actor_id in sorted(counts, key=lambda a: (-counts[a], a))
    )


def nlp_text(item: AnalysisInput) -> str:
    """Return the text given to spaCy: the title as its own first paragraph, then the body,
    cut to MAX_NLP_CHARS."""
    # Headlines and paragraph lines often carry no final stop; without one spaCy glues them to
    # the next sentence, and a headline's names then join the first sentence's event.
    lines = [item.title.strip(), *item.text.strip()[:MAX_NLP_CHARS].splitlines()]
    closed = [
        line if line[-1] in ".!?:;\"'\u201d\u2019)" else f"{line}."
        for line in (raw.strip() for raw in lines) if line
    ]
    return "\n\n".join(closed)[:MAX_NLP_CHARS]


def analyze(
    nlp: Language, watchlist: Watchlist, items: Iterable[AnalysisInput], rules: AnalysisRules
) -> Iterator[Analysis]:
    """Yield one Analysis per input, in order; only prefilter survivors pay for spaCy."""
    items = list(items)
    texts = [nlp_text(item) for item in items]
    passed = [
        may_name_both_sides(text, watchlist, item.url)
        and prefilter(text, watchlist, item.url).passed
        for text, item in zip(texts, items, strict=True)
    ]
    candidates = [text for text, ok in zip(texts, passed, strict=True) if ok]
    docs = nlp.pipe(candidates, batch_size=rules.batch_size)
    doc_iter = iter(docs)
    for item, ok in zip(items, passed, strict=True):
        if not ok:
            yield Analysis(item.id, False, False, 0.0, "prefilter: both sides not named")
            continue
        doc = next(doc_iter)
        yield analyze_doc(doc, item, watchlist, rules)


def analyze_doc(doc, item: AnalysisInput, watchlist: Watchlist, rules: AnalysisRules) -> Analysis:  # type: ignore[no-untyped-def]
    """Return the analysis of one parsed document."""
    sides = (watchlist.sides[0].key, watchlist.sides[1].key)
    mentions = resolve_mentions(doc, watchlist, item.published)
    reports = find_event_mentions(doc, mentions, item.published, sides)
    events = [
        replace(e, new=e.status == "occurred"
                and is_new(e.date, item.published, rules.new_window_days))
        for e in consolidate(reports, item.published)
    ]
    sentences = [
        [Word(t.idx, t.lower_, t.lemma_, t.pos_, t.dep_, t.head.i - sent.start) for t in sent]
        for sent in doc.sents
    ]
    per_sentence = sentence_sides(
        mentions, sentences, doc.text, watchlist.publisher_side(item.url)
    )
    # An untitled text (a post, a wire line) opens with its own headline: its first sentence.
    # With a title, nlp_text puts the title first too, so sentence 0 is the headline either way.
    headline_sides = per_sentence[0].sides if per_sentence else frozenset()
    actors = summarise_actors(mentions)
    names: dict[str, list[str]] = defaultdict(list)
    for actor in actors:
        names[actor.country].append(actor.name)
    relevance = score_relevance(
        per_sentence, headline_sides, events, dict(names), rules.threshold
    )
    return Analysis(
        item.id, True, relevance.relevant, relevance.score, relevance.reason, actors,
        tuple(events), tuple(mentions), relevance.features,
    )
