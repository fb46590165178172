"""Frozen dataclasses passed between the pipeline stages."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal, get_args

# What kind of actor a role, a body or a participant is (issue 16). The kind is dated in the
# watchlist: the 2017 opposition is the 2025 government.
ActorKind = Literal["state", "parliament", "party", "opposition", "armed_group", "civic", "former"]
KINDS: tuple[str, ...] = get_args(ActorKind)
# How an alert or a report names a side's actors of a kind: "Syrian opposition".
KIND_LABELS = {
    "state": "state", "parliament": "parliament", "party": "party", "opposition": "opposition",
    "armed_group": "armed group", "civic": "civil society", "former": "former officials",
}


def event_kind(kinds: Iterable[str]) -> str:
    """Return the kind of an event from its participants' kinds: the first kind outside the
    state in KINDS order, "state" when every participant is of the state."""
    present = set(kinds)
    return next((kind for kind in KINDS[1:] if kind in present), "state")


@dataclass(frozen=True)
class FeedItem:
    """One entry of a feed, as the feed describes it."""

    feed_url: str
    guid: str
    url: str
    title: str
    summary: str
    published: datetime | None


@dataclass(frozen=True)
class ParsedFeed:
    """The outcome of parsing one feed body."""

    items: tuple[FeedItem, ...]
    title: str
    version: str
    error_kind: str | None = None  # not_a_feed, parse_error, no_links
    error: str | None = None
    ttl_minutes: int | None = None
    # How often the feed says it changes (RSS <ttl>, sy:updatePeriod/updateFrequency), seconds.
    declared_interval_s: float | None = None


@dataclass(frozen=True)
class Article:
    """The text and metadata extracted from one page."""

    url: str
    title: str
    text: str
    author: str | None = None
    site: str | None = None
    published: datetime | None = None
    published_source: str | None = None  # page, feed, url, none
    language: str | None = None
    extraction_path: str = "none"  # trafilatura, trafilatura_recall, feed_summary, plain, none
    status: str = "ok"  # ok, thin, empty, rejected_date
    canonical_url: str | None = None


@dataclass(frozen=True)
class Mention:
    """An entity mention resolved (where possible) to an actor."""

    sentence: int
    start: int
    end: int
    text: str
    label: str
    actor_id: str | None = None
    name: str | None = None
    side: str | None = None
    kind: str | None = None  # person, country, demonym, capital, place, institution, office,
    # group, media, topic, boilerplate ("banned in Russia"), dateline ("MOSCOW (Sputnik)")
    role: str | None = None
    level: str | None = None
    inferred: bool = False
    # The actor's kind at the date (state, parliament, party, opposition, armed_group, civic,
    # former): see newsmon.analysis.watchlist.KINDS.
    actor_kind: str | None = None


@dataclass(frozen=True)
class Participant:
    """A participant of an event, resolved at the event date."""

    actor_id: str
    name: str
    side: str
    role: str | None = None
    level: str | None = None
    inferred: bool = False
    kind: str = "state"  # the actor's kind at the event date (watchlist.KINDS)


@dataclass(frozen=True)
class EventMention:
    """One report of an event in one sentence (or sentences) of one article."""

    type: str  # meeting, call, visit
    status: str  # occurred, planned, cancelled
    date: date | None
    date_precision: str | None  # day, month, year, week
    date_source: str  # text, published, anaphoric
    place: str | None
    participants: tuple[Participant, ...]
    evidence: str
    sentence: int
    new: bool = False
    extra: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class ArticleRow:
    """An article with its pipeline outcome, ready to store."""

    id: str
    article: Article
    feed_url: str | None
    status: str
    error: str | None = None
    duplicate_of: str | None = None
    prefiltered: bool | None = None
    relevant: bool | None = None
    relevance: float | None = None
    reason: str | None = None
