"""Tests for newsmon.sources.fetch against real loopback HTTP servers (no httpx mocks).

Refused addresses (10.x, 169.254.x, ...) are only ever passed through check_url_allowed or
refused by fetch before any connection: an httpx event hook proves no request was sent.
"""

from __future__ import annotations

import gzip
import os
import resource
import socket
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from newsmon.sources.fetch import (
    FetchLimits,
    FetchResult,
    RefusedURL,
    check_url_allowed,
    fetch,
    make_client,
)

ETAG = '"v1"'
LAST_MODIFIED = "Wed, 01 Jan 2025 00:00:00 GMT"
HTML = b"<html><head><title>Story</title></head><body>Hello</body></html>"
MIB = 1 << 20
# ~3 MB of varied but compressible text: decoding it takes many bounded 64 KiB pieces.
LARGE_TEXT = b"".join(b"<p>paragraph %d of the story</p>\n" % i for i in range(100_000))


def _gzip_bomb_chunks() -> Iterator[bytes]:
    """Yield a gzip stream of 1 GiB of zeros (~1 MB compressed), built lazily from one block.

    After Z_FULL_FLUSH the compressor state is reset, so the block for 1 MiB of zeros is
    identical every time and can simply be repeated. The gzip trailer is omitted: computing
    the CRC of 1 GiB is wasted time, and a correct client stops long before the end.
    """
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    zeros = bytes(MIB)
    yield compressor.compress(zeros) + compressor.flush(zlib.Z_FULL_FLUSH)
    block = compressor.compress(zeros) + compressor.flush(zlib.Z_FULL_FLUSH)
    for _ in range(1023):
        yield block


def _repeat(total: int, chunk: bytes) -> Iterator[bytes]:
    """Yield chunk repeatedly until total bytes have been yielded."""
    sent = 0
    while sent < total:
        piece = chunk[: total - sent]
        sent += len(piece)
        yield piece


