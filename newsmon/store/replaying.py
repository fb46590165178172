"""Database side of a replay: which archived pages a date range covers, the stored article rows,
re-analysed rows written back, and snapshots of the events to diff before and after."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import duckdb

from newsmon.models import Article, ArticleRow


@dataclass(frozen=True)
class ArchivedArticle:
    """An article whose raw page is archived, as stored."""

    article_id: str
    canonical_url: str
    fetched_at: datetime
    extraction_path: str | None
    duplicate_of: str | None


def archived_articles(
    con: duckdb.DuckDBPyConnection, since: datetime, until: datetime
) -> list[ArchivedArticle]:
    """Return the articles whose page was fetched in [since, until), in the order first seen."""
    rows = con.execute(
        """
        SELECT a.id, a.canonical_url, p.fetched_at, a.extraction_path, a.duplicate_of
        FROM articles a JOIN pages p ON p.canonical_url = a.canonical_url
        WHERE p.fetched_at >= ? AND p.fetched_at < ?
        ORDER BY a.first_seen_at, a.id
        """,
        [since, until],
    ).fetchall()
    return [ArchivedArticle(*row) for row in rows]


def stored_article_row(con: duckdb.DuckDBPyConnection, article_id: str) -> ArticleRow:
    """Return the stored article as an ArticleRow (extraction fields as stored, no NLP fields)."""
    row = con.execute(
        "SELECT url, title, text, author, site, published_at, published_source, language, "
        "extraction_path, status, canonical_url, feed_url, error, duplicate_of FROM articles "
        "WHERE id = ?", [article_id],
    ).fetchone()
    if row is None:
        raise KeyError(article_id)
    (url, title, text, author, site, published, source, language, path, status, canonical,
     feed_url, error, duplicate_of) = row
    article = Article(url, title or "", text or "", author, site, published, source, language,
                      path or "none", status if status in ("ok", "thin", "empty") else "ok",
                      canonical)
    return ArticleRow(article_id, article, feed_url, status, error, duplicate_of)


def rewrite_article(con: duckdb.DuckDBPyConnection, row: ArticleRow, analysed_at: datetime
                    ) -> None:
    """Overwrite a stored article's extraction and NLP columns with a replayed row, and drop its
    mentions (the replay's analysis stores the new ones)."""
    a = row.article
    con.execute(
        """
        UPDATE articles SET title = ?, author = ?, site = ?, published_at = ?,
            published_source = ?, language = ?, text = ?, text_chars = ?, extraction_path = ?,
            status = ?, error = ?, duplicate_of = ?, prefiltered = ?, relevant = ?,
            relevance = ?, reason = ?, analyzed_at = ?
        WHERE id = ?
        """,
        [a.title, a.author, a.site, a.published, a.published_source, a.language, a.text,
         len(a.text), a.extraction_path, row.status, row.error, row.duplicate_of,
         row.prefiltered, row.relevant, row.relevance, row.reason,
         analysed_at if row.prefiltered is not None else None, row.id],
    )
    con.execute("DELETE FROM mentions WHERE article_id = ?", [row.id])


@dataclass(frozen=True)
class EventSnapshot:
    """An event as the diff compares it."""

    event_id: str
    type: str
    status: str
    date: date | None
    date_precision: str | None
    place: str | None
    is_new: bool
    participants: tuple[str, ...]  # names, sorted
    evidence: frozenset[str]  # article ids

    def describe(self) -> dict[str, Any]:
        """Return the event as a JSON-ready dict (the diff's rows)."""
        return {
            "event_id": self.event_id, "type": self.type, "status": self.status,
            "date": self.date.isoformat() if self.date else None,
            "date_precision": self.date_precision, "place": self.place,
            "is_new": self.is_new, "participants": list(self.participants),
            "sources": len(self.evidence),
        }


def snapshot_events(con: duckdb.DuckDBPyConnection, watchlist: str) -> dict[str, EventSnapshot]:
    """Return every event of the watchlist with its participants and evidence articles."""
    rows = con.execute(
        """
        SELECT e.id, e.type, e.status, e.event_date, e.date_precision, e.place, e.is_new,
               (SELECT list(p.name ORDER BY p.name) FROM event_participants p
                WHERE p.event_id = e.id),
               (SELECT list(ea.article_id) FROM event_articles ea WHERE ea.event_id = e.id)
        FROM events e WHERE e.watchlist = ?
        """,
        [watchlist],
    ).fetchall()
    return {
        r[0]: EventSnapshot(r[0], r[1], r[2], r[3], r[4], r[5], bool(r[6]), tuple(r[7] or ()),
                            frozenset(r[8] or ()))
        for r in rows
    }


def alert_rows(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[str, str, str]]:
    """Return every outbox row id with its (event id, kind, channel)."""
    return {r[0]: (r[1], r[2], r[3]) for r in con.execute(
        "SELECT id, event_id, kind, channel FROM alerts").fetchall()}
