"""Reads and writes for run reports: the events a run created, skipped runs, the run history."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

import duckdb

from newsmon.store import utcnow


def events_since(con: duckdb.DuckDBPyConnection, since: datetime) -> list[dict[str, Any]]:
    """Return the events first stored at or after a time, oldest event date first, with their
    participants, source count and whether a first alert was queued for them."""
    rows = con.execute(
        """
        SELECT e.id, e.type, e.status, e.event_date, e.date_precision, e.place, e.is_new,
               e.sources,
               (SELECT list(p.name ORDER BY p.country, p.name) FROM event_participants p
                WHERE p.event_id = e.id) AS participants,
               (SELECT count(*) FROM alerts a WHERE a.event_id = e.id
                AND a.kind IN ('new', 'planned')) AS first_alerts
        FROM events e WHERE e.first_seen_at >= ?
        ORDER BY e.event_date NULLS LAST, e.first_seen_at, e.id
        """,
        [since],
    ).fetchall()
    out = []
    for eid, etype, status, day, precision, place, is_new, sources, names, alerts in rows:
        why_not = ""
        if not alerts:
            why_not = ("past event" if not is_new else
                       "planned" if status == "planned" else
                       "type not alerted or article too old")
        out.append({
            "event_id": eid, "type": etype, "status": status,
            "date": day.isoformat() if day else None, "date_precision": precision,
            "place": place, "participants": list(names or []), "sources": sources,
            "alerted": bool(alerts), "why_not": why_not,
        })
    return out


def record_skipped_run(
    con: duckdb.DuckDBPyConnection, started_at: datetime, summary: dict[str, Any], reason: str
) -> str:
    """Insert a finished run row with status skipped_locked; return its id."""
    run_id = uuid.uuid4().hex[:12]
    con.execute(
        "INSERT INTO runs VALUES (?, ?, ?, 'skipped_locked', ?, ?)",
        [run_id, started_at, utcnow(), json.dumps({**summary, "run_id": run_id}, default=str),
         reason],
    )
    return run_id


def run_history(con: duckdb.DuckDBPyConnection, limit: int = 50) -> list[dict[str, Any]]:
    """Return the latest runs, newest first: id, times, status, error and summary."""
    rows = con.execute(
        "SELECT id, started_at, finished_at, status, error, summary FROM runs "
        "ORDER BY started_at DESC LIMIT ?", [limit],
    ).fetchall()
    return [
        {"id": r[0], "started_at": r[1], "finished_at": r[2], "status": r[3], "error": r[4],
         "summary": json.loads(r[5]) if r[5] else None}
        for r in rows
    ]
