"""Parse feed bytes (RSS 0.9x/1.0/2.0, Atom, RDF) into FeedItems with named errors."""

from __future__ import annotations

import calendar
import hashlib
from datetime import UTC, datetime
from typing import Any

import feedparser

from newsmon.models import FeedItem, ParsedFeed

# Error kinds parse_feed can return (fetch errors are named in newsmon.sources.fetch).
PARSE_ERROR_KINDS = ("not_a_feed", "parse_error", "no_links")
_DAY_S = 86_400.0
# sy:updatePeriod values (RSS 1.0 syndication module), in seconds.
_SY_PERIODS = {
    "hourly": 3_600.0, "daily": _DAY_S, "weekly": 7 * _DAY_S, "monthly": 30 * _DAY_S,
    "yearly": 365 * _DAY_S,
}
_GZIP_MAGIC = b"\x1f\x8b"
_BOM = b"\xef\xbb\xbf"
_HARMLESS_BOZO = (feedparser.CharacterEncodingOverride, feedparser.NonXMLContentType)


def _entry_time(entry: Any) -> datetime | None:
    """Return the entry's published (else updated) time in naive UTC, if the feed gives one."""
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        # dict.get bypasses feedparser's deprecated published->updated alias (and its warning):
        # the fallback to updated is done here, explicitly.
        parsed = dict.get(entry, key)
        if parsed:
            try:
                return datetime.fromtimestamp(calendar.timegm(parsed), tz=UTC).replace(tzinfo=None)
            except (OverflowError, ValueError, TypeError):
                continue
    return None


def _entry_guid(entry: Any, link: str, title: str) -> str:
    """Return the entry's id, else its link, else a hash of its title (feeds omit ids)."""
    guid = (entry.get("id") or "").strip()
    if guid:
        return guid
    if link:
        return link
    return "sha1:" + hashlib.sha1(title.encode("utf-8")).hexdigest()


def _int_or_none(value: Any) -> int | None:
    """Return value as a positive int, or None when it is missing or not a number."""
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


def declared_interval_s(feed: Any) -> tuple[int | None, float | None]:
    """Return (ttl minutes, update interval in seconds) the feed declares, each None if absent.

    The interval is the longer of RSS <ttl> and sy:updatePeriod / sy:updateFrequency; it is a
    publisher's hint, so callers cap it (a feed must never silence itself for weeks).
    """
    ttl = _int_or_none(feed.get("ttl"))
    bounds = [ttl * 60.0] if ttl else []
    period = _SY_PERIODS.get(str(feed.get("sy_updateperiod") or "").strip().lower())
    if period is not None:
        frequency = _int_or_none(feed.get("sy_updatefrequency")) or 1  # spec default: 1
        bounds.append(period / frequency)
    return ttl, (max(bounds) if bounds else None)


def _looks_like_html(content: bytes) -> bool:
    """Return True when the body starts like an HTML document (a page, not a feed)."""
    head = content.removeprefix(_BOM).lstrip()[:15].lower()
    return head.startswith((b"<!doctype html", b"<html"))


def parse_feed(
    content: bytes,
    feed_url: str,
    *,
    base_url: str | None = None,
    content_type: str | None = None,
) -> ParsedFeed:
    """Return the items of a feed body, or a ParsedFeed whose error_kind names what is wrong.

    feed_url becomes each item's feed_url (the feed's identity); base_url (the URL the body
    came from after redirects, default feed_url) resolves relative links; content_type is the
    HTTP header, whose charset feedparser weighs against the XML declaration.
    """
    if content.startswith(_GZIP_MAGIC):
        # feedparser would spend ~1 s per 100 KB guessing at binary data: name it at once.
        return ParsedFeed(
            (), "", "", "parse_error",
            f"{feed_url}: parse_error: body is gzip-compressed data, not XML (served without "
            "Content-Encoding: gzip?)",
        )
    headers = {"content-location": base_url or feed_url}
    if content_type:
        headers["content-type"] = content_type
    parsed = feedparser.parse(
        content, sanitize_html=True, resolve_relative_uris=True, response_headers=headers
    )
    items: list[FeedItem] = []
    seen: set[str] = set()
    for entry in parsed.entries:
        link = (entry.get("link") or "").strip()
        title = (entry.get("title") or "").strip()
        guid = _entry_guid(entry, link, title)
        if not link or guid in seen:  # duplicate GUIDs inside one feed: keep the first
            continue
        seen.add(guid)
        summary = entry.get("summary") or ""
        if not summary and entry.get("content"):
            summary = entry["content"][0].get("value", "")
        items.append(FeedItem(feed_url, guid, link, title, summary, _entry_time(entry)))
    feed = parsed.get("feed") or {}
    title = (feed.get("title") or "").strip()
    version = parsed.get("version") or ""
    ttl, interval = declared_interval_s(feed)
    if items:
        # Malformed-but-readable feeds (bozo with entries) are common: their items count.
        return ParsedFeed(tuple(items), title, version, ttl_minutes=ttl,
                          declared_interval_s=interval)
    reason = parsed.get("bozo_exception")
    # feedparser also sets bozo for a charset disagreement or a sloppy Content-Type (feeds served
    # as text/plain or text/html are common): the document still parsed, so only XML errors count.
    malformed = bool(parsed.get("bozo")) and not isinstance(reason, _HARMLESS_BOZO)
    if _looks_like_html(content) or (not version and not malformed):
        return ParsedFeed(
            (), title, version, "not_a_feed",
            f"{feed_url}: not_a_feed: the body is not RSS/Atom (an HTML page? find its feed "
            "with 'newsmon feeds add URL')",
        )
    if not version or malformed:
        return ParsedFeed(
            (), title, version, "parse_error",
            f"{feed_url}: parse_error: malformed feed with no usable item ({reason})",
        )
    if parsed.entries:
        return ParsedFeed(
            (), title, version, "no_links",
            f"{feed_url}: no_links: {len(parsed.entries)} entries but none has a link to fetch",
        )
    # A well-formed feed with no entries is valid (a new or emptied channel): not an error; it
    # turns "quiet" after fetch.quiet_after_days without new items.
    return ParsedFeed((), title, version, ttl_minutes=ttl, declared_interval_s=interval)
