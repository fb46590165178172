"""Poll one feed: conditional GET, body-hash short-circuit, parse, and the next-poll schedule."""

from __future__ import annotations

import hashlib
import random
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx

from newsmon.feeds import parse_feed
from newsmon.fetch import FetchLimits, FetchResult, fetch
from newsmon.models import FeedItem

FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml, "
    "application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"
)
_MAX_AGE = re.compile(r"max-age=(\d+)")


@dataclass(frozen=True)
class FeedState:
    """What the database remembers about a feed between polls."""

    url: str
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None
    failures: int = 0
    next_poll_at: datetime | None = None


@dataclass(frozen=True)
class PollSchedule:
    """How often feeds are polled and how failures back off."""

    min_interval_s: float = 0.0
    backoff_base_s: float = 300.0
    backoff_cap_s: float = 86_400.0  # a failing feed is still tried at least once a day


@dataclass(frozen=True)
class PollResult:
    """The outcome of polling one feed."""

    url: str
    outcome: str  # new_content, not_modified, unchanged, failed
    items: tuple[FeedItem, ...]
    status: int | None
    etag: str | None
    last_modified: str | None
    body_hash: str | None
    error_kind: str | None
    error: str | None
    next_poll_at: datetime
    failures: int
    title: str = ""
    final_url: str | None = None


def _lower_bound_s(result: FetchResult, ttl_minutes: int | None) -> float:
    """Return the delay the server asks for: Retry-After, Cache-Control max-age or RSS ttl."""
    bounds = [0.0]
    retry_after = result.headers.get("retry-after", "")
    if retry_after.strip().isdigit():
        bounds.append(float(retry_after))
    match = _MAX_AGE.search(result.headers.get("cache-control", ""))
    if match:
        bounds.append(min(float(match.group(1)), 86_400.0))
    if ttl_minutes:
        bounds.append(min(ttl_minutes * 60.0, 86_400.0))
    return max(bounds)


def failure_delay_s(failures: int, schedule: PollSchedule, rng: random.Random) -> float:
    """Return the capped exponential backoff with jitter after that many failures in a row."""
    raw = schedule.backoff_base_s * (2 ** max(failures - 1, 0))
    return min(raw, schedule.backoff_cap_s) * rng.uniform(0.8, 1.0)


def poll_feed(
    client: httpx.Client,
    state: FeedState,
    limits: FetchLimits,
    schedule: PollSchedule,
    now: datetime,
    rng: random.Random | None = None,
) -> PollResult:
    """Return the items of a feed if it changed since the last poll, with its next poll time."""
    rng = rng or random.Random()
    result = fetch(
        client, state.url, limits, etag=state.etag, last_modified=state.last_modified,
        accept=FEED_ACCEPT,
    )
    etag = result.headers.get("etag") or state.etag
    last_modified = result.headers.get("last-modified") or state.last_modified

    def failed(kind: str, message: str) -> PollResult:
        failures = state.failures + 1
        delay = max(failure_delay_s(failures, schedule, rng), _lower_bound_s(result, None))
        return PollResult(
            state.url, "failed", (), result.status, state.etag, state.last_modified,
            state.body_hash, kind, message, now + timedelta(seconds=delay), failures,
            final_url=result.final_url,
        )

    if result.error_kind is not None:
        return failed(result.error_kind, result.error or result.error_kind)
    next_ok = now + timedelta(seconds=max(schedule.min_interval_s, _lower_bound_s(result, None)))
    if result.status == 304:
        return PollResult(
            state.url, "not_modified", (), 304, etag, last_modified, state.body_hash, None, None,
            next_ok, 0, final_url=result.final_url,
        )
    body_hash = hashlib.sha256(result.body).hexdigest()
    if body_hash == state.body_hash:
        # Some servers ignore conditional headers or rotate ETags: the body tells the truth.
        return PollResult(
            state.url, "unchanged", (), result.status, etag, last_modified, body_hash, None, None,
            next_ok, 0, final_url=result.final_url,
        )
    parsed = parse_feed(result.body, result.final_url or state.url)
    if parsed.error_kind is not None:
        return failed(parsed.error_kind, parsed.error or parsed.error_kind)
    next_poll = now + timedelta(
        seconds=max(schedule.min_interval_s, _lower_bound_s(result, parsed.ttl_minutes))
    )
    return PollResult(
        state.url, "new_content", parsed.items, result.status, etag, last_modified, body_hash,
        None, None, next_poll, 0, parsed.title, result.final_url,
    )
