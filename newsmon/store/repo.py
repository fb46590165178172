"""Reads and writes of the pipeline's rows; every multi-row write is one transaction."""

from __future__ import annotations

import gzip
import hashlib
import json
import uuid
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import duckdb

from newsmon.models import ArticleRow, FeedItem, Mention
from newsmon.sources.fetch import FetchResult
from newsmon.sources.polling import FeedState, PollResult
from newsmon.store import utcnow
from newsmon.urls import canonicalize_url


def transaction(con: duckdb.DuckDBPyConnection) -> _Transaction:
    """Return a context manager that commits on success and rolls back on error."""
    return _Transaction(con)


class _Transaction:
    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con

    def __enter__(self) -> duckdb.DuckDBPyConnection:
        self.con.execute("BEGIN TRANSACTION")
        return self.con

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self.con.execute("ROLLBACK" if exc_type else "COMMIT")


def insert_rows(
    con: duckdb.DuckDBPyConnection,
    table: str,
    columns: Sequence[tuple[str, str]],
    rows: Sequence[Sequence[Any]],
    conflict: str = "ON CONFLICT DO NOTHING",
) -> None:
    """Insert rows (values in `columns` order, each column given as (name, SQL type)) at once.

    One statement with one list parameter per column, zipped back into rows by unnest: a
    round trip per row (executemany) costs about a millisecond each, this about as much for
    the whole batch (500 mentions: 1.1 s vs 7 ms measured here).
    """
    if not rows:
        return
    names = ", ".join(name for name, _ in columns)
    con.execute(f"INSERT INTO {table} ({names}) SELECT {unnest_columns(columns)} {conflict}",
                column_lists(rows))


def unnest_columns(columns: Sequence[tuple[str, str]]) -> str:
    """Return the SELECT list that turns one list parameter per (name, SQL type) into rows."""
    return ", ".join(f"unnest(?::{kind}[]) AS {name}" for name, kind in columns)


def column_lists(rows: Sequence[Sequence[Any]]) -> list[list[Any]]:
    """Return the rows as one list per column: the parameters of unnest_columns()."""
    return [list(column) for column in zip(*rows, strict=True)]


# --- feeds -------------------------------------------------------------------------------------

def register_feeds(con: duckdb.DuckDBPyConnection, feeds: Iterable[tuple[str, str]]) -> None:
    """Insert the configured feeds (url, name) that the database does not know yet."""
    now = utcnow()
    rows = [(url, name, now) for url, name in feeds]
    if rows:
        con.executemany(
            "INSERT INTO feeds (url, name, added_at) VALUES (?, ?, ?) ON CONFLICT (url) DO UPDATE "
            "SET name = excluded.name, added_at = coalesce(feeds.added_at, excluded.added_at)",
            rows,
        )


def feed_states(con: duckdb.DuckDBPyConnection, urls: Sequence[str]) -> dict[str, FeedState]:
    """Return the stored poll state of each URL (a blank state for unknown feeds)."""
    rows = con.execute(
        "SELECT url, etag, last_modified, body_hash, failures, next_poll_at, moved_to, "
        "declared_interval_s FROM feeds WHERE list_contains(?, url)", [list(urls)]
    ).fetchall()
    known = {row[0]: FeedState(*row) for row in rows}
    return {url: known.get(url, FeedState(url)) for url in urls}


# One poll result as save_poll_results hands it to DuckDB: (column, SQL type), in row order.
_POLL_COLUMNS = (
    ("url", "VARCHAR"), ("health", "VARCHAR"), ("etag", "VARCHAR"), ("last_modified", "VARCHAR"),
    ("body_hash", "VARCHAR"), ("failures", "INTEGER"), ("error_kind", "VARCHAR"),
    ("error", "VARCHAR"), ("polled_at", "TIMESTAMP"), ("ok", "BOOLEAN"),
    ("next_poll_at", "TIMESTAMP"), ("title", "VARCHAR"), ("moved_to", "VARCHAR"),
    ("status", "INTEGER"), ("declared_interval_s", "DOUBLE"),
)
_KNOWN_ITEM_COLUMNS = (
    ("feed_url", "VARCHAR"), ("guid", "VARCHAR"), ("url", "VARCHAR"),
    ("canonical_url", "VARCHAR"), ("title", "VARCHAR"), ("published_at", "TIMESTAMP"),
)