class _Server(ThreadingHTTPServer):
    """Loopback server that records requests and how much each streamed response sent."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.sent: dict[str, int] = {}
        self.release = threading.Event()  # lets /hang and /drip handlers exit at teardown

    @property
    def port(self) -> int:
        """Return the bound port."""
        return self.server_address[1]

    def hits(self, path: str) -> int:
        """Return how many requests path has received."""
        return sum(1 for p, _ in self.requests if p == path)

    def wait_sent(self, path: str, timeout_s: float = 5) -> int:
        """Return bytes sent by the streamed response for path, once its handler finished."""
        end = time.monotonic() + timeout_s
        while path not in self.sent and time.monotonic() < end:
            time.sleep(0.01)
        return self.sent[path]


class _Handler(BaseHTTPRequestHandler):
    """Route table for the scenarios under test."""

    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """Return None: keep pytest output quiet."""

    def _send(
        self, status: int, headers: Sequence[tuple[str, str]] = (), body: bytes = b""
    ) -> None:
        """Send a complete response with Content-Length."""
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _stream(
        self,
        headers: Sequence[tuple[str, str]],
        chunks: Iterable[bytes],
        content_length: int | None = None,
        delay_s: float = 0,
    ) -> None:
        """Stream chunks until done or the client hangs up; record bytes sent."""
        self.send_response(200)
        for name, value in headers:
            self.send_header(name, value)
        if content_length is None:
            self.send_header("Connection", "close")  # body delimited by connection close
        else:
            self.send_header("Content-Length", str(content_length))
        self.end_headers()
        self.close_connection = True
        sent = 0
        try:
            for chunk in chunks:
                self.wfile.write(chunk)
                sent += len(chunk)
                if delay_s and self.server.release.wait(delay_s):
                    break
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client stopped reading: exactly what the caps are for
        finally:
            self.server.sent[self.path] = sent

    def do_GET(self) -> None:
        """Serve the route named by the path."""
        self.server.requests.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
        path = self.path
        html = [("Content-Type", "text/html; charset=utf-8")]
        if path == "/ok":
            self._send(200, [*html, ("X-Test", "yes")], HTML)
        elif path == "/cond":
            validators = [("ETag", ETAG), ("Last-Modified", LAST_MODIFIED)]
            if (
                self.headers.get("If-None-Match") == ETAG
                or self.headers.get("If-Modified-Since") == LAST_MODIFIED
            ):
                self._send(304, validators)
            else:
                self._send(200, [*html, *validators], HTML)
        elif path.startswith("/redir/"):
            n = int(path.rsplit("/", 1)[1])
            if n == 0:
                self._send(200, html, HTML)
            else:
                self._send(302, [("Location", f"/redir/{n - 1}")], b"moved")
        elif path == "/loop":
            self._send(302, [("Location", "/loop")])
        elif path == "/to-metadata":
            self._send(302, [("Location", "http://169.254.169.254/latest/meta-data")])
        elif path == "/to-file":
            self._send(301, [("Location", "file:///etc/passwd")])
        elif path == "/to-other-port":
            self._send(307, [("Location", "http://127.0.0.1:9/admin")])
        elif path == "/gzip":
            self._send(200, [*html, ("Content-Encoding", "gzip")], gzip.compress(HTML))
        elif path == "/gzip-large":
            self._send(200, [*html, ("Content-Encoding", "gzip")], gzip.compress(LARGE_TEXT))
        elif path == "/gzip-multi":
            body = gzip.compress(HTML[:20]) + gzip.compress(HTML[20:])
            self._send(200, [*html, ("Content-Encoding", "gzip")], body)
        elif path == "/deflate-raw":
            compressor = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
            body = compressor.compress(HTML) + compressor.flush()
            self._send(200, [*html, ("Content-Encoding", "deflate")], body)
        elif path == "/gzip-random":
            self._send(200, [*html, ("Content-Encoding", "gzip")], gzip.compress(os.urandom(MIB)))
        elif path == "/brotli":
            self._send(200, [*html, ("Content-Encoding", "br")], b"\x0b\x02\x80hello\x03")
        elif path == "/bomb":
            self._stream([*html, ("Content-Encoding", "gzip")], _gzip_bomb_chunks())
        elif path == "/big":
            size = 100 * MIB
            self._stream(html, _repeat(size, b"a" * 65536), content_length=size)
        elif path == "/pdf":
            size = 50 * MIB
            pdf = [("Content-Type", "application/pdf")]
            self._stream(pdf, _repeat(size, b"%PDF" * 16384), content_length=size)
        elif path == "/drip":
            self._stream(html, _repeat(1000, b"x"), content_length=1000, delay_s=0.05)
        elif path == "/hang":
            self.server.release.wait(10)  # never answer; the client must time out
            self.close_connection = True
        elif path == "/429":
            self._send(429, [("Retry-After", "120"), ("Content-Type", "text/plain")], b"slow down")
        elif path == "/500":
            self._send(500, [("Content-Type", "text/plain")], b"oops")
        else:
            self._send(404, [("Content-Type", "text/plain")], b"not found")


@pytest.fixture(scope="module")
def server() -> Iterator[_Server]:
    """Return a running loopback server, shut down after the module."""
    srv = _Server()
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.release.set()
    srv.shutdown()
    srv.server_close()


@pytest.fixture
def limits(server: _Server) -> FetchLimits:
    """Return limits that treat only the loopback server's host:port as public."""
    return FetchLimits(extra_allowed_hosts=(f"127.0.0.1:{server.port}",))


def _url(server: _Server, path: str) -> str:
    """Return the absolute URL of path on the loopback server."""
    return f"http://127.0.0.1:{server.port}{path}"


def _fetch(server: _Server, path: str, limits: FetchLimits, **kwargs: Any) -> FetchResult:
    """Return fetch() of path on the loopback server with a fresh make_client client."""
    with make_client(limits) as client:
        return fetch(client, _url(server, path), limits, **kwargs)


def _fake_resolver(table: dict[str, list[str]]) -> Callable[..., list[tuple[Any, ...]]]:
    """Return a getaddrinfo look-alike answering from table, gaierror for other names."""

    def resolve(host: str, port: int, *args: Any, **kwargs: Any) -> list[tuple[Any, ...]]:
        """Return getaddrinfo-shaped tuples for host."""
        if host not in table:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        out: list[tuple[Any, ...]] = []
        for addr in table[host]:
            family = socket.AF_INET6 if ":" in addr else socket.AF_INET
            sockaddr = (addr, port, 0, 0) if family == socket.AF_INET6 else (addr, port)
            out.append((family, socket.SOCK_STREAM, 6, "", sockaddr))
        return out

    return resolve


RESOLVER = _fake_resolver(
    {
        "localhost": ["127.0.0.1", "::1"],
        "news.test": ["127.0.0.1"],
        "mixed.test": ["93.184.216.34", "10.0.0.5"],
        "public.test": ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"],
        "linklocal6.test": ["fe80::1%eth0"],
    }
)


