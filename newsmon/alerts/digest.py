"""The daily digest: the day's events and the feeds in trouble, as one message per channel.

Read from the database here, rendered by pure functions below; the digest flow
(flows/digest.py) queues the result in the alert outbox like any alert.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import duckdb

from newsmon.alerts.notify import alert_event
from newsmon.alerts.render import (
    SLACK_HEADER_MAX,
    SLACK_MAX_BLOCKS,
    SLACK_SECTION_TEXT_MAX,
    AlertEvent,
    _link,
    escape_mrkdwn,
    format_date,
    headline,
    slack_len,
    slack_message,
    truncate,
    webhook_payload,
)
from newsmon.store.events import event_alert_facts

DIGEST_SCHEMA = "newsmon.alerts.digest/1"
EVENTS_SHOWN_MAX = 40  # more would bury the digest; the rest are counted
FEEDS_SHOWN_MAX = 30
_LINE_MAX = 400  # one event or feed line in the Slack message


@dataclass(frozen=True)
class DigestEvent:
    """One event first seen on the digest's day, with what the outbox did about it."""

    event: AlertEvent
    is_new: bool  # False: a past meeting recalled in the news (stored, never alerted)
    alert: str  # alerted | alert pending | alert failed | not alerted


@dataclass(frozen=True)
class FeedProblem:
    """One feed that is not healthy."""

    url: str
    name: str | None
    status: str  # failing | gone | quiet | ...
    failures: int
    error_kind: str | None
    last_success_at: datetime | None


@dataclass(frozen=True)
class Digest:
    """Everything the day's digest shows."""

    day: date
    watchlist_title: str
    events: tuple[DigestEvent, ...]
    feed_problems: tuple[FeedProblem, ...]
    alerts_failed: int  # alerts that failed permanently that day


def _alert_state(statuses: list[str]) -> str:
    """Return how the outbox handled an event's first alert, from its rows' statuses."""
    if not statuses:
        return "not alerted"
    if "delivered" in statuses:
        return "alerted"
    if "failed" in statuses:
        return "alert failed"
    return "alert pending"


def load_digest(con: duckdb.DuckDBPyConnection, day: date, watchlist_title: str) -> Digest:
    """Return the digest of a UTC day: events first seen that day, feeds not ok, failed alerts."""
    start = datetime(day.year, day.month, day.day)
    end = start + timedelta(days=1)
    rows = con.execute(
        "SELECT id, is_new FROM events WHERE first_seen_at >= ? AND first_seen_at < ? "
        "ORDER BY event_date NULLS LAST, first_seen_at, id",
        [start, end],
    ).fetchall()
    events = []
    for event_id, is_new in rows:
        statuses = [
            r[0] for r in con.execute(
                "SELECT status FROM alerts WHERE event_id = ? AND kind IN ('new', 'planned')",
                [event_id],
            ).fetchall()
        ]
        facts = event_alert_facts(con, event_id)
        events.append(
            DigestEvent(alert_event(facts, "new", watchlist_title), bool(is_new),
                        _alert_state(statuses))
        )
    feeds = con.execute(
        "SELECT url, name, status, failures, last_error_kind, last_success_at FROM feeds "
        "WHERE status NOT IN ('ok', 'new') ORDER BY status, url"
    ).fetchall()
    failed = con.execute(
        "SELECT count(*) FROM alerts WHERE status = 'failed' AND attempted_at >= ? "
        "AND attempted_at < ?",
        [start, end],
    ).fetchone()
    return Digest(
        day, watchlist_title, tuple(events), tuple(FeedProblem(*f) for f in feeds),
        int(failed[0]) if failed else 0,
    )


# --------------------------------------------------------------------------------------------
# rendering


def _title(digest: Digest) -> str:
    """Return "Daily digest · 24 Dec 2025 · Syria–Russia relations"."""
    parts = ["Daily digest", format_date(digest.day.isoformat()) or "", digest.watchlist_title]
    return " · ".join(p for p in parts if p)


def _counts(digest: Digest) -> str:
    """Return "3 events (2 new) · 1 feed problem · 0 failed alerts"."""
    n = len(digest.events)
    new = sum(e.is_new for e in digest.events)
    f = len(digest.feed_problems)
    return (
        f"{n} event{'s' if n != 1 else ''} ({new} new) · {f} feed problem{'s' if f != 1 else ''}"
        f" · {digest.alerts_failed} failed alert{'s' if digest.alerts_failed != 1 else ''}"
    )


def _event_note(item: DigestEvent) -> str:
    """Return "4 sources · alerted" or "past event · 2 sources · not alerted"."""
    n = len(item.event.sources)
    parts = [] if item.is_new else ["past event"]
    parts += [f"{n} source{'s' if n != 1 else ''}", item.alert]
    return " · ".join(parts)


