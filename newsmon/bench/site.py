"""A synthetic news site for `newsmon bench`: N feeds x M items served on loopback.

Page bodies are built at run time from real third-party HTML (the extraction benchmark in
../shared/data/extraction-benchmark/html/*.html.gz, never copied into the repository). There are
far fewer real pages than benchmark items, so each copy of a page gets every fourth lowercase word
of its visible text replaced by a neutral English word chosen by the copy number: the copies stay
English, keep their markup and size (so trafilatura and spaCy do the same work), and share few
enough five-word shingles that the near-duplicate check does not skip them as copies. A
configurable share of the pages gets one sentence naming a Syrian and a Russian official put
into the longest paragraph that extraction keeps: those pages pass the watchlist prefilter and
pay for spaCy.
"""

from __future__ import annotations

import gzip
import json
import multiprocessing
import re
import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from fractions import Fraction
from html import escape, unescape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Self
from urllib.request import urlopen

import trafilatura

from newsmon.articles.extract import declared_language

FEED_ETAG = '"bench-v1"'
FEED_LAST_MODIFIED = "Mon, 01 Dec 2025 09:00:00 GMT"
SLOT_EVERY = 4  # every fourth lowercase word of 4+ letters is a per-copy slot
# 211 is prime: copies k and k' of one page differ at every slot while |k - k'| < 211.
_VOCAB_TEXT = (
    "able about above account across action active actual added address advance advice afford "
    "afternoon against agency agree ahead allow almost alone along already also always amount "
    "animal answer anyone apart apply approach area argue around arrive article artist aside "
    "asked attend autumn average avoid award aware backed balance band bank base basic basket "
    "beach bear beat become before begin behind believe below benefit beside best better beyond "
    "bill bird black blue board boat body book border bottle bottom bought brain branch bread "
    "break bridge brief bright bring broad brother brown budget build burden business busy "
    "button cable call calm camera camp card care career carry case cash catch cause cell "
    "center central chain chair chance change channel chapter charge cheap check choice church "
    "circle city claim class clean clear client climb clock close cloud coach coast coffee cold "
    "collect college color column comfort common company compare complete concern contest "
    "continue control cook copy corner cost cotton count country course cover craft create "
    "credit crew crowd culture current cycle daily damage dance dark data daughter deal debate "
    "decade decide deep degree deliver demand depend design desk detail develop device differ "
    "dinner direct dish doctor dollar door double draft drama draw dream dress drink drive "
    "early earn east easy edge editor effect effort"
)
VOCAB = tuple(_VOCAB_TEXT.split())
assert len(VOCAB) == 211, len(VOCAB)
# Officials of both sides as the watchlist names them; one of these goes into a relevant page.
RELEVANT_SENTENCES = (
    (
        "Russian Foreign Minister Sergei Lavrov met Syrian Foreign Minister Asaad al-Shaibani "
        "in Moscow to discuss the Russian military bases in Syria."
    ),
    (
        "Syrian President Ahmed al-Sharaa held talks with Russian President Vladimir Putin in "
        "the Kremlin on energy, grain deliveries and reconstruction."
    ),
    (
        "Syrian Defence Minister Murhaf Abu Qasra received a Russian delegation led by Deputy "
        "Prime Minister Alexander Novak in Damascus."
    ),
)
_MARKUP = re.compile(
    r"<script\b.*?</script\s*>|<style\b.*?</style\s*>|<!--.*?-->|<[^>]*>",
    re.IGNORECASE | re.DOTALL,
)
_SLOT_WORD = re.compile(r"\b[a-z]{4,}\b")
_PARAGRAPH = re.compile(r"<p\b[^>]*>(.*?)</p\s*>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]+>")


def _normal(text: str) -> str:
    """Return text unescaped with its whitespace collapsed (to compare markup and extraction)."""
    return " ".join(unescape(text).split())


class BenchDataMissing(Exception):
    """The real pages the benchmark serves are not on this machine; the message says where."""


@dataclass(frozen=True)
class PageTemplate:
    """One real page cut at its slot words and at the place a relevant sentence goes."""

    pieces: tuple[str, ...]  # len(gaps) + 1 pieces of HTML between the gaps
    gaps: tuple[int, ...]  # per gap: slot number, or -1 for the relevant-sentence position
    english: bool  # the page declares English: eligible to carry the relevant sentence

    def render(self, copy: int, sentence: str | None) -> str:
        """Return the page's HTML for one copy, with the sentence (if any) put in."""
        out = [self.pieces[0]]
        for gap, piece in zip(self.gaps, self.pieces[1:], strict=True):
            if gap < 0:
                if sentence:
                    out.append(escape(sentence) + " ")
            else:
                out.append(VOCAB[(gap + 37 * copy) % len(VOCAB)])
            out.append(piece)
        return "".join(out)


