"""URL canonicalisation and stable article ids (pure functions, no I/O)."""

from __future__ import annotations

import contextlib
import hashlib
import string
from urllib.parse import unquote_plus, urlsplit, urlunsplit

# Query parameters that only identify the click source, never the document. Dropping them is what
# lets the same story shared via newsletter, social network and RSS dedup to one canonical URL.
# Kept to names that are tracking-only across the web; ambiguous names such as "ref", "source",
# "s" or "share" are deliberately absent because some sites use them to select content.
_TRACKING_PARAMS: frozenset[str] = frozenset(
    {
        # ad-click ids (Facebook, Google, DoubleClick, Microsoft, Yandex, Instagram, Twitter, ...)
        "fbclid", "gclid", "gclsrc", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "igshid",
        "twclid", "ttclid", "li_fat_id", "rb_clickid", "srsltid",
        # analytics cookies-in-URL
        "_ga", "_gl", "_hsenc", "_hsmi", "__hstc", "__hssc", "__hsfp", "hsctatracking",
        # mail campaign tools (Mailchimp, Marketo, Vero, Olytics)
        "mc_cid", "mc_eid", "mkt_tok", "vero_id", "vero_conv", "oly_enc_id", "oly_anon_id",
        # publisher share/campaign tags (Twitter, MSN, BBC/AT Internet, Guardian, NYT, Yahoo, ...)
        "ref_src", "ref_url", "ocid", "cmpid", "cmp", "at_medium", "at_campaign", "at_custom1",
        "at_custom2", "at_custom3", "at_custom4", "at_ptr", "at_link_id", "at_link_origin",
        "at_link_type", "at_format", "at_bbc_team", "ns_mchannel", "ns_source", "ns_campaign",
        "ns_linkname", "ns_fee", "smid", "smtyp", "guccounter", "guce_referrer",
        "guce_referrer_sig", "wt.mc_id", "wt.tsrc", "sr_share", "__twitter_impression",
    }
)  # fmt: skip
_TRACKING_PREFIXES: tuple[str, ...] = ("utm_",)

_UNRESERVED = frozenset(string.ascii_letters + string.digits + "-._~")
# Characters that may appear literally in each component (RFC 3986 pchar / query). "&" is not
# safe inside a query key/value because it separates pairs, so an encoded "%26" stays encoded.
_PATH_SAFE = _UNRESERVED | frozenset("!$&'()*+,;=:@/")
_QUERY_SAFE = _UNRESERVED | frozenset("!$'()*+,;=:@/?")
_HEX = frozenset(string.hexdigits)
_DEFAULT_PORTS = {"http": 80, "https": 443}


def _normalise_percent(component: str, safe: frozenset[str]) -> str:
    """Return component with unreserved escapes decoded, other escapes upper-cased, rest encoded."""
    out: list[str] = []
    i = 0
    n = len(component)
    while i < n:
        ch = component[i]
        if ch == "%" and i + 2 < n and set(component[i + 1 : i + 3]) <= _HEX:
            escape = component[i + 1 : i + 3].upper()
            decoded = chr(int(escape, 16))
            # Only unreserved characters are decoded: decoding e.g. %2F would change the meaning.
            out.append(decoded if decoded in _UNRESERVED else "%" + escape)
            i += 3
            continue
        if ch in safe:
            out.append(ch)
        else:
            # A lone "%" becomes "%25", and spaces / non-ASCII become UTF-8 escapes, so "a b",
            # "a%20b" and the IRI form of a URL all collapse to one spelling.
            out.extend(f"%{b:02X}" for b in ch.encode("utf-8", "surrogatepass"))
        i += 1
    return "".join(out)


def _remove_dot_segments(path: str) -> str:
    """Return path with "." and ".." segments resolved as in RFC 3986 section 5.2.4."""
    segments = path.split("/")
    out: list[str] = []
    for seg in segments[1:]:
        if seg == "..":
            if out:
                out.pop()
        elif seg != ".":
            out.append(seg)
    # A trailing "." or ".." denotes a directory, so it keeps its slash.
    if segments[-1] in (".", "..") and (not out or out[-1] != ""):
        out.append("")
    return "/" + "/".join(out)


def _canonical_host(host: str) -> str:
    """Return the lower-case ASCII host without a trailing dot or leading "www."."""
    host = host.lower().rstrip(".")
    if not host.isascii():
        # On failure keep the Unicode spelling: still stable for dedup, just not punycode.
        with contextlib.suppress(UnicodeError):
            host = host.encode("idna").decode("ascii")
    if host.startswith("www.") and len(host) > 4:
        host = host[4:]
    return host


def _is_tracking_param(key: str) -> bool:
    """Return True when the (still encoded) query key names a tracking-only parameter."""
    name = unquote_plus(key).strip().lower()
    return name in _TRACKING_PARAMS or name.startswith(_TRACKING_PREFIXES)


def _canonical_query(query: str) -> str:
    """Return the query without tracking params, each pair normalised, pairs sorted."""
    pairs: list[tuple[str, bool, str]] = []
    for piece in query.split("&"):
        if not piece:
            continue  # "a=1&&b=2" and a bare trailing "&" carry no parameter
        key, has_value, value = piece.partition("=")
        if _is_tracking_param(key):
            continue
        key = _normalise_percent(key, _QUERY_SAFE)
        pairs.append((key, bool(has_value), _normalise_percent(value, _QUERY_SAFE)))
    pairs.sort()
    return "&".join(f"{k}={v}" if has_value else k for k, has_value, v in pairs)


def canonicalize_url(url: str) -> str:
    """Return the canonical https URL used for dedup; raise ValueError if not an http(s) URL.

    Lower-case scheme/host, https for http, no default port, no userinfo, no fragment, no
    tracking params (utm_*, fbclid, gclid, ...), remaining query params sorted, dot segments
    resolved, trailing slash removed from non-root paths, "www." dropped, percent-encoding
    normalised.
    """
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise ValueError(f"not an http(s) URL: {url!r}")
    if not parts.hostname:
        raise ValueError(f"URL has no host: {url!r}")
    host = _canonical_host(parts.hostname)
    port = parts.port  # raises ValueError on a non-numeric / out-of-range port
    if ":" in host:
        host = f"[{host}]"  # IPv6 literal
    # Port 80 on an http URL is the default for the *original* scheme, so it goes too.
    netloc = host if port in (None, 443, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"

    path = _remove_dot_segments(_normalise_percent(parts.path or "/", _PATH_SAFE))
    if len(path) > 1:
        path = path.rstrip("/") or "/"
    query = _canonical_query(parts.query)
    # http and https copies of an article are the same document; https is the one worth keeping.
    return urlunsplit(("https", netloc, path, query, ""))


def is_http_url(url: str) -> bool:
    """Return True for an absolute http(s) URL with a host, a valid port and no whitespace."""
    if not url or any(ch.isspace() for ch in url):
        return False
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number 0..65535
    except ValueError:
        return False
    return parts.scheme.lower() in _DEFAULT_PORTS and bool(parts.hostname)


def dedup_key(url: str) -> str:
    """Return the canonical URL of an http(s) link, else the link itself, stripped.

    A link that can never be fetched (file:, ftp:, javascript:, no host) still gets a key, so a
    cycle records it once, as a refused article with the reason, instead of dropping it unseen.
    """
    try:
        return canonicalize_url(url)
    except ValueError:
        return url.strip()


def article_id(canonical_url: str) -> str:
    """Return a stable 16-hex-char id: the first 16 hex chars of sha256 of the canonical URL."""
    return hashlib.sha256(canonical_url.encode("utf-8")).hexdigest()[:16]