def _feed_line(feed: FeedProblem) -> str:
    """Return "TASS — failing: timeout, 3 failures in a row, last success 22 Dec 2025"."""
    what = feed.status + (f": {feed.error_kind}" if feed.error_kind else "")
    if feed.failures:
        what += f", {feed.failures} failure{'s' if feed.failures != 1 else ''} in a row"
    last = format_date(feed.last_success_at.date().isoformat()) if feed.last_success_at else None
    what += f", last success {last}" if last else ", never succeeded"
    return f"{feed.name or feed.url} — {what}"


def _chunks(lines: list[str], limit: int) -> list[str]:
    """Return the lines joined into texts of at most limit (UTF-16) characters each."""
    texts: list[str] = []
    current = ""
    for line in lines:
        if current and slack_len(current) + 1 + slack_len(line) > limit:
            texts.append(current)
            current = line
        else:
            current = f"{current}\n{line}" if current else line
    if current:
        texts.append(current)
    return texts


def _section(text: str) -> dict[str, Any]:
    """Return a mrkdwn section block."""
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def digest_slack_payload(digest: Digest) -> dict[str, Any]:
    """Return the digest as one Slack message (Block Kit) within Slack's limits."""
    event_lines = []
    for item in digest.events[:EVENTS_SHOWN_MAX]:
        first = item.event.sources[0] if item.event.sources else None
        # The headline links to the first report: one click from the digest to the story.
        text = headline(item.event, max_chars=200)
        label = _link(first.url, text, _LINE_MAX - 80) if first else truncate(
            text, _LINE_MAX - 80, escape_mrkdwn)
        event_lines.append(f"• {label} — {escape_mrkdwn(_event_note(item))}")
    if len(digest.events) > EVENTS_SHOWN_MAX:
        event_lines.append(f"• _+{len(digest.events) - EVENTS_SHOWN_MAX} more events_")
    feed_lines = [
        "• " + truncate(_feed_line(f), _LINE_MAX, escape_mrkdwn)
        for f in digest.feed_problems[:FEEDS_SHOWN_MAX]
    ]
    if len(digest.feed_problems) > FEEDS_SHOWN_MAX:
        feed_lines.append(f"• _+{len(digest.feed_problems) - FEEDS_SHOWN_MAX} more feeds_")
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text",
                                    "text": truncate(_title(digest), SLACK_HEADER_MAX)}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": escape_mrkdwn(
            _counts(digest))}]},
    ]
    # Leave room for the two headings ("*Events*", "*Feed problems*") in the first chunk.
    room = SLACK_SECTION_TEXT_MAX - 50
    blocks += [_section(t) for t in _chunks(
        [f"*Events first seen that day* ({len(digest.events)})",
         *(event_lines or ["_none_"])], room)]
    blocks += [_section(t) for t in _chunks(
        [f"*Feed problems* ({len(digest.feed_problems)})",
         *(feed_lines or ["_none: every feed is healthy_"])], room)]
    if len(blocks) > SLACK_MAX_BLOCKS:  # cannot happen with the caps above; kept as a guard
        blocks = blocks[: SLACK_MAX_BLOCKS - 1] + [_section("_…cut to fit Slack's limits_")]
    return slack_message(f"{_title(digest)}: {_counts(digest)}", blocks)


def digest_webhook_payload(digest: Digest) -> dict[str, Any]:
    """Return the digest as the generic webhook's JSON body."""
    return {
        "schema": DIGEST_SCHEMA,
        "day": digest.day.isoformat(),
        "watchlist_title": digest.watchlist_title,
        "events": [
            {**webhook_payload(item.event), "is_new": item.is_new, "alert": item.alert}
            for item in digest.events
        ],
        "feed_problems": [
            {"url": f.url, "name": f.name, "status": f.status, "failures": f.failures,
             "error_kind": f.error_kind,
             "last_success_at": f.last_success_at.isoformat() if f.last_success_at else None}
            for f in digest.feed_problems
        ],
        "alerts_failed": digest.alerts_failed,
        "headline": _title(digest),
    }


def digest_text(digest: Digest) -> str:
    """Return the digest as plain text for the console/log channel."""
    lines = [_title(digest), f"  {_counts(digest)}", "  Events first seen that day:"]
    lines += [f"    - {headline(e.event, max_chars=10_000)} ({_event_note(e)})"
              for e in digest.events] or ["    none"]
    lines.append("  Feed problems:")
    lines += [f"    - {_feed_line(f)}" for f in digest.feed_problems] or ["    none"]
    return "\n".join(lines)


def digest_payload(digest: Digest, channel: str) -> dict[str, Any]:
    """Return the body stored in the outbox for one channel."""
    if channel == "slack":
        return digest_slack_payload(digest)
    if channel == "webhook":
        return digest_webhook_payload(digest)
    return {"text": digest_text(digest)}

