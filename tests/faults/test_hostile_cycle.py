"""One real cycle (child process) over the whole hostile web plus the good sample site.

Whatever the hostile feeds and pages do, the cycle must end on its own within a bounded time,
in bounded memory, with every good feed processed (its twelve articles stored, its two alerts
delivered once), every fault named in the database, every hostile link refused and recorded,
and no connection ever leaving loopback.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest

from newsmon.store import utcnow
from tests.faults.conftest import Ledger, good_article_urls
from tests.faults.harness import rows, run_cycle, write_config
from tests.faults.hostile import (
    ABSURD_DATES,
    RSS,
    HostileWeb,
    content_faults,
    network_faults,
    rss,
)
from tests.slack_endpoint import slack_endpoint

pytestmark = [pytest.mark.usefixtures("prefect_harness"), pytest.mark.faults, pytest.mark.slow]
DEAD_LINKS = 40  # = max_new_items_per_feed of the test config

# Bounds for the one cycle, with the test config's fetch limits (connect 1 s, read 2 s, total
# 4 s): polls run in parallel, so the slow paths cost a few deadlines, not one each; the rest is
# process start (Prefect, spaCy) and the 10,000-item feed. Memory: the process holds at most a
# few byte-capped bodies (10 MB each) next to spaCy and Prefect.
CYCLE_BOUND_S = 90.0
RSS_BOUND_MB = 1200.0

# Feed fault -> (expected in words, check on the feeds row: status, kind, code, next poll in s).
FeedCheck = Callable[[dict[str, Any]], bool]


def _failing(kind: str, code: int | None = None) -> tuple[str, FeedCheck]:
    """Return the expectation that a feed is failing with that error kind (and HTTP code)."""
    words = f"feed failing: {kind}" + (f" {code}" if code else "")
    return words, lambda f: (f["status"], f["kind"], f["code"] if code else None) == (
        "failing", kind, code)


NETWORK_EXPECTED: dict[str, tuple[str, FeedCheck]] = {
    "connection refused": _failing("connect"),
    "DNS failure (.invalid)": _failing("dns"),
    "reset mid-body": _failing("connect"),
    "trickle 1 byte/s": _failing("timeout"),
    "never answers": _failing("timeout"),
    "301 loop": _failing("too_many_redirects"),
    "302 loop": _failing("too_many_redirects"),
    "404": _failing("http_status", 404),
    "410": ("feed gone (retired, retried daily)",
            lambda f: f["status"] == "gone" and f["next_s"] > 23 * 3600),
    "429 + Retry-After": ("failing 429, next poll after Retry-After (1 h)",
                          lambda f: f["code"] == 429 and f["next_s"] >= 3500),
    "500": _failing("http_status", 500),
    "503 + Retry-After": ("failing 503, Retry-After in 2099 capped at 24 h",
                          lambda f: f["code"] == 503 and 23 * 3600 < f["next_s"] <= 86_400),
}
CONTENT_EXPECTED: dict[str, tuple[str, FeedCheck]] = {
    "malformed XML": _failing("parse_error"),
    "malformed but readable XML": ("ok, its 1 item stored",
                                   lambda f: f["status"] == "ok" and f["articles"] == 1),
    "lying charset (feed)": ("ok, its 1 item stored",
                             lambda f: f["status"] == "ok" and f["articles"] == 1),
    "HTML instead of a feed": _failing("not_a_feed"),
    "empty 200": _failing("not_a_feed"),
    "100 MB feed": _failing("too_large"),
    "gzip bomb (feed)": _failing("too_large"),
    "absurd dates": (f"ok, {len(ABSURD_DATES)} items stored, no date outside 1995..now+24h",
                     lambda f: f["status"] == "ok" and f["articles"] == len(ABSURD_DATES)
                     and f["dates_sane"]),
    "10,000 items": ("ok, max_new_items_per_feed (40) items stored this cycle",
                     lambda f: f["status"] == "ok" and f["articles"] == 40),
    "duplicate GUIDs": ("ok, first item per GUID kept, one article per URL (2)",
                        lambda f: f["status"] == "ok" and f["articles"] == 2),
}
# Article page -> (expected in words, allowed article statuses).
PAGE_EXPECTED: dict[str, tuple[str, set[str]]] = {
    "big-paragraph.html": ("stored, analysed on a capped prefix, no crash", {"ok"}),
    "no-text.html": ("stored from the feed summary", {"ok", "thin"}),
    "report.pdf": ("not fetched (content type), feed summary kept", {"fetch_failed"}),
    "photo.jpg": ("not fetched (content type), feed summary kept", {"fetch_failed"}),
    "pdf-as-html.html": ("binary served as HTML: stored, no crash", {"ok", "thin", "empty"}),
    "bomb.html": ("too_large, feed summary kept", {"fetch_failed"}),
    "huge.html": ("too_large, feed summary kept", {"fetch_failed"}),
    "trickle.html": ("timeout, feed summary kept", {"fetch_failed"}),
    "hang.html": ("timeout, feed summary kept", {"fetch_failed"}),
    "reset.html": ("connection error, feed summary kept", {"fetch_failed"}),
    "latin1.html": ("decoded as ISO-8859-1 (declared)", {"not_supported_language"}),
    "lying-charset.html": ("UTF-8 body under an ISO-8859-1 header decoded as UTF-8",
                           {"not_supported_language"}),
    "redirect-loop.html": ("too_many_redirects, feed summary kept", {"fetch_failed"}),
    "absurd-date.html": ("stored, date 9999/0001 rejected", {"ok"}),
}


def _send_feed(h: BaseHTTPRequestHandler, body: bytes) -> None:
    """Answer with an RSS body."""
    h.send_response(200)
    h.send_header("Content-Type", RSS)
    h.send_header("Content-Length", str(len(body)))
    h.end_headers()
    h.wfile.write(body)


def _feed_facts(db: Path, url: str, now: datetime) -> dict[str, Any]:
    """Return a feed's status, error kind, HTTP code, seconds to next poll, stored articles."""
    (status, kind, code, next_poll), = rows(
        db, "SELECT status, last_error_kind, last_status_code, next_poll_at FROM feeds "
        "WHERE url = ?", [url])
    dates = [r[0] for r in rows(db, "SELECT published_at FROM articles WHERE feed_url = ?",
                                [url])]
    sane = all(d is None or datetime(1995, 1, 1) <= d <= now + timedelta(hours=24)
               for d in dates)
    return {"status": status, "kind": kind, "code": code, "articles": len(dates),
            "next_s": (next_poll - now).total_seconds() if next_poll else 0.0,
            "dates_sane": sane}


