"""Extract article text and metadata from HTML with trafilatura, with a fallback chain."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from html import unescape

import py3langid
import trafilatura

from newsmon.models import Article

_URL_DATE = re.compile(r"/(20\d\d|19\d\d)[/-](0[1-9]|1[0-2])[/-](0[1-9]|[12]\d|3[01])(?:/|-|$)")
_TAGS = re.compile(r"<[^>]+>")


@dataclass(frozen=True)
class ExtractionRules:
    """The slice of settings that extraction needs."""

    min_text_chars: int = 200
    max_future_skew_hours: float = 24.0
    oldest_year: int = 1995


def html_to_text(fragment: str) -> str:
    """Return the visible text of an HTML fragment (feed summaries), whitespace-collapsed."""
    return re.sub(r"\s+", " ", unescape(_TAGS.sub(" ", fragment))).strip()


def detect_language(text: str) -> str | None:
    """Return the ISO 639-1 code of the text's language, or None for too little text."""
    sample = text[:3000]
    if len(sample.strip()) < 20:
        return None
    language, _score = py3langid.classify(sample)
    return str(language)


def date_from_url(url: str) -> datetime | None:
    """Return the date a URL path carries (/2025/12/24/), if any."""
    match = _URL_DATE.search(url)
    if not match:
        return None
    year, month, day = (int(part) for part in match.groups())
    try:
        return datetime(year, month, day)
    except ValueError:
        return None


def _page_date(value: str | None) -> datetime | None:
    """Return trafilatura's YYYY-MM-DD date as a datetime, or None."""
    if not value:
        return None
    try:
        return datetime.strptime(value[:10], "%Y-%m-%d")
    except ValueError:
        return None


def choose_published(
    page: datetime | None,
    feed: datetime | None,
    url: datetime | None,
    now: datetime,
    rules: ExtractionRules,
) -> tuple[datetime | None, str]:
    """Return the publish time (naive UTC) and its source: page, feed, url or none."""
    latest = now + timedelta(hours=rules.max_future_skew_hours)
    for value, source in ((page, "page"), (feed, "feed"), (url, "url")):
        if value is None or value > latest or value.year < rules.oldest_year:
            continue  # a future or absurd date is worse than the next source
        if source == "page" and feed is not None and feed.date() == value.date():
            return feed, "page"  # same day, but the feed knows the time of day
        return value, source
    return None, "none"


def extract_article(
    html: str,
    url: str,
    rules: ExtractionRules,
    *,
    feed_title: str = "",
    feed_summary: str = "",
    feed_published: datetime | None = None,
    now: datetime | None = None,
) -> Article:
    """Return the article of one page: text by the first path that yields enough, plus metadata."""
    now = now or datetime.now(UTC).replace(tzinfo=None)
    doc = None
    path = "none"
    text = ""
    for mode, kwargs in (("trafilatura", {}), ("trafilatura_recall", {"favor_recall": True})):
        try:
            candidate = trafilatura.bare_extraction(
                html, url=url, with_metadata=True, include_comments=False,
                date_extraction_params={"extensive_search": False, "original_date": True},
                **kwargs,
            )
        except Exception:  # noqa: BLE001 - trafilatura raises many types on broken trees
            candidate = None
        if candidate is None:
            continue
        doc = doc or candidate
        candidate_text = (candidate.text or "").strip()
        if len(candidate_text) > len(text):
            text, path, doc = candidate_text, mode, candidate
        if len(text) >= rules.min_text_chars:
            break
    summary_text = html_to_text(feed_summary)
    if len(text) < rules.min_text_chars and len(summary_text) > len(text):
        text, path = summary_text, "feed_summary"
    title = ((doc.title if doc else None) or feed_title or "").strip()
    published, source = choose_published(
        _page_date(doc.date if doc else None), feed_published, date_from_url(url), now, rules
    )
    if not text:
        status = "empty"
    elif len(text) < rules.min_text_chars:
        status = "thin"
    else:
        status = "ok"
    return Article(
        url=url,
        title=title,
        text=text,
        author=(doc.author if doc else None) or None,
        site=(doc.sitename if doc else None) or None,
        published=published,
        published_source=source,
        language=detect_language(f"{title}\n{text}"),
        extraction_path=path,
        status=status,
    )


def with_canonical(article: Article, canonical_url: str) -> Article:
    """Return the article with its canonical URL set."""
    return replace(article, canonical_url=canonical_url)