# --- check_url_allowed -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://example.com/file.txt",
        "javascript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "gopher://example.com/",
        "http:///no-host",
        "http://[::1/",
        "http://example.com:99999/",
    ],
)
def test_check_refuses_non_http_and_malformed(url: str) -> None:
    with pytest.raises(RefusedURL) as info:
        check_url_allowed(url, allow_private_hosts=False, resolver=RESOLVER)
    assert info.value.kind == "refused_scheme"
    assert url in str(info.value)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/",
        "http://10.0.0.1/",
        "http://172.16.0.1/",
        "http://192.168.1.1/",
        "http://169.254.169.254/latest/meta-data",
        "http://100.100.100.200/",  # Alibaba metadata, inside CGNAT space
        "http://100.64.0.1/",
        "http://0.0.0.0/",
        "http://224.0.0.1/",
        "http://240.0.0.1/",
        "http://255.255.255.255/",
        "http://[::1]/",
        "http://[::]/",
        "http://[fc00::1]/",
        "http://[fd00:ec2::254]/",
        "http://[fe80::1]/",
        "http://[ff02::1]/",
        "http://[::ffff:10.0.0.1]/",  # IPv4-mapped private
        "http://[::ffff:127.0.0.1]/",
        "http://[64:ff9b::a00:1]/",  # NAT64 of 10.0.0.1
        "http://[2002:a00:1::1]/",  # 6to4 of 10.0.0.1
        "http://localhost/",
        "http://news.test/",  # a hostname resolving to loopback
        "http://mixed.test/",  # one private answer is enough to refuse
        "http://linklocal6.test/",
        "https://NEWS.test:8443/",
    ],
)
def test_check_refuses_non_public_addresses(url: str) -> None:
    with pytest.raises(RefusedURL) as info:
        check_url_allowed(url, allow_private_hosts=False, resolver=RESOLVER)
    assert info.value.kind == "refused_address"
    assert "allow_private_hosts" in str(info.value)


@pytest.mark.parametrize("url", ["http://2130706433/", "http://0x7f.1/", "http://127.1/"])
def test_check_refuses_obfuscated_loopback_via_system_resolver(url: str) -> None:
    # Numeric forms are parsed by getaddrinfo itself (inet_aton): no DNS traffic involved.
    with pytest.raises(RefusedURL) as info:
        check_url_allowed(url, allow_private_hosts=False)
    assert info.value.kind == "refused_address"


def test_check_unknown_host_is_dns_error() -> None:
    with pytest.raises(RefusedURL) as info:
        check_url_allowed("https://nonexistent.test/", allow_private_hosts=False, resolver=RESOLVER)
    assert info.value.kind == "dns"


@pytest.mark.parametrize(
    "url",
    [
        "http://public.test/a?b=c",
        "https://93.184.216.34/",
        "https://[2606:4700::1111]/",
        "http://[64:ff9b::5db8:d822]/",  # NAT64 (DNS64 networks) of public 93.184.216.34
    ],
)
def test_check_allows_public_addresses(url: str) -> None:
    check_url_allowed(url, allow_private_hosts=False, resolver=RESOLVER)


def test_check_allow_private_hosts_still_refuses_metadata() -> None:
    for url in ("http://127.0.0.1:8080/", "http://10.0.0.1/", "http://news.test/", "http://[::1]/"):
        check_url_allowed(url, allow_private_hosts=True, resolver=RESOLVER)
    with pytest.raises(RefusedURL):
        check_url_allowed("http://169.254.169.254/", allow_private_hosts=True, resolver=RESOLVER)
    with pytest.raises(RefusedURL):
        check_url_allowed("file:///etc/passwd", allow_private_hosts=True, resolver=RESOLVER)


def test_check_extra_allowed_hosts_is_exact_host_and_port() -> None:
    extra = ("127.0.0.1:8080", "news.test:80", "[::1]:8080")
    for url in ("http://127.0.0.1:8080/x", "http://news.test/x", "http://[::1]:8080/"):
        check_url_allowed(url, False, RESOLVER, extra_allowed_hosts=extra)
    for url in ("http://127.0.0.1:8081/x", "https://news.test/x", "http://localhost:8080/"):
        with pytest.raises(RefusedURL):
            check_url_allowed(url, False, RESOLVER, extra_allowed_hosts=extra)


# --- fetch: refusals never reach the network -------------------------------------------------


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("file:///etc/passwd", "refused_scheme"),
        ("ftp://example.com/x", "refused_scheme"),
        ("javascript:alert(1)", "refused_scheme"),
        ("http://10.0.0.1/", "refused_address"),
        ("http://169.254.169.254/latest/meta-data", "refused_address"),
        ("http://[::1]/", "refused_address"),
        ("http://localhost/", "refused_address"),
        ("http://news.test/", "refused_address"),
        ("http://nonexistent.test/", "dns"),
    ],
)
def test_fetch_refused_urls_are_never_contacted(url: str, kind: str) -> None:
    sent: list[httpx.Request] = []
    # A plain client (no connect-time guard) proves fetch's own check stops the request.
    with httpx.Client(trust_env=False, event_hooks={"request": [sent.append]}) as client:
        result = fetch(client, url, FetchLimits(), resolver=RESOLVER)
    assert sent == []
    assert result.error_kind == kind
    assert result.status is None
    assert result.body == b""
    assert result.error is not None and url in result.error


