"""Feed polling against a real loopback server: conditional GET, backoff, health, the flow."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest

from newsmon.sources import polling
from newsmon.sources.fetch import FetchLimits, make_client
from newsmon.sources.polling import (
    DAY_S,
    DUE_SLACK_S,
    ERROR_KINDS,
    FeedState,
    PollResult,
    PollSchedule,
    backoff_s,
    failure_delay_s,
    is_due,
    permanent_location,
    poll_feed,
    server_lower_bound_s,
)
from newsmon.store import utcnow
from tests.conftest import ROOT
from tests.feedserver import RecordingServer, Reply, article, rss

LIMITS = FetchLimits(allow_private_hosts=True, connect_timeout_s=2, read_timeout_s=2,
                     total_timeout_s=5)
SCHEDULE = PollSchedule()
NOW = datetime(2026, 1, 5, 12, 0, 0)


@pytest.fixture
def server() -> Iterator[RecordingServer]:
    """Yield a running recording server."""
    srv = RecordingServer()
    yield srv
    srv.close()


def _poll(state: FeedState, limits: FetchLimits = LIMITS, now: datetime = NOW) -> PollResult:
    """Return one poll of state through a fresh client, with a seeded jitter."""
    with make_client(limits) as client:
        return poll_feed(client, state, limits, SCHEDULE, now, random.Random(7))


def _next_state(state: FeedState, result: PollResult) -> FeedState:
    """Return the state the database would hold after result (what save_poll_results keeps)."""
    return FeedState(
        state.url, result.etag, result.last_modified, result.body_hash, result.failures,
        result.next_poll_at, result.moved_to or state.moved_to, result.declared_interval_s,
    )


def _delay_s(result: PollResult, now: datetime = NOW) -> float:
    """Return how long after now the result schedules the next poll, in seconds."""
    return (result.next_poll_at - now).total_seconds()


# --- the backoff schedule ----------------------------------------------------------------------

@pytest.mark.parametrize(
    ("failures", "expected_s"),
    [(1, 300), (2, 600), (3, 1_200), (4, 2_400), (5, 4_800), (8, 38_400), (9, 76_800), (10, DAY_S),
     (30, DAY_S), (10_000, DAY_S)],
)
def test_backoff_doubles_from_five_minutes_and_is_capped_at_a_day(
    failures: int, expected_s: float
) -> None:
    assert backoff_s(failures, SCHEDULE) == expected_s
    rng = random.Random(failures)
    for _ in range(200):
        delay = failure_delay_s(failures, SCHEDULE, rng)
        # Jitter only shortens: a feed failing for years is still tried at least once a day.
        assert 0.8 * expected_s <= delay <= expected_s <= DAY_S


def test_feed_due_within_slack_is_polled_so_daily_retries_do_not_drift() -> None:
    assert is_due(FeedState("http://a/feed"), NOW)
    assert is_due(FeedState("http://a/feed", next_poll_at=NOW + timedelta(seconds=30)), NOW)
    assert not is_due(
        FeedState("http://a/feed", next_poll_at=NOW + timedelta(seconds=DUE_SLACK_S + 1)), NOW
    )


def test_five_failures_follow_the_schedule_then_the_feed_recovers(
    server: RecordingServer,
) -> None:
    server.script("/feed.xml", [Reply(503, b"down")] * 5 + [
        Reply(200, rss([("a", f"{server.base}/a.html")]), {"Content-Type": "application/xml"})
    ])
    state = FeedState(f"{server.base}/feed.xml")
    for n in range(1, 6):
        result = _poll(state)
        assert (result.outcome, result.error_kind, result.status) == ("failed", "http_status", 503)
        assert result.failures == n and result.health == "failing"
        assert 0.8 * backoff_s(n, SCHEDULE) <= _delay_s(result) <= backoff_s(n, SCHEDULE)
        state = _next_state(state, result)
    result = _poll(state)
    assert result.outcome == "new_content" and result.failures == 0 and len(result.items) == 1
    assert len(server.hits("/feed.xml")) == 6


# --- conditional GET and body hash -------------------------------------------------------------

def test_last_modified_only_feed_gets_if_modified_since_and_304(server: RecordingServer) -> None:
    server.feed("/feed.xml", rss([("a", f"{server.base}/a.html")]), etag=None)
    first = _poll(FeedState(f"{server.base}/feed.xml"))
    second = _poll(_next_state(FeedState(f"{server.base}/feed.xml"), first))
    sent = server.hits("/feed.xml")[1].headers
    assert first.outcome == "new_content" and first.last_modified
    assert sent["if-modified-since"] == first.last_modified and "if-none-match" not in sent
    assert (second.outcome, second.status, second.items) == ("not_modified", 304, ())


def test_server_ignoring_conditional_get_is_skipped_by_body_hash_without_parsing(
    server: RecordingServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = rss([("a", f"{server.base}/a.html")])
    # A lying server: a new ETag on every answer, never a 304.
    answers = iter(range(100))
    server.route("/feed.xml", lambda _r: Reply(
        200, body, {"Content-Type": "application/rss+xml", "ETag": f'"{next(answers)}"'}))
    first = _poll(FeedState(f"{server.base}/feed.xml"))

    def no_parsing(*args: object, **kwargs: object) -> None:
        raise AssertionError("an unchanged body must not be parsed")

    monkeypatch.setattr(polling, "parse_feed", no_parsing)
    second = _poll(_next_state(FeedState(f"{server.base}/feed.xml"), first))
    assert server.hits("/feed.xml")[1].headers["if-none-match"] == '"0"'
    assert (second.outcome, second.items, second.failures) == ("unchanged", (), 0)


# --- server hints: lower bounds on the next poll -----------------------------------------------

SY_DAILY_4 = "<sy:updatePeriod>daily</sy:updatePeriod><sy:updateFrequency>4</sy:updateFrequency>"


@pytest.mark.parametrize(
    ("headers", "channel", "expected_s"),
    [
        ({}, "", 0),
        ({"Cache-Control": "public, max-age=1800"}, "", 1_800),
        ({}, "<ttl>120</ttl>", 7_200),
        ({}, SY_DAILY_4, 21_600),
        ({}, "<sy:updatePeriod>hourly</sy:updatePeriod>", 3_600),
        ({"Cache-Control": "max-age=60"}, "<ttl>30</ttl>", 1_800),  # the longer bound wins
        ({"Cache-Control": "max-age=9999999"}, "", DAY_S),  # capped: never silent for weeks
        ({}, "<sy:updatePeriod>yearly</sy:updatePeriod>", DAY_S),
    ],
)
def test_cache_control_ttl_and_sy_update_are_lower_bounds_capped_at_a_day(
    server: RecordingServer, headers: dict[str, str], channel: str, expected_s: float
) -> None:
    body = rss([("a", f"{server.base}/a.html")], extra=channel)
    server.reply("/feed.xml", Reply(200, body, {"Content-Type": "application/xml", **headers}))
    result = _poll(FeedState(f"{server.base}/feed.xml"))
    assert result.outcome == "new_content"
    assert _delay_s(result) == pytest.approx(expected_s)


def test_expires_counts_only_without_max_age_and_retry_after_wins_when_longer() -> None:
    in_1h = format_datetime((NOW + timedelta(hours=1)).replace(tzinfo=UTC), usegmt=True)
    assert server_lower_bound_s({"expires": in_1h}, None, NOW) == 3_600
    assert server_lower_bound_s({"expires": in_1h, "cache-control": "max-age=60"}, None, NOW) == 60
    assert server_lower_bound_s({"expires": "0"}, None, NOW) == 0
    assert server_lower_bound_s({"retry-after": "900", "cache-control": "max-age=60"}, 300,
                                NOW) == 900


def test_feed_ttl_still_applies_when_a_304_parses_nothing(server: RecordingServer) -> None:
    server.feed("/feed.xml", rss([("a", f"{server.base}/a.html")], extra="<ttl>180</ttl>"))
    state = FeedState(f"{server.base}/feed.xml")
    first = _poll(state)
    second = _poll(_next_state(state, first))
    assert second.outcome == "not_modified"
    assert _delay_s(first) == _delay_s(second) == 10_800


@pytest.mark.parametrize(
    ("retry_after", "expected_s"),
    [("7200", 7_200), ("date+3h", 10_800), ("864000", DAY_S), ("soon", None)],
)
def test_429_retry_after_is_honoured_as_seconds_or_date_and_capped(
    server: RecordingServer, retry_after: str, expected_s: float | None
) -> None:
    now = utcnow()
    if retry_after == "date+3h":
        retry_after = format_datetime(
            (now + timedelta(hours=3)).replace(tzinfo=UTC), usegmt=True
        )
    server.reply("/feed.xml", Reply(429, b"slow down", {"Retry-After": retry_after}))
    result = _poll(FeedState(f"{server.base}/feed.xml"), now=now)
    assert (result.error_kind, result.status, result.health) == ("http_status", 429, "failing")
    if expected_s is None:  # unparseable: the ordinary backoff applies
        assert 0.8 * 300 <= _delay_s(result, now) <= 300
    else:
        assert _delay_s(result, now) == pytest.approx(expected_s, abs=1)


# --- gone and moved ----------------------------------------------------------------------------

def test_410_gone_retires_the_feed_but_it_is_still_tried_daily(server: RecordingServer) -> None:
    server.reply("/feed.xml", Reply(410, b"gone"))
    state = FeedState(f"{server.base}/feed.xml", failures=12)
    result = _poll(state)
    assert (result.health, result.error_kind, result.status) == ("gone", "http_status", 410)
    assert _delay_s(result) == DAY_S
    assert result.error is not None and "410" in result.error


def test_permanent_redirect_is_recorded_and_later_polls_go_to_the_new_url(
    server: RecordingServer,
) -> None:
    new = f"{server.base}/new/feed.xml"
    server.reply("/old/feed.xml", Reply(301, b"", {"Location": "/new/feed.xml"}))
    server.feed("/new/feed.xml", rss([("a", "/a.html")]))
    state = FeedState(f"{server.base}/old/feed.xml")
    first = _poll(state)
    assert first.outcome == "new_content" and first.moved_to == new
    # Items keep the configured URL as their feed (its identity); relative links resolve
    # against the URL the body actually came from.
    assert first.items[0].feed_url == state.url
    assert first.items[0].url == f"{server.base}/a.html"
    second = _poll(_next_state(state, first))
    assert second.outcome == "not_modified" and second.moved_to is None  # not reported twice
    assert len(server.hits("/old/feed.xml")) == 1 and len(server.hits("/new/feed.xml")) == 2


@pytest.mark.parametrize(
    ("chain", "expected"),
    [
        (((301, "B"),), "B"),
        (((308, "B"), (301, "C")), "C"),
        (((301, "B"), (302, "C")), "B"),  # C is only a temporary location
        (((302, "B"), (301, "C")), None),  # the configured URL itself was not moved
        (((307, "B"),), None),
        ((), None),
    ],
)
def test_only_a_leading_run_of_permanent_redirects_moves_a_feed(
    chain: tuple[tuple[int, str], ...], expected: str | None
) -> None:
    assert permanent_location(chain) == expected


def test_temporary_redirect_and_broken_target_do_not_move_the_feed(
    server: RecordingServer,
) -> None:
    server.reply("/temp.xml", Reply(302, b"", {"Location": "/feed.xml"}))
    server.reply("/broken.xml", Reply(301, b"", {"Location": "/missing.xml"}))
    server.feed("/feed.xml", rss([("a", "/a.html")]))
    temporary = _poll(FeedState(f"{server.base}/temp.xml"))
    broken = _poll(FeedState(f"{server.base}/broken.xml"))
    assert temporary.outcome == "new_content" and temporary.moved_to is None
    assert broken.outcome == "failed" and broken.moved_to is None and broken.status == 404


# --- every failure has a name ------------------------------------------------------------------

def _slow(_request: object) -> Reply:
    """Answer after the read timeout."""
    time.sleep(1.0)
    return Reply(200, b"late")


@pytest.mark.parametrize(
    ("case", "kind"),
    [
        ("dns", "dns"), ("connect", "connect"), ("timeout", "timeout"),
        ("http_500", "http_status"), ("html", "not_a_feed"), ("garbage", "parse_error"),
        ("no_links", "no_links"), ("too_large", "too_large"),
        ("loopback_refused", "refused_address"), ("ftp", "refused_scheme"),
        ("pdf", "content_type"), ("loop", "too_many_redirects"),
    ],
)
def test_each_failure_is_recorded_with_a_named_error_kind(
    server: RecordingServer, case: str, kind: str
) -> None:
    limits = LIMITS
    url = f"{server.base}/feed.xml"
    if case == "dns":
        url = "http://nonexistent.invalid/feed.xml"  # .invalid never resolves (RFC 6761)
    elif case == "connect":
        closed = RecordingServer()
        closed.close()
        url = f"{closed.base}/feed.xml"
    elif case == "timeout":
        server.route("/feed.xml", _slow)
        limits = FetchLimits(allow_private_hosts=True, connect_timeout_s=0.5, read_timeout_s=0.2)
    elif case == "http_500":
        server.reply("/feed.xml", Reply(500, b"oops"))
    elif case == "html":
        server.page("/feed.xml", "<!doctype html><html><body>Welcome</body></html>")
    elif case == "garbage":
        server.reply("/feed.xml", Reply(200, b"\x00\x01 not xml <<<", {"Content-Type": "text/xml"}))
    elif case == "no_links":
        server.reply("/feed.xml", Reply(200, b"<rss version='2.0'><channel><item><title>t"
                                        b"</title></item></channel></rss>"))
    elif case == "too_large":
        server.feed("/feed.xml", rss([(str(i), f"/{i}.html") for i in range(100)]))
        limits = FetchLimits(allow_private_hosts=True, max_bytes=2_000)
    elif case == "loopback_refused":
        server.feed("/feed.xml", rss([("a", "/a.html")]))
        limits = FetchLimits(allow_private_hosts=False)
    elif case == "ftp":
        url = "ftp://127.0.0.1/feed.xml"
    elif case == "pdf":
        server.reply("/feed.xml", Reply(200, b"%PDF-1.4", {"Content-Type": "application/pdf"}))
    elif case == "loop":
        server.reply("/feed.xml", Reply(301, b"", {"Location": "/feed.xml"}))
    result = _poll(FeedState(url), limits)
    assert kind in ERROR_KINDS
    assert (result.outcome, result.error_kind, result.failures) == ("failed", kind, 1)
    assert result.error and result.next_poll_at > NOW


# --- through the real flow ---------------------------------------------------------------------

def _config(tmp_path: Path, feeds: list[str], quiet_after_days: int = 14) -> Path:
    """Return a config listing feeds (so their schedule applies) with loopback allowed."""
    config = tmp_path / "newsmon.yaml"
    listed = "".join(f"  - {{name: feed{i}, url: '{url}'}}\n" for i, url in enumerate(feeds))
    config.write_text(
        f"database: {tmp_path / 'test.duckdb'}\n"
        f"watchlist_dir: {ROOT / 'config' / 'watchlists'}\n"
        f"feeds:\n{listed}"
        "fetch: {allow_private_hosts: true, per_host_min_interval_s: 0, connect_timeout_s: 2,"
        f" read_timeout_s: 3, quiet_after_days: {quiet_after_days}}}\n"
        "alerts: {channels: [console]}\n"
    )
    return config


def _sql(db: Path, sql: str, params: list[object] | None = None) -> list[tuple[object, ...]]:
    """Return the rows of one statement on the test database (opened and closed around it)."""
    con = duckdb.connect(str(db))
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def _make_due(db: Path, url: str) -> None:
    """Pretend the feed's next poll time has come (time passes between hourly runs)."""
    _sql(db, "UPDATE feeds SET next_poll_at = ? WHERE url = ?",
         [utcnow() - timedelta(minutes=1), url])


