"""Feed auto-discovery: find and validate the feed of an HTML page; add it to a config file."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import httpx

from newsmon.settings import ConfigError, load_settings
from newsmon.sources.feeds import parse_feed
from newsmon.sources.fetch import FetchLimits, fetch
from newsmon.sources.polling import FEED_ACCEPT

# <link rel="alternate" type=...> values that announce a feed (RSS autodiscovery convention).
FEED_LINK_TYPES = frozenset({
    "application/rss+xml", "application/atom+xml", "application/rdf+xml",
    "application/xml", "text/xml", "application/x.atom+xml", "application/x-rss+xml",
})
# Fallback when a page announces nothing: <a href> whose path looks like a feed.
# (WordPress also serves "?feed=rss2").
_FEEDISH_PATH = re.compile(r"(\.(rss|rdf|atom|xml)|/(feed|rss|atom)/?)$", re.IGNORECASE)
_FEEDISH_QUERY = re.compile(r"(^|&)feed=", re.IGNORECASE)
MAX_CANDIDATES = 6  # each candidate costs a fetch: stop after a handful


class DiscoveryError(Exception):
    """No valid feed could be found at a URL; the message says what was tried."""


@dataclass(frozen=True)
class DiscoveredFeed:
    """A feed found and validated by discover_feed."""

    url: str  # the feed's URL (after redirects)
    title: str
    version: str  # feedparser's format name: rss20, atom10, ...
    items: int
    page_url: str  # the URL the user gave


class _LinkCollector(HTMLParser):
    """Collect announced feed links and feed-looking anchors from an HTML page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.announced: list[str] = []
        self.anchors: list[str] = []
        self.base: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Record <base href>, feed <link>s and feed-looking <a href>s."""
        values = {name.lower(): (value or "").strip() for name, value in attrs}
        href = values.get("href", "")
        if not href:
            return
        if tag == "base" and self.base is None:
            self.base = href
        elif tag == "link":
            rels = values.get("rel", "").lower().split()
            if "alternate" in rels and values.get("type", "").lower() in FEED_LINK_TYPES:
                self.announced.append(href)
        elif tag == "a":
            parts = urlsplit(href)
            if _FEEDISH_PATH.search(parts.path) or _FEEDISH_QUERY.search(parts.query):
                self.anchors.append(href)


def feed_links(html: str, page_url: str) -> list[str]:
    """Return the absolute feed URLs a page offers: announced <link>s first, then <a> guesses."""
    collector = _LinkCollector()
    try:
        collector.feed(html)
        collector.close()
    except (AssertionError, ValueError):  # html.parser gives up on some broken markup
        pass
    base = urljoin(page_url, collector.base) if collector.base else page_url
    out: list[str] = []
    for href in collector.announced + collector.anchors:
        url = urljoin(base, href).split("#", 1)[0]
        if url.startswith(("http://", "https://")) and url not in out:
            out.append(url)
    return out


def validate_feed(client: httpx.Client, url: str, limits: FetchLimits) -> DiscoveredFeed | str:
    """Return the feed at url if it fetches and parses as a feed, else why it does not."""
    result = fetch(client, url, limits, accept=FEED_ACCEPT)
    if result.error_kind is not None:
        return f"{url}: {result.error_kind}: {result.error}"
    parsed = parse_feed(
        result.body, result.final_url, content_type=result.headers.get("content-type")
    )
    if parsed.error_kind is not None:
        return f"{url}: {parsed.error_kind}: {parsed.error}"
    return DiscoveredFeed(result.final_url, parsed.title, parsed.version, len(parsed.items), url)


def discover_feed(client: httpx.Client, url: str, limits: FetchLimits) -> DiscoveredFeed:
    """Return the validated feed at url, or the first valid feed its HTML page links to.

    Raises DiscoveryError naming every candidate tried and why it failed.
    """
    result = fetch(client, url, limits, accept=FEED_ACCEPT)
    if result.error_kind is not None:
        raise DiscoveryError(f"cannot fetch {url}: {result.error}")
    parsed = parse_feed(
        result.body, result.final_url, content_type=result.headers.get("content-type")
    )
    if parsed.error_kind is None:  # the URL is itself a feed
        return DiscoveredFeed(result.final_url, parsed.title, parsed.version,
                              len(parsed.items), url)
    if parsed.error_kind != "not_a_feed":
        raise DiscoveryError(f"{url} looks like a broken feed: {parsed.error}")
    content_type = result.headers.get("content-type", "")
    charset = re.search(r"charset=([\w-]+)", content_type, re.IGNORECASE)
    try:
        html = result.body.decode(charset.group(1) if charset else "utf-8", errors="replace")
    except LookupError:  # unknown charset name: the link tags are ASCII anyway
        html = result.body.decode("utf-8", errors="replace")
    candidates = feed_links(html, result.final_url)
    if not candidates:
        raise DiscoveryError(
            f"{url} is an HTML page that links no feed (no <link rel=\"alternate\" "
            "type=\"application/rss+xml\"> and no feed-looking link); find the feed URL on the "
            "site and pass it directly"
        )
    problems: list[str] = []
    for candidate in candidates[:MAX_CANDIDATES]:
        found = validate_feed(client, candidate, limits)
        if isinstance(found, DiscoveredFeed):
            return DiscoveredFeed(found.url, found.title, found.version, found.items, url)
        problems.append(found)
    raise DiscoveryError(
        f"{url} links {len(candidates)} feed candidate(s), none valid:\n  " + "\n  ".join(problems)
    )


def yaml_feed_line(name: str, url: str) -> str:
    """Return the config/newsmon.yaml `feeds:` list entry for a feed (JSON strings are YAML)."""
    return f"  - {{name: {json.dumps(name, ensure_ascii=False)}, url: {json.dumps(url)}}}"


def add_feed_to_config(config: Path, name: str, url: str) -> str:
    """Insert a feed entry at the end of the config's `feeds:` list; return the line added.

    The file is edited as text so its comments survive. Raises ValueError when the URL is
    already listed or the file has no block-style `feeds:` list to append to.
    """
    text = config.read_text(encoding="utf-8")
    try:
        listed = load_settings(config).feeds
    except ConfigError as exc:
        raise ValueError(f"fix {config} before adding a feed to it:\n{exc}") from exc
    if any(feed.url == url for feed in listed):
        raise ValueError(f"{url} is already in {config}")
    line = yaml_feed_line(name, url)
    lines = text.splitlines(keepends=True)
    header = next(
        (i for i, raw in enumerate(lines) if re.match(r"^feeds:\s*(\[\s*\])?\s*(#.*)?$", raw)),
        None,
    )
    if header is None:
        if re.search(r"^feeds:", text, re.MULTILINE):
            raise ValueError(f"{config}: 'feeds:' is not a block list; add this line yourself:\n"
                             f"{line}")
        new_text = text + ("" if text.endswith("\n") or not text else "\n") + f"feeds:\n{line}\n"
    else:
        lines[header] = "feeds:\n"  # also turns an empty "feeds: []" into a block list
        last = header
        for i in range(header + 1, len(lines)):
            stripped = lines[i].strip()
            if lines[i].startswith((" ", "\t", "-")) and stripped and not stripped.startswith("#"):
                last = i
            elif stripped and not lines[i].startswith((" ", "\t", "#")):
                break  # the next top-level key
        if not lines[last].endswith("\n"):
            lines[last] += "\n"
        lines.insert(last + 1, line + "\n")
        new_text = "".join(lines)
    config.write_text(new_text, encoding="utf-8")
    try:
        load_settings(config)  # the edited file must still be a valid config
    except ConfigError as exc:
        config.write_text(text, encoding="utf-8")
        raise ValueError(f"{config} left unchanged: adding the feed made it invalid ({exc}); "
                         f"add this line yourself:\n{line}") from exc
    return line