def save_poll_results(
    con: duckdb.DuckDBPyConnection, results: Sequence[PollResult], quiet_after_days: int = 14
) -> None:
    """Store each feed's new poll state, health and error (status ok, quiet, failing or gone)."""
    now = utcnow()
    quiet_before = now - timedelta(days=quiet_after_days)
    _record_known_items(con, results, now)
    # One UPDATE for all feeds (a warm cycle of 500 feeds made 500 round trips); a feed polled
    # twice keeps its last result, as the sequential updates did.
    latest = {r.url: r for r in results}
    if not latest:
        return
    rows = [
        (r.url, r.health, r.etag, r.last_modified, r.body_hash, r.failures, r.error_kind,
         r.error, r.polled_at or now, r.outcome != "failed", r.next_poll_at, r.title,
         r.moved_to, r.status, r.declared_interval_s)
        for r in latest.values()
    ]
    # Quiet is judged on last_new_item_at, which record_items updated earlier in the run.
    con.execute(
        f"""
        UPDATE feeds SET
            status = CASE WHEN r.health <> 'ok' THEN r.health
                          WHEN coalesce(feeds.last_new_item_at, feeds.added_at) < ? THEN 'quiet'
                          ELSE 'ok' END,
            etag = r.etag, last_modified = r.last_modified, body_hash = r.body_hash,
            failures = r.failures, last_error_kind = r.error_kind, last_error = r.error,
            last_polled_at = r.polled_at,
            last_success_at = CASE WHEN r.ok THEN r.polled_at ELSE feeds.last_success_at END,
            next_poll_at = r.next_poll_at, title = coalesce(nullif(r.title, ''), feeds.title),
            moved_to = coalesce(r.moved_to, feeds.moved_to), last_status_code = r.status,
            declared_interval_s = r.declared_interval_s
        FROM (SELECT {unnest_columns(_POLL_COLUMNS)}) r
        WHERE feeds.url = r.url
        """,
        [quiet_before, *column_lists(rows)],
    )


def _record_known_items(
    con: duckdb.DuckDBPyConnection, polls: Sequence[PollResult], now: datetime
) -> None:
    """Record the polls' items whose story is already stored, and count them as new to their feed.

    A feed that only carries stories first fetched through other feeds (wire copy) still brings
    new items: recording them here keeps it from being reported quiet. Items whose story is not
    stored (over the per-feed cap, not http) are left alone so a later run can still fetch them.
    """
    rows = []
    for poll in polls:
        for item in poll.items:
            try:
                rows.append((poll.url, item.guid, item.url, canonicalize_url(item.url),
                             item.title, item.published))
            except ValueError:
                continue
    if not rows:
        return
    inserted = con.execute(
        f"""
        INSERT INTO items
        SELECT t.feed_url, t.guid, t.url, t.canonical_url, t.title, t.published_at, ?
        FROM (SELECT {unnest_columns(_KNOWN_ITEM_COLUMNS)}) t
        WHERE t.canonical_url IN (SELECT canonical_url FROM articles)
           OR t.canonical_url IN (SELECT canonical_url FROM items)
        ON CONFLICT DO NOTHING RETURNING feed_url
        """,
        [now, *column_lists(rows)],
    ).fetchall()
    _count_new_items(con, [feed_url for (feed_url,) in inserted], now)


@dataclass(frozen=True)
class FeedHealth:
    """One feed's health as `newsmon feeds` and the run summary show it."""

    url: str
    name: str | None
    title: str | None
    status: str  # new, ok, quiet, failing, gone
    failures: int
    items_total: int
    last_polled_at: datetime | None
    last_success_at: datetime | None
    last_new_item_at: datetime | None
    next_poll_at: datetime | None
    last_error_kind: str | None
    last_status_code: int | None
    last_error: str | None
    moved_to: str | None


def feed_health(
    con: duckdb.DuckDBPyConnection,
    now: datetime,
    quiet_after_days: int,
    urls: Sequence[str] | None = None,
) -> list[FeedHealth]:
    """Return the health of the given feeds (default: all), quiet judged at now, worst first."""
    # Quiet is recomputed here rather than trusted from the stored status: a feed that is not
    # due for a while (long backoff, <ttl>) goes quiet between its polls too.
    rows = con.execute(
        """
        SELECT url, name, title,
            CASE WHEN status IN ('ok', 'quiet') THEN
                CASE WHEN coalesce(last_new_item_at, added_at) < ? THEN 'quiet' ELSE 'ok' END
                ELSE status END AS health,
            failures, items_total, last_polled_at, last_success_at, last_new_item_at,
            next_poll_at, last_error_kind, last_status_code, last_error, moved_to
        FROM feeds WHERE ? OR list_contains(?, url)
        ORDER BY CASE health WHEN 'gone' THEN 0 WHEN 'failing' THEN 1 WHEN 'quiet' THEN 2
                 WHEN 'new' THEN 3 ELSE 4 END, url
        """,
        [now - timedelta(days=quiet_after_days), urls is None, list(urls or [])],
    ).fetchall()
    return [FeedHealth(*row) for row in rows]


