"""Raw archive replay: a stored raw page re-extracts offline to the same article row (issue 4)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest

from newsmon.articles.archive import archived_fetch, replay_article
from newsmon.articles.build import build_article
from newsmon.articles.extract import ExtractionRules
from newsmon.models import ArticleRow, FeedItem
from newsmon.sources.fetch import FetchResult
from newsmon.store import connect, migrate
from newsmon.store.repo import archived_page, record_items, save_article, save_page

PAGE = Path(__file__).parents[1] / "data" / "pages" / "grain-talks-offset.html"
URL = "https://harbour-ledger.example/world/grain-talks?utm_source=rss"
CANONICAL = "https://harbour-ledger.example/world/grain-talks"
FEED = "https://harbour-ledger.example/rss.xml"
RULES = ExtractionRules()
LANGUAGES = ("en",)
# Columns an extraction determines (first_seen_at and analyzed_at record when, not what).
ARTICLE_COLUMNS = (
    "id, canonical_url, url, feed_url, title, author, site, published_at, published_source, "
    "language, text, text_chars, extraction_path, status, error, duplicate_of"
)


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Path]:
    """Yield the path of a migrated DuckDB file."""
    path = tmp_path / "newsmon.duckdb"
    con = connect(path)
    migrate(con)
    con.close()
    yield path


def fetched(body: bytes, status: int = 200, error_kind: str | None = None) -> FetchResult:
    """Return a fetch result as fetch() gives it for the page."""
    return FetchResult(
        url=URL, final_url=URL, status=status,
        headers={"content-type": "text/html; charset=utf-8", "etag": '"v1"'},
        body=body, elapsed_s=0.12, error_kind=error_kind,
        error=None if error_kind is None else f"{URL}: {error_kind}",
    )


def store_cycle(path: Path, item: FeedItem, result: FetchResult, now: datetime) -> ArticleRow:
    """Store a page the way the cycle does (items, pages, articles) and return its row."""
    row = build_article(item, CANONICAL, result, RULES, LANGUAGES, now)
    con = connect(path)
    try:
        record_items(con, [(item, CANONICAL)])
        save_page(con, CANONICAL, result)
        # save_page stamps the wall clock; the test's cycle runs at `now`, as a real one
        # fetches, extracts and stores within the same minutes.
        con.execute("UPDATE pages SET fetched_at = ? WHERE canonical_url = ?", [now, CANONICAL])
        save_article(con, row)
    finally:
        con.close()
    return row


def stored_article(con: duckdb.DuckDBPyConnection) -> tuple[Any, ...]:
    """Return the extraction columns of the one stored article."""
    found = con.execute(f"SELECT {ARTICLE_COLUMNS} FROM articles").fetchall()
    assert len(found) == 1
    return found[0]


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make any network connection attempt fail the test."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("replay tried to use the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def item(summary: str = "", published: datetime | None = None) -> FeedItem:
    """Return the feed entry that led to the page."""
    return FeedItem(FEED, "guid-grain-1", URL, "Grain talks", summary, published)


def test_archived_page_replays_offline_to_the_same_article_row(db: Path, offline: None) -> None:
    body = PAGE.read_bytes()
    original = store_cycle(db, item(published=datetime(2025, 12, 24, 11, 7)), fetched(body),
                           datetime(2025, 12, 24, 12, 0))
    assert original.article.extraction_path.startswith("trafilatura")

    con = connect(db)
    try:
        assert archived_page(con, CANONICAL) == body  # stored compressed, returned as fetched
        replayed = replay_article(con, CANONICAL, RULES, LANGUAGES)
        assert replayed == original
        before = stored_article(con)
        # Store the replayed row in place of the original: the database row is the same.
        con.execute("DELETE FROM articles")
        assert replayed is not None
        save_article(con, replayed)
        assert stored_article(con) == before
    finally:
        con.close()


def test_replay_restores_the_fetch_with_headers(db: Path) -> None:
    store_cycle(db, item(), fetched(PAGE.read_bytes()), datetime(2025, 12, 24, 12, 0))
    con = connect(db)
    try:
        archived = archived_fetch(con, CANONICAL)
    finally:
        con.close()
    assert archived is not None
    result, fetched_at = archived
    assert result.headers == {"content-type": "text/html; charset=utf-8", "etag": '"v1"'}
    assert (result.status, result.body) == (200, PAGE.read_bytes())
    assert fetched_at == datetime(2025, 12, 24, 12, 0)


def test_replay_judges_dates_at_the_fetch_time(db: Path, offline: None) -> None:
    # The page's date is "the future" only relative to when it was fetched; replayed a year
    # later with the fetch time as now, it keeps the outcome it had.
    html = PAGE.read_text().replace("2025-12-24T14:05:00+03:00", "2030-01-01T09:00:00+00:00")
    store_cycle(db, item(), fetched(html.encode()), datetime(2025, 12, 24, 12, 0))
    con = connect(db)
    try:
        replayed = replay_article(con, CANONICAL, RULES, LANGUAGES)
        later = replay_article(con, CANONICAL, RULES, LANGUAGES, now=datetime(2030, 6, 1))
    finally:
        con.close()
    assert replayed is not None and later is not None
    assert (replayed.article.published, replayed.article.published_source) == (None, "none")
    assert later.article.published == datetime(2030, 1, 1, 9, 0)  # a deliberate re-judgement


def test_failed_fetch_replays_with_the_feed_item(db: Path, offline: None) -> None:
    # The feed summary is not archived: replay needs the FeedItem to rebuild a summary article.
    entry = item(summary="<p>" + "Trade officials agreed to open grain talks. " * 6 + "</p>")
    original = store_cycle(db, entry, fetched(b"", status=503, error_kind="http_status"),
                           datetime(2025, 12, 24, 12, 0))
    assert (original.status, original.article.extraction_path) == ("fetch_failed", "feed_summary")
    con = connect(db)
    try:
        assert replay_article(con, CANONICAL, RULES, LANGUAGES, item=entry) == original
        without = replay_article(con, CANONICAL, RULES, LANGUAGES)
    finally:
        con.close()
    assert without == replace(original, article=replace(original.article, text="",
                              extraction_path="none", status="empty", language=None))


def test_page_never_archived_replays_to_none(db: Path) -> None:
    con = connect(db)
    try:
        assert replay_article(con, "https://nowhere.example/x", RULES) is None
    finally:
        con.close()
