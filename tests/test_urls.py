"""Tests for newsmon.urls: canonical URLs for dedup and stable article ids."""

from __future__ import annotations

import hashlib

import pytest

from newsmon.urls import article_id, canonicalize_url

CASES: list[tuple[str, str]] = [
    # scheme and host case, http -> https
    ("HTTP://Example.COM/a", "https://example.com/a"),
    ("http://example.com/a", "https://example.com/a"),
    ("https://example.com/a", "https://example.com/a"),
    # default ports dropped, others kept
    ("http://example.com:80/a", "https://example.com/a"),
    ("https://example.com:443/a", "https://example.com/a"),
    ("https://example.com:8443/a", "https://example.com:8443/a"),
    # www. dropped (only the exact label), trailing dot of a FQDN dropped
    ("https://www.example.com/a", "https://example.com/a"),
    ("https://www2.example.com/a", "https://www2.example.com/a"),
    ("https://example.com./a", "https://example.com/a"),
    # fragment dropped
    ("https://example.com/a#comments", "https://example.com/a"),
    ("https://example.com/a?x=1#top", "https://example.com/a?x=1"),
    # empty path and trailing slashes
    ("https://example.com", "https://example.com/"),
    ("https://example.com/", "https://example.com/"),
    ("https://example.com/news/", "https://example.com/news"),
    ("https://example.com/news//", "https://example.com/news"),
    # tracking params dropped (case-insensitive), others sorted
    ("https://example.com/a?utm_source=x&utm_medium=y&utm_campaign=z", "https://example.com/a"),
    ("https://example.com/a?UTM_Source=x&id=3", "https://example.com/a?id=3"),
    ("https://example.com/a?fbclid=abc&gclid=def&dclid=1&msclkid=2", "https://example.com/a"),
    ("https://example.com/a?mc_cid=1&mc_eid=2&yclid=3&_ga=4&igshid=5", "https://example.com/a"),
    ("https://example.com/a?ref_src=twsrc&ocid=msn&cmpid=rss", "https://example.com/a"),
    ("https://bbc.co.uk/news/1?at_medium=RSS&at_campaign=KARANGA", "https://bbc.co.uk/news/1"),
    ("https://example.com/a?b=2&a=1&c=3", "https://example.com/a?a=1&b=2&c=3"),
    ("https://example.com/a?b=2&utm_term=q&a=1", "https://example.com/a?a=1&b=2"),
    ("https://example.com/a?a=2&a=1", "https://example.com/a?a=1&a=2"),
    ("https://example.com/a?", "https://example.com/a"),
    ("https://example.com/a?x=1&&y=2&", "https://example.com/a?x=1&y=2"),
    ("https://example.com/a?flag&x=", "https://example.com/a?flag&x="),
    # params that look like tracking but select content are kept
    ("https://example.com/search?ref=main&s=term", "https://example.com/search?ref=main&s=term"),
    # percent-encoding: unreserved decoded, hex upper-cased, unsafe characters encoded
    ("https://example.com/%7Euser/%61bc", "https://example.com/~user/abc"),
    ("https://example.com/a%2fb", "https://example.com/a%2Fb"),
    ("https://example.com/a b", "https://example.com/a%20b"),
    ("https://example.com/café", "https://example.com/caf%C3%A9"),
    ("https://example.com/caf%c3%a9", "https://example.com/caf%C3%A9"),
    ("https://example.com/100%", "https://example.com/100%25"),
    ("https://example.com/a?q=a%26b&r=%7e", "https://example.com/a?q=a%26b&r=~"),
    # dot segments resolved
    ("https://example.com/a/./b/../c", "https://example.com/a/c"),
    ("https://example.com/../a", "https://example.com/a"),
    # userinfo dropped, IDN host to punycode, IPv6 literal kept bracketed
    ("https://user:pw@example.com/a", "https://example.com/a"),
    ("https://bücher.de/a", "https://xn--bcher-kva.de/a"),
    ("http://[2001:DB8::1]:8080/a", "https://[2001:db8::1]:8080/a"),
    # surrounding whitespace from feeds
    ("  https://example.com/a \n", "https://example.com/a"),
]


@pytest.mark.parametrize(("url", "expected"), CASES)
def test_canonicalize_url_table(url: str, expected: str) -> None:
    assert canonicalize_url(url) == expected


@pytest.mark.parametrize(("url", "expected"), CASES)
def test_canonicalize_url_is_idempotent(url: str, expected: str) -> None:
    assert canonicalize_url(expected) == expected


def test_three_variants_of_one_story_share_canonical_url_and_id() -> None:
    variants = [
        "https://www.example.com/world/2024/story-123?utm_source=rss&utm_medium=feed",
        "http://example.com/world/2024/story-123/",
        "https://example.com/world/2024/story-123#comments",
    ]
    canon = {canonicalize_url(v) for v in variants}
    assert canon == {"https://example.com/world/2024/story-123"}
    assert len({article_id(c) for c in canon}) == 1


@pytest.mark.parametrize(
    "url",
    ["ftp://example.com/a", "javascript:alert(1)", "file:///etc/passwd", "/relative/path", ""],
)
def test_canonicalize_url_rejects_non_http(url: str) -> None:
    with pytest.raises(ValueError):
        canonicalize_url(url)


def test_article_id_is_stable_short_hex() -> None:
    aid = article_id("https://example.com/a")
    # Pinned value: ids are stored, so changing the hash would orphan existing rows.
    assert aid == "2dce0a4c50441bfc"
    assert aid == hashlib.sha256(b"https://example.com/a").hexdigest()[:16]
    assert article_id("https://example.com/a") == aid
    assert article_id("https://example.com/b") != aid
