"""Real-world feed files (../shared/data/feeds), feed discovery, `newsmon feeds` and migration."""

from __future__ import annotations

import gzip
import io
import random
import re
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import duckdb
import httpx
import pytest
from rich.console import Console
from typer.testing import CliRunner

from newsmon.cli.main import app
from newsmon.models import FeedItem
from newsmon.settings import load_settings
from newsmon.sources.discover import add_feed_to_config, feed_links
from newsmon.sources.feeds import PARSE_ERROR_KINDS, parse_feed
from newsmon.sources.fetch import FetchLimits, make_client
from newsmon.sources.polling import ERROR_KINDS, FeedState, PollResult, PollSchedule, poll_feed
from newsmon.store import migrate, migrations, utcnow
from newsmon.store.repo import feed_health, register_feeds, save_poll_results
from newsmon.urls import canonicalize_url
from tests.conftest import patch_cli_consoles
from tests.feedserver import RecordingServer, Reply, rss

SHARED = Path(__file__).resolve().parents[3] / "shared"
FEEDS_DIR = SHARED / "data" / "feeds"
LIMITS = FetchLimits(allow_private_hosts=True, connect_timeout_s=2, read_timeout_s=3)
GZIPPED = "node-feedparser/invalid-characters-gzipped.xml"

# What each real file must give: an item count, a named error kind, or "empty" (a well-formed
# feed with no entries: valid, not an error; it turns "quiet" after fetch.quiet_after_days).
# The feedparser files carry their test's HTTP Content-Type in a "Header:" comment; it is sent.
EXPECTED: dict[str, int | str] = {
    "feedparser-encoding-bozo/bozo_bogus_encoding.xml": "empty",
    "feedparser-encoding-bozo/bozo_double-encoded-html.xml": "parse_error",
    "feedparser-encoding-bozo/bozo_encoding_mismatch_crash.xml": "no_links",
    "feedparser-encoding-bozo/bozo_http_i18n.xml": "empty",
    "feedparser-encoding-bozo/bozo_http_text_plain.xml": "empty",
    "feedparser-encoding-bozo/bozo_http_text_plain_charset.xml": "empty",
    "feedparser-encoding-bozo/bozo_invalid-bytes-with-bom.xml": "parse_error",
    "feedparser-encoding-bozo/bozo_linenoise.xml": "no_links",
    "feedparser-illformed/aaa_illformed.xml": "parse_error",
    "feedparser-illformed/always_strip_doctype.xml": "empty",
    "feedparser-illformed/chardet/big5.xml": "empty",
    "feedparser-illformed/chardet/eucjp.xml": "no_links",
    "feedparser-illformed/chardet/euckr.xml": "no_links",
    "feedparser-illformed/chardet/gb2312.xml": "no_links",
    "feedparser-illformed/chardet/koi8r.xml": "no_links",
    "feedparser-illformed/chardet/shiftjis.xml": "no_links",
    "feedparser-illformed/chardet/tis620.xml": "no_links",
    "feedparser-illformed/chardet/windows1255.xml": "no_links",
    "feedparser-illformed/geo/georss_point_no_coords.xml": "no_links",
    "feedparser-illformed/geo/georss_polygon_insufficient_coords.xml": "no_links",
    "feedparser-illformed/geo/gml_point.xml": "no_links",
    "feedparser-illformed/http_high_bit_date.xml": "empty",
    "feedparser-illformed/rdf_channel_empty_textinput.xml": "parse_error",
    "feedparser-illformed/rss_empty_document.xml": "parse_error",
    "feedparser-illformed/rss_incomplete_cdata.xml": "parse_error",
    "feedparser-illformed/rss_item_link_corrupted_ampersands.xml": 1,
    "feedparser-illformed/undeclared_namespace.xml": "parse_error",
    "node-feedparser/guid-dupes.xml": 1,
    "node-feedparser/iconv.xml": 10,
    "node-feedparser/illegally-nested.xml": 10,  # 20 entries, 10 distinct GUIDs
    "node-feedparser/intertwingly.atom": 20,
    GZIPPED: "parse_error",  # raw gzip bytes: only the HTTP layer may decompress
    "node-feedparser/notafeed.html": "not_a_feed",
    "node-feedparser/saxerror.xml": 3,  # malformed XML, but three readable items
    "node-feedparser/tpm.atom": 20,
    "node-feedparser/wapowellness.xml": 29,
    "rss-parser/content-encoded.rss": 7,
    "rss-parser/craigslist.rss": 25,
    "rss-parser/encoding.rss": 40,
    "rss-parser/feedburner.atom": 25,
    "rss-parser/guardian.rss": 55,
    "rss-parser/heise.atom": 15,
    "rss-parser/reddit-atom.rss": 24,
    "rss-parser/rss-1.rss": 69,
    "rss-parser/uolNoticias.rss": 15,
}
_HEADER = re.compile(rb"Header:\s*Content-type:\s*([^\r\n]+)", re.IGNORECASE)
_BY_SUFFIX = {".atom": "application/atom+xml", ".html": "text/html", ".rss": "application/rss+xml"}


