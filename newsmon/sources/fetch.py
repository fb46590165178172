"""Fetching untrusted URLs: SSRF guard, manual redirects, byte caps, deadline, no raising."""

from __future__ import annotations

import ipaddress
import socket
import time
import zlib
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

import httpcore
import httpx

if TYPE_CHECKING:  # settings import pydantic; the fetcher takes a plain slice
    from newsmon.settings import FetchSettings

# Same call shape as socket.getaddrinfo(host, port, family, type, ...): injectable for tests.
Resolver = Callable[..., Sequence[tuple[Any, ...]]]
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

DEFAULT_ACCEPT = (
    "text/html,application/xhtml+xml,application/xml;q=0.9,application/rss+xml;q=0.9,"
    "application/atom+xml;q=0.9,text/xml;q=0.8,text/plain;q=0.5,*/*;q=0.1"
)

_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_DEFAULT_PORTS = {"http": 80, "https": 443}
# Cloud metadata endpoints hand out credentials: refused even when private hosts are allowed.
_METADATA_ADDRESSES: frozenset[IPAddress] = frozenset(
    {
        ipaddress.ip_address("169.254.169.254"),  # AWS, GCP, Azure, OpenStack
        ipaddress.ip_address("169.254.170.2"),  # AWS ECS task metadata
        ipaddress.ip_address("100.100.100.200"),  # Alibaba Cloud
        ipaddress.ip_address("fd00:ec2::254"),  # AWS IPv6
    }
)
# NAT64 embeds an IPv4 address in the low 32 bits, which may be a private one.
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_READ_PIECE = 64 * 1024  # max decompressed bytes produced per step: bounds memory per chunk


@dataclass(frozen=True)
class FetchLimits:
    """Limits and identity for fetching; every value is passed in, nothing read from env."""

    connect_timeout_s: float = 10
    read_timeout_s: float = 20
    # Checked between chunks, so a slow drip can overshoot by at most one read timeout.
    total_timeout_s: float = 60
    max_bytes: int = 10_000_000  # cap on compressed AND decompressed body
    max_redirects: int = 5
    allow_private_hosts: bool = False  # loopback/private allowed only when config says so
    user_agent: str = "newsmon/0.1 (+https://github.com/newsmon/newsmon; news monitoring)"
    allowed_content_types: tuple[str, ...] = (
        "text/html",
        "application/xhtml+xml",
        "application/xml",
        "text/xml",
        "application/rss+xml",
        "application/atom+xml",
        "application/rdf+xml",
        "text/plain",
    )
    # Exact "host:port" strings (port always explicit, IPv6 as "[::1]:8080") treated as public
    # without resolving them: lets tests and demos use a loopback server while every other
    # private address, including redirect targets, stays refused.
    extra_allowed_hosts: tuple[str, ...] = ()

    @classmethod
    def from_settings(
        cls, fetch: FetchSettings, allow_private_hosts: bool = False
    ) -> FetchLimits:
        """Return the limits of the fetch settings (allow_private_hosts may only widen them)."""
        return cls(
            connect_timeout_s=fetch.connect_timeout_s, read_timeout_s=fetch.read_timeout_s,
            total_timeout_s=fetch.total_timeout_s, max_bytes=fetch.max_bytes,
            max_redirects=fetch.max_redirects,
            allow_private_hosts=allow_private_hosts or fetch.allow_private_hosts,
            user_agent=fetch.user_agent, extra_allowed_hosts=fetch.extra_allowed_hosts,
        )


@dataclass(frozen=True)
class FetchResult:
    """Outcome of one fetch; error_kind is None on success (including 304 Not Modified)."""

    url: str  # requested URL
    final_url: str  # last URL requested (or refused) after redirects
    status: int | None  # HTTP status of final_url, None when it got no response
    headers: dict[str, str]  # lower-cased names
    body: bytes  # decompressed body (may be truncated: see error)
    elapsed_s: float
    # None on success; else one of: "refused_scheme", "refused_address", "dns", "connect",
    # "timeout", "too_large", "too_many_redirects", "http_status", "content_type".
    # A 304 is not an error: error_kind None, status 304, body b"".
    error_kind: str | None
    error: str | None  # human-readable, names the URL and what to do
    # (status, target URL) of each redirect followed, in order: lets a feed poller tell a
    # permanent move (301/308) from a temporary one without fetching again.
    redirects: tuple[tuple[int, str], ...] = ()