@pytest.mark.usefixtures("prefect_harness")
def test_flow_unchanged_feed_gets_304_and_one_new_item_fetches_exactly_one_page(
    tmp_path: Path, server: RecordingServer
) -> None:
    from flows.monitor import monitor

    feed = f"{server.base}/feed.xml"
    for name in ("a", "b", "c"):
        server.page(f"/{name}.html", article(f"Story {name}"))
    server.feed("/feed.xml", rss([("a", f"{server.base}/a.html"), ("b", f"{server.base}/b.html")]))
    config = _config(tmp_path, [feed])
    first = monitor(config=str(config), send_alerts=False)
    assert first["new_articles"] == 2 and first["feeds_healthy"] == 1

    _make_due(tmp_path / "test.duckdb", feed)
    second = monitor(config=str(config), send_alerts=False)
    conditional = server.hits("/feed.xml")[-1]
    assert conditional.headers["if-none-match"] == '"v1"'
    assert "if-modified-since" in conditional.headers
    assert second["feeds_not_modified"] == 1 and second["items_seen"] == 0
    assert second["new_articles"] == 0

    server.feed("/feed.xml", rss([("c", f"{server.base}/c.html"), ("a", f"{server.base}/a.html"),
                                  ("b", f"{server.base}/b.html")]), etag='"v2"')
    _make_due(tmp_path / "test.duckdb", feed)
    third = monitor(config=str(config), send_alerts=False)
    assert third["items_seen"] == 3 and third["new_articles"] == 1
    page_requests = [r.path for r in server.requests if r.path.endswith(".html")]
    assert page_requests.count("/a.html") == page_requests.count("/b.html") == 1
    assert page_requests.count("/c.html") == 1 and len(page_requests) == 3


