"""Extract article text and metadata from HTML with trafilatura, with a fallback chain.

Text (issue 4): trafilatura in precision mode, guarded by its default mode (precision mode
sometimes drops most of an article), then recall mode when the text is still too short, then
the feed item's summary. The path that produced the text is recorded, and an article shorter
than `min_text_chars` is kept with status `thin` (or `empty`), never dropped.

Publish time: the page's own markup (htmldate; time and UTC offset kept when the page gives
both), then the feed item, then a date in the URL; future and absurdly old values are skipped.
Every stored time is naive UTC. docs/extraction.md documents the rules with examples.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from html import unescape
from typing import Any

import py3langid
import trafilatura
from htmldate import find_date

from newsmon.models import Article

_URL_DATE = re.compile(r"/(20\d\d|19\d\d)[/-](0[1-9]|1[0-2])[/-](0[1-9]|[12]\d|3[01])(?:/|-|$)")
_TAGS = re.compile(r"<[^>]+>")
# htmldate keeps the time and the UTC offset only when the output format asks for them.
_HTMLDATE_FORMAT = "%Y-%m-%dT%H:%M:%S%z"
# Precision mode wins unless it keeps less than this share of the default mode's text: on the
# extraction benchmark it lifts mean token F1 (fewer menus and teasers), but on a few pages it
# keeps only a caption or a teaser, and this guard falls back to the default mode there.
_PRECISION_MIN_SHARE = 0.5
# ... and the default mode is only consulted when the precision text is shorter than this (about
# two paragraphs): a teaser or caption is short, while a longer precision text only ever lost to
# the default mode's menus and related links. On the benchmark the second pass changed 2 of 181
# pages: it rescued a 260-character teaser and made a 2,600-character article worse (F1 1.0 to
# 0.44), and it cost ~40% of extraction time on every page (issue 10).
_TEASER_CHARS = 1000
# The page's calendar day may be local time anywhere from UTC-12 to UTC+14.
_EARLIEST_OFFSET = timedelta(hours=14)
_LATEST_OFFSET = timedelta(hours=12)
_HTML_LANG = re.compile(r"<html\b[^>]*?\blang\s*=\s*[\"']?([A-Za-z]{2,3})\b", re.IGNORECASE)
_META_TAG = re.compile(r"<meta\b[^>]*>", re.IGNORECASE)
_META_ATTR = re.compile(r"([\w:-]+)\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s>]+))")
_LANG_CODE = re.compile(r"^([A-Za-z]{2,3})(?:[-_][A-Za-z0-9]+)*$")

# Which extraction produced an article's text (Article.extraction_path).
PATH_PRECISION = "trafilatura_precision"
PATH_DEFAULT = "trafilatura"
PATH_RECALL = "trafilatura_recall"
PATH_FEED = "feed_summary"
PATH_NONE = "none"


@dataclass(frozen=True)
class ExtractionRules:
    """The slice of settings that extraction needs."""

    min_text_chars: int = 200
    max_future_skew_hours: float = 24.0
    oldest_year: int = 1995


@dataclass(frozen=True)
class PageDate:
    """A publish date found in the page's own markup."""

    value: datetime  # naive UTC when has_time, else midnight of the page's calendar day
    has_time: bool  # True only when the page gave a time of day with a UTC offset


def html_to_text(fragment: str) -> str:
    """Return the visible text of an HTML fragment (feed summaries), whitespace-collapsed."""
    return re.sub(r"\s+", " ", unescape(_TAGS.sub(" ", fragment))).strip()


def detect_language(text: str) -> str | None:
    """Return the ISO 639-1 code of the text's language, or None for too little text."""
    # 1,500 characters identify a language as well as 3,000 at half py3langid's cost.
    sample = text[:1500]
    if len(sample.strip()) < 20:
        return None
    language, _score = py3langid.classify(sample)
    return str(language)


