"""cycle.build_article: the row status the cycle stores for a fetched page (issue 4)."""

from __future__ import annotations

from datetime import datetime

import pytest

from newsmon.articles.build import build_article
from newsmon.articles.extract import ExtractionRules
from newsmon.cycle.pages import needs_nlp
from newsmon.models import FeedItem
from newsmon.sources.fetch import FetchResult

URL = "https://news.example/world/talks"
NOW = datetime(2025, 12, 24, 12, 0)
ITEM = FeedItem("https://news.example/rss", "g1", URL, "Talks", "", None)
GERMAN = (
    "Die Außenminister Syriens und Russlands haben sich am Dienstag in Moskau getroffen, um "
    "über Getreidelieferungen und die Reparatur von Kraftwerken zu sprechen. Beide Seiten "
    "vereinbarten eine Arbeitsgruppe, die im Februar erneut tagen soll."
)


def fetched(html: str) -> FetchResult:
    """Return a successful fetch of an HTML page."""
    return FetchResult(URL, URL, 200, {"content-type": "text/html"}, html.encode(), 0.1, None,
                       None)


def page(text: str, lang: str = "en") -> str:
    """Return a page whose article is one paragraph of text."""
    return (f'<html lang="{lang}"><head><title>Talks</title></head><body><article>'
            f"<h1>Talks</h1><p>{text}</p></article></body></html>")


@pytest.mark.parametrize("min_chars", [50, 1000])  # the German text is ok, then thin
def test_unsupported_language_never_reaches_nlp(min_chars: int) -> None:
    row = build_article(ITEM, URL, fetched(page(GERMAN, "de")), ExtractionRules(min_chars),
                        ("en",), NOW)
    assert row.article.language == "de"
    assert row.status == "not_supported_language"
    assert not needs_nlp(row)


def test_thin_english_article_is_analysed() -> None:
    text = "Ministers of both countries met in Moscow on Tuesday to discuss grain deliveries."
    row = build_article(ITEM, URL, fetched(page(text)), ExtractionRules(), ("en",), NOW)
    assert (row.status, row.article.language) == ("thin", "en")
    assert needs_nlp(row)


def test_failed_fetch_keeps_the_feed_summary() -> None:
    item = FeedItem(ITEM.feed_url, "g2", URL, "Talks", "<p>Ministers met in Moscow.</p>", None)
    failed = FetchResult(URL, URL, 503, {}, b"", 0.1, "http_status", f"{URL}: HTTP 503")
    row = build_article(item, URL, failed, ExtractionRules(), ("en",), NOW)
    assert (row.status, row.error) == ("fetch_failed", f"{URL}: HTTP 503")
    assert (row.article.text, row.article.extraction_path) == ("Ministers met in Moscow.",
                                                                "feed_summary")