@pytest.mark.usefixtures("prefect_harness")
def test_flow_same_story_in_three_feeds_under_three_url_variants_is_fetched_and_stored_once(
    tmp_path: Path, server: RecordingServer
) -> None:
    from flows.monitor import monitor

    story = f"{server.base}/world/story.html"
    server.page("/world/story.html", article("One story"))
    https = story.replace("http://", "https://")
    variants = [
        f"{story}?utm_source=rss&utm_medium=feed&fbclid=abc",  # tracking parameters
        f"{story}#comments",  # fragment
        f"{https}?gclid=x",  # https instead of http (never fetched: TLS on a plain server)
    ]
    feeds = []
    for i, link in enumerate(variants):
        server.feed(f"/feed{i}.xml", rss([(f"guid-{i}", link.replace("&", "&amp;"))]))
        feeds.append(f"{server.base}/feed{i}.xml")
    summary = monitor(config=str(_config(tmp_path, feeds)), send_alerts=False)
    assert summary["items_seen"] == 3 and summary["new_articles"] == 1
    assert len(server.hits("/world/story.html")) == 1
    db = tmp_path / "test.duckdb"
    assert _sql(db, "SELECT count(*) FROM articles")[0][0] == 1
    assert _sql(db, "SELECT count(*) FROM pages")[0][0] == 1
    # Each feed still brought a new item (so none turns quiet), all pointing at the one story.
    assert _sql(db, "SELECT count(DISTINCT canonical_url), count(*) FROM items") == [(1, 3)]
    assert _sql(db, "SELECT count(*) FROM feeds WHERE last_new_item_at IS NOT NULL "
                    "AND items_total = 1") == [(3,)]


