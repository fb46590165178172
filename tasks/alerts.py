"""Delivering the alert outbox to its channels, and where the channels' secret URLs come from.

Webhook URLs are credentials: they travel as pydantic SecretStr (whose repr is '**********'),
are unwrapped only at the moment of the POST, and never enter a log line, a reason, the database
or a Prefect parameter. Resolving a Prefect block happens here (the tasks layer): newsmon/ never
imports prefect.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from prefect import task
from prefect.cache_policies import NO_CACHE
from pydantic import SecretStr

from newsmon.alerts.delivery import DeliveryResult, next_attempt_delay, post_slack, post_webhook
from newsmon.alerts.outbox import (
    OutboxRow,
    mark_sending,
    queued_in_order,
    record_outcome,
    recover_interrupted,
)
from newsmon.alerts.render import AlertEvent, console_text, slack_payload, webhook_payload
from newsmon.settings import Settings
from newsmon.store import connect, utcnow
from tasks.faults import fault_point
from tasks.runlog import run_logger

URL_CHANNELS = ("slack", "webhook")


@dataclass(frozen=True)
class Destination:
    """Where a channel posts: its URL (kept secret), or why there is none."""

    url: SecretStr | None
    problem: str | None = None  # a reason for the outbox; never contains the URL
    transient: bool = False  # True when the problem may pass (a block that could not load)


def load_secret_block(name: str) -> SecretStr:
    """Return the webhook URL held by a Prefect block: "name" of a Secret block, or
    "block-type/name" (e.g. "slack-webhook/alerts", "slack-incoming-webhook/alerts")."""
    from prefect.blocks.core import Block
    from prefect.blocks.system import Secret

    block: Any = Block.load(name) if "/" in name else Secret.load(name)
    # Only the URL is read from a SlackWebhook block; its notify() is never used, because
    # prefect's own SlackWebhook silently drops any URL outside hooks.slack.com.
    value = block.get() if isinstance(block, Secret) else getattr(block, "url", None)
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"block {name!r} holds no URL (expected a Secret or a SlackWebhook)")
    return SecretStr(value.strip())


def resolve_destinations(settings: Settings) -> dict[str, Destination]:
    """Return the destination of each URL channel: environment first, then the named block."""
    slack: Destination
    if settings.slack_webhook_url is not None:
        slack = Destination(settings.slack_webhook_url)
    elif settings.alerts.slack_secret_block:
        name = settings.alerts.slack_secret_block
        try:
            slack = Destination(load_secret_block(name))
        except Exception as exc:  # noqa: BLE001 - any failure becomes a reason, never a crash
            # The class name only: a message could quote what the block holds.
            slack = Destination(
                None, f"secret_unavailable: block {name!r} not loaded ({type(exc).__name__})",
                transient=True,
            )
    else:
        slack = Destination(
            None, "no URL configured for channel slack: set NEWSMON_SLACK_WEBHOOK_URL or "
            "alerts.slack_secret_block",
        )
    webhook = (
        Destination(settings.webhook_url)
        if settings.webhook_url is not None
        else Destination(None, "no URL configured for channel webhook: set NEWSMON_WEBHOOK_URL")
    )
    return {"slack": slack, "webhook": webhook}


def send_one(
    client: httpx.Client,
    channel: str,
    payload: dict[str, Any],
    destination: Destination | None,
    timeout_s: float,
    key: str | None = None,
) -> DeliveryResult:
    """Return the result of sending one payload to its channel (the console prints it)."""
    if channel == "console":
        print(payload.get("text", ""), flush=True)
        return DeliveryResult("delivered", None, "printed", None)
    if destination is None or destination.url is None:
        problem = destination.problem if destination else f"unknown channel {channel}"
        return DeliveryResult("retry" if destination and destination.transient else "failed",
                              None, problem or "no URL", None)
    url = destination.url.get_secret_value()
    if channel == "slack":
        return post_slack(client, url, payload, timeout_s)
    return post_webhook(client, url, payload, timeout_s, idempotency_key=key)


@dataclass(frozen=True)
class DeliveryCounts:
    """Outcome of one delivery pass."""

    delivered: int = 0
    retrying: int = 0  # answered with 429/5xx/timeout: pending, next try after a backoff
    failed: int = 0  # permanent failures this pass (4xx, retries used up)
    waiting: int = 0  # pending, not tried this pass: not due yet, or queued behind a retry
    resent: int = 0  # found interrupted mid-send (a crash) and sent again
    failures: tuple[tuple[str, str], ...] = ()  # (alert id, reason) of this pass's failures


def _attempt(
    client: httpx.Client,
    con: Any,
    row: OutboxRow,
    destinations: dict[str, Destination],
    timeout_s: float,
    max_attempts: int,
) -> DeliveryResult:
    """Return the outcome of one POST of an alert, recorded on its row as soon as it is known."""
    # Committed before the POST: a crash from here on leaves the row 'sending', visible, and
    # sent again on the next pass (see docs/alerts.md).
    mark_sending(con, row.id, utcnow())
    result = send_one(client, row.channel, row.payload, destinations.get(row.channel),
                      timeout_s, row.id)
    fault_point("after_post")
    attempts = row.attempts + 1
    if result.outcome == "retry" and attempts >= max_attempts:
        result = DeliveryResult(
            "failed", result.status, f"gave up after {attempts} attempts: {result.reason}", None
        )
    now = utcnow()
    if result.outcome == "delivered":
        record_outcome(con, row.id, "delivered", result.reason, result.status, None, now)
    elif result.outcome == "retry":
        delay = next_attempt_delay(attempts, result.retry_after_s)
        record_outcome(con, row.id, "pending", result.reason, result.status,
                       now + timedelta(seconds=delay), now)
    else:
        record_outcome(con, row.id, "failed", result.reason, result.status, None, now)
    return result


@task(name="deliver-alerts", cache_policy=NO_CACHE)
def deliver_alerts(
    db_path: Path,
    destinations: dict[str, Destination],
    timeout_s: float,
    max_attempts: int,
) -> DeliveryCounts:
    """Return the counts of one delivery pass: due alerts sent in event-date order, each
    marked right after its answer.

    A channel that answers "later" (429, 5xx, timeout) gets nothing more this pass, and its
    later alerts wait behind the one being retried: alerts keep their order across outages,
    and a rate-limited or broken endpoint sees one request per pass, not one per alert.
    """
    logger = run_logger("newsmon.alerts.render")
    delivered = retrying = failed = waiting = 0
    failures: list[tuple[str, str]] = []
    # The write connection is held for the whole pass: no other process can run a pass at the
    # same time, so rows found 'sending' below can only be left over from a crash.
    con = connect(db_path)
    try:
        resent = set(recover_interrupted(con))
        for alert_id in sorted(resent):
            logger.warning("alert %s was interrupted during send: sending it again", alert_id)
        blocked: set[str] = set()
        now = utcnow()
        with httpx.Client(timeout=timeout_s, trust_env=False) as client:
            for row in queued_in_order(con):
                not_due = row.next_attempt_at is not None and row.next_attempt_at > now
                if row.channel in blocked or not_due:
                    blocked.add(row.channel)
                    waiting += 1
                    continue
                result = _attempt(client, con, row, destinations, timeout_s, max_attempts)
                if result.outcome == "delivered":
                    delivered += 1
                    if row.id in resent:
                        record_outcome(
                            con, row.id, "delivered", f"{result.reason}; sent again after an "
                            "interrupted send, may have arrived twice", result.status, None,
                            utcnow(),
                        )
                elif result.outcome == "retry":
                    retrying += 1
                    blocked.add(row.channel)
                    logger.warning("alert %s: %s; %s waits", row.id, result.reason, row.channel)
                else:
                    failed += 1
                    failures.append((row.id, result.reason))
                    logger.error("alert %s failed: %s", row.id, result.reason)
    finally:
        con.close()
    return DeliveryCounts(delivered, retrying, failed, waiting, len(resent), tuple(failures))


@dataclass(frozen=True)
class ChannelAnswer:
    """What a channel answered to a test message."""

    channel: str
    outcome: str  # delivered | retry | failed
    status: int | None
    reason: str


def probe_event(watchlist_title: str) -> AlertEvent:
    """Return the clearly marked test alert `newsmon alerts test` sends."""
    now = utcnow()
    return AlertEvent(
        event_id=f"test-{now:%Y%m%dT%H%M%S}",
        kind="test",
        type="meeting",
        status="occurred",
        date=now.date().isoformat(),
        place=None,
        participants=(),
        evidence=(
            "This is a test message from newsmon. No meeting took place: if you can read this, "
            "alerts reach this channel."
        ),
        sources=(),
        watchlist_title=watchlist_title,
    )


def send_test_alerts(
    settings: Settings, channels: tuple[str, ...], watchlist_title: str
) -> list[ChannelAnswer]:
    """Return each channel's answer to one test message sent to it now (outside the outbox)."""
    event = probe_event(watchlist_title)
    destinations = resolve_destinations(settings)
    payloads = {
        "slack": slack_payload(event), "webhook": webhook_payload(event),
        "console": {"text": console_text(event)},
    }
    answers = []
    with httpx.Client(timeout=settings.alerts.timeout_s, trust_env=False) as client:
        for channel in channels:
            result = send_one(client, channel, payloads[channel], destinations.get(channel),
                              settings.alerts.timeout_s, event.event_id)
            answers.append(ChannelAnswer(channel, result.outcome, result.status, result.reason))
    return answers
