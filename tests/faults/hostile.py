"""A loopback "hostile web": HTTP paths that misbehave on purpose, every request recorded.

Everything listens on 127.0.0.1. The hostile links it hands out (10.0.0.1, 169.254.169.254,
file://, ...) point at addresses that must be refused before any connection; a loopback
*sentinel* server stands in for "some other service on this machine" and records any request
that reaches it, so a test can show that nothing did.

Paths (relative to HostileWeb.base):

- network: /net/reset.xml (reset mid-body), /net/trickle.xml (1 byte a second), /net/hang.xml
  (never answers), /net/loop-301.xml, /net/loop-302.xml, /net/404.xml, /net/410.xml,
  /net/429.xml (+ Retry-After), /net/500.xml, /net/503.xml; refused_url (nothing listens) and
  dns_url (an unresolvable .invalid host) are separate URLs.
- content: /content/malformed.xml, /content/broken-but-readable.xml, /content/lying-charset.xml,
  /content/html.xml, /content/empty.xml, /content/huge.xml (100 MB), /content/bomb.xml (gzip
  bomb), /content/absurd-dates.xml, /content/10k.xml, /content/dup-guids.xml.
- article pages behind /feeds/articles.xml: /pages/big-paragraph.html (one ~9.8 MB paragraph),
  /pages/no-text.html, /pages/report.pdf, /pages/photo.jpg, /pages/pdf-as-html.html,
  /pages/bomb.html, /pages/huge.html, /pages/trickle.html, /pages/hang.html, /pages/reset.html,
  /pages/latin1.html, /pages/lying-charset.html, /pages/redirect-loop.html,
  /pages/absurd-date.html, and /pages/ok-*.html (well-behaved).
- hostile links behind /feeds/links.xml, and /redirect/* chains ending at refused targets.
- /hold/*: records the request and holds it open until release() or close() (kill tests).
"""

from __future__ import annotations

import socket
import struct
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self
from urllib.parse import urlsplit
from xml.sax.saxutils import escape

# How long a hanging answer waits at most: far beyond any fetch timeout of the tests, short
# enough that a leaked thread cannot outlive a test session by much.
HANG_S = 120.0
MB = 1 << 20
ARTICLE_TEXT = (
    "The regional water board published its annual report on Tuesday. Engineers said the "
    "reservoirs stood at two thirds of capacity after a dry autumn, and the board asked farmers "
    "to plan for shorter irrigation turns in the spring. "
)
# Names both sides, so the NLP prefilter lets the text through to spaCy.
RELATIONS_SENTENCE = (
    "Syrian Foreign Minister Asaad al-Shaibani and Russian Foreign Minister Sergey Lavrov "
    "discussed grain deliveries by telephone. "
)


@dataclass(frozen=True)
class Hit:
    """One request a server received."""

    path: str
    at: float  # time.monotonic() on arrival
    headers: dict[str, str]


Behaviour = Callable[[BaseHTTPRequestHandler, "HostileWeb"], None]


class _QuietServer(ThreadingHTTPServer):
    """A threading server that keeps quiet about clients hanging up (they do, on purpose)."""

    daemon_threads = True
    allow_reuse_address = True
    # A cycle polls ~30 feeds at once: the default listen backlog of 5 would drop SYNs and
    # turn well-behaved paths into connect timeouts.
    request_queue_size = 128

    def handle_error(self, request: object, client_address: object) -> None:
        """Ignore the error: resets and timeouts are the point of this server."""
        return


def rss(items: list[dict[str, str]], title: str = "Hostile feed", extra: str = "") -> bytes:
    """Return an RSS 2.0 document whose items carry the given element texts (escaped)."""
    body = "".join(
        "<item>" + "".join(f"<{k}>{escape(v)}</{k}>" for k, v in item.items()) + "</item>"
        for item in items
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>{escape(title)}</title><link>http://example.org/</link>{extra}{body}"
        "</channel></rss>"
    ).encode()


def page(title: str, text: str, head: str = "", lang: str = "en") -> str:
    """Return a small HTML article page with the text as paragraphs."""
    paragraphs = "".join(f"<p>{escape(p)}</p>" for p in text.split("\n") if p)
    return (
        f"<!doctype html><html lang='{lang}'><head><title>{escape(title)}</title>{head}</head>"
        f"<body><article><h1>{escape(title)}</h1>{paragraphs}</article></body></html>"
    )


