"""Turn stored event facts into per-channel alert payloads."""

from __future__ import annotations

from typing import Any

from newsmon.alerts.render import (
    AlertEvent,
    AlertParticipant,
    AlertSource,
    console_text,
    slack_payload,
    webhook_payload,
)
from newsmon.analysis.dates import format_date


def alert_event(
    facts: dict[str, Any], kind: str, watchlist_title: str, change: str | None = None,
    sides: str = "",
) -> AlertEvent:
    """Return the AlertEvent for stored event facts (see store.events.event_alert_facts)."""
    return AlertEvent(
        event_id=facts["event_id"],
        kind=kind,
        type=facts["type"],
        status=facts["status"],
        date=format_date(facts["date"], facts["date_precision"] or "day"),
        place=facts["place"],
        participants=tuple(AlertParticipant(*p) for p in facts["participants"]),
        evidence=facts["evidence"],
        sources=tuple(AlertSource(u, t, s, p) for u, t, s, p in facts["sources"]),
        watchlist_title=watchlist_title,
        change=change,
        sides=sides,
    )


def channel_payload(event: AlertEvent, channel: str) -> dict[str, Any]:
    """Return the body stored in the outbox for one channel."""
    if channel == "slack":
        return slack_payload(event)
    if channel == "webhook":
        return webhook_payload(event)
    return {"text": console_text(event)}
