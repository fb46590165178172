"""Replay extraction over the raw-page archive (table `pages`) without fetching again.

Every fetched page is archived gzip-compressed with its fetch time, status and headers
(repo.save_page). Replaying feeds that archive through the same cycle.build_article the monitor
uses, with the fetch time as "now" so date plausibility is judged as it was at fetch time; a
new extraction version can thus be compared with what was stored, page by page (issue 4).

Only the page is archived, not the feed entry: the item's title, URL and publish time come from
table `items`, but its summary does not, so an article whose text came from the feed summary
(path `feed_summary`, e.g. a failed fetch) replays exactly only when the caller passes the
FeedItem. Near-duplicate links and NLP fields belong to later stages and are not replayed here.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Sequence
from datetime import datetime

import duckdb

from newsmon.articles.build import build_article
from newsmon.articles.extract import ExtractionRules
from newsmon.models import ArticleRow, FeedItem
from newsmon.sources.fetch import FetchResult


def archived_fetch(
    con: duckdb.DuckDBPyConnection, canonical_url: str
) -> tuple[FetchResult, datetime] | None:
    """Return the archived fetch of a page and its fetch time, or None if not archived."""
    row = con.execute(
        "SELECT url, final_url, fetched_at, status_code, headers, body_gzip, error_kind, error "
        "FROM pages WHERE canonical_url = ?",
        [canonical_url],
    ).fetchone()
    if row is None:
        return None
    url, final_url, fetched_at, status, headers, body_gzip, error_kind, error = row
    fetched = FetchResult(
        url=url,
        final_url=final_url or url,
        status=status,
        headers=json.loads(headers) if headers else {},
        body=gzip.decompress(body_gzip) if body_gzip else b"",
        elapsed_s=0.0,
        error_kind=error_kind,
        error=error,
    )
    return fetched, fetched_at


def stored_item(con: duckdb.DuckDBPyConnection, canonical_url: str, fallback_url: str) -> FeedItem:
    """Return the first feed item seen for a page (no summary: it is not archived)."""
    row = con.execute(
        "SELECT feed_url, guid, url, title, published_at FROM items WHERE canonical_url = ? "
        "ORDER BY seen_at, feed_url, guid LIMIT 1",
        [canonical_url],
    ).fetchone()
    if row is None:
        # A page archived without a feed item (none today) replays as a bare page.
        return FeedItem("", canonical_url, fallback_url, "", "", None)
    feed_url, guid, url, title, published = row
    return FeedItem(feed_url, guid, url, title or "", "", published)


def replay_article(
    con: duckdb.DuckDBPyConnection,
    canonical_url: str,
    rules: ExtractionRules,
    languages: Sequence[str] = ("en",),
    *,
    item: FeedItem | None = None,
    now: datetime | None = None,
) -> ArticleRow | None:
    """Return the article row re-extracted offline from the archived page, or None if absent."""
    archived = archived_fetch(con, canonical_url)
    if archived is None:
        return None
    fetched, fetched_at = archived
    item = item or stored_item(con, canonical_url, fetched.url)
    return build_article(item, canonical_url, fetched, rules, languages, now or fetched_at)
