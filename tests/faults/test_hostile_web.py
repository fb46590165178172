"""Every hostile path, one component at a time, in this process (the fast part of the suite).

Feeds go through poll_feed, article pages through fetch + build_article (the cycle's own
functions), hostile links through fetch with the address guard. Every connection the fetcher
opens is recorded (socket.create_connection is wrapped) to show that only loopback was touched.
The same faults run end to end in a real cycle in test_hostile_cycle.py.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

import pytest

from newsmon.analysis.pipeline import MAX_NLP_CHARS, AnalysisInput, nlp_text
from newsmon.articles.build import build_article
from newsmon.articles.extract import ExtractionRules, extract_article
from newsmon.models import ArticleRow, FeedItem
from newsmon.sources.fetch import FetchLimits, FetchResult, check_url_allowed, fetch, make_client
from newsmon.sources.polling import FeedState, PollResult, PollSchedule, poll_feed
from newsmon.store import utcnow
from newsmon.urls import dedup_key
from tests.faults.conftest import Ledger
from tests.faults.hostile import ABSURD_DATES, HostileWeb, content_faults, network_faults

pytestmark = pytest.mark.faults


def _resolver(host: str, port: Any, *args: Any) -> Any:
    """Resolve like the system, except that .invalid names fail at once (RFC 6761)."""
    if host.rstrip(".").lower().endswith(".invalid"):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    return socket.getaddrinfo(host, port, *args)


@pytest.fixture
def connections(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Yield the list of addresses the fetcher connects to during the test (recorded)."""
    seen: list[str] = []
    real = socket.create_connection

    def recording(address: tuple[str, int], *args: Any, **kwargs: Any) -> socket.socket:
        seen.append(f"{address[0]}:{address[1]}")
        return real(address, *args, **kwargs)

    monkeypatch.setattr(socket, "create_connection", recording)
    yield seen


def _loopback_only(seen: list[str]) -> bool:
    """Return True when every recorded connection went to a loopback address."""
    return all(ipaddress.ip_address(a.rsplit(":", 1)[0].strip("[]")).is_loopback for a in seen)


def _limits(web: HostileWeb, **changes: Any) -> FetchLimits:
    """Return short-deadline limits that reach the hostile server (and nothing else private)."""
    return FetchLimits(connect_timeout_s=1, read_timeout_s=1.5, total_timeout_s=3,
                       extra_allowed_hosts=tuple(web.allowed_hosts()), **changes)


def _in_parallel(calls: dict[str, Callable[[], Any]]) -> dict[str, tuple[Any, float]]:
    """Return {name: (result, seconds)} of the calls, run concurrently (as a cycle polls)."""

    def timed(call: Callable[[], Any]) -> tuple[Any, float]:
        started = time.monotonic()
        return call(), time.monotonic() - started

    with ThreadPoolExecutor(len(calls)) as pool:
        futures = {name: pool.submit(timed, call) for name, call in calls.items()}
        return {name: future.result() for name, future in futures.items()}


def _poll_words(r: PollResult, now: datetime) -> str:
    """Return a poll result as a short observation."""
    words = f"{r.outcome}" + (f": {r.error_kind}" if r.error_kind else "")
    if r.status and r.error_kind == "http_status":
        words += f" {r.status}"
    words += f", {len(r.items)} items"
    wait = (r.next_poll_at - now).total_seconds()
    if wait > 3000:
        words += f", next poll in {wait / 3600:.1f} h"
    return words


Check = Callable[[PollResult, float, datetime], bool]


def _sane_article_date(item: FeedItem, now: datetime) -> bool:
    """Return True when the article built from the item alone (no page date) has no absurd
    publish date: the feed's 0001, 9999 or 1970 must be rejected, not stored."""
    article = extract_article("", item.url, ExtractionRules(), feed_title=item.title,
                              feed_published=item.published, now=now)
    when = article.published
    return when is None or datetime(1995, 1, 1) <= when <= now + timedelta(hours=24)


def _fails(kind: str, status: int | None = None, max_s: float = 1.0) -> tuple[str, Check]:
    """Return the expectation: the poll fails with kind (and status) within max_s seconds."""
    words = f"failed: {kind}" + (f" {status}" if status else "") + f" in < {max_s:g} s"
    return words, lambda r, s, now: (
        r.outcome == "failed" and r.error_kind == kind and s < max_s
        and (status is None or r.status == status))


