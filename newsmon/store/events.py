"""Events in the store: merge a report into its event or create one, group visits, and what
an alert about an event shows."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import duckdb

from newsmon.analysis.identity import same_event, same_visit
from newsmon.analysis.watchlist import LEVELS
from newsmon.models import EventMention, Participant


@dataclass(frozen=True)
class StoredEvent:
    """Outcome of storing one event report."""

    event_id: str
    created: bool
    event: EventMention
    previous_status: str | None = None  # the merged-into event's status before this report
    # This report gave an event stored without a day its day, and the day is recent: the
    # event is new now although its first (undated) report could not say so (issue 15).
    became_new: bool = False


def _stored_candidates(
    con: duckdb.DuckDBPyConnection, watchlist: str, around: date | None
) -> list[tuple[str, EventMention]]:
    """Return stored events of the watchlist that could match a report dated around a day."""
    if around is None:
        rows = con.execute(
            "SELECT id, type, status, event_date, date_precision, place FROM events "
            "WHERE watchlist = ? ORDER BY rowid", [watchlist]
        ).fetchall()
    else:
        rows = con.execute(
            "SELECT id, type, status, event_date, date_precision, place FROM events "
            "WHERE watchlist = ? AND (event_date IS NULL OR event_date BETWEEN ? AND ?) "
            "ORDER BY rowid",
            [watchlist, around - timedelta(days=366), around + timedelta(days=31)],
        ).fetchall()
    # One query for every candidate's participants, not one per candidate: a cycle stores
    # hundreds of reports, each compared with every stored event of its year.
    parts: dict[str, list[Participant]] = {row[0]: [] for row in rows}
    if rows:
        for event_id, *participant in con.execute(
            "SELECT event_id, actor_id, name, country, role, level, inferred, kind "
            "FROM event_participants WHERE list_contains(?, event_id) ORDER BY rowid",
            [list(parts)],
        ).fetchall():
            parts[event_id].append(Participant(*participant))
    return [
        (event_id, EventMention(
            etype, status, edate, precision, "stored", place, tuple(parts[event_id]), "", 0,
        ))
        for event_id, etype, status, edate, precision, place in rows
    ]


def store_event(
    con: duckdb.DuckDBPyConnection,
    watchlist: str,
    article_id: str,
    event: EventMention,
    seen_at: datetime,
) -> StoredEvent:
    """Merge an event report into the matching stored event, or create one; link the evidence."""
    found = next(
        ((eid, stored) for eid, stored in _stored_candidates(con, watchlist, event.date)
         if same_event(stored, event)),
        None,
    )
    match = found[0] if found else None
    created = match is None
    became_new = False
    event_id = match or uuid.uuid4().hex[:16]
    if created:
        con.execute(
            "INSERT INTO events (id, watchlist, type, status, event_date, date_precision, place, "
            "is_new, first_seen_at, last_seen_at, first_article_id, sources, visit_id, "
            "date_source) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?)",
            [event_id, watchlist, event.type, event.status, event.date, event.date_precision,
             event.place, event.new, seen_at, seen_at, article_id, event_id,
             event.date_source],
        )
    else:
        became_new = _merge_into(con, event_id, event, seen_at)
    con.executemany(
        "INSERT INTO event_participants (event_id, actor_id, name, country, role, level, "
        "inferred, kind) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        [[event_id, p.actor_id, p.name, p.side, p.role, p.level, p.inferred, p.kind]
         for p in event.participants],
    )
    inserted = con.execute(
        "INSERT INTO event_articles (event_id, article_id, sentence, event_date, added_at, "
        "report_status, report_new) VALUES (?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT DO NOTHING RETURNING 1",
        [event_id, article_id, event.evidence, event.date, seen_at, event.status, event.new],
    ).fetchall()
    if inserted:
        con.execute("UPDATE events SET sources = sources + 1 WHERE id = ?", [event_id])
    if created:
        group_visit(con, watchlist, event_id, event)
    return StoredEvent(event_id, created, event, found[1].status if found else None,
                       not created and became_new)


def _merge_into(
    con: duckdb.DuckDBPyConnection, event_id: str, event: EventMention, seen_at: datetime
) -> bool:
    """Merge a later report into a stored event; return True when it made the event new.

    A later report may sharpen the date or place, or turn planned into occurred. Its day
    replaces a stored week or month, and a day the text states replaces one that was only
    the publication day of an undated lead ("Putin receives Syrian ministers"). A day it
    gives decides newness again: an undated first report could not (issue 15).
    """
    precision, source, was_new = con.execute(
        "SELECT date_precision, date_source, is_new FROM events WHERE id = ?", [event_id]
    ).fetchone()
    sharper = event.date_precision == "day" and (
        precision != "day" or (source == "published" and event.date_source == "text"))
    became_new = sharper and event.new and not was_new
    con.execute(
        """
        UPDATE events SET last_seen_at = ?, is_new = is_new OR ?,
            place = coalesce(place, ?),
            status = CASE WHEN ? = 'occurred' THEN 'occurred' ELSE status END,
            type = CASE WHEN ? = 'meeting' THEN 'meeting' ELSE type END,
            event_date = CASE WHEN ? THEN ? ELSE event_date END,
            date_precision = CASE WHEN ? THEN 'day' ELSE date_precision END,
            date_source = CASE WHEN ? THEN ? ELSE date_source END
        WHERE id = ?
        """,
        [seen_at, became_new, event.place, event.status, event.type, sharper, event.date,
         sharper, sharper, event.date_source, event_id],
    )
    return became_new


def group_visit(
    con: duckdb.DuckDBPyConnection, watchlist: str, event_id: str, event: EventMention
) -> str:
    """Give a new event the visit_id of an earlier event of the same visit; return the id."""
    visit = next(
        (eid for eid, stored in _stored_candidates(con, watchlist, event.date)
         if eid != event_id and same_visit(stored, event)),
        None,
    )
    if visit is None:
        return event_id
    row = con.execute("SELECT visit_id FROM events WHERE id = ?", [visit]).fetchone()
    visit_id = row[0] if row and row[0] else visit
    con.execute("UPDATE events SET visit_id = ? WHERE id = ?", [visit_id, event_id])
    return str(visit_id)




def event_alert_facts(con: duckdb.DuckDBPyConnection, event_id: str) -> dict[str, Any]:
    """Return what an alert about an event shows: the event, participants, evidence, sources."""
    row = con.execute(
        "SELECT id, type, status, event_date, date_precision, place, watchlist FROM events "
        "WHERE id = ?",
        [event_id],
    ).fetchone()
    if row is None:
        raise KeyError(event_id)
    # Highest office first within each side (LEVELS order), so the headline leads with the
    # principals: "Putin — al-Shaibani, Abu Qasra".
    participants = con.execute(
        "SELECT name, country, role, kind FROM event_participants WHERE event_id = ? "
        "ORDER BY country, coalesce(list_position(?, level), 99), name",
        [event_id, list(LEVELS)],
    ).fetchall()
    sources = con.execute(
        """
        SELECT a.url, coalesce(a.title, ''), a.site, a.published_at, ea.sentence, ea.event_date,
               ea.report_status, ea.report_new, coalesce(a.published_at, a.first_seen_at)
        FROM event_articles ea JOIN articles a ON a.id = ea.article_id
        WHERE ea.event_id = ? ORDER BY ea.added_at, a.published_at NULLS LAST, a.url
        """,
        [event_id],
    ).fetchall()
    return {
        "event_id": row[0], "type": row[1], "status": row[2], "date": row[3],
        "watchlist": row[6],
        "date_precision": row[4], "place": row[5], "participants": participants,
        "sources": [(s[0], s[1], s[2], s[3]) for s in sources],
        "evidence": best_evidence(sources, row[3]),
    }


def best_evidence(sources: Sequence[tuple[Any, ...]], event_date: date | None) -> str:
    """Return the sentence to quote for an event, from rows of event_alert_facts' query.

    A report that states the meeting as having happened, as news, comes before one that
    only states it happened (background), which comes before announcements (issue 18); then
    one that names the event's day and reads in an alert (400 characters); then the earliest.
    """
    def rank(s: tuple[Any, ...]) -> tuple[int, int, Any]:
        stated = 0 if s[6] == "occurred" and s[7] else 1 if s[6] == "occurred" else 2
        readable = 0 if s[5] == event_date and len(s[4]) <= 400 else 1
        return stated, readable, s[8] or datetime.max

    return min(sources, key=rank)[4] if sources else ""