def _feed_files() -> list[Any]:
    """Return one pytest param per real feed file, or one skipped param when the data is absent."""
    if not FEEDS_DIR.is_dir():
        reason = f"{FEEDS_DIR} is absent (real third-party feeds live in ../shared, not the repo)"
        return [pytest.param(None, marks=pytest.mark.skip(reason=reason), id="absent")]
    files = sorted(
        p for p in FEEDS_DIR.rglob("*") if p.is_file() and p.name not in ("LICENSE", "SOURCE")
    )
    return [pytest.param(p, id=p.relative_to(FEEDS_DIR).as_posix()) for p in files]


def _content_type(path: Path, raw: bytes) -> str:
    """Return the Content-Type to serve a file with: its test's Header comment, else by suffix."""
    match = _HEADER.search(raw[:600])
    if match:
        return match.group(1).decode().strip()
    return _BY_SUFFIX.get(path.suffix, "application/xml")


def _check(name: str, items: int, error_kind: str | None, version: str) -> None:
    """Assert an outcome is items, a named error or a well-formed empty feed, as EXPECTED says."""
    if items:
        assert error_kind is None
        outcome: int | str = items
    elif error_kind is not None:
        assert error_kind in ERROR_KINDS
        outcome = error_kind
    else:
        assert version, "an empty outcome must at least be a recognised feed format"
        outcome = "empty"
    if name in EXPECTED:
        assert outcome == EXPECTED[name]


@pytest.fixture
def server() -> Iterator[RecordingServer]:
    """Yield a running recording server."""
    srv = RecordingServer()
    yield srv
    srv.close()


@pytest.mark.parametrize("path", _feed_files())
def test_real_feed_file_parses_to_items_or_a_named_error(path: Path) -> None:
    raw = path.read_bytes()
    name = path.relative_to(FEEDS_DIR).as_posix()
    parsed = parse_feed(raw, "http://feeds.example/feed", content_type=_content_type(path, raw))
    if parsed.error_kind is not None:
        assert parsed.error_kind in PARSE_ERROR_KINDS
        assert parsed.error and "http://feeds.example/feed" in parsed.error
    assert all(item.url.startswith(("http://", "https://")) for item in parsed.items)
    assert len({item.guid for item in parsed.items}) == len(parsed.items)  # no duplicate GUIDs
    _check(name, len(parsed.items), parsed.error_kind, parsed.version)


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[RecordingServer, httpx.Client]]:
    """Yield one server and one client for a whole parametrised test (one path per case)."""
    # Shared because building a client costs ~35 ms (its TLS context), x46 files.
    srv = RecordingServer()
    with make_client(LIMITS) as client:
        yield srv, client
    srv.close()