FEED_EXPECTED: dict[str, tuple[str, Check]] = {
    "connection refused": _fails("connect"),
    "DNS failure (.invalid)": _fails("dns"),
    "reset mid-body": _fails("connect"),
    "trickle 1 byte/s": _fails("timeout", max_s=4.5),  # total deadline 3 s, one read over
    "never answers": _fails("timeout", max_s=2.5),  # read timeout 1.5 s
    "301 loop": _fails("too_many_redirects"),
    "302 loop": _fails("too_many_redirects"),
    "404": _fails("http_status", 404),
    "410": ("failed 410: gone, retried once a day",
            lambda r, s, now: r.health == "gone" and r.next_poll_at - now >= timedelta(hours=23)),
    "429 + Retry-After": ("failed 429, next poll >= Retry-After (1 h)",
                          lambda r, s, now: r.status == 429
                          and r.next_poll_at - now >= timedelta(seconds=3590)),
    "500": _fails("http_status", 500),
    "503 + Retry-After": ("failed 503, a Retry-After in 2099 capped at 24 h",
                          lambda r, s, now: r.status == 503
                          and timedelta(hours=23) < r.next_poll_at - now <= timedelta(hours=24)),
    "malformed XML": _fails("parse_error"),
    "malformed but readable XML": ("its 1 item kept",
                                   lambda r, s, now: r.outcome == "new_content"
                                   and len(r.items) == 1),
    "lying charset (feed)": ("its 1 item kept, title readable",
                             lambda r, s, now: len(r.items) == 1
                             and r.items[0].title.startswith("Caf")),
    "HTML instead of a feed": _fails("not_a_feed"),
    "empty 200": _fails("not_a_feed"),
    "100 MB feed": _fails("too_large", max_s=3.0),
    "gzip bomb (feed)": _fails("too_large", max_s=3.0),
    "absurd dates": (f"{len(ABSURD_DATES)} items; the article date is None or 1995..now+24h",
                     lambda r, s, now: len(r.items) == len(ABSURD_DATES)
                     and all(_sane_article_date(i, now) for i in r.items)),
    "10,000 items": ("10,000 items parsed in < 10 s",
                     lambda r, s, now: len(r.items) == 10_000 and s < 10),
    "duplicate GUIDs": ("first item per GUID kept (3 of 5)",
                        # feedparser resolves a non-URL guid against the feed URL
                        lambda r, s, now: [i.guid.rsplit("/", 1)[-1] for i in r.items]
                        == ["same", "other", "other-2"]),
}


def test_every_hostile_feed_fails_by_name_and_in_time(
    hostile: HostileWeb, ledger: Ledger, connections: list[str]
) -> None:
    limits = _limits(hostile)
    faults = {**network_faults(hostile), **content_faults(hostile)}
    now = utcnow()
    with make_client(limits, resolver=_resolver) as client:
        results = _in_parallel({
            name: (lambda url=url: poll_feed(client, FeedState(url), limits, PollSchedule(), now))
            for name, url in faults.items()
        })
    network = set(network_faults(hostile))
    for name, (result, seconds) in results.items():
        words, check = FEED_EXPECTED[name]
        ledger.record("network" if name in network else "content", name, words,
                      f"{_poll_words(result, now)} in {seconds:.1f} s",
                      check(result, seconds, now))
    huge = hostile.bytes_sent.get("/content/huge.xml", 0)
    ledger.record("content", "100 MB feed: bytes actually sent", "stops near max_bytes (10 MB)",
                  f"{huge / 2**20:.1f} MB of 100 MB sent", huge < 20 * 2**20)
    ledger.record("links", "traffic of the feed polls", "only loopback connections",
                  f"{len(connections)} connections, all loopback: {_loopback_only(connections)}",
                  _loopback_only(connections) and len(connections) > 0)
    ledger.assert_all()


# Page -> (expected, check on (fetch result, article row)).
PageCheck = Callable[[FetchResult, ArticleRow], bool]
PAGE_EXPECTED: dict[str, tuple[str, PageCheck]] = {
    "big-paragraph.html": ("9.8 MB of text kept; NLP sees <= 100,000 chars",
                           lambda f, a: a.status == "ok" and len(a.article.text) > 9_000_000),
    "no-text.html": ("no page text: the feed summary is used",
                     lambda f, a: a.article.extraction_path == "feed_summary"),
    "report.pdf": ("not fetched (content_type), feed summary kept",
                   lambda f, a: f.error_kind == "content_type" and a.status == "fetch_failed"),
    "photo.jpg": ("not fetched (content_type), feed summary kept",
                  lambda f, a: f.error_kind == "content_type" and a.status == "fetch_failed"),
    "pdf-as-html.html": ("binary served as HTML: an article row, no exception",
                         lambda f, a: a.status in ("ok", "thin", "empty")),
    "bomb.html": ("too_large at 10 MB decoded",
                  lambda f, a: f.error_kind == "too_large" and a.status == "fetch_failed"),
    "huge.html": ("too_large at 10 MB", lambda f, a: f.error_kind == "too_large"),
    "trickle.html": ("timeout at the total deadline", lambda f, a: f.error_kind == "timeout"),
    "hang.html": ("timeout at the read deadline", lambda f, a: f.error_kind == "timeout"),
    "reset.html": ("connect error (reset)", lambda f, a: f.error_kind == "connect"),
    "latin1.html": ("declared ISO-8859-1 decoded: 'Visite à Damas'",
                    lambda f, a: a.article.title == "Visite à Damas"
                    and "Fayçal" in a.article.text),
    "lying-charset.html": ("UTF-8 under an ISO-8859-1 header: 'Visite à Damas'",
                           lambda f, a: a.article.title == "Visite à Damas"
                           and "Fayçal" in a.article.text),
    "redirect-loop.html": ("too_many_redirects", lambda f, a: f.error_kind == "too_many_redirects"),
    "absurd-date.html": ("page dates 9999-12-31 and 0001-01-01 rejected; the feed's kept",
                         lambda f, a: a.article.published == datetime(2025, 12, 1, 9)),
}


