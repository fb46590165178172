"""One monitoring cycle's per-page decisions as plain functions: what to analyse, what to alert."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from newsmon.models import Article, ArticleRow, EventMention, FeedItem
from newsmon.sources.fetch import FetchResult

if TYPE_CHECKING:
    from newsmon.analysis.pipeline import Analysis, AnalysisInput


@dataclass(frozen=True)
class PageWork:
    """One new feed item on its way through the cycle."""

    item: FeedItem
    canonical_url: str
    fetched: FetchResult
    row: ArticleRow


def analysis_input(row: ArticleRow) -> AnalysisInput:
    """Return the analysis input of an article row (publish day as the reference date)."""
    published = row.article.published.date() if row.article.published else None
    # Imported here: extraction worker processes import this module, and need no spaCy.
    from newsmon.analysis.pipeline import AnalysisInput

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