@pytest.mark.parametrize("path", _feed_files())
def test_real_feed_file_served_over_http_polls_to_items_or_a_named_error(
    path: Path, served: tuple[RecordingServer, httpx.Client]
) -> None:
    server, client = served
    raw = path.read_bytes()
    name = path.relative_to(FEEDS_DIR).as_posix()
    server.reply(f"/{name}", Reply(200, raw, {"Content-Type": _content_type(path, raw)}))
    result = poll_feed(client, FeedState(f"{server.base}/{name}"), LIMITS, PollSchedule(),
                       utcnow(), random.Random(1))
    assert result.outcome in ("new_content", "failed")
    assert (result.outcome == "failed") == (result.error_kind is not None)
    # The poll has no version field; an empty success stands for a recognised empty feed.
    _check(name, len(result.items), result.error_kind, "feed")


def test_gzip_file_is_decoded_by_the_http_layer_not_by_the_parser(
    server: RecordingServer,
) -> None:
    raw = (FEEDS_DIR / GZIPPED) if FEEDS_DIR.is_dir() else None
    if raw is None or not raw.exists():
        pytest.skip(f"{FEEDS_DIR / GZIPPED} is absent (real data lives in ../shared)")
    body = raw.read_bytes()
    start = time.perf_counter()
    direct = parse_feed(body, "http://feeds.example/feed")
    assert direct.error_kind == "parse_error" and "gzip" in (direct.error or "")
    assert time.perf_counter() - start < 0.1  # named at once, not after feedparser's guessing
    # Served with Content-Encoding: gzip (the body stays compressed on the wire).
    server.reply("/enc", Reply(200, body, {"Content-Type": "application/rss+xml",
                                           "Content-Encoding": "gzip"}))
    # Served as a .gz download: not a feed type, refused before parsing.
    server.reply("/download", Reply(200, body, {"Content-Type": "application/gzip"}))
    with make_client(LIMITS) as client:
        polls = {path: poll_feed(client, FeedState(f"{server.base}{path}"), LIMITS,
                                 PollSchedule(), utcnow()) for path in ("/enc", "/download")}
    assert polls["/enc"].outcome == "new_content" and len(polls["/enc"].items) == 25
    assert len(gzip.decompress(body)) > len(body) * 5  # it really was compressed on the wire
    assert polls["/download"].error_kind == "content_type"


def test_charset_quirks_decode_to_the_right_characters(server: RecordingServer) -> None:
    if not FEEDS_DIR.is_dir():
        pytest.skip(f"{FEEDS_DIR} is absent (real data lives in ../shared)")
    # windows-1251 declared in the XML; latin-1 bytes with no declaration at all.
    server.feed("/ru.xml", (FEEDS_DIR / "node-feedparser/iconv.xml").read_bytes(),
                content_type="application/xml")
    server.feed("/br.xml", (FEEDS_DIR / "rss-parser/uolNoticias.rss").read_bytes(),
                content_type="application/rss+xml")
    with make_client(LIMITS) as client:
        ru, br = (poll_feed(client, FeedState(f"{server.base}{p}"), LIMITS, PollSchedule(),
                            utcnow()) for p in ("/ru.xml", "/br.xml"))
    assert ru.title.startswith("Новости Оренбурга")
    assert "simulações" in br.items[0].title
    assert not any("\ufffd" in item.title for item in ru.items + br.items)


# --- discovery and `newsmon feeds add` ---------------------------------------------------------

def test_feed_links_prefer_announced_links_then_feed_looking_anchors() -> None:
    html = (
        "<html><head><base href='/news/'>"
        "<link rel='alternate' type='application/atom+xml' href='atom.xml'>"
        "<link rel='alternate' type='text/html' hreflang='fr' href='/fr/'>"
        "<link rel='stylesheet' href='x.css'></head><body>"
        "<a href='/about'>about</a><a href='https://other.example/rss/'>RSS</a>"
        "<a href='?feed=rss2'>wp</a><a href='atom.xml#top'>dup</a></body></html>"
    )
    assert feed_links(html, "http://site.example/news/page.html") == [
        "http://site.example/news/atom.xml",
        "https://other.example/rss/",
        "http://site.example/news/?feed=rss2",
    ]


