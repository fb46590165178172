"""Regression tests for the bugs the fault suite found (each was a crash or a silent loss)."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest

from newsmon.analysis.pipeline import MAX_NLP_CHARS, AnalysisInput, nlp_text
from newsmon.articles.build import build_article
from newsmon.articles.extract import ExtractionRules
from newsmon.demo import serve_folder
from newsmon.models import FeedItem
from newsmon.sources.charset import declared_charset, decode_html
from newsmon.sources.crawl import HostGate, Politeness, fetch_pages
from newsmon.sources.fetch import FetchLimits, FetchResult, make_client
from newsmon.urls import canonicalize_url, dedup_key
from tests.faults.hostile import HostileWeb

TEXT = "Le ministre Fayçal Mekdad a reçu la délégation à Damas ; café et thé ont été servis."


# --- an endless article stopped the cycle: spaCy raised E088 past 1,000,000 characters --------

def test_nlp_text_is_capped_whatever_the_article_length() -> None:
    long = AnalysisInput("a", "word " * 2_000_000, "Title")  # 10 MB, one paragraph
    assert len(nlp_text(long)) == MAX_NLP_CHARS
    many_lines = AnalysisInput("b", "line\n" * 500_000, "Title")  # each line gains a stop
    assert len(nlp_text(many_lines)) <= MAX_NLP_CHARS


def test_short_texts_are_untouched_by_the_cap() -> None:
    item = AnalysisInput("a", "First paragraph\nSecond one.", "Headline")
    assert nlp_text(item) == "Headline.\n\nFirst paragraph.\n\nSecond one."


# --- file:, ftp:, javascript: links vanished without a trace ------------------------------------

@pytest.mark.parametrize("link", ["file:///etc/passwd", "ftp://host/x", "javascript:alert(1)",
                                  "http:///no-host", " mailto:a@b.c "])
def test_unfetchable_links_keep_a_key_so_their_refusal_is_stored(link: str) -> None:
    assert dedup_key(link) == link.strip()


def test_http_links_keep_their_canonical_key() -> None:
    url = "http://www.Example.org/a/?utm_source=x&b=1"
    assert dedup_key(url) == canonicalize_url(url) == "https://example.org/a?b=1"


# --- every page was decoded as UTF-8, whatever it declared --------------------------------------

@pytest.mark.parametrize(
    ("body", "content_type", "expected"),
    [
        (TEXT.encode("iso-8859-1"), "text/html; charset=ISO-8859-1", TEXT),  # declared, true
        (TEXT.encode("utf-8"), "text/html; charset=iso-8859-1", TEXT),  # header lies (UTF-8)
        (TEXT.encode("cp1252"), "text/html; charset=utf-8", TEXT),  # header lies (legacy)
        (TEXT.encode("cp1252"), "text/html", TEXT),  # unlabelled legacy page
        (b"\xef\xbb\xbf" + TEXT.encode("utf-8"), "text/html; charset=koi8-r", TEXT),  # BOM wins
        (b"\xff\xfe" + TEXT.encode("utf-16-le"), "", TEXT),  # UTF-16 with a BOM
        ("Привет, Дамаск".encode("koi8-r"), "text/html; charset=koi8-r", "Привет, Дамаск"),
        ("Привет".encode("cp1251"), "text/html; charset=nonsense-99", "Ïðèâåò"),  # unknown label
        (b"<meta charset='windows-1251'>" + "Дамаск".encode("cp1251"), "text/html",
         "<meta charset='windows-1251'>Дамаск"),  # <meta> when the header says nothing
        ("“quoted” — 1€".encode("cp1252"), "text/html; charset=latin-1", "“quoted” — 1€"),
    ],
)
def test_decode_html_honours_boms_valid_utf8_declarations_and_the_web_default(
    body: bytes, content_type: str, expected: str
) -> None:
    assert decode_html(body, content_type) == expected


def test_declared_charset_reads_header_before_meta() -> None:
    page = b"<html><head><meta http-equiv='Content-Type' content='text/html; charset=koi8-r'>"
    assert declared_charset(page, "text/html") == "koi8-r"
    assert declared_charset(page, "text/html; charset=utf-8") == "utf-8"
    assert declared_charset(b"<p>nothing</p>", "") is None


def test_build_article_keeps_the_text_of_a_latin1_page() -> None:
    html = (f"<html lang='fr'><head><title>Visite à Damas</title></head><body><article>"
            f"<p>{TEXT * 4}</p></article></body></html>").encode("iso-8859-1")
    fetched = FetchResult("http://x.org/a", "http://x.org/a", 200,
                          {"content-type": "text/html; charset=iso-8859-1"}, html, 0.1, None,
                          None)
    item = FeedItem("http://x.org/feed", "a", "http://x.org/a", "t", "", None)
    row = build_article(item, "https://x.org/a", fetched, ExtractionRules(), ("fr",),
                        datetime(2025, 12, 24))
    assert row.article.title == "Visite à Damas" and "Fayçal" in row.article.text


# --- one host that never answers held the whole cycle: N links x read timeout / concurrency ----

def test_a_host_that_keeps_timing_out_is_skipped_and_other_hosts_are_not_held_up(
    good_site: Path,
) -> None:
    limits = FetchLimits(read_timeout_s=0.5, total_timeout_s=2)
    politeness = Politeness(global_concurrency=8, per_host_concurrency=2,
                            per_host_min_interval_s=0)
    with HostileWeb() as web, serve_folder(good_site) as base:
        limits = replace(limits, extra_allowed_hosts=(*web.allowed_hosts(),
                                                      base.removeprefix("http://")))
        hang = [web.url(f"/pages/hang.html?n={i}") for i in range(40)]
        good = [f"{base}/pages/{p.name}" for p in sorted((good_site / "pages").glob("*.html"))]
        started = time.monotonic()
        with make_client(limits) as client:
            results = fetch_pages(client, [*hang, *good], limits, politeness)
        seconds = time.monotonic() - started
        requested = len(web.hits_for("/pages/hang.html"))
    kinds = [r.error_kind for r in results[: len(hang)]]
    # Without the breaker: 40 x 0.5 s / 2 = 10 s, and 40 requests to a dead host.
    assert seconds < 3 and requested <= 3 + politeness.per_host_concurrency
    assert kinds.count("skipped") == len(hang) - requested
    assert "failed 3 times in a row" in (results[len(hang) - 1].error or "")
    assert all(r.status == 200 and r.error_kind is None for r in results[len(hang):])


def test_a_host_that_answers_again_resets_the_breaker() -> None:
    gate = HostGate(Politeness(per_host_min_interval_s=0, max_host_failures=3))
    url = "http://a.example/x"

    def result(kind: str | None, status: int | None) -> FetchResult:
        return FetchResult(url, url, status, {}, b"", 0.0, kind, kind)

    for outcome in [("timeout", None), ("timeout", None), (None, 200), ("connect", None),
                    ("timeout", None)]:
        assert gate.run(url, lambda o=outcome: result(*o)).error_kind != "skipped"
    assert gate.run(url, lambda: result("timeout", None)).error_kind == "timeout"  # 3rd in row
    assert gate.run(url, lambda: result(None, 200)).error_kind == "skipped"
    off = HostGate(Politeness(per_host_min_interval_s=0, max_host_failures=0))
    for _ in range(5):
        assert off.run(url, lambda: result("timeout", None)).error_kind == "timeout"