def declared_language(html: str) -> str | None:
    """Return the language the page declares (html lang, Content-Language, og:locale), or None."""
    head = html[:50_000]  # declarations sit in <html> and <head>; skip scanning the body
    match = _HTML_LANG.search(head)
    if match:
        return match.group(1).lower()
    for tag in _META_TAG.findall(head):
        attrs = {
            name.lower(): double or single or bare
            for name, double, single, bare in _META_ATTR.findall(tag)
        }
        key = (attrs.get("http-equiv") or attrs.get("property") or attrs.get("name") or "").lower()
        if key in ("content-language", "og:locale"):
            code = _LANG_CODE.match(attrs.get("content", "").strip())
            if code:
                return code.group(1).lower()
    return None


def choose_language(title: str, text: str, html: str, reliable_chars: int) -> str | None:
    """Return the text's identified language, or the page's declared one for short texts."""
    identified = detect_language(f"{title}\n{text}")
    # Identification of a sentence or two is unreliable; the publisher's declaration is better
    # there, while for a real article the text itself is the better witness (templates often
    # declare lang="en" around translated copy).
    if len(text) < reliable_chars:
        return declared_language(html) or identified
    return identified


def naive_utc(value: datetime) -> datetime:
    """Return an aware datetime converted to naive UTC; a naive one is taken as UTC already."""
    if value.tzinfo is None:
        return value
    return value.astimezone(UTC).replace(tzinfo=None)


def date_from_url(url: str) -> datetime | None:
    """Return the date a URL path carries (/2025/12/24/), if any."""
    match = _URL_DATE.search(url)
    if not match:
        return None
    year, month, day = (int(part) for part in match.groups())
    try:
        return datetime(year, month, day)
    except ValueError:
        return None


def parse_page_date(value: str | None) -> PageDate | None:
    """Return htmldate's "%Y-%m-%dT%H:%M:%S%z" string as a PageDate, or None if unparsable."""
    if not value:
        return None
    try:
        parsed = datetime.strptime(value, _HTMLDATE_FORMAT)
    except ValueError:
        try:
            parsed = datetime.strptime(value[:10], "%Y-%m-%d")
        except ValueError:
            return None
    if parsed.tzinfo is not None:
        return PageDate(naive_utc(parsed), has_time=True)
    # A time without an offset is UTC on some sites and local time on others (both occur in
    # the extraction benchmark), so only its calendar day is trusted.
    return PageDate(parsed.replace(hour=0, minute=0, second=0, microsecond=0), has_time=False)


def find_page_date(html: str, now: datetime, rules: ExtractionRules) -> PageDate | None:
    """Return the publish date the page's markup gives (not its URL), within the rules' bounds."""
    if not html.strip():
        return None
    try:
        found = find_date(
            html,
            extensive_search=False,  # free-text date guessing picks up unrelated dates
            original_date=True,  # the first publication, not the last update
            outputformat=_HTMLDATE_FORMAT,
            # "" instead of None: htmldate would otherwise read the date out of the canonical
            # URL and report it as the page's; the URL is our own, separately named source.
            url="",
            min_date=datetime(rules.oldest_year, 1, 1, tzinfo=UTC),
            max_date=(now + timedelta(hours=rules.max_future_skew_hours)).replace(tzinfo=UTC),
        )
    except Exception:  # noqa: BLE001 - htmldate raises many types on broken markup
        return None
    return parse_page_date(found)


def _fits_day(instant: datetime, day_start: datetime) -> bool:
    """Return True if a UTC instant falls on the calendar day day_start in some time zone."""
    return day_start - _EARLIEST_OFFSET <= instant < day_start + timedelta(days=1) + _LATEST_OFFSET


