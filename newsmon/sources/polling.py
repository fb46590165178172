"""Poll one feed: conditional GET, body-hash short-circuit, parse, health and next-poll schedule.

Health rules (see README "Feed health"):
- a failure backs off exponentially from 5 min, capped at 24 h, so a failing feed is still tried
  at least once a day and is never disabled for good;
- 410 Gone retires a feed (status ``gone``) but it is still tried once a day, in case it returns;
- a permanent redirect (301/308) is recorded as the feed's new location (``moved_to``): later
  polls go there directly and the move is reported so the config can be updated. The configured
  URL stays the feed's identity, so its items, health and history stay together;
- server hints (Retry-After, Cache-Control max-age, Expires, RSS <ttl>, sy:updatePeriod) are
  lower bounds on the next poll, each capped at 24 h.
"""

from __future__ import annotations

import hashlib
import random
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import httpx

from newsmon.models import FeedItem
from newsmon.sources.feeds import PARSE_ERROR_KINDS, parse_feed
from newsmon.sources.fetch import FetchLimits, FetchResult, fetch

FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml, "
    "application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"
)
DAY_S = 86_400.0
# Error kinds a poll can record: fetch's (newsmon.sources.fetch.FetchResult) plus the parser's.
FETCH_ERROR_KINDS = (
    "dns", "timeout", "connect", "http_status", "too_large", "too_many_redirects",
    "content_type", "refused_scheme", "refused_address",
)
ERROR_KINDS = frozenset(FETCH_ERROR_KINDS + PARSE_ERROR_KINDS)
# A run starts a little before or after the hour: a feed due within this margin is polled now
# rather than an hour late (otherwise a daily retry would drift to every 25 hours).
DUE_SLACK_S = 60.0
_PERMANENT_REDIRECTS = frozenset({301, 308})
_MAX_AGE = re.compile(r"(?:^|[,\s])max-age\s*=\s*\"?(\d+)", re.IGNORECASE)


@dataclass(frozen=True)
class FeedState:
    """What the database remembers about a feed between polls."""

    url: str  # the configured URL: the feed's identity
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None
    failures: int = 0
    next_poll_at: datetime | None = None
    moved_to: str | None = None  # where a permanent redirect sent it; polled instead of url
    declared_interval_s: float | None = None  # the feed's own <ttl>/sy:update* hint, seconds

    @property
    def poll_url(self) -> str:
        """Return the URL to request: the recorded new location, else the configured URL."""
        return self.moved_to or self.url


@dataclass(frozen=True)
class PollSchedule:
    """How often feeds are polled and how failures back off."""

    min_interval_s: float = 0.0
    backoff_base_s: float = 300.0
    backoff_cap_s: float = DAY_S  # a failing feed is still tried at least once a day
    gone_interval_s: float = DAY_S  # a 410 Gone feed is retired but checked once a day


@dataclass(frozen=True)
class PollResult:
    """The outcome of polling one feed."""

    url: str  # the configured URL (FeedState.url)
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
    moved_to: str | None = None  # a NEW permanent location found by this poll, else None
    declared_interval_s: float | None = None
    polled_at: datetime | None = None  # the poll's clock: next_poll_at is counted from it

    @property
    def health(self) -> str:
        """Return the feed status this poll implies: ok, failing or gone (quiet needs dates)."""
        if self.outcome != "failed":
            return "ok"
        return "gone" if self.status == 410 else "failing"


def is_due(state: FeedState, now: datetime) -> bool:
    """Return True when the feed should be polled in a run starting at now."""
    return state.next_poll_at is None or state.next_poll_at <= now + timedelta(seconds=DUE_SLACK_S)


def retry_after_s(value: str, now: datetime) -> float | None:
    """Return the delay a Retry-After value asks for (seconds or an HTTP date), None if invalid."""
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - now.replace(tzinfo=UTC)).total_seconds(), 0.0)