def health_counts(rows: Sequence[FeedHealth]) -> dict[str, int]:
    """Return how many feeds are in each status (every status present, zero if none)."""
    counts = dict.fromkeys(("ok", "quiet", "failing", "gone", "new"), 0)
    for row in rows:
        counts[row.status] = counts.get(row.status, 0) + 1
    return counts


# --- items -------------------------------------------------------------------------------------

def unseen_items(
    con: duckdb.DuckDBPyConnection, items: Sequence[tuple[FeedItem, str]]
) -> list[tuple[FeedItem, str]]:
    """Return the (item, canonical URL) pairs whose URL and GUID were never seen, deduplicated."""
    if not items:
        return []
    canon = [c for _, c in items]
    guids = [[i.feed_url, i.guid] for i, _ in items]
    seen_urls = {
        row[0] for row in con.execute(
            "SELECT canonical_url FROM items WHERE list_contains(?, canonical_url) "
            "UNION SELECT canonical_url FROM articles WHERE list_contains(?, canonical_url)",
            [canon, canon],
        ).fetchall()
    }
    seen_guids = {
        (row[0], row[1]) for row in con.execute(
            "SELECT feed_url, guid FROM items WHERE list_contains(?, [feed_url, guid])", [guids]
        ).fetchall()
    }
    out: list[tuple[FeedItem, str]] = []
    batch: set[str] = set()
    for item, canonical in items:
        if canonical in seen_urls or canonical in batch or (item.feed_url, item.guid) in seen_guids:
            continue
        batch.add(canonical)
        out.append((item, canonical))
    return out


_ITEM_COLUMNS = (
    ("feed_url", "VARCHAR"), ("guid", "VARCHAR"), ("url", "VARCHAR"),
    ("canonical_url", "VARCHAR"), ("title", "VARCHAR"), ("published_at", "TIMESTAMP"),
    ("seen_at", "TIMESTAMP"),
)


def record_items(
    con: duckdb.DuckDBPyConnection, items: Sequence[tuple[FeedItem, str]]
) -> None:
    """Remember feed items (by feed + GUID) so they are never processed again."""
    now = utcnow()
    if not items:
        return
    insert_rows(
        con, "items", _ITEM_COLUMNS,
        [(i.feed_url, i.guid, i.url, c, i.title, i.published, now) for i, c in items],
    )
    _count_new_items(con, [item.feed_url for item, _ in items], now)


def _count_new_items(con: duckdb.DuckDBPyConnection, feed_urls: Sequence[str],
                     now: datetime) -> None:
    """Add one new item per occurrence of a feed URL to that feed's totals, in one UPDATE."""
    counts = Counter(feed_urls)
    if not counts:
        return
    con.execute(
        "UPDATE feeds SET items_total = items_total + n.added, last_new_item_at = ? "
        f"FROM (SELECT {unnest_columns((('url', 'VARCHAR'), ('added', 'BIGINT')))}) n "
        "WHERE feeds.url = n.url",
        [now, *column_lists(list(counts.items()))],
    )


# --- pages and articles ------------------------------------------------------------------------

_PAGE_COLUMNS = (
    ("canonical_url", "VARCHAR"), ("url", "VARCHAR"), ("final_url", "VARCHAR"),
    ("fetched_at", "TIMESTAMP"), ("status_code", "INTEGER"), ("content_type", "VARCHAR"),
    ("headers", "VARCHAR"), ("body_gzip", "BLOB"), ("body_sha256", "VARCHAR"),
    ("error_kind", "VARCHAR"), ("error", "VARCHAR"),
)


def save_pages(
    con: duckdb.DuckDBPyConnection, pages: Sequence[tuple[str, FetchResult]]
) -> None:
    """Archive fetched pages, gzip-compressed, so they can be re-extracted without fetching."""
    now = utcnow()
    rows = []
    for canonical_url, result in pages:
        body = result.body or b""
        rows.append((
            canonical_url, result.url, result.final_url, now, result.status,
            result.headers.get("content-type"), json.dumps(result.headers),
            # Level 3, not gzip's default 9: on the extraction benchmark's pages 1.3 ms instead
            # of 8.7 ms a page, for 13 % more bytes (docs/performance.md).
            gzip.compress(body, compresslevel=3) if body else None,
            hashlib.sha256(body).hexdigest() if body else None, result.error_kind, result.error,
        ))
    insert_rows(con, "pages", _PAGE_COLUMNS, rows)


def save_page(con: duckdb.DuckDBPyConnection, canonical_url: str, result: FetchResult) -> None:
    """Archive one fetched page (see save_pages)."""
    save_pages(con, [(canonical_url, result)])