@pytest.mark.usefixtures("prefect_harness")
def test_flow_failing_feed_backs_off_is_never_abandoned_and_recovers(
    tmp_path: Path, server: RecordingServer
) -> None:
    from flows.monitor import monitor

    feed = f"{server.base}/feed.xml"
    db = tmp_path / "test.duckdb"
    down = threading.Event()
    down.set()
    body = rss([("a", f"{server.base}/a.html")])
    server.page("/a.html", article("Back"))
    server.route("/feed.xml", lambda _r: Reply(503, b"down") if down.is_set() else Reply(
        200, body, {"Content-Type": "application/rss+xml"}))
    config = str(_config(tmp_path, [feed]))

    def stored() -> tuple[Any, ...]:
        """Return (failures, status, last status code, seconds until the next poll)."""
        failures, polled, next_poll, status, code = _sql(
            db, "SELECT failures, last_polled_at, next_poll_at, status, last_status_code "
            "FROM feeds WHERE url = ?", [feed])[0]
        return failures, status, code, (next_poll - polled).total_seconds()

    # (The five-failure schedule is checked poll by poll above; here each run costs ~0.5 s.)
    for n in (1, 2):
        summary = monitor(config=config, send_alerts=False)
        assert summary["feeds_failing"] == 1 and summary["feed_errors"][0]["kind"] == "http_status"
        failures, status, code, gap = stored()
        assert (failures, status, code) == (n, "failing", 503)
        assert 0.8 * backoff_s(n, SCHEDULE) <= gap <= backoff_s(n, SCHEDULE)
        if n == 1:
            # A run before next_poll_at leaves the feed alone, still reported as failing...
            skipped = monitor(config=config, send_alerts=False)
            assert skipped["feeds_polled"] == 0 and skipped["feeds_failing"] == 1
            assert len(server.hits("/feed.xml")) == 1
        _make_due(db, feed)  # ...and once it is due, the feed is polled again.
    # Weeks of failures later the feed is still polled, at least once a day.
    _sql(db, "UPDATE feeds SET failures = 40 WHERE url = ?", [feed])
    monitor(config=config, send_alerts=False)
    failures, status, _code, gap = stored()
    assert (failures, status) == (41, "failing") and 0.8 * DAY_S <= gap <= DAY_S
    assert len(server.hits("/feed.xml")) == 3
    _make_due(db, feed)
    down.clear()
    recovered = monitor(config=config, send_alerts=False)
    assert recovered["feeds_healthy"] == 1 and recovered["new_articles"] == 1
    assert _sql(db, "SELECT failures, status FROM feeds WHERE url = ?", [feed]) == [(0, "ok")]


