"""One monitoring cycle's per-page work as plain functions: build articles, decide alerts."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from newsmon.charset import decode_html
from newsmon.dedup import DuplicateIndex, shingles
from newsmon.extract import ExtractionRules, extract_article
from newsmon.fetch import FetchResult
from newsmon.models import Article, EventMention, FeedItem
from newsmon.store.repo import ArticleRow
from newsmon.urls import article_id

if TYPE_CHECKING:
    from newsmon.analysis import Analysis, AnalysisInput

HTML_TYPES = ("text/html", "application/xhtml+xml", "text/plain", "")


@dataclass(frozen=True)
class PageWork:
    """One new feed item on its way through the cycle."""

    item: FeedItem
    canonical_url: str
    fetched: FetchResult
    row: ArticleRow


def build_article(
    item: FeedItem,
    canonical_url: str,
    fetched: FetchResult,
    rules: ExtractionRules,
    languages: Sequence[str],
    now: datetime,
) -> ArticleRow:
    """Return the article row for a fetched page (failed fetches keep the feed's own text)."""
    aid = article_id(canonical_url)
    if fetched.error_kind is not None or fetched.status != 200:
        status = "refused" if (fetched.error_kind or "").startswith("refused") else "fetch_failed"
        article = extract_article(
            "", item.url, rules, feed_title=item.title, feed_summary=item.summary,
            feed_published=item.published, now=now,
        )
        article = replace(article, canonical_url=canonical_url)
        return ArticleRow(aid, article, item.feed_url, status, fetched.error)
    header = fetched.headers.get("content-type", "")
    content_type = header.split(";")[0].strip().lower()
    # Not a blind UTF-8 decode: ISO-8859-1 pages, and pages whose header lies, keep their text.
    html = decode_html(fetched.body, header) if content_type in HTML_TYPES else ""
    article = extract_article(
        html, fetched.final_url or item.url, rules, feed_title=item.title,
        feed_summary=item.summary, feed_published=item.published, now=now,
    )
    article = replace(article, url=item.url, canonical_url=canonical_url)
    status = article.status
    # Thin texts too: a short article in an unsupported language must not reach the NLP stage.
    if status in ("ok", "thin") and article.language and article.language not in languages:
        status = "not_supported_language"
    return ArticleRow(aid, article, item.feed_url, status)


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


def analysis_input(row: ArticleRow) -> AnalysisInput:
    """Return the analysis input of an article row (publish day as the reference date)."""
    published = row.article.published.date() if row.article.published else None
    # Imported here: extraction worker processes import this module, and need no spaCy.
    from newsmon.analysis import AnalysisInput

    return AnalysisInput(row.id, row.article.text, row.article.title, published, row.article.url)


def needs_nlp(row: ArticleRow) -> bool:
    """Return True for original articles with text in a supported language."""
    return row.duplicate_of is None and row.status in ("ok", "thin") and bool(row.article.text)


def with_analysis(row: ArticleRow, analysis: Analysis) -> ArticleRow:
    """Return the row carrying the relevance decision."""
    return replace(
        row, prefiltered=analysis.prefiltered, relevant=analysis.relevant,
        relevance=analysis.relevance, reason=analysis.reason,
    )


@dataclass(frozen=True)
class AlertRules:
    """The slice of settings the alert decision needs."""

    alert_types: tuple[str, ...] = ("meeting",)
    alert_planned: bool = False
    max_article_age_days: int | None = 30


def alert_kind(
    event: EventMention, created: bool, article: Article, seen_at: datetime, rules: AlertRules
) -> str | None:
    """Return the kind of alert a newly stored event report deserves (new / planned), or None.

    Only the first report of an event can alert; an event recalled from the past, one found in
    an article published long before we saw it, or a type not configured never alerts.
    """
    if not created or event.type not in rules.alert_types:
        return None
    too_old = (
        rules.max_article_age_days is not None
        and article.published is not None
        and seen_at - article.published > timedelta(days=rules.max_article_age_days)
    )
    if too_old:
        return None
    if event.status == "occurred" and event.new:
        return "new"
    if event.status == "planned" and rules.alert_planned:
        published: date | None = article.published.date() if article.published else None
        if event.date is None or published is None or event.date >= published:
            return "planned"
    return None


def text_hash(text: str) -> str:
    """Return the sha256 of a text (identical copies share it)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