def archived_page(con: duckdb.DuckDBPyConnection, canonical_url: str) -> bytes | None:
    """Return the archived raw body of a page, if stored."""
    row = con.execute(
        "SELECT body_gzip FROM pages WHERE canonical_url = ?", [canonical_url]
    ).fetchone()
    return gzip.decompress(row[0]) if row and row[0] else None


_ARTICLE_COLUMNS = (
    ("id", "VARCHAR"), ("canonical_url", "VARCHAR"), ("url", "VARCHAR"),
    ("feed_url", "VARCHAR"), ("title", "VARCHAR"), ("author", "VARCHAR"), ("site", "VARCHAR"),
    ("published_at", "TIMESTAMP"), ("published_source", "VARCHAR"), ("language", "VARCHAR"),
    ("text", "VARCHAR"), ("text_chars", "INTEGER"), ("extraction_path", "VARCHAR"),
    ("status", "VARCHAR"), ("error", "VARCHAR"), ("duplicate_of", "VARCHAR"),
    ("prefiltered", "BOOLEAN"), ("relevant", "BOOLEAN"), ("relevance", "DOUBLE"),
    ("reason", "VARCHAR"), ("first_seen_at", "TIMESTAMP"), ("analyzed_at", "TIMESTAMP"),
)


def save_articles(con: duckdb.DuckDBPyConnection, rows: Sequence[ArticleRow]) -> None:
    """Insert article rows (stored once per canonical URL: later copies are no-ops)."""
    now = utcnow()
    insert_rows(con, "articles", _ARTICLE_COLUMNS, [
        (row.id, row.article.canonical_url or row.article.url, row.article.url, row.feed_url,
         row.article.title, row.article.author, row.article.site, row.article.published,
         row.article.published_source, row.article.language, row.article.text,
         len(row.article.text), row.article.extraction_path, row.status, row.error,
         row.duplicate_of, row.prefiltered, row.relevant, row.relevance, row.reason, now,
         now if row.prefiltered is not None else None)
        for row in rows
    ])


def save_article(con: duckdb.DuckDBPyConnection, row: ArticleRow) -> None:
    """Insert one article row (see save_articles)."""
    save_articles(con, [row])


_MENTION_COLUMNS = (
    ("article_id", "VARCHAR"), ("sentence", "INTEGER"), ("start_char", "INTEGER"),
    ("end_char", "INTEGER"), ("text", "VARCHAR"), ("label", "VARCHAR"), ("actor_id", "VARCHAR"),
    ("actor_name", "VARCHAR"), ("country", "VARCHAR"), ("kind", "VARCHAR"), ("role", "VARCHAR"),
    ("inferred", "BOOLEAN"),
)


def save_mentions_of(
    con: duckdb.DuckDBPyConnection, mentions: Sequence[tuple[str, Sequence[Mention]]]
) -> None:
    """Store the resolved entity mentions of many articles, (article id, mentions) each."""
    insert_rows(con, "mentions", _MENTION_COLUMNS, [
        (article_id, m.sentence, m.start, m.end, m.text, m.label, m.actor_id or "", m.name,
         m.side, m.kind, m.role, m.inferred)
        for article_id, found in mentions for m in found
    ])


def save_mentions(
    con: duckdb.DuckDBPyConnection, article_id: str, mentions: Sequence[Mention]
) -> None:
    """Store the resolved entity mentions of one article (see save_mentions_of)."""
    save_mentions_of(con, [(article_id, mentions)])


def recent_texts(con: duckdb.DuckDBPyConnection, since: datetime) -> list[tuple[str, str]]:
    """Return (article id, text) of original articles first seen since a time (for near-dups)."""
    return [
        (row[0], row[1]) for row in con.execute(
            "SELECT id, text FROM articles WHERE first_seen_at >= ? AND duplicate_of IS NULL "
            "AND text_chars > 0 ORDER BY first_seen_at", [since]
        ).fetchall()
    ]


# --- runs --------------------------------------------------------------------------------------

def start_run(con: duckdb.DuckDBPyConnection) -> str:
    """Insert a running run row and return its id."""
    run_id = uuid.uuid4().hex[:12]
    con.execute("INSERT INTO runs VALUES (?, ?, NULL, 'running', NULL, NULL)", [run_id, utcnow()])
    return run_id


def finish_run(
    con: duckdb.DuckDBPyConnection, run_id: str, status: str, summary: dict[str, Any],
    error: str | None = None,
) -> None:
    """Close a run row with its status and summary."""
    con.execute(
        "UPDATE runs SET finished_at = ?, status = ?, summary = ?, error = ? WHERE id = ?",
        [utcnow(), status, json.dumps(summary, default=str), error, run_id],
    )