def test_fetch_loopback_refused_by_default(server: _Server) -> None:
    before = server.hits("/ok")
    result = _fetch(server, "/ok", FetchLimits())
    assert result.error_kind == "refused_address"
    assert server.hits("/ok") == before


def test_fetch_loopback_allowed_with_allow_private_hosts(server: _Server) -> None:
    result = _fetch(server, "/ok", FetchLimits(allow_private_hosts=True))
    assert result.error_kind is None, result.error
    assert result.status == 200
    assert result.body == HTML
    assert result.final_url == result.url == _url(server, "/ok")
    assert result.headers["x-test"] == "yes"
    assert result.headers["content-type"].startswith("text/html")
    path, headers = server.requests[-1]
    assert path == "/ok"
    assert headers["user-agent"] == FetchLimits().user_agent
    assert headers["accept-encoding"] == "gzip, deflate"


def test_make_client_guard_blocks_private_connect_even_without_fetch(server: _Server) -> None:
    before = server.hits("/ok")
    with make_client(FetchLimits()) as client, pytest.raises(httpx.ConnectError):
        client.get(_url(server, "/ok"))
    assert server.hits("/ok") == before


def test_fetch_dns_rebinding_refused_at_connect_time(server: _Server) -> None:
    # The pre-request check sees a public address, the connection-time lookup sees loopback.
    check_resolver = _fake_resolver({"rebind.test": ["93.184.216.34"]})
    connect_resolver = _fake_resolver({"rebind.test": ["127.0.0.1"]})
    limits = FetchLimits()
    before = len(server.requests)
    with make_client(limits, resolver=connect_resolver) as client:
        url = f"http://rebind.test:{server.port}/ok"
        result = fetch(client, url, limits, resolver=check_resolver)
    assert result.error_kind == "refused_address"
    assert len(server.requests) == before


# --- fetch: redirects ------------------------------------------------------------------------


def test_redirect_to_metadata_is_refused(server: _Server) -> None:
    limits = FetchLimits(extra_allowed_hosts=(f"127.0.0.1:{server.port}",))
    sent: list[str] = []
    with make_client(limits) as client:
        client.event_hooks["request"] = [lambda request: sent.append(str(request.url))]
        result = fetch(client, _url(server, "/to-metadata"), limits)
    assert result.error_kind == "refused_address"
    assert result.final_url == "http://169.254.169.254/latest/meta-data"
    assert result.status is None
    assert sent == [_url(server, "/to-metadata")]  # the metadata hop was never requested


@pytest.mark.parametrize(
    ("path", "kind"), [("/to-file", "refused_scheme"), ("/to-other-port", "refused_address")]
)
def test_redirect_to_disallowed_target_is_refused(
    server: _Server, limits: FetchLimits, path: str, kind: str
) -> None:
    assert _fetch(server, path, limits).error_kind == kind


def test_three_redirects_are_followed(server: _Server, limits: FetchLimits) -> None:
    result = _fetch(server, "/redir/3", limits)
    assert result.error_kind is None, result.error
    assert result.status == 200
    assert result.body == HTML
    assert result.url == _url(server, "/redir/3")
    assert result.final_url == _url(server, "/redir/0")


def test_max_redirects_boundary(server: _Server, limits: FetchLimits) -> None:
    assert _fetch(server, "/redir/5", limits).error_kind is None
    result = _fetch(server, "/redir/6", limits)
    assert result.error_kind == "too_many_redirects"
    assert result.status == 302


def test_redirect_loop_is_too_many_redirects(server: _Server, limits: FetchLimits) -> None:
    before = server.hits("/loop")
    result = _fetch(server, "/loop", limits)
    assert result.error_kind == "too_many_redirects"
    assert result.error is not None and "max_redirects=5" in result.error
    assert server.hits("/loop") - before == limits.max_redirects + 1


# --- fetch: conditional GET, status codes, content types ------------------------------------


