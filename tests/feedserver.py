"""A loopback HTTP server for feed tests: scripted answers per path, every request recorded."""

from __future__ import annotations

import gzip
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Request:
    """One request the server received."""

    path: str
    query: str
    headers: dict[str, str]  # lower-cased names


@dataclass
class Reply:
    """One scripted answer."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


Route = Callable[[Request], Reply]


class _QuietServer(ThreadingHTTPServer):
    """A threading server that does not print tracebacks when a client hangs up early."""

    def handle_error(self, request: object, client_address: object) -> None:
        """Ignore errors: timeout tests close connections on purpose."""
        return


class RecordingServer:
    """Serve scripted replies on 127.0.0.1 (port 0) and record every request, in order."""

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self.routes: dict[str, Route] = {}
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                request = Request(
                    parts.path, parts.query, {k.lower(): v for k, v in self.headers.items()}
                )
                with server._lock:
                    server.requests.append(request)
                    route = server.routes.get(parts.path)
                reply = route(request) if route else Reply(404, b"not found")
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                if reply.status != 304:
                    self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                if reply.status != 304:
                    self.wfile.write(reply.body)

            def log_message(self, format: str, *args: object) -> None:
                return

        self._server = _QuietServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        # A short poll interval: shutdown() waits up to one interval (0.5 s by default).
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        ).start()
        self.base = f"http://127.0.0.1:{self._server.server_address[1]}"

    def close(self) -> None:
        """Stop the server."""
        self._server.shutdown()
        self._server.server_close()

    def hits(self, path: str) -> list[Request]:
        """Return the requests received for a path (query ignored), in order."""
        with self._lock:
            return [r for r in self.requests if r.path == path]

    def route(self, path: str, route: Route) -> None:
        """Answer requests for path with route(request)."""
        with self._lock:
            self.routes[path] = route

    def reply(self, path: str, reply: Reply) -> None:
        """Answer every request for path with the same reply."""
        self.route(path, lambda _request: reply)

    def script(self, path: str, replies: list[Reply]) -> None:
        """Answer requests for path with replies in turn, repeating the last one."""
        queue = list(replies)

        def next_reply(_request: Request) -> Reply:
            return queue.pop(0) if len(queue) > 1 else queue[0]

        self.route(path, next_reply)

    def feed(
        self, path: str, body: bytes, content_type: str = "application/rss+xml",
        etag: str | None = '"v1"', gzip_encode: bool = False,
    ) -> None:
        """Serve a feed that honours If-None-Match / If-Modified-Since with 304, like a CDN."""
        last_modified = formatdate(1_700_000_000 + len(body), usegmt=True)
        headers = {"Content-Type": content_type, "Last-Modified": last_modified}
        if etag:
            headers["ETag"] = etag
        payload = body
        if gzip_encode:
            payload = gzip.compress(body)
            headers["Content-Encoding"] = "gzip"

        def answer(request: Request) -> Reply:
            if etag and request.headers.get("if-none-match") == etag:
                return Reply(304, b"", {"ETag": etag})
            if not etag and request.headers.get("if-modified-since") == last_modified:
                return Reply(304, b"", {})
            return Reply(200, payload, headers)

        self.route(path, answer)

    def page(self, path: str, html: str) -> None:
        """Serve an HTML page."""
        self.reply(path, Reply(200, html.encode(), {"Content-Type": "text/html; charset=utf-8"}))


def rss(items: list[tuple[str, str]], extra: str = "", title: str = "Test feed") -> bytes:
    """Return an RSS 2.0 feed of (guid, link) items, with extra channel elements."""
    entries = "".join(
        f"<item><title>Story {guid}</title><link>{link}</link><guid>{guid}</guid>"
        "<pubDate>Mon, 01 Dec 2025 09:00:00 GMT</pubDate></item>"
        for guid, link in items
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0" '
        'xmlns:sy="http://purl.org/rss/1.0/modules/syndication/"><channel>'
        f"<title>{title}</title><link>http://example.org/</link>{extra}{entries}</channel></rss>"
    ).encode()


def article(title: str) -> str:
    """Return a small HTML article page (not about the watched relationship: no NLP work)."""
    text = " ".join(["The village bakery changed its opening hours for the winter season."] * 8)
    return (
        f"<!doctype html><html lang='en'><head><title>{title}</title></head><body><article>"
        f"<h1>{title}</h1><p>{text}</p><p>{text}</p></article></body></html>"
    )