@cache
def gzip_bomb() -> bytes:
    """Return ~1 MB of gzip that inflates to 1 GiB of zeros (16 members of 64 MiB each)."""
    # Concatenated members are one valid gzip stream (RFC 1952); building one 64 MiB member and
    # repeating it costs ~0.2 s instead of ~3 s for a single 1 GiB member.
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    zeros = bytes(MB)
    member = b"".join(compressor.compress(zeros) for _ in range(64)) + compressor.flush()
    return member * 16


@cache
def big_paragraph() -> bytes:
    """Return an HTML page holding one paragraph of ~9.8 MB that names both watched sides."""
    # Its own wording: a copy of the ok pages' text would be linked to them as a near-duplicate
    # and skip the NLP stage, hiding what an endless text does to it.
    sentence = (
        "Engineers in Damascus and Russian grain exporters compared shipping schedules for the "
        "coming season, officials said. " + RELATIONS_SENTENCE
    )
    text = sentence * (9_800_000 // len(sentence))
    return (
        "<!doctype html><html lang='en'><head><title>One endless paragraph</title></head><body>"
        f"<article><h1>One endless paragraph</h1><p>{text}</p></article></body></html>"
    ).encode()


def _send(
    h: BaseHTTPRequestHandler, status: int, body: bytes = b"",
    headers: dict[str, str] | None = None,
) -> None:
    """Send a complete answer with Content-Length."""
    h.send_response(status)
    for name, value in (headers or {}).items():
        h.send_header(name, value)
    h.send_header("Content-Length", str(len(body)))
    h.end_headers()
    h.wfile.write(body)


def _reset(h: BaseHTTPRequestHandler) -> None:
    """Abort the connection with a TCP RST (SO_LINGER 0), as a crashed proxy does."""
    h.wfile.flush()
    h.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    h.connection.close()
    h.close_connection = True


def _stream(h: BaseHTTPRequestHandler, web: HostileWeb, content_type: str, head: bytes,
            chunk: bytes, total: int) -> None:
    """Send head then chunk repeated up to total bytes, until the client hangs up."""
    h.send_response(200)
    h.send_header("Content-Type", content_type)
    h.send_header("Content-Length", str(total))
    h.end_headers()
    sent = 0
    try:
        h.wfile.write(head)
        sent = len(head)
        while sent < total and not web.stopping.is_set():
            piece = chunk[: total - sent]
            h.wfile.write(piece)
            sent += len(piece)
    except OSError:
        pass  # the client stopped reading at its byte cap: expected
    finally:
        web.record_bytes(h.path, sent)
        h.close_connection = True


def _trickle(h: BaseHTTPRequestHandler, web: HostileWeb, content_type: str, body: bytes) -> None:
    """Send the headers, then the body one byte a second (a client needs a total deadline)."""
    h.send_response(200)
    h.send_header("Content-Type", content_type)
    h.send_header("Content-Length", str(len(body)))
    h.end_headers()
    try:
        for i in range(len(body)):
            h.wfile.write(body[i : i + 1])
            h.wfile.flush()
            if web.stopping.wait(1.0):
                break
    except OSError:
        pass
    h.close_connection = True


def _hang(h: BaseHTTPRequestHandler, web: HostileWeb) -> None:
    """Read the request and never answer (until the server stops)."""
    web.stopping.wait(HANG_S)
    h.close_connection = True


def _half_then_reset(h: BaseHTTPRequestHandler, content_type: str, body: bytes) -> None:
    """Promise the whole body, send a fifth of it, then reset the connection."""
    h.send_response(200)
    h.send_header("Content-Type", content_type)
    h.send_header("Content-Length", str(len(body)))
    h.end_headers()
    h.wfile.write(body[: len(body) // 5])
    _reset(h)


def _redirect(status: int, target: str | Callable[[HostileWeb], str]) -> Behaviour:
    """Return a behaviour answering with a redirect to target (a URL or a function of web)."""

    def answer(h: BaseHTTPRequestHandler, web: HostileWeb) -> None:
        location = target(web) if callable(target) else target
        _send(h, status, b"", {"Location": location})

    return answer


def _static(status: int, body: bytes | Callable[[HostileWeb], bytes], content_type: str,
            **headers: str) -> Behaviour:
    """Return a behaviour sending one fixed answer."""

    def answer(h: BaseHTTPRequestHandler, web: HostileWeb) -> None:
        data = body(web) if callable(body) else body
        _send(h, status, data, {"Content-Type": content_type, **headers})

    return answer


RSS = "application/rss+xml"
HTML = "text/html; charset=utf-8"
ABSURD_DATES = (
    "Mon, 01 Jan 0001 00:00:00 GMT",
    "Fri, 31 Dec 9999 23:59:59 GMT",
    "Thu, 01 Jan 1970 00:00:00 GMT",
    "Sat, 31 Feb 2025 10:00:00 GMT",
    "yesterday-ish",
    "99999999999999999999",
    "Mon, 01 Dec 2025 09:00:00 +9999",
    "2038-01-19T03:14:08Z",
)
# Article pages behind /feeds/articles.xml, with what a cycle must make of them.
ARTICLE_PAGES = (
    "big-paragraph.html", "no-text.html", "report.pdf", "photo.jpg", "pdf-as-html.html",
    "bomb.html", "huge.html", "trickle.html", "hang.html", "reset.html", "latin1.html",
    "lying-charset.html", "redirect-loop.html", "absurd-date.html",
)
LATIN1_TEXT = (
    "Le ministre Fayçal Mekdad a reçu la délégation à Damas ; les entretiens ont porté sur "
    "l'économie. Café, thé et pâtisseries ont été servis. "
) * 6


class HostileWeb:
    """The hostile server, a sentinel that must never be reached, and a refused port."""

    def __init__(self) -> None:
        self.hits: list[Hit] = []
        self.bytes_sent: dict[str, int] = {}
        self.stopping = threading.Event()
        self.released = threading.Event()
        self._lock = threading.Lock()
        self.routes: dict[str, Behaviour] = {}
        self._server = self._serve()
        self.port = self._server.server_address[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self.sentinel_hits: list[Hit] = []
        self._sentinel = self._serve(sentinel=True)
        self.sentinel = f"http://127.0.0.1:{self._sentinel.server_address[1]}"
        self.refused_port = _closed_port()
        self.refused_url = f"http://127.0.0.1:{self.refused_port}/feed.xml"
        self.dns_url = "http://feeds.newsmon-hostile.invalid/feed.xml"
        self._install_routes()

    # ---------------------------------------------------------------- server plumbing

    def _serve(self, sentinel: bool = False) -> ThreadingHTTPServer:
        """Return a started server; the sentinel records and answers 200 to anything."""
        web = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                path = urlsplit(self.path).path
                hit = Hit(path, time.monotonic(), {k.lower(): v for k, v in self.headers.items()})
                with web._lock:
                    (web.sentinel_hits if sentinel else web.hits).append(hit)
                if sentinel:
                    _send(self, 200, b"internal secret", {"Content-Type": "text/plain"})
                    return
                behaviour = web.routes.get(path)
                if behaviour is None and path.startswith("/hold/"):
                    behaviour = web._hold
                if behaviour is None and path.startswith("/pages/ok-"):
                    behaviour = _ok_page
                if behaviour is None:
                    _send(self, 404, b"not found", {"Content-Type": "text/plain"})
                    return
                behaviour(self, web)

            def log_message(self, format: str, *args: object) -> None:
                return

        server = _QuietServer(("127.0.0.1", 0), Handler)
        threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        ).start()
        return server

    def close(self) -> None:
        """Stop both servers and wake every held, hanging or trickling answer."""
        self.stopping.set()
        self.released.set()
        for server in (self._server, self._sentinel):
            server.shutdown()
            server.server_close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def hits_for(self, path: str) -> list[Hit]:
        """Return the requests received for path, in order."""
        with self._lock:
            return [h for h in self.hits if h.path == path]

    def record_bytes(self, path: str, sent: int) -> None:
        """Remember how many body bytes a streamed answer got out before the client stopped."""
        with self._lock:
            self.bytes_sent[path] = self.bytes_sent.get(path, 0) + sent

    def allowed_hosts(self) -> list[str]:
        """Return the "host:port" entries that let a cycle reach this server (and the refused
        port, so that it fails by connection, not by the address guard); never the sentinel."""
        return [f"127.0.0.1:{self.port}", f"127.0.0.1:{self.refused_port}"]

    def url(self, path: str) -> str:
        """Return the absolute URL of a path on the hostile server."""
        return self.base + path

    def _hold(self, h: BaseHTTPRequestHandler, web: HostileWeb) -> None:
        """Hold the request open until released, then answer with a small article."""
        self.released.wait(HANG_S)
        _send(h, 200, page("Held", ARTICLE_TEXT * 3).encode(), {"Content-Type": HTML})

    # ---------------------------------------------------------------- content

    def hostile_links(self) -> dict[str, str]:
        """Return {name: link} of article links that must be refused (allow_private_hosts off)."""
        sentinel = self.sentinel
        return {
            "loopback 127.0.0.1": f"{sentinel}/secret",
            "localhost name": f"http://localhost:{urlsplit(sentinel).port}/secret",
            "decimal IP 2130706433": f"http://2130706433:{urlsplit(sentinel).port}/secret",
            "private 10.0.0.1": "http://10.0.0.1/admin",
            "IPv4-mapped [::ffff:10.0.0.1]": "http://[::ffff:10.0.0.1]/admin",
            "metadata 169.254.169.254": (
                "http://169.254.169.254/latest/meta-data/iam/security-credentials/"
            ),
            "file://": "file:///etc/passwd",
            "ftp://": f"ftp://127.0.0.1:{urlsplit(sentinel).port}/pub/x",
            "javascript:": "javascript:alert(document.cookie)",
            "redirect -> loopback": self.url("/redirect/to-loopback"),
            "redirect chain -> 10.0.0.1": self.url("/redirect/chain-to-private"),
            "redirect -> metadata": self.url("/redirect/to-metadata"),
            "redirect -> file://": self.url("/redirect/to-file"),
            "redirect -> ftp://": self.url("/redirect/to-ftp"),
            "redirect -> javascript:": self.url("/redirect/to-javascript"),
        }

    def articles_feed(self) -> bytes:
        """Return the feed linking every hostile article page, with a summary per item."""
        return rss(
            [
                {"title": f"Hostile page {name}", "link": self.url(f"/pages/{name}"),
                 "guid": f"page-{name}", "description": f"Feed summary of {name}. " * 4,
                 "pubDate": "Mon, 01 Dec 2025 09:00:00 GMT"}
                for name in ARTICLE_PAGES
            ],
            title="Hostile articles",
        )

    def links_feed(self) -> bytes:
        """Return the feed whose items link to refused targets."""
        return rss(
            [
                {"title": f"Hostile link {name}", "link": link, "guid": f"link-{i}",
                 "description": "A link that must be refused.",
                 "pubDate": "Mon, 01 Dec 2025 09:00:00 GMT"}
                for i, (name, link) in enumerate(self.hostile_links().items())
            ],
            title="Hostile links",
        )

    def ok_item(self, i: int, **extra: str) -> dict[str, str]:
        """Return a feed item linking the i-th well-behaved page."""
        return {"title": f"Water report {i}", "link": self.url(f"/pages/ok-{i}.html"),
                "guid": f"ok-{i}", "pubDate": "Mon, 01 Dec 2025 09:00:00 GMT", **extra}

    def _install_routes(self) -> None:
        """Register every misbehaving path."""
        r = self.routes
        small_feed = rss([self.ok_item(0)])
        # network
        r["/net/reset.xml"] = lambda h, w: _half_then_reset(h, RSS, rss(
            [self.ok_item(i) for i in range(200)]))
        r["/net/trickle.xml"] = lambda h, w: _trickle(h, w, RSS, small_feed)
        r["/net/hang.xml"] = lambda h, w: _hang(h, w)
        r["/net/loop-301.xml"] = _redirect(301, lambda w: w.url("/net/loop-301b.xml"))
        r["/net/loop-301b.xml"] = _redirect(301, lambda w: w.url("/net/loop-301.xml"))
        r["/net/loop-302.xml"] = _redirect(302, "/net/loop-302.xml")
        r["/net/404.xml"] = _static(404, b"<h1>Not Found</h1>", "text/html")
        r["/net/410.xml"] = _static(410, b"<h1>Gone</h1>", "text/html")
        r["/net/429.xml"] = _static(429, b"slow down", "text/plain", **{"Retry-After": "3600"})
        r["/net/500.xml"] = _static(500, b"Internal Server Error", "text/plain")
        r["/net/503.xml"] = _static(
            503, b"maintenance", "text/plain", **{"Retry-After": "Wed, 21 Oct 2099 07:28:00 GMT"}
        )
        # content
        r["/content/malformed.xml"] = _static(
            200, b'<?xml version="1.0"?><rss version="2.0"><channel><title>Bro<ken</title>'
            b"<item><title>x</titel><link>&bogus;</link></item></chan", RSS)
        r["/content/broken-but-readable.xml"] = _static(
            200, rss([self.ok_item(1)]).replace(b"</channel></rss>", b"<unclosed>"), RSS)
        # Header and XML declaration both say UTF-8; the bytes are windows-1252.
        r["/content/lying-charset.xml"] = _static(
            200, rss([self.ok_item(2, title="Caf\u00e9 cr\u00e8me \u2014 \u201cquoted\u201d")])
            .decode().encode("cp1252"), "application/rss+xml; charset=utf-8")
        r["/content/html.xml"] = _static(200, page("Home", ARTICLE_TEXT).encode(), RSS)
        r["/content/empty.xml"] = _static(200, b"", RSS)
        r["/content/huge.xml"] = lambda h, w: _stream(
            h, w, RSS, b'<?xml version="1.0"?><rss version="2.0"><channel><title>Huge</title>',
            b"<item><title>filler</title><link>http://example.org/x</link></item>" * 1000,
            100 * MB)
        r["/content/bomb.xml"] = _static(200, lambda w: gzip_bomb(), RSS,
                                         **{"Content-Encoding": "gzip"})
        r["/content/absurd-dates.xml"] = _static(200, rss(
            [{**self.ok_item(10 + i), "pubDate": d} for i, d in enumerate(ABSURD_DATES)]), RSS)
        r["/content/10k.xml"] = _static(200, rss(
            [{"title": f"Item {i}", "link": self.url(f"/pages/ok-{1000 + i}.html"),
              "guid": f"10k-{i}", "pubDate": "Mon, 01 Dec 2025 09:00:00 GMT"}
             for i in range(10_000)]), RSS)
        r["/content/dup-guids.xml"] = _static(200, rss(
            [{**self.ok_item(30), "guid": "same"}, {**self.ok_item(31), "guid": "same"},
             {**self.ok_item(32), "guid": "same"}, {**self.ok_item(33), "guid": "other"},
             {**self.ok_item(33), "guid": "other-2"}]), RSS)
        # article pages
        r["/feeds/articles.xml"] = _static(200, lambda w: w.articles_feed(), RSS)
        r["/feeds/links.xml"] = _static(200, lambda w: w.links_feed(), RSS)
        r["/pages/big-paragraph.html"] = _static(200, lambda w: big_paragraph(), HTML)
        r["/pages/no-text.html"] = _static(
            200, b"<!doctype html><html><head><title></title></head><body><div><img src=x>"
            b"<script>var a=1;</script></div></body></html>", HTML)
        pdf = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\n" + bytes(range(256)) * 40 + b"%%EOF"
        r["/pages/report.pdf"] = _static(200, pdf, "application/pdf")
        r["/pages/photo.jpg"] = _static(200, b"\xff\xd8\xff\xe0" + bytes(range(256)) * 40,
                                        "image/jpeg")
        r["/pages/pdf-as-html.html"] = _static(200, pdf, HTML)
        r["/pages/bomb.html"] = _static(200, lambda w: gzip_bomb(), HTML,
                                        **{"Content-Encoding": "gzip"})
        r["/pages/huge.html"] = lambda h, w: _stream(
            h, w, HTML, b"<!doctype html><html><body><p>", b"word " * 20_000, 100 * MB)
        r["/pages/trickle.html"] = lambda h, w: _trickle(
            h, w, HTML, page("Trickle", ARTICLE_TEXT * 3).encode())
        r["/pages/hang.html"] = lambda h, w: _hang(h, w)
        r["/pages/reset.html"] = lambda h, w: _half_then_reset(
            h, HTML, page("Reset", ARTICLE_TEXT * 40).encode())
        r["/pages/latin1.html"] = _static(
            200, page("Visite à Damas", LATIN1_TEXT, lang="fr").encode("iso-8859-1"),
            "text/html; charset=iso-8859-1")
        # The header claims ISO-8859-1; the bytes are UTF-8 (a CMS upgrade that kept the header).
        r["/pages/lying-charset.html"] = _static(
            200, page("Visite à Damas", LATIN1_TEXT, lang="fr").encode("utf-8"),
            "text/html; charset=iso-8859-1")
        r["/pages/redirect-loop.html"] = _redirect(302, "/pages/redirect-loop.html")
        r["/pages/absurd-date.html"] = _static(200, page(
            "Dated", ARTICLE_TEXT * 3,
            head="<meta property='article:published_time' content='9999-12-31T23:59:59Z'>"
                 "<meta name='date' content='0001-01-01'>").encode(), HTML)
        # redirect chains ending at refused targets
        sentinel_port = urlsplit(self.sentinel).port
        r["/redirect/to-loopback"] = _redirect(302, f"http://127.0.0.1:{sentinel_port}/secret")
        r["/redirect/chain-to-private"] = _redirect(301, "/redirect/chain-to-private-2")
        r["/redirect/chain-to-private-2"] = _redirect(302, "http://10.0.0.1/admin")
        r["/redirect/to-metadata"] = _redirect(
            307, "http://169.254.169.254/latest/meta-data/iam/security-credentials/")
        r["/redirect/to-file"] = _redirect(302, "file:///etc/passwd")
        r["/redirect/to-ftp"] = _redirect(302, f"ftp://127.0.0.1:{sentinel_port}/pub/x")
        r["/redirect/to-javascript"] = _redirect(302, "javascript:alert(1)")


def _ok_page(h: BaseHTTPRequestHandler, web: HostileWeb) -> None:
    """Answer a well-behaved article page."""
    _send(h, 200, page("Water report", ARTICLE_TEXT * 3).encode(), {"Content-Type": HTML})


def _closed_port() -> int:
    """Return a loopback port nothing listens on (bound and released at once)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def network_faults(web: HostileWeb) -> dict[str, str]:
    """Return {fault name: feed URL} of the network faults."""
    return {
        "connection refused": web.refused_url,
        "DNS failure (.invalid)": web.dns_url,
        "reset mid-body": web.url("/net/reset.xml"),
        "trickle 1 byte/s": web.url("/net/trickle.xml"),
        "never answers": web.url("/net/hang.xml"),
        "301 loop": web.url("/net/loop-301.xml"),
        "302 loop": web.url("/net/loop-302.xml"),
        "404": web.url("/net/404.xml"),
        "410": web.url("/net/410.xml"),
        "429 + Retry-After": web.url("/net/429.xml"),
        "500": web.url("/net/500.xml"),
        "503 + Retry-After": web.url("/net/503.xml"),
    }


def content_faults(web: HostileWeb) -> dict[str, str]:
    """Return {fault name: feed URL} of the feed-content faults."""
    return {
        "malformed XML": web.url("/content/malformed.xml"),
        "malformed but readable XML": web.url("/content/broken-but-readable.xml"),
        "lying charset (feed)": web.url("/content/lying-charset.xml"),
        "HTML instead of a feed": web.url("/content/html.xml"),
        "empty 200": web.url("/content/empty.xml"),
        "100 MB feed": web.url("/content/huge.xml"),
        "gzip bomb (feed)": web.url("/content/bomb.xml"),
        "absurd dates": web.url("/content/absurd-dates.xml"),
        "10,000 items": web.url("/content/10k.xml"),
        "duplicate GUIDs": web.url("/content/dup-guids.xml"),
    }