def _site(server: RecordingServer) -> None:
    """Serve a news page announcing a broken feed and linking a working one."""
    server.page("/", "<html><head><title>News</title>"
                     "<link rel='alternate' type='application/rss+xml' href='/broken.xml'>"
                     "</head><body><a href='/rss/'>Our feed</a></body></html>")
    server.reply("/broken.xml", Reply(500, b"oops"))
    server.feed("/rss/", rss([("a", "/a.html")], title="Site News"))
    server.page("/plain", "<html><body>No feeds here</body></html>")


def _run_cli(args: list[str], monkeypatch: pytest.MonkeyPatch) -> tuple[int, str]:
    """Return (exit code, all output) of a newsmon command, on a wide console."""
    buffer = io.StringIO()
    console = Console(file=buffer, width=200)
    patch_cli_consoles(monkeypatch, out=console, err=console)
    result = CliRunner().invoke(app, args)
    return result.exit_code, buffer.getvalue() + result.output


def test_feeds_add_discovers_validates_and_prints_the_config_line(
    server: RecordingServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _site(server)
    config = tmp_path / "newsmon.yaml"
    config.write_text("feeds: []\n")
    code, output = _run_cli(
        ["feeds", "add", f"{server.base}/", "--allow-private-hosts", "--config", str(config)],
        monkeypatch,
    )
    assert code == 0, output
    assert f'  - {{name: "Site News", url: "{server.base}/rss/"}}' in output
    assert len(server.hits("/broken.xml")) == 1  # tried first, rejected by validation
    assert config.read_text() == "feeds: []\n"  # nothing saved without --save

    code, output = _run_cli(
        ["feeds", "add", f"{server.base}/plain", "--allow-private-hosts", "--config", str(config)],
        monkeypatch,
    )
    assert code == 1 and "links no feed" in output


def test_feeds_add_save_appends_to_the_config_and_keeps_its_comments(
    server: RecordingServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _site(server)
    config = tmp_path / "newsmon.yaml"
    config.write_text(
        "# my config\nfeeds:\n  - {name: A, url: 'http://a.example/feed'}  # first\n"
        "  # more to come\n\nfetch:\n  quiet_after_days: 7\n"
    )
    args = ["feeds", "add", f"{server.base}/rss/", "--allow-private-hosts", "--config",
            str(config), "--save", "--name", "Mine"]
    code, output = _run_cli(args, monkeypatch)
    assert code == 0, output
    text = config.read_text()
    assert text.startswith("# my config\n") and "# first" in text and "# more to come" in text
    settings = load_settings(config)
    assert [(f.name, f.url) for f in settings.feeds] == [
        ("A", "http://a.example/feed"), ("Mine", f"{server.base}/rss/")]
    assert settings.fetch.quiet_after_days == 7
    code, output = _run_cli(args, monkeypatch)
    assert code == 1 and "already in" in output
    with pytest.raises(ValueError, match="already in"):
        add_feed_to_config(config, "Again", "http://a.example/feed")


# --- `newsmon feeds` health table --------------------------------------------------------------

def _poll(url: str, outcome: str, **fields: Any) -> PollResult:
    """Return a PollResult with defaults for the fields a test does not care about."""
    now = utcnow()
    values: dict[str, Any] = {
        "url": url, "outcome": outcome, "items": (), "status": 200, "etag": None,
        "last_modified": None, "body_hash": None, "error_kind": None, "error": None,
        "next_poll_at": now + timedelta(hours=1), "failures": 0, "polled_at": now,
    }
    values.update(fields)
    return PollResult(**values)


def test_feeds_command_prints_status_last_success_items_failures_next_poll_and_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "h.duckdb"
    con = duckdb.connect(str(db))
    migrate(con)
    urls = [f"http://{name}.example/feed" for name in ("ok", "down", "gone", "moved", "quiet")]
    register_feeds(con, [(u, u.split("//")[1].split(".")[0]) for u in urls])
    save_poll_results(con, [
        _poll(urls[0], "new_content"),
        _poll(urls[1], "failed", status=503, error_kind="http_status", failures=3,
              error=f"{urls[1]}: HTTP 503 Service Unavailable; retry later"),
        _poll(urls[2], "failed", status=410, error_kind="http_status", failures=1,
              error=f"{urls[2]}: HTTP 410 Gone; the page is gone"),
        _poll(urls[3], "not_modified", moved_to="https://new.example/feed"),
        _poll(urls[4], "unchanged"),
    ], quiet_after_days=14)
    con.execute("UPDATE feeds SET items_total = 42, last_new_item_at = ? WHERE url = ?",
                [utcnow(), urls[0]])
    con.execute("UPDATE feeds SET added_at = added_at - INTERVAL 20 DAY WHERE url = ?", [urls[4]])
    statuses = {h.url: h.status for h in feed_health(con, utcnow(), 14)}
    con.close()
    assert statuses == dict(zip(urls, ["ok", "failing", "gone", "ok", "quiet"], strict=True))
    config = tmp_path / "c.yaml"
    config.write_text("fetch: {quiet_after_days: 14}\n")
    code, output = _run_cli(["feeds", "--db", str(db), "--config", str(config)], monkeypatch)
    assert code == 0, output
    for header in ("status", "last success", "items", "failures", "next poll", "error"):
        assert header in output
    assert "http_status 503" in output and "http_status 410" in output
    assert "moved permanently -> https://new.example/feed" in output
    assert "retired (410 Gone): still checked once a day" in output
    assert "no item since it was added" in output
    assert "42" in output and "in 59m" in output
    assert output.index(urls[2]) < output.index(urls[1]) < output.index(urls[4])  # worst first
    assert all(url in output for url in urls)
    assert "2 ok, 1 quiet, 1 failing, 1 gone" in output


def test_items_of_stories_already_stored_count_as_new_for_their_feed_but_others_wait(
    tmp_path: Path,
) -> None:
    con = duckdb.connect(str(tmp_path / "i.duckdb"))
    migrate(con)
    feed = "http://wire-copy.example/feed"
    register_feeds(con, [(feed, "wire copy")])
    story = "http://news.example/story"  # first fetched through another feed
    con.execute("INSERT INTO items VALUES ('http://first.example/feed', 'g0', ?, ?, 't', NULL, ?)",
                [story, canonicalize_url(story), utcnow()])
    known = FeedItem(feed, "g1", "https://news.example/story?utm_source=x", "t", "", None)
    unknown = FeedItem(feed, "g2", "https://news.example/other", "t", "", None)
    poll = _poll(feed, "new_content", items=(known, unknown))
    save_poll_results(con, [poll])
    save_poll_results(con, [poll])  # the same items again are not new
    rows = con.execute("SELECT guid FROM items WHERE feed_url = ?", [feed]).fetchall()
    total, last_new = con.execute(
        "SELECT items_total, last_new_item_at FROM feeds WHERE url = ?", [feed]).fetchone()
    con.close()
    # g2 was never fetched (e.g. over the per-feed cap): recording it would hide it for good.
    assert rows == [("g1",)] and total == 1 and last_new is not None


# --- migration ---------------------------------------------------------------------------------

def test_feed_health_migration_upgrades_a_v1_database_in_place(tmp_path: Path) -> None:
    con = duckdb.connect(str(tmp_path / "v1.duckdb"))
    version, name, sql = migrations()[0]
    con.execute(sql)
    con.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name VARCHAR NOT "
                "NULL, applied_at TIMESTAMP NOT NULL)")
    con.execute("INSERT INTO schema_migrations VALUES (?, ?, ?)", [version, name, utcnow()])
    polled = utcnow() - timedelta(days=3)
    con.execute("INSERT INTO feeds (url, name, status, last_polled_at) VALUES "
                "('http://a.example/f', 'a', 'ok', ?), ('http://b.example/f', 'b', 'new', NULL)",
                [polled])
    assert 2 in migrate(con)
    register_feeds(con, [("http://b.example/f", "b")])
    rows = con.execute("SELECT url, added_at, moved_to FROM feeds ORDER BY url").fetchall()
    con.close()
    assert rows[0] == ("http://a.example/f", polled, None)
    assert rows[1][1] is not None  # filled in when the config registers it again
