"""The alert outbox: rows queued with their events, delivered in order, marked one by one.

Statuses: pending -> sending -> delivered | pending (retry later) | failed. 'sending' is
committed just before the POST, so a crash mid-send leaves a visible row that the next pass
resends once (docs/alerts.md: the at-least-once window).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import duckdb

from newsmon.alerts.notify import alert_event, channel_payload
from newsmon.alerts.policy import AlertPolicy, update_change
from newsmon.models import event_kind
from newsmon.store.events import event_alert_facts

FIRST_KINDS = ("new", "planned")
EVENT_KINDS = ("new", "planned", "update")
_COLUMNS = (
    "a.id, a.event_id, a.kind, a.channel, a.status, a.attempts, a.last_error, a.http_status, "
    "a.payload, a.created_at, a.next_attempt_at, a.attempted_at, a.delivered_at, a.update_no, "
    # The date the alert is about: the event's (sharpened by later reports) or the digest's day.
    "coalesce(e.event_date, CASE WHEN a.kind = 'digest' "
    "THEN TRY_CAST(substr(a.event_id, 8) AS DATE) END) AS about"
)
_FROM = "FROM alerts a LEFT JOIN events e ON e.id = a.event_id"


@dataclass(frozen=True)
class OutboxRow:
    """One alert as stored in the outbox."""

    id: str
    event_id: str
    kind: str  # new | planned | update | digest
    channel: str  # console | slack | webhook
    status: str  # pending | sending | delivered | failed
    attempts: int
    last_error: str | None
    http_status: int | None
    payload: dict[str, Any]
    created_at: datetime
    next_attempt_at: datetime | None
    attempted_at: datetime | None
    delivered_at: datetime | None
    update_no: int | None
    about: date | None  # the event date (or the digest's day) the delivery order follows


def _row(values: tuple[Any, ...]) -> OutboxRow:
    """Return an OutboxRow from a row selected with _COLUMNS."""
    fields = list(values)
    fields[8] = json.loads(fields[8])
    return OutboxRow(*fields)


def alert_key(event_id: str, kind: str, channel: str, update_no: int | None = None) -> str:
    """Return the idempotency key: event:kind:channel, plus :n for the n-th update."""
    key = f"{event_id}:{kind}:{channel}"
    return f"{key}:{update_no}" if update_no is not None else key


def queue(
    con: duckdb.DuckDBPyConnection,
    event_id: str,
    kind: str,
    channel: str,
    payload: dict[str, Any],
    now: datetime,
    *,
    event_status: str | None = None,
    event_sources: int | None = None,
    update_no: int | None = None,
) -> bool:
    """Insert an alert under its idempotency key; return False if that key is already queued."""
    rows = con.execute(
        """
        INSERT INTO alerts (id, event_id, kind, channel, status, attempts, payload, created_at,
                            event_status, event_sources, update_no)
        VALUES (?, ?, ?, ?, 'pending', 0, ?, ?, ?, ?, ?)
        ON CONFLICT DO NOTHING RETURNING id
        """,
        [alert_key(event_id, kind, channel, update_no), event_id, kind, channel,
         json.dumps(payload, ensure_ascii=False), now, event_status, event_sources, update_no],
    ).fetchall()
    return bool(rows)


# --- what to queue for an event ----------------------------------------------------------------


@dataclass(frozen=True)
class AlertedState:
    """What the latest alert about an event told its reader, and how many updates followed."""

    status: str | None
    sources: int | None
    updates: int  # highest update number so far
    updates_since: int  # updates queued since the given time (this cycle)
    first_since: bool  # the first alert itself was queued since then


def alerted_state(
    con: duckdb.DuckDBPyConnection, event_id: str, since: datetime
) -> AlertedState | None:
    """Return the state of the latest alert about the event, or None if it never alerted."""
    latest = con.execute(
        "SELECT event_status, event_sources FROM alerts WHERE event_id = ? AND list_contains(?, "
        "kind) ORDER BY created_at DESC, coalesce(update_no, 0) DESC LIMIT 1",
        [event_id, list(EVENT_KINDS)],
    ).fetchone()
    if latest is None:
        return None
    counts = con.execute(
        "SELECT coalesce(max(update_no), 0), count(DISTINCT update_no) FILTER "
        "(WHERE kind = 'update' AND created_at >= ?), count(*) FILTER (WHERE list_contains(?, "
        "kind) AND created_at >= ?) FROM alerts WHERE event_id = ?",
        [since, list(FIRST_KINDS), since, event_id],
    ).fetchone()
    updates, recent, first = counts if counts else (0, 0, 0)
    return AlertedState(latest[0], latest[1], int(updates), int(recent), bool(first))


def queue_event_alerts(
    con: duckdb.DuckDBPyConnection,
    event_id: str,
    first_kind: str | None,
    policy: AlertPolicy,
    watchlist_title: str,
    now: datetime,
    since: datetime,
) -> int:
    """Queue the alert an event now deserves on each of its channels; return how many.

    An event that never alerted gets its first alert (first_kind: new / planned, None for
    none); one that did gets an update when its status or source count moved on since its
    last alert, unless updates are off, or the event had its quota of updates since `since`
    (the cycle's start), or its first alert was queued this cycle. A change held back is not
    lost: the next cycle's update covers it.
    """
    facts = event_alert_facts(con, event_id)
    kind = event_kind(p[3] for p in facts["participants"])
    if not policy.alerts_kind(kind):
        return 0  # alerts.kinds leaves this kind out: stored and reported, never alerted
    channels = policy.channels_for(facts["watchlist"], facts["type"], kind)
    sides = _sides_label(policy, facts["participants"]) if kind != "state" else ""
    sources = len(facts["sources"])
    state = alerted_state(con, event_id, since)
    if state is None:
        if first_kind is None:
            return 0
        event = alert_event(facts, first_kind, watchlist_title, sides=sides)
        return sum(
            queue(con, event_id, first_kind, channel, channel_payload(event, channel), now,
                  event_status=facts["status"], event_sources=sources)
            for channel in channels
        )
    quota_used = state.updates_since >= policy.max_updates_per_event_per_cycle
    # The first alert of this cycle is the freshest news already: an update right behind it
    # (from a later batch of the same cycle) would only be noise.
    if not policy.updates or quota_used or state.first_since:
        return 0
    change = update_change(state.status, state.sources, facts["status"], sources)
    if change is None:
        return 0
    number = state.updates + 1
    event = alert_event(facts, "update", watchlist_title, change, sides=sides)
    return sum(
        queue(con, event_id, "update", channel, channel_payload(event, channel), now,
              event_status=facts["status"], event_sources=sources, update_no=number)
        for channel in channels
    )


def _sides_label(policy: AlertPolicy, participants: list[tuple[str, str, str, str]]) -> str:
    """Return "Russia – Syrian opposition" for participant rows (name, country, role, kind)."""
    kinds: dict[str, list[str]] = {}
    for _name, country, _role, kind in participants:
        kinds.setdefault(country, []).append(kind)
    return policy.sides_label((country, event_kind(k)) for country, k in kinds.items())


# --- delivery ----------------------------------------------------------------------------------


def queued_in_order(con: duckdb.DuckDBPyConnection) -> list[OutboxRow]:
    """Return every pending alert, due or not, oldest event date first (then oldest queued)."""
    rows = con.execute(
        f"SELECT {_COLUMNS} {_FROM} WHERE a.status = 'pending' "
        "ORDER BY about NULLS LAST, a.created_at, coalesce(a.update_no, 0), a.id"
    ).fetchall()
    return [_row(r) for r in rows]


def recover_interrupted(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Return the ids of alerts left 'sending' by a crashed pass, put back to pending.

    Only called at the start of a pass, while this process holds the database's write lock, so
    no other pass can be sending them. The POST may or may not have reached the channel: it is
    sent again (at least once beats at most once for an alert), and the reason says so.
    """
    rows = con.execute(
        """
        UPDATE alerts SET status = 'pending', next_attempt_at = NULL,
            last_error = 'interrupted during send at '
                || coalesce(strftime(attempted_at, '%Y-%m-%d %H:%M:%S'), '?')
                || ' UTC: sent again, may arrive twice'
        WHERE status = 'sending' RETURNING id
        """
    ).fetchall()
    return sorted(r[0] for r in rows)


def mark_sending(con: duckdb.DuckDBPyConnection, alert_id: str, now: datetime) -> None:
    """Record (and commit, in autocommit mode) that a POST of the alert starts now."""
    con.execute(
        "UPDATE alerts SET status = 'sending', attempts = attempts + 1, attempted_at = ? "
        "WHERE id = ?",
        [now, alert_id],
    )


def record_outcome(
    con: duckdb.DuckDBPyConnection,
    alert_id: str,
    status: str,
    reason: str | None,
    http_status: int | None,
    next_attempt_at: datetime | None,
    now: datetime,
) -> None:
    """Record the answer to the alert's last POST: delivered, pending (retry) or failed."""
    con.execute(
        """
        UPDATE alerts SET status = ?, last_error = ?, http_status = ?, next_attempt_at = ?,
            delivered_at = CASE WHEN ? = 'delivered' THEN ? ELSE delivered_at END
        WHERE id = ?
        """,
        [status, reason, http_status, next_attempt_at, status, now, alert_id],
    )


# --- inspection and manual retry ---------------------------------------------------------------


def list_alerts(
    con: duckdb.DuckDBPyConnection, status: str | None = None, limit: int | None = None
) -> list[OutboxRow]:
    """Return alerts (optionally of one status), newest first."""
    rows = con.execute(
        f"SELECT {_COLUMNS} {_FROM} WHERE ? IS NULL OR a.status = ? "
        "ORDER BY a.created_at DESC, about DESC NULLS LAST, a.id LIMIT ?",
        [status, status, limit if limit is not None else 2**62],
    ).fetchall()
    return [_row(r) for r in rows]


def status_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Return how many alerts are in each status (every status present, zero if none)."""
    counts = dict.fromkeys(("pending", "sending", "delivered", "failed"), 0)
    for status, count in con.execute(
        "SELECT status, count(*) FROM alerts GROUP BY status"
    ).fetchall():
        counts[status] = int(count)
    return counts


class RetryRefused(Exception):
    """The alert cannot be re-queued (unknown id, or not failed); the message says why."""


def requeue(con: duckdb.DuckDBPyConnection, alert_id: str) -> OutboxRow:
    """Put a failed alert back to pending with a fresh retry budget; return it as it was."""
    found = con.execute(f"SELECT {_COLUMNS} {_FROM} WHERE a.id = ?", [alert_id]).fetchone()
    if found is None:
        raise RetryRefused(f"no alert with id {alert_id!r}; list them with 'newsmon alerts'")
    row = _row(found)
    if row.status != "failed":
        raise RetryRefused(
            f"alert {alert_id} is {row.status}, not failed: only failed alerts are re-queued"
        )
    # attempts back to 0: the retry budget is for the new try, not spent by the old failure.
    con.execute(
        "UPDATE alerts SET status = 'pending', attempts = 0, next_attempt_at = NULL, "
        "last_error = 'requeued by hand; was: ' || coalesce(last_error, '?') WHERE id = ?",
        [alert_id],
    )
    return row