@pytest.mark.usefixtures("prefect_harness")
def test_flow_summary_counts_healthy_failing_quiet_gone_and_reports_moves(
    tmp_path: Path, server: RecordingServer
) -> None:
    from flows.monitor import monitor

    server.page("/a.html", article("Story a"))
    server.feed("/ok.xml", rss([("a", f"{server.base}/a.html")]))
    server.feed("/quiet.xml", rss([]))
    server.reply("/gone.xml", Reply(410, b"gone"))
    server.reply("/limited.xml", Reply(429, b"", {"Retry-After": "7200"}))
    server.reply("/old.xml", Reply(308, b"", {"Location": "/new.xml"}))
    server.feed("/new.xml", rss([]))
    names = ["ok", "quiet", "gone", "limited", "old"]
    feeds = [f"{server.base}/{name}.xml" for name in names]
    db = tmp_path / "test.duckdb"
    config = str(_config(tmp_path, feeds, quiet_after_days=3))
    first = monitor(config=config, send_alerts=False)
    assert (first["feeds_healthy"], first["feeds_failing"], first["feeds_gone"]) == (3, 1, 1)
    assert first["feeds_quiet"] == 0
    assert first["feeds_moved"] == [{"feed": feeds[4], "moved_to": f"{server.base}/new.xml"}]
    assert {e["feed"]: e["kind"] for e in first["feed_errors"]} == {
        feeds[2]: "http_status", feeds[3]: "http_status"}
    # Four days without a new item: the two feeds that never had one turn quiet.
    _sql(db, "UPDATE feeds SET added_at = added_at - INTERVAL 4 DAY, "
             "last_new_item_at = last_new_item_at - INTERVAL 4 DAY")
    _sql(db, "UPDATE feeds SET last_new_item_at = ? WHERE url = ?", [utcnow(), feeds[0]])
    # An hour later every feed is due again, except the one whose 429 asked for two hours.
    limited = _sql(db, "SELECT next_poll_at - last_polled_at FROM feeds WHERE url = ?",
                   [feeds[3]])[0][0]
    assert limited == timedelta(seconds=7200)
    for url in feeds[:3] + feeds[4:]:
        _make_due(db, url)
    _sql(db, "UPDATE feeds SET next_poll_at = next_poll_at - INTERVAL 1 HOUR, "
             "last_polled_at = last_polled_at - INTERVAL 1 HOUR WHERE url = ?", [feeds[3]])
    second = monitor(config=config, send_alerts=False)
    assert len(server.hits("/limited.xml")) == 1
    assert len(server.hits("/old.xml")) == 1 and len(server.hits("/new.xml")) == 2  # new URL
    assert (second["feeds_healthy"], second["feeds_quiet"]) == (1, 2)
    assert (second["feeds_failing"], second["feeds_gone"]) == (1, 1)
    assert second["feeds_moved"] == first["feeds_moved"]  # reported until the config changes
    gone = _sql(db, "SELECT status, next_poll_at - last_polled_at FROM feeds WHERE url = ?",
                [feeds[2]])[0]
    assert gone == ("gone", timedelta(days=1))