def test_conditional_get_returns_304_with_empty_body(server: _Server, limits: FetchLimits) -> None:
    first = _fetch(server, "/cond", limits)
    assert first.status == 200
    assert first.headers["etag"] == ETAG
    assert first.headers["last-modified"] == LAST_MODIFIED

    second = _fetch(server, "/cond", limits, etag=ETAG, last_modified=LAST_MODIFIED)
    assert second.status == 304
    assert second.error_kind is None
    assert second.error is None
    assert second.body == b""
    _, headers = server.requests[-1]
    assert headers["if-none-match"] == ETAG
    assert headers["if-modified-since"] == LAST_MODIFIED


def test_429_keeps_status_and_retry_after(server: _Server, limits: FetchLimits) -> None:
    result = _fetch(server, "/429", limits)
    assert result.error_kind == "http_status"
    assert result.status == 429
    assert result.headers["retry-after"] == "120"
    assert result.error is not None and "120" in result.error


@pytest.mark.parametrize(("path", "status"), [("/500", 500), ("/missing", 404)])
def test_error_statuses(server: _Server, limits: FetchLimits, path: str, status: int) -> None:
    result = _fetch(server, path, limits)
    assert (result.error_kind, result.status) == ("http_status", status)


def test_pdf_is_not_downloaded(server: _Server, limits: FetchLimits) -> None:
    result = _fetch(server, "/pdf", limits)
    assert result.error_kind == "content_type"
    assert result.status == 200
    assert result.body == b""
    assert result.error is not None and "application/pdf" in result.error
    # The server saw the client hang up long before the 50 MiB were written.
    assert server.wait_sent("/pdf") < 50 * MIB


@pytest.mark.parametrize("path", ["/gzip", "/gzip-multi", "/deflate-raw"])
def test_compressed_bodies_are_decoded(server: _Server, limits: FetchLimits, path: str) -> None:
    result = _fetch(server, path, limits)
    assert result.error_kind is None, result.error
    assert result.body == HTML


def test_large_gzip_body_is_decoded_completely(server: _Server, limits: FetchLimits) -> None:
    result = _fetch(server, "/gzip-large", limits)
    assert result.error_kind is None, result.error
    assert result.body == LARGE_TEXT


def test_unsupported_content_encoding(server: _Server, limits: FetchLimits) -> None:
    result = _fetch(server, "/brotli", limits)
    assert result.error_kind == "content_type"
    assert result.error is not None and "Content-Encoding" in result.error


# --- fetch: size and time caps ---------------------------------------------------------------


def test_gzip_bomb_is_cut_at_max_bytes_with_bounded_memory(
    server: _Server, limits: FetchLimits
) -> None:
    rss_before_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    result = _fetch(server, "/bomb", limits)
    rss_growth_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before_kib) / 1024
    assert result.error_kind == "too_large"
    assert len(result.body) == limits.max_bytes
    assert result.body == bytes(limits.max_bytes)
    assert rss_growth_mib < 200
    assert result.elapsed_s < 5


def test_compressed_bytes_are_capped(server: _Server) -> None:
    # Random data does not compress: the compressed stream outgrows the cap.
    limits = FetchLimits(max_bytes=100_000, extra_allowed_hosts=(f"127.0.0.1:{server.port}",))
    result = _fetch(server, "/gzip-random", limits)
    assert result.error_kind == "too_large"
    assert len(result.body) <= 100_000


def test_plain_100mb_page_is_cut_at_cap(server: _Server, limits: FetchLimits) -> None:
    result = _fetch(server, "/big", limits)
    assert result.error_kind == "too_large"
    assert result.status == 200
    assert len(result.body) == limits.max_bytes
    assert result.error is not None and "max_bytes" in result.error
    assert server.wait_sent("/big") < 100 * MIB


def test_server_that_never_answers_hits_read_timeout(server: _Server) -> None:
    limits = FetchLimits(read_timeout_s=0.3, extra_allowed_hosts=(f"127.0.0.1:{server.port}",))
    result = _fetch(server, "/hang", limits)
    assert result.error_kind == "timeout"
    assert result.status is None
    assert result.elapsed_s < 2


def test_slow_drip_hits_total_deadline(server: _Server) -> None:
    limits = FetchLimits(
        read_timeout_s=2, total_timeout_s=0.5, extra_allowed_hosts=(f"127.0.0.1:{server.port}",)
    )
    result = _fetch(server, "/drip", limits)
    assert result.error_kind == "timeout"
    assert result.status == 200
    assert 0 < len(result.body) < 1000
    assert result.elapsed_s < 1.5


def test_connection_refused_is_connect_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again before use: nothing listens there
    limits = FetchLimits(allow_private_hosts=True)
    with make_client(limits) as client:
        result = fetch(client, f"http://127.0.0.1:{port}/", limits)
    assert result.error_kind == "connect"
    assert result.status is None
    assert result.error is not None and str(port) in result.error