class RefusedURL(Exception):
    """URL not fetched: kind is "refused_scheme", "refused_address" or "dns"."""

    def __init__(self, message: str, kind: str = "refused_address") -> None:
        super().__init__(message)
        self.kind = kind


def _host_key(host: str, port: int) -> str:
    """Return "host:port" in the form used by FetchLimits.extra_allowed_hosts."""
    host = host.lower()
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """Return the IPv4 address an IPv6 address tunnels to (mapped, NAT64, 6to4), if any."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip.sixtofour


def _is_public(ip: IPAddress) -> bool:
    """Return True when ip is a globally routable unicast address outside metadata endpoints."""
    if ip in _METADATA_ADDRESSES:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        inner = _embedded_ipv4(ip)
        if ip.ipv4_mapped is not None or ip in _NAT64:
            # Traffic goes to the embedded IPv4 address, so it alone decides; this also keeps
            # IPv6-only hosts behind DNS64 (every IPv4 site answers 64:ff9b::/96) working.
            return inner is not None and _is_public(inner)
        if inner is not None and not _is_public(inner):  # 6to4 wrapping a private address
            return False
    # is_global alone lets multicast through (224/4 is "global"), hence the explicit checks.
    return ip.is_global and not (
        ip.is_multicast
        or ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_reserved
        or ip.is_unspecified
    )


def _is_allowed(ip: IPAddress, allow_private_hosts: bool) -> bool:
    """Return True when connecting to ip is permitted under allow_private_hosts."""
    if allow_private_hosts:
        return ip not in _METADATA_ADDRESSES and not ip.is_unspecified
    return _is_public(ip)


def _resolve(host: str, port: int, resolver: Resolver) -> list[IPAddress]:
    """Return the distinct addresses host resolves to, in resolver order (raises OSError)."""
    try:
        return [ipaddress.ip_address(host)]  # literal: no lookup, no chance of a DNS answer
    except ValueError:
        pass
    addresses: list[IPAddress] = []
    for info in resolver(host, port, 0, socket.SOCK_STREAM):
        # sockaddr[0] is the address; IPv6 link-local answers may carry a "%scope" suffix.
        ip = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if ip not in addresses:
            addresses.append(ip)
    if not addresses:
        raise socket.gaierror(f"no addresses for {host}")
    return addresses


def check_url_allowed(
    url: str,
    allow_private_hosts: bool,
    resolver: Resolver = socket.getaddrinfo,
    *,
    extra_allowed_hosts: Collection[str] = (),
) -> None:
    """Return None if url may be fetched, else raise RefusedURL (kind says why).

    Allowed: http(s) URLs whose host is in extra_allowed_hosts ("host:port"), or whose every
    resolved address is public (not loopback, private, link-local, multicast, reserved,
    unspecified, CGNAT, cloud metadata, IPv6 ULA/link-local, or IPv4-mapped/NAT64/6to4 of
    those). allow_private_hosts=True allows all but metadata and unspecified addresses.
    """
    try:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        host = parts.hostname
        port = parts.port
    except ValueError as exc:  # bad IPv6 brackets, non-numeric port, ...
        raise RefusedURL(f"{url}: malformed URL ({exc}); drop this link", "refused_scheme") from exc
    if scheme not in _DEFAULT_PORTS:
        raise RefusedURL(
            f"{url}: scheme {scheme or '(none)'!r} refused, only http(s) is fetched; drop it",
            "refused_scheme",
        )
    if not host:
        raise RefusedURL(f"{url}: URL has no host; drop this link", "refused_scheme")
    port = port if port is not None else _DEFAULT_PORTS[scheme]
    if _host_key(host, port) in extra_allowed_hosts:
        return
    try:
        addresses = _resolve(host, port, resolver)
    except (OSError, UnicodeError) as exc:  # gaierror, or IDNA failure for an absurd label
        raise RefusedURL(
            f"{url}: DNS lookup of {host!r} failed ({exc}); check the link or retry later", "dns"
        ) from exc
    bad = [str(ip) for ip in addresses if not _is_allowed(ip, allow_private_hosts)]
    if bad:
        # Refusing when ANY answer is non-public: the client could connect to any of them.
        raise RefusedURL(
            f"{url}: host {host!r} resolves to non-public address {', '.join(bad)}; refused to "
            f"prevent SSRF. If this host is trusted, set allow_private_hosts or add "
            f"'{_host_key(host, port)}' to extra_allowed_hosts",
            "refused_address",
        )


class _RefusedConnect(httpcore.ConnectError):
    """Connect-time refusal of a non-public address by _GuardedBackend."""


class _GuardedBackend(httpcore.SyncBackend):
    """Network backend that re-checks the address actually connected to.

    fetch() checks each URL before requesting it, but the client resolves the name again when
    connecting; a DNS-rebinding host can answer public first and private second. Resolving
    once here, checking, and connecting to that exact address closes the gap (TLS still uses
    the URL's host name for SNI and certificate checks: httpcore passes it to start_tls).
    """

    def __init__(
        self, allow_private_hosts: bool, extra_allowed_hosts: Collection[str], resolver: Resolver
    ) -> None:
        super().__init__()
        self._allow_private_hosts = allow_private_hosts
        self._extra_allowed_hosts = frozenset(extra_allowed_hosts)
        self._resolver = resolver

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.NetworkStream:
        """Return a stream connected to a checked address of host, or raise ConnectError."""
        if _host_key(host, port) in self._extra_allowed_hosts:
            return super().connect_tcp(host, port, timeout, local_address, socket_options)
        try:
            addresses = _resolve(host, port, self._resolver)
        except (OSError, UnicodeError) as exc:
            raise httpcore.ConnectError(f"DNS lookup of {host!r} failed: {exc}") from exc
        bad = [str(ip) for ip in addresses if not _is_allowed(ip, self._allow_private_hosts)]
        if bad:
            raise _RefusedConnect(f"{host!r} resolves to non-public address {', '.join(bad)}")
        last_error: httpcore.ConnectError | None = None
        for ip in addresses:
            try:
                return super().connect_tcp(str(ip), port, timeout, local_address, socket_options)
            except httpcore.ConnectError as exc:  # try the next address, as create_connection does
                last_error = exc
        assert last_error is not None  # _resolve never returns an empty list
        raise last_error


def _timeout(limits: FetchLimits, remaining_s: float | None = None) -> httpx.Timeout:
    """Return the httpx timeouts of limits, each clipped to remaining_s when given."""
    cap = float("inf") if remaining_s is None else max(remaining_s, 0.001)
    connect = min(limits.connect_timeout_s, cap)
    read = min(limits.read_timeout_s, cap)
    return httpx.Timeout(connect=connect, read=read, write=read, pool=connect)


def make_client(limits: FetchLimits, *, resolver: Resolver = socket.getaddrinfo) -> httpx.Client:
    """Return an httpx.Client with the limits' timeouts, user agent and connect-time guard."""
    transport = httpx.HTTPTransport(retries=0)
    pool = getattr(transport, "_pool", None)
    # httpx offers no public hook for the network backend; fail loudly rather than silently
    # losing the rebinding guard if a future httpx changes its internals.
    if not isinstance(pool, httpcore.ConnectionPool) or not hasattr(pool, "_network_backend"):
        raise RuntimeError("httpx internals changed: cannot install newsmon's address guard")
    pool._network_backend = _GuardedBackend(
        limits.allow_private_hosts, limits.extra_allowed_hosts, resolver
    )
    return httpx.Client(
        transport=transport,
        timeout=_timeout(limits),
        headers={"User-Agent": limits.user_agent},
        follow_redirects=False,
        # trust_env=False: no proxy or netrc from the environment (core never reads env vars).
        trust_env=False,
    )


class _Decoder:
    """Incremental Content-Encoding decoder producing bounded pieces (gzip bomb safe)."""

    def __init__(self, encoding: str) -> None:
        self._encoding = encoding
        self._wbits = {"gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS}.get(encoding, 0)
        self._zlib = zlib.decompressobj(self._wbits) if self._wbits else None
        self._started = False
        self._finished = False

    def decode(self, data: bytes) -> Iterator[bytes]:
        """Yield the decoded bytes of data in pieces of at most _READ_PIECE bytes."""
        if self._zlib is None:
            yield data
            return
        buf = data
        while (buf or self._started) and not self._finished:
            try:
                out = self._zlib.decompress(buf, _READ_PIECE)
            except zlib.error:
                # "deflate" is meant to be zlib-wrapped, but some servers send raw deflate.
                if self._started or self._encoding != "deflate":
                    raise
                self._wbits = -zlib.MAX_WBITS
                self._zlib = zlib.decompressobj(self._wbits)
                continue
            self._started = True
            if self._zlib.eof:
                rest = self._zlib.unused_data
                if self._encoding == "gzip" and rest.startswith(b"\x1f\x8b"):
                    # Concatenated gzip members are one valid stream.
                    self._zlib = zlib.decompressobj(self._wbits)
                    buf = rest
                else:
                    self._finished = True  # trailing garbage after the stream is ignored
            else:
                buf = self._zlib.unconsumed_tail
            if out:
                yield out
            # A full piece may leave output buffered inside zlib: loop again to drain it.
            if not buf and len(out) < _READ_PIECE:
                break


def _make_decoder(content_encoding: str) -> _Decoder | None:
    """Return a decoder for the Content-Encoding header value, or None if unsupported."""
    encoding = content_encoding.strip().lower()
    encoding = {"x-gzip": "gzip", "": "identity", "none": "identity"}.get(encoding, encoding)
    return _Decoder(encoding) if encoding in ("gzip", "deflate", "identity") else None


def _media_type(content_type: str) -> str:
    """Return the lower-case media type of a Content-Type value, without parameters."""
    return content_type.split(";", 1)[0].strip().lower()


def _cause_chain_has(exc: BaseException, kind: type[BaseException]) -> bool:
    """Return True when exc or any exception it was raised from is an instance of kind."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, kind):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _http_status_message(url: str, status: int, headers: dict[str, str]) -> str:
    """Return the error text for a non-success status, with the caller's next step."""
    if status in (429, 503) and "retry-after" in headers:
        advice = f"back off and retry after {headers['retry-after']!r} (Retry-After)"
    elif status in (404, 410):
        advice = "the page is gone; drop this link"
    elif status in (401, 403, 451):
        advice = "access is denied (paywall, block or legal); skip this link"
    elif status >= 500 or status == 429:
        advice = "server-side problem; retry later"
    else:
        advice = "unexpected status; check the link in a browser"
    reason = httpx.codes.get_reason_phrase(status)
    return f"{url}: HTTP {status} {reason}; {advice}"


def fetch(
    client: httpx.Client,
    url: str,
    limits: FetchLimits,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    accept: str = DEFAULT_ACCEPT,
    resolver: Resolver = socket.getaddrinfo,
) -> FetchResult:
    """Return the FetchResult for url; network/HTTP failures become error_kind, never raised.

    Redirects are followed manually (each hop re-checked by check_url_allowed), conditional
    headers are sent when given, and the body is streamed under the byte caps and deadline.
    """
    start = time.monotonic()
    deadline = start + limits.total_timeout_s
    request_headers = {
        "User-Agent": limits.user_agent,
        "Accept": accept,
        # Only encodings _Decoder can decode with a bounded output size.
        "Accept-Encoding": "gzip, deflate",
    }
    if etag:
        request_headers["If-None-Match"] = etag
    if last_modified:
        request_headers["If-Modified-Since"] = last_modified

    current = url
    status: int | None = None
    headers: dict[str, str] = {}
    body = bytearray()
    hops: list[tuple[int, str]] = []

    def result(error_kind: str | None = None, error: str | None = None) -> FetchResult:
        """Return a FetchResult from the current hop's state."""
        return FetchResult(
            url=url,
            final_url=current,
            status=status,
            headers=headers,
            body=bytes(body),
            elapsed_s=time.monotonic() - start,
            error_kind=error_kind,
            error=error,
            redirects=tuple(hops),
        )

    def timed_out(detail: str) -> FetchResult:
        """Return a timeout FetchResult with advice."""
        return result(
            "timeout",
            f"{current}: timed out after {time.monotonic() - start:.1f}s ({detail}); the site "
            "may be slow or down: retry later, or raise the FetchLimits timeouts",
        )

    redirects = 0
    while True:
        status, headers = None, {}
        try:
            check_url_allowed(
                current,
                limits.allow_private_hosts,
                resolver,
                extra_allowed_hosts=limits.extra_allowed_hosts,
            )
        except RefusedURL as exc:
            return result(exc.kind, str(exc))
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return timed_out(f"total_timeout_s={limits.total_timeout_s} spent on redirects")
        next_url: str | None = None
        try:
            with client.stream(
                "GET", current, headers=request_headers, timeout=_timeout(limits, remaining)
            ) as response:
                status = response.status_code
                headers = {name.lower(): value for name, value in response.headers.items()}
                location = headers.get("location")
                if status in _REDIRECT_STATUSES and location:
                    if redirects >= limits.max_redirects:
                        return result(
                            "too_many_redirects",
                            f"{url}: more than max_redirects={limits.max_redirects} redirects "
                            f"(stopped at {current}); likely a redirect loop or consent wall, "
                            "check the link in a browser",
                        )
                    try:
                        next_url = urljoin(current, location)
                    except ValueError:
                        return result(
                            "refused_scheme",
                            f"{current}: redirect to malformed URL {location!r}; drop this link",
                        )
                    # The body of a redirect is not read: closing the stream discards it.
                elif status == 304:
                    return result()  # not modified: the caller keeps its stored copy
                elif status >= 300:
                    # Headers are kept: Retry-After on 429/503 tells the caller when to retry.
                    return result("http_status", _http_status_message(current, status, headers))
                else:
                    return _read_body(response, limits, deadline, current, body, result, timed_out)
        except httpx.TimeoutException as exc:
            return timed_out(type(exc).__name__)
        except httpx.ConnectError as exc:
            if _cause_chain_has(exc, _RefusedConnect):
                return result(
                    "refused_address",
                    f"{current}: refused at connect time ({exc}); the host's DNS answer changed "
                    "to a non-public address (possible DNS rebinding); drop this link",
                )
            if _cause_chain_has(exc, socket.gaierror):
                return result(
                    "dns", f"{current}: DNS lookup failed ({exc}); check the link or retry later"
                )
            return result(
                "connect", f"{current}: could not connect ({exc}); site may be down, retry later"
            )
        except httpx.InvalidURL as exc:
            return result("refused_scheme", f"{current}: malformed URL ({exc}); drop this link")
        except httpx.TransportError as exc:
            # Resets, protocol errors and TLS failures mid-exchange: the site is misbehaving.
            return result(
                "connect",
                f"{current}: connection failed ({type(exc).__name__}: {exc}); retry later",
            )
        assert next_url is not None  # every other branch returned inside the with-block
        assert status is not None
        hops.append((status, next_url))
        current = next_url
        redirects += 1


def _read_body(
    response: httpx.Response,
    limits: FetchLimits,
    deadline: float,
    url: str,
    body: bytearray,
    result: Callable[[str | None, str | None], FetchResult],
    timed_out: Callable[[str], FetchResult],
) -> FetchResult:
    """Return the result of streaming a 2xx body into body under the type, size and time caps."""
    content_type = response.headers.get("content-type", "")
    media_type = _media_type(content_type)
    # A missing Content-Type is accepted: sloppy news servers omit it and parsers sniff.
    if media_type and media_type not in limits.allowed_content_types:
        return result(
            "content_type",
            f"{url}: Content-Type {media_type!r} is not fetched (allowed: "
            f"{', '.join(limits.allowed_content_types)}); skip this link or extend "
            "allowed_content_types",
        )
    encoding = response.headers.get("content-encoding", "")
    decoder = _make_decoder(encoding)
    if decoder is None:
        return result(
            "content_type",
            f"{url}: unsupported Content-Encoding {encoding!r} (asked for gzip, deflate); "
            "skip this link",
        )
    cap = limits.max_bytes
    too_large = (
        f"{url}: body exceeds max_bytes={cap} (kept the first {cap} decoded bytes); raise "
        "max_bytes if this page is legitimately that large"
    )
    try:
        # iter_raw + own decoder rather than iter_bytes: httpx inflates a whole network chunk
        # at once (~64 KB -> ~64 MB for a gzip bomb); _Decoder inflates 64 KB at a time.
        for raw_chunk in response.iter_raw():
            for piece in decoder.decode(raw_chunk):
                room = cap - len(body)
                if len(piece) > room:
                    body += piece[:room]
                    return result("too_large", too_large)
                body += piece
            # Compressed cap: stops a stream that compresses badly or never decodes to output.
            if response.num_bytes_downloaded > cap:
                return result("too_large", too_large)
            if time.monotonic() > deadline:
                return timed_out(f"total_timeout_s={limits.total_timeout_s} while reading body")
    except zlib.error as exc:
        return result(
            "content_type",
            f"{url}: corrupt {encoding} body ({exc}); the server sent broken data, retry later",
        )
    return result(None, None)