def server_lower_bound_s(
    headers: dict[str, str], declared_interval_s: float | None, now: datetime
) -> float:
    """Return the longest wait the server or feed asks for, capped at one day (0 if none).

    Sources: Retry-After (429/503), Cache-Control max-age (else Expires), and the feed's own
    <ttl> or sy:updatePeriod. Each is capped at a day: a misconfigured header must not silence
    a feed for weeks. now is naive UTC.
    """
    bounds = [0.0]
    retry_after = retry_after_s(headers.get("retry-after", ""), now)
    if retry_after is not None:
        bounds.append(retry_after)
    cache_control = headers.get("cache-control", "")
    match = _MAX_AGE.search(cache_control)
    if match:
        bounds.append(float(match.group(1)))
    elif "expires" in headers and "no-cache" not in cache_control.lower():
        expires = retry_after_s(headers["expires"], now)  # same HTTP-date syntax
        if expires is not None and not headers["expires"].strip().isdigit():
            bounds.append(expires)
    if declared_interval_s:
        bounds.append(declared_interval_s)
    return min(max(bounds), DAY_S)


def backoff_s(failures: int, schedule: PollSchedule) -> float:
    """Return the backoff before jitter after that many failures in a row (base * 2^(n-1), capped)."""
    # The exponent is clipped: a feed failing daily for years would overflow a float otherwise.
    exponent = min(max(failures - 1, 0), 40)
    return min(schedule.backoff_base_s * (2**exponent), schedule.backoff_cap_s)


def failure_delay_s(failures: int, schedule: PollSchedule, rng: random.Random) -> float:
    """Return the capped exponential backoff with jitter after that many failures in a row."""
    # Jitter only shortens the delay (80-100 %), so the cap stays a hard "at least daily", and
    # feeds that failed together (one host down) do not retry in lockstep.
    return backoff_s(failures, schedule) * rng.uniform(0.8, 1.0)


def permanent_location(redirects: tuple[tuple[int, str], ...]) -> str | None:
    """Return the URL the leading run of permanent redirects (301/308) ends at, else None.

    A -301-> B -302-> C moves the feed to B only: C is a temporary location.
    """
    moved: str | None = None
    for status, target in redirects:
        if status not in _PERMANENT_REDIRECTS:
            break
        moved = target
    return moved


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
    result: FetchResult = fetch(
        client, state.poll_url, limits, etag=state.etag, last_modified=state.last_modified,
        accept=FEED_ACCEPT,
    )
    etag = result.headers.get("etag") or state.etag
    last_modified = result.headers.get("last-modified") or state.last_modified

    def failed(kind: str, message: str) -> PollResult:
        """Return a failed result scheduled by backoff (or daily when gone)."""
        failures = state.failures + 1
        if result.status == 410:
            delay = schedule.gone_interval_s
        else:
            delay = failure_delay_s(failures, schedule, rng)
        # A 429/503's Retry-After may ask for longer than the backoff: honour it (capped).
        delay = max(delay, server_lower_bound_s(result.headers, None, now))
        delay = min(delay, max(schedule.backoff_cap_s, schedule.gone_interval_s))
        return PollResult(
            state.url, "failed", (), result.status, state.etag, state.last_modified,
            state.body_hash, kind, message, now + timedelta(seconds=delay), failures,
            final_url=result.final_url, declared_interval_s=state.declared_interval_s,
            polled_at=now,
        )

    def succeeded(
        outcome: str, items: tuple[FeedItem, ...], body_hash: str | None, title: str = "",
        declared: float | None = state.declared_interval_s,
    ) -> PollResult:
        """Return a successful result scheduled by the server's and feed's hints."""
        # On 304/unchanged the body is not parsed: the feed's <ttl> from its last parse stands.
        delay = max(schedule.min_interval_s, server_lower_bound_s(result.headers, declared, now))
        moved = permanent_location(result.redirects)
        return PollResult(
            state.url, outcome, items, result.status, etag, last_modified, body_hash, None,
            None, now + timedelta(seconds=delay), 0, title, result.final_url,
            moved_to=moved if moved not in (None, state.poll_url, state.moved_to) else None,
            declared_interval_s=declared, polled_at=now,
        )

    if result.error_kind is not None:
        return failed(result.error_kind, result.error or result.error_kind)
    if result.status == 304:
        return succeeded("not_modified", (), state.body_hash)
    body_hash = hashlib.sha256(result.body).hexdigest()
    if body_hash == state.body_hash:
        # Some servers ignore conditional headers or rotate ETags: the body tells the truth.
        return succeeded("unchanged", (), body_hash)
    parsed = parse_feed(
        result.body, state.url, base_url=result.final_url,
        content_type=result.headers.get("content-type"),
    )
    if parsed.error_kind is not None:
        return failed(parsed.error_kind, parsed.error or parsed.error_kind)
    return succeeded(
        "new_content", parsed.items, body_hash, parsed.title, parsed.declared_interval_s
    )
