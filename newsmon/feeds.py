"""Parse feed bytes (RSS 0.9x/1.0/2.0, Atom, RDF) into FeedItems with named errors."""

from __future__ import annotations

import calendar
import hashlib
import re
from datetime import UTC, datetime
from typing import Any

import feedparser

from newsmon.models import FeedItem, ParsedFeed

_TTL = re.compile(rb"<ttl>\s*(\d{1,6})\s*</ttl>", re.IGNORECASE)


def _entry_time(entry: Any) -> datetime | None:
    """Return the entry's published (else updated) time in naive UTC, if the feed gives one."""
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        parsed = entry.get(key)
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


def parse_feed(content: bytes, feed_url: str) -> ParsedFeed:
    """Return the items of a feed body, or a ParsedFeed whose error_kind names what is wrong."""
    parsed = feedparser.parse(content, sanitize_html=True, resolve_relative_uris=True)
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
    title = (parsed.feed.get("title") or "").strip() if parsed.get("feed") else ""
    version = parsed.get("version") or ""
    ttl_match = _TTL.search(content[:20000])
    ttl = int(ttl_match.group(1)) if ttl_match else None
    if items:
        return ParsedFeed(tuple(items), title, version, ttl_minutes=ttl)
    if parsed.get("bozo") and not version:
        reason = parsed.get("bozo_exception")
        kind = "not_a_feed" if content.lstrip()[:15].lower().startswith((b"<!doctype", b"<html")) \
            else "parse_error"
        return ParsedFeed((), title, version, kind, f"{feed_url}: {kind}: {reason}")
    if not version:
        return ParsedFeed(
            (), title, version, "not_a_feed",
            f"{feed_url} did not return RSS/Atom (is it an HTML page? use 'newsmon feeds add')",
        )
    return ParsedFeed((), title, version, ttl_minutes=ttl)