def make_template(html: str) -> PageTemplate:
    """Return the template of one page: slots in its visible text, the sentence position."""
    cuts: list[tuple[int, int, int]] = []  # (start, end, gap id) of replaced spans
    slot = position = 0
    for match in [*_MARKUP.finditer(html), None]:
        end = match.start() if match else len(html)
        for word in _SLOT_WORD.finditer(html, position, end):
            if slot % SLOT_EVERY == SLOT_EVERY - 1:
                cuts.append((word.start(), word.end(), slot))
            slot += 1
        position = match.end() if match else len(html)
    # The sentence goes at the start of the longest paragraph that extraction keeps (the
    # longest paragraph alone is a menu or a comment on about a fifth of the pages).
    kept = _normal(trafilatura.extract(html) or "")
    paragraphs = sorted(
        _PARAGRAPH.finditer(html), key=lambda m: len(_TAG.sub("", m.group(1))), reverse=True
    )
    target = next(
        (m for m in paragraphs if _normal(_TAG.sub("", m.group(1)))[:60] in kept),
        paragraphs[0] if paragraphs else None,
    )
    if target is not None:
        at = target.start(1)
        cuts.append((at, at, -1))
        cuts.sort()
    pieces: list[str] = []
    gaps: list[int] = []
    position = 0
    for start, end, gap in cuts:
        if start < position:  # an insertion point inside a replaced word cannot happen, but
            continue  # never emit overlapping spans
        pieces.append(html[position:start])
        gaps.append(gap)
        position = end
    pieces.append(html[position:])
    return PageTemplate(tuple(pieces), tuple(gaps), declared_language(html) == "en")


def load_templates(html_dir: Path) -> list[PageTemplate]:
    """Return the templates of every *.html.gz or *.html page in html_dir, in name order."""
    files = sorted([*html_dir.glob("*.html.gz"), *html_dir.glob("*.html")])
    if not files:
        raise BenchDataMissing(
            f"no *.html.gz or *.html pages in {html_dir}: the benchmark serves the real pages "
            "of the extraction benchmark, which live outside the repository (../shared/data/"
            "extraction-benchmark/html); put them there or pass --pages DIR"
        )
    templates = []
    for path in files:
        raw = path.read_bytes()
        raw = gzip.decompress(raw) if path.suffix == ".gz" else raw
        templates.append(make_template(raw.decode("utf-8", errors="replace")))
    if not any(t.english for t in templates):
        raise BenchDataMissing(f"no page in {html_dir} declares English: nothing can be relevant")
    return templates


@dataclass(frozen=True)
class SiteSpec:
    """The size and shape of the synthetic site."""

    feeds: int
    items: int
    relevant_share: float = 0.05
    latency_ms: float = 0.0

    @property
    def pages(self) -> int:
        """Return the number of article pages (feeds x items)."""
        return self.feeds * self.items