def choose_published(
    page: PageDate | None,
    feed: datetime | None,
    url: datetime | None,
    now: datetime,
    rules: ExtractionRules,
) -> tuple[datetime | None, str]:
    """Return the publish time (naive UTC) and its source: page, feed, url or none."""
    latest = now + timedelta(hours=rules.max_future_skew_hours)

    def plausible(value: datetime) -> bool:
        # A future or absurdly old date is worse than the next source.
        return rules.oldest_year <= value.year and value <= latest

    if page is not None and plausible(page.value):
        if not page.has_time and feed is not None and plausible(feed) and _fits_day(
            feed, page.value
        ):
            return feed, "feed"  # the page confirms the day, the feed knows the time of day
        return page.value, "page"
    if feed is not None and plausible(feed):
        return feed, "feed"
    if url is not None and plausible(url):
        return url, "url"
    return None, "none"


def _run_trafilatura(html: str, url: str, **options: Any) -> Any:
    """Return trafilatura's Document for the page in one mode, or None when it finds no text."""
    try:
        return trafilatura.bare_extraction(
            html, url=url or None, include_comments=False,  # reader comments are not the article
            **options,
        )
    except Exception:  # noqa: BLE001 - trafilatura raises many types on broken trees
        return None


def _text_of(doc: Any) -> str:
    """Return the stripped text of a trafilatura Document (empty for None)."""
    return ((doc.text if doc is not None else None) or "").strip()


def extract_text(html: str, url: str, min_chars: int) -> tuple[str, str, Any]:
    """Return (text, extraction path, metadata Document or None) by the trafilatura chain."""
    if not html.strip():
        return "", PATH_NONE, None
    # Metadata (title, author, site) rides on the first call; its date is not used (see
    # find_page_date), so htmldate is kept to its cheap mode there.
    doc = _run_trafilatura(
        html, url, favor_precision=True, with_metadata=True,
        date_extraction_params={"extensive_search": False, "original_date": True},
    )
    text, path = _text_of(doc), PATH_PRECISION
    default = _text_of(_run_trafilatura(html, url)) if len(text) < _TEASER_CHARS else ""
    if len(default) > len(text) and (
        len(text) < min_chars or len(text) < _PRECISION_MIN_SHARE * len(default)
    ):
        text, path = default, PATH_DEFAULT
    if len(text) < min_chars:
        recall = _text_of(_run_trafilatura(html, url, favor_recall=True))
        if len(recall) > len(text):
            text, path = recall, PATH_RECALL
    if doc is None:
        # trafilatura returns nothing, metadata included, when it finds no text.
        try:
            doc = trafilatura.extract_metadata(html, default_url=url or None, extensive=False)
        except Exception:  # noqa: BLE001 - as above
            doc = None
    return text, (path if text else PATH_NONE), doc


def extract_article(
    html: str,
    url: str,
    rules: ExtractionRules,
    *,
    feed_title: str = "",
    feed_summary: str = "",
    feed_published: datetime | None = None,
    now: datetime | None = None,
) -> Article:
    """Return the article of one page: text by the first path that yields enough, plus metadata."""
    now = naive_utc(now) if now is not None else datetime.now(UTC).replace(tzinfo=None)
    text, path, doc = extract_text(html, url, rules.min_text_chars)
    summary_text = html_to_text(feed_summary)
    if len(text) < rules.min_text_chars and len(summary_text) > len(text):
        text, path = summary_text, PATH_FEED
    title = ((doc.title if doc else None) or feed_title or "").strip()
    published, source = choose_published(
        find_page_date(html, now, rules),
        naive_utc(feed_published) if feed_published else None,
        date_from_url(url),
        now,
        rules,
    )
    if not text:
        status = "empty"
    elif len(text) < rules.min_text_chars:
        status = "thin"
    else:
        status = "ok"
    return Article(
        url=url,
        title=title,
        text=text,
        author=(doc.author if doc else None) or None,
        site=(doc.sitename if doc else None) or None,
        published=published,
        published_source=source,
        language=choose_language(title, text, html, rules.min_text_chars),
        extraction_path=path,
        status=status,
    )


def with_canonical(article: Article, canonical_url: str) -> Article:
    """Return the article with its canonical URL set."""
    return replace(article, canonical_url=canonical_url)