def _observed(facts: dict[str, Any]) -> str:
    """Return a feed's facts as a short observation."""
    text = facts["status"]
    if facts["kind"]:
        text += f": {facts['kind']}" + (f" {facts['code']}" if facts["code"] else "")
    text += f", {facts['articles']} articles"
    if facts["next_s"] > 3000:
        text += f", next poll in {facts['next_s'] / 3600:.1f} h"
    return text


def test_hostile_web_cycle_is_bounded_and_every_good_feed_is_processed(
    tmp_path: Path, hostile: HostileWeb, good_feeds: tuple[str, list[str]], good_site: Path,
    ledger: Ledger,
) -> None:
    base, good = good_feeds
    network, content = network_faults(hostile), content_faults(hostile)
    articles_feed, links_feed = hostile.url("/feeds/articles.xml"), hostile.url("/feeds/links.xml")
    # A feed whose 40 links all point at a second server that never answers.
    dead = HostileWeb()
    dead_feed = hostile.url("/feeds/dead-host.xml")
    dead_body = rss([{"title": f"Dead {i}", "link": dead.url(f"/pages/hang.html?n={i}"),
                      "guid": f"dead-{i}"} for i in range(DEAD_LINKS)])
    hostile.routes["/feeds/dead-host.xml"] = lambda h, w: _send_feed(h, dead_body)
    feeds = [*good, *network.values(), *content.values(), articles_feed, links_feed, dead_feed]
    config = write_config(
        tmp_path, feeds, allowed_hosts=[*hostile.allowed_hosts(), *dead.allowed_hosts(),
                                        base.removeprefix("http://")],
    )
    db = tmp_path / "newsmon.duckdb"
    try:
        with slack_endpoint() as slack:
            run = run_cycle(config, env={"NEWSMON_SLACK_WEBHOOK_URL": slack.url})
            received = [body["text"] for body in slack.delivered]
        dead_requests = len(dead.hits_for("/pages/hang.html"))
    finally:
        dead.close()
    now = utcnow()
    assert not run.crashed, run.stderr[-4000:]

    # The cycle as a whole.
    ledger.record(
        "cycle", f"{len(feeds) - len(good)} hostile feeds beside {len(good)} good ones",
        f"cycle ends by itself in < {CYCLE_BOUND_S:.0f} s", f"exit {run.returncode} after "
        f"{run.seconds:.1f} s", run.returncode == 0 and run.seconds < CYCLE_BOUND_S,
        crashes=int(run.crashed))
    skipped = rows(db, "SELECT count(*) FROM pages WHERE error_kind = 'skipped'")[0][0]
    ledger.record(
        "cycle", f"{DEAD_LINKS} links to a host that never answers",
        "a few requests, the rest skipped (not held for 40 x read timeout)",
        f"{dead_requests} requests, {skipped} skipped", dead_requests <= 8 and skipped >= 32)
    ledger.record(
        "cycle", "memory under the hostile web", f"peak RSS < {RSS_BOUND_MB:.0f} MB",
        f"peak RSS {run.max_rss_mb:.0f} MB", run.max_rss_mb < RSS_BOUND_MB)
    stored = {r[0] for r in rows(db, "SELECT url FROM articles WHERE status = 'ok'")}
    wanted = good_article_urls(good_site, base)
    lost = len(wanted - stored)
    ledger.record(
        "cycle", "good feeds among hostile ones", f"all {len(wanted)} good articles stored ok, "
        "2 alerts delivered once", f"{len(wanted) - lost} stored ok, {len(received)} alerts "
        f"delivered ({len(set(received))} distinct)",
        lost == 0 and len(received) == 2, lost=lost, duplicates=len(received) - len(set(received)))

    # Each feed-level fault, read back from the feeds table.
    for group, faults, expected in (("network", network, NETWORK_EXPECTED),
                                    ("content", content, CONTENT_EXPECTED)):
        for name, url in faults.items():
            words, check = expected[name]
            facts = _feed_facts(db, url, now)
            ledger.record(f"cycle: {group}", name, words, _observed(facts), check(facts))

    # Each hostile article page, read back from the articles table.
    for name, (words, statuses) in PAGE_EXPECTED.items():
        url = hostile.url(f"/pages/{name}")
        found = rows(db, "SELECT status, error, text_chars, published_at, title FROM articles "
                         "WHERE url = ?", [url])
        if not found:
            ledger.record("cycle: content", f"page {name}", words, "no article row", False,
                          lost=1)
            continue
        (status, error, chars, published, title), = found
        observed = f"{status}, {chars} chars" + (f" ({error.split(': ', 2)[-1][:60]})"
                                                  if error else "")
        ok = status in statuses
        if name == "absurd-date.html":
            ok = ok and (published is None or published.year in range(1995, now.year + 2))
            observed += f", published {published}"
        if name in ("latin1.html", "lying-charset.html"):
            ok = ok and title == "Visite à Damas"
            observed += f", title {title!r}"
        ledger.record("cycle: content", f"page {name}", words, observed, ok)

    # Hostile links: refused before any connection, each refusal recorded.
    for name in hostile.hostile_links():
        found = rows(db, "SELECT status, error FROM articles WHERE feed_url = ? AND title = ?",
                     [links_feed, f"Hostile link {name}"])
        status, error = found[0] if found else (None, None)
        ledger.record(
            "cycle: links", f"link to {name}", "refused, refusal recorded, never contacted",
            f"{status}: {(error or '').split(';')[0][-70:]}" if found else "no record",
            status == "refused" and bool(error), lost=0 if found else 1)
    ledger.record(
        "cycle: links", "traffic of the whole cycle", "only loopback connections, sentinel never hit",
        f"{len(run.netlog)} connections, {len(run.blocked_connections)} non-loopback, "
        f"{len(hostile.sentinel_hits)} sentinel hits",
        not run.blocked_connections and not hostile.sentinel_hits and len(run.netlog) > 0)
    ledger.assert_all()