class BenchSite:
    """Deterministic feeds and pages of a SiteSpec over a set of page templates."""

    def __init__(self, spec: SiteSpec, templates: list[PageTemplate]) -> None:
        self.spec = spec
        self.templates = templates
        self.english = [i for i, t in enumerate(templates) if t.english]
        self.others = list(range(len(templates)))
        self._share = Fraction(spec.relevant_share).limit_denominator(100_000)
        relevant = self.relevant_before(spec.pages)
        # Irrelevant copies count up from 0, relevant ones down from the top: they must not meet.
        top_plain = (spec.pages - relevant) // len(self.others)
        top_relevant = relevant // len(self.english)
        if top_plain + top_relevant >= len(VOCAB) - 1:
            raise ValueError(
                f"{spec.pages} pages need more distinct copies of the {len(templates)} real "
                f"pages than the {len(VOCAB)} slot words allow; use fewer feeds or items"
            )

    def relevant_before(self, page: int) -> int:
        """Return how many of the pages before this page number are relevant."""
        return int(page * self._share)

    def is_relevant(self, page: int) -> bool:
        """Return True when the page carries a sentence naming officials of both sides."""
        return self.relevant_before(page + 1) > self.relevant_before(page)

    def page_html(self, page: int) -> str:
        """Return the HTML of page number `page` (0 .. pages - 1)."""
        relevant = self.relevant_before(page)
        if self.is_relevant(page):
            # Relevant pages count copies down from the top of the slot words so they never
            # coincide with an irrelevant copy of the same real page.
            template = self.templates[self.english[relevant % len(self.english)]]
            copy = len(VOCAB) - 1 - relevant // len(self.english)
            return template.render(copy, RELEVANT_SENTENCES[relevant % len(RELEVANT_SENTENCES)])
        plain = page - relevant
        template = self.templates[self.others[plain % len(self.others)]]
        return template.render(plain // len(self.others), None)

    def page_path(self, page: int) -> str:
        """Return the URL path of a page."""
        feed, item = divmod(page, self.spec.items)
        return f"/f{feed}/story-{item}.html"

    def feed_path(self, feed: int) -> str:
        """Return the URL path of a feed."""
        return f"/feeds/{feed}.xml"

    def feed_xml(self, feed: int, base: str, now: datetime) -> bytes:
        """Return the RSS 2.0 document of one feed, its items an hour apart before now."""
        entries = []
        for item in range(self.spec.items):
            page = feed * self.spec.items + item
            published = format_datetime(now - timedelta(hours=item), usegmt=True)
            entries.append(
                f"<item><title>Bench story {feed}-{item}</title>"
                f"<link>{base}{self.page_path(page)}</link><guid>bench-{feed}-{item}</guid>"
                f"<pubDate>{published}</pubDate>"
                f"<description>Summary of bench story {feed}-{item}.</description></item>"
            )
        return (
            '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            f"<title>Bench feed {feed}</title><link>{base}/</link>"
            f"<description>newsmon benchmark feed</description>{''.join(entries)}"
            "</channel></rss>"
        ).encode()


def _handler(site: BenchSite, counts: Counter[str], lock: threading.Lock, now: datetime) -> type:
    """Return a request handler class serving the site and counting requests by kind."""
    pages = re.compile(r"^/f(\d+)/story-(\d+)\.html$")
    feeds = re.compile(r"^/feeds/(\d+)\.xml$")
    delay = site.spec.latency_ms / 1000

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as real servers

        def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            path = self.path.split("?")[0]
            if path == "/_stats":
                with lock:
                    self._send(200, json.dumps(counts).encode(), {})
                return
            if delay:
                time.sleep(delay)  # every request waits, as on a far server
            base = f"http://{self.headers.get('Host', '127.0.0.1')}"
            page = pages.match(path)
            feed = feeds.match(path)
            body: bytes | None = b"not found"
            kind, status, headers = "other", 404, {"Content-Type": "text/plain"}
            if page and int(page.group(1)) < site.spec.feeds and int(
                page.group(2)
            ) < site.spec.items:
                number = int(page.group(1)) * site.spec.items + int(page.group(2))
                body = site.page_html(number).encode("utf-8")
                kind, status, headers = "page", 200, {"Content-Type": "text/html; charset=utf-8"}
            elif feed and int(feed.group(1)) < site.spec.feeds:
                headers = {"ETag": FEED_ETAG, "Last-Modified": FEED_LAST_MODIFIED}
                if self.headers.get("If-None-Match") == FEED_ETAG:
                    kind, status, body = "feed_304", 304, None
                else:
                    body = site.feed_xml(int(feed.group(1)), base, now)
                    kind, status = "feed_200", 200
                    headers["Content-Type"] = "application/rss+xml"
            # Counted before the answer goes out: a client that has read the answer and then
            # asks /_stats must see it counted.
            with lock:
                counts[kind] += 1
            if body is None:
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
            else:
                self._send(status, body, headers)

        def log_message(self, format: str, *args: object) -> None:
            return

    return Handler


def _serve(spec: SiteSpec, html_dir: Path, conn: Any) -> None:
    """Serve the site on 127.0.0.1 (port 0) until terminated; send the port (or error) first."""
    try:
        site = BenchSite(spec, load_templates(html_dir))
    except (BenchDataMissing, ValueError) as exc:
        conn.send(("error", str(exc)))
        return
    counts: Counter[str] = Counter()
    server = ThreadingHTTPServer(
        ("127.0.0.1", 0),
        _handler(site, counts, threading.Lock(), datetime.now(UTC).replace(microsecond=0)),
    )
    server.daemon_threads = True
    server.request_queue_size = 128  # many fetch threads connect at once
    conn.send(("port", server.server_address[1]))
    server.serve_forever(poll_interval=0.05)


class SiteServer:
    """The bench site in its own process, so serving pages costs the measured process nothing."""

    def __init__(self, spec: SiteSpec, html_dir: Path) -> None:
        context = multiprocessing.get_context("spawn")  # no fork of a threaded parent
        parent, child = context.Pipe()
        self.process = context.Process(
            target=_serve, args=(spec, html_dir, child), daemon=True, name="bench-site"
        )
        self.process.start()
        if not parent.poll(120):
            self.close()
            raise RuntimeError("the bench site server did not start within 120 s")
        kind, value = parent.recv()
        if kind == "error":
            self.close()
            raise BenchDataMissing(value)
        self.base = f"http://127.0.0.1:{value}"

    @property
    def pid(self) -> int:
        """Return the server process id."""
        return int(self.process.pid or 0)

    def stats(self) -> Counter[str]:
        """Return the requests served so far by kind: page, feed_200, feed_304, other."""
        with urlopen(f"{self.base}/_stats", timeout=10) as response:
            return Counter(json.loads(response.read()))

    def feed_urls(self, feeds: int) -> list[str]:
        """Return the URLs of the site's feeds."""
        return [f"{self.base}/feeds/{n}.xml" for n in range(feeds)]

    def close(self) -> None:
        """Stop the server process."""
        if self.process.is_alive():
            self.process.terminate()
        self.process.join(10)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
