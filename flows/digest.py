"""The daily digest flow: the day's events and feed health problems in one message per channel.

Optional: it sends only when `alerts.digest: true` (or force=True). Schedule it once a day after
midnight UTC (it covers the previous UTC day by default). The digest goes through the alert
outbox under the key digest:YYYY-MM-DD:<channel>, so a rerun for the same day sends nothing twice
and a channel that is down gets it on a later pass. It takes the cycle lock like the monitor
flow: two processes delivering the outbox at once could both send an alert. When a cycle holds
the lock longer than `lock_wait_s`, the run fails with the lock's message and Prefect retries it
(twice, ten minutes apart).
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from newsmon.alerts.digest import digest_payload, load_digest
from newsmon.alerts.outbox import queue
from newsmon.analysis.watchlist import load_watchlist
from newsmon.lock import cycle_lock
from newsmon.settings import load_settings
from newsmon.store import connect, migrate, utcnow
from newsmon.store.repo import transaction
from tasks.alerts import deliver_alerts, resolve_destinations


@task(name="queue-digest", cache_policy=NO_CACHE)
def queue_digest(
    db_path: Path, day: date, channels: tuple[str, ...], watchlist_title: str
) -> dict[str, int]:
    """Queue the day's digest on each channel; return its counts (events, feed problems, queued)."""
    con = connect(db_path)
    try:
        migrate(con)
        with transaction(con):
            digest = load_digest(con, day, watchlist_title)
            now = utcnow()
            queued = sum(
                queue(con, f"digest:{day.isoformat()}", "digest", channel,
                      digest_payload(digest, channel), now)
                for channel in channels
            )
    finally:
        con.close()
    return {
        "events": len(digest.events),
        "feed_problems": len(digest.feed_problems),
        "queued": queued,
    }


@flow(name="digest", log_prints=True, retries=2, retry_delay_seconds=600)
def digest(
    config: str | None = None,
    db: str | None = None,
    day: str | None = None,
    force: bool = False,
) -> dict[str, Any]:
    """Send the digest of a UTC day (default: yesterday); return what was done."""
    logger = get_run_logger()
    settings = load_settings(Path(config) if config else None, database=db)
    if not (settings.alerts.digest or force):
        logger.info("digest skipped: alerts.digest is false")
        return {"skipped": "alerts.digest is false"}
    target = date.fromisoformat(day) if day else utcnow().date() - timedelta(days=1)
    title = load_watchlist(settings.watchlist_dir, settings.watchlist).title
    channels = settings.alerts.digest_channels or settings.alerts.channels
    # CycleLocked propagates: the run fails with the holder named, and the flow's retries try
    # again once the cycle is done (a skipped digest would not come back by itself).
    with cycle_lock(settings.database, settings.lock_wait_s, "digest flow run"):
        counts = queue_digest(settings.database, target, tuple(channels), title)
        delivery = deliver_alerts(
            settings.database, resolve_destinations(settings), settings.alerts.timeout_s,
            settings.alerts.max_attempts,
        )
    summary: dict[str, Any] = {
        "day": target.isoformat(),
        **counts,
        "alerts_delivered": delivery.delivered,
        "alerts_retrying": delivery.retrying,
        "alerts_failed": delivery.failed,
        "alerts_waiting": delivery.waiting,
    }
    create_markdown_artifact(
        key="digest-summary", description="newsmon daily digest",
        markdown="\n".join(
            ["# newsmon digest", "", "| measure | value |", "|---|---|"]
            + [f"| {k} | {v} |" for k, v in summary.items()]
        ),
    )
    logger.info("digest summary: %s", summary)
    return summary


if __name__ == "__main__":
    # Like the CLI: config/newsmon.yaml of the working directory when there is one.
    default = Path("config/newsmon.yaml")
    digest(config=str(default) if default.exists() else None)
