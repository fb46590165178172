"""Regression tests for the bugs the fault suite found (each was a crash or a silent loss)."""

from __future__ import annotations

from datetime import datetime

import pytest

from newsmon.analysis import MAX_NLP_CHARS, AnalysisInput, nlp_text
from newsmon.charset import declared_charset, decode_html
from newsmon.cycle import build_article
from newsmon.extract import ExtractionRules
from newsmon.fetch import FetchResult
from newsmon.models import FeedItem
from newsmon.urls import canonicalize_url, dedup_key

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