def test_every_hostile_page_becomes_an_article_row_without_an_exception(
    hostile: HostileWeb, ledger: Ledger, connections: list[str]
) -> None:
    limits = _limits(hostile)
    rules = ExtractionRules()
    now = utcnow()
    with make_client(limits, resolver=_resolver) as client:
        fetched = _in_parallel({
            name: (lambda name=name: fetch(client, hostile.url(f"/pages/{name}"), limits))
            for name in PAGE_EXPECTED
        })
    for name, (words, check) in PAGE_EXPECTED.items():
        result, seconds = fetched[name]
        url = hostile.url(f"/pages/{name}")
        item = FeedItem(hostile.url("/feeds/articles.xml"), name, url, f"Hostile page {name}",
                        f"Feed summary of {name}. " * 4, datetime(2025, 12, 1, 9))
        try:
            row = build_article(item, dedup_key(url), result, rules, ("en", "fr"), now)
        except Exception as exc:  # noqa: BLE001 - an exception here is the fault being counted
            ledger.record("content", f"page {name}", words, f"{type(exc).__name__}: {exc}",
                          False, crashes=1)
            continue
        observed = (f"{result.error_kind or result.status}, {row.status}, "
                    f"{len(row.article.text)} chars via {row.article.extraction_path}, "
                    f"{seconds:.1f} s")
        ok = check(result, row)
        if name == "big-paragraph.html":
            size = len(nlp_text(AnalysisInput(row.id, row.article.text, row.article.title)))
            observed += f"; NLP input {size} chars"
            ok = ok and size <= MAX_NLP_CHARS
        ledger.record("content", f"page {name}", words, observed, ok)
    ledger.record("links", "traffic of the page fetches", "only loopback connections",
                  f"{len(connections)} connections, all loopback: {_loopback_only(connections)}",
                  _loopback_only(connections))
    ledger.assert_all()


def test_hostile_links_are_refused_before_any_connection_unless_allowed(
    hostile: HostileWeb, ledger: Ledger, connections: list[str]
) -> None:
    limits = _limits(hostile)
    links = hostile.hostile_links()
    with make_client(limits, resolver=_resolver) as client:
        results = {name: fetch(client, link, limits, resolver=_resolver)
                   for name, link in links.items()}
    for name, result in results.items():
        scheme_only = name.endswith(("file://", "ftp://", "javascript:"))
        expected = "refused_scheme" if scheme_only else "refused_address"
        ok = result.error_kind == expected and bool(result.error)
        # Recorded, not dropped: a link the fetcher refuses still gets a stable storage key.
        key = dedup_key(links[name])
        ledger.record("links", f"link to {name}", f"{expected}, reason kept, no connection",
                      f"{result.error_kind}: {(result.error or '')[:70]} (key {key[:30]})",
                      ok and bool(key))
    direct = [a for a in connections if not a.endswith(f":{hostile.port}")]
    ledger.record(
        "links", "hostile links: where connections went",
        "only the hostile server (for its redirects); sentinel, 10.x, 169.254.x never",
        f"{len(connections)} connections, {len(direct)} elsewhere, "
        f"{len(hostile.sentinel_hits)} sentinel hits",
        not direct and not hostile.sentinel_hits)

    # Allowed by config: allow_private_hosts lets loopback and 10.x through, never metadata.
    allowed = FetchLimits(connect_timeout_s=1, read_timeout_s=1.5, total_timeout_s=3,
                          allow_private_hosts=True)
    with make_client(allowed, resolver=_resolver) as client:
        sentinel = fetch(client, links["loopback 127.0.0.1"], allowed, resolver=_resolver)
        metadata = fetch(client, links["redirect -> metadata"], allowed, resolver=_resolver)
    try:
        check_url_allowed("http://10.0.0.1/admin", True)  # checked only: never contacted here
        private = "allowed"
    except Exception as exc:  # noqa: BLE001
        private = type(exc).__name__
    ledger.record(
        "links", "same links with allow_private_hosts on",
        "loopback fetched, 10.0.0.1 allowed, metadata still refused",
        f"loopback: {sentinel.status}, 10.0.0.1: {private}, metadata: {metadata.error_kind}",
        sentinel.status == 200 and private == "allowed"
        and metadata.error_kind == "refused_address" and len(hostile.sentinel_hits) == 1)
    ledger.assert_all()
