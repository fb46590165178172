"""A fetched page to the article row the cycle stores (extraction, status, language)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from newsmon.articles.extract import ExtractionRules, extract_article
from newsmon.models import ArticleRow, FeedItem
from newsmon.sources.charset import decode_html
from newsmon.sources.fetch import FetchResult
from newsmon.urls import article_id

HTML_TYPES = ("text/html", "application/xhtml+xml", "text/plain", "")


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
