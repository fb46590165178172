"""Task that delivers pending alerts from the outbox to their channels."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from newsmon.delivery import DeliveryResult, next_attempt_delay, post_slack, post_webhook
from newsmon.store import connect, utcnow
from newsmon.store.repo import mark_alert, pending_alerts


@dataclass(frozen=True)
class DeliveryCounts:
    """Outcome of one delivery pass."""

    delivered: int = 0
    retrying: int = 0
    failed: int = 0


def _send(
    client: httpx.Client, channel: str, payload: dict[str, Any], urls: dict[str, str | None],
    timeout_s: float,
) -> DeliveryResult:
    """Return the result of sending one payload to its channel."""
    if channel == "console":
        print(payload.get("text", ""), flush=True)
        return DeliveryResult("delivered", None, "printed", None)
    url = urls.get(channel)
    if not url:
        return DeliveryResult(
            "failed", None, f"no URL configured for channel {channel}: set "
            f"NEWSMON_{channel.upper()}{'_WEBHOOK' if channel == 'slack' else ''}_URL", None,
        )
    if channel == "slack":
        return post_slack(client, url, payload, timeout_s)
    return post_webhook(client, url, payload, timeout_s)


@task(name="deliver-alerts", cache_policy=NO_CACHE)
def deliver_alerts(
    db_path: Path, urls: dict[str, str | None], timeout_s: float, max_attempts: int
) -> DeliveryCounts:
    """Deliver due alerts in event-date order; mark each as soon as its answer is known."""
    logger = get_run_logger()
    delivered = retrying = failed = 0
    con = connect(db_path)
    try:
        with httpx.Client(timeout=timeout_s, trust_env=False) as client:
            for alert_id, channel, _kind, payload, attempts in pending_alerts(con, utcnow()):
                result = _send(client, channel, payload, urls, timeout_s)
                if result.outcome == "retry" and attempts + 1 >= max_attempts:
                    result = DeliveryResult(
                        "failed", result.status, f"gave up after {attempts + 1} attempts: "
                        f"{result.reason}", None,
                    )
                if result.outcome == "delivered":
                    mark_alert(con, alert_id, "delivered", None, None)
                    delivered += 1
                elif result.outcome == "retry":
                    delay = next_attempt_delay(attempts + 1, result.retry_after_s)
                    mark_alert(con, alert_id, "pending", result.reason,
                               utcnow() + timedelta(seconds=delay))
                    retrying += 1
                    logger.warning("alert %s: %s, retry in %.0f s", alert_id, result.reason, delay)
                else:
                    mark_alert(con, alert_id, "failed", result.reason, None)
                    failed += 1
                    logger.error("alert %s failed: %s", alert_id, result.reason)
    finally:
        con.close()
    return DeliveryCounts(delivered, retrying, failed)
