"""Extraction: the text chain and its status, language, and the publish-date rules.

The date behaviour tested here is the one docs/extraction.md documents (issue 4).
"""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from typer.testing import CliRunner

from newsmon.articles import extract as extract_module
from newsmon.articles.extract import (
    ExtractionRules,
    PageDate,
    choose_language,
    choose_published,
    date_from_url,
    declared_language,
    extract_article,
    parse_page_date,
)
from newsmon.cli.main import app
from newsmon.evaluation.extraction import bag_scores
from tests.conftest import shared_path

PAGES = Path(__file__).parents[1] / "data" / "pages"
FIXTURE = PAGES / "grain-talks-offset.html"
FIXTURE_URL = "https://harbour-ledger.example/world/grain-talks"
NOW = datetime(2025, 12, 24, 12, 0)  # naive UTC; fixed so the future-date rule is deterministic
RULES = ExtractionRules()
PLAIN_URL = "https://news.example/world/talks-in-moscow"

BODY = """
<p>The two delegations spent most of the afternoon on the terms of a grain arrangement that
would carry wheat from Black Sea ports to Latakia through the winter, officials said after the
talks in the Russian capital.</p>
<p>Engineers from both sides are to draw up a list of power stations that can be repaired with
parts already in the country, and a second list of those that need new turbines, according to
a statement issued by the Syrian ministry of electricity.</p>
<p>Neither government published the value of the arrangement. Diplomats said a working group
would report to both foreign ministers before any contract is signed.</p>
"""


def page(head: str = "", body: str = BODY, lang: str = "en") -> str:
    """Return a small news page with the given head markup and article body."""
    return (
        f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8">'
        f"<title>Talks in Moscow</title>{head}</head><body><nav><a href='/'>Home</a> "
        f"<a href='/world'>World</a></nav><article><h1>Talks in Moscow</h1>{body}</article>"
        "<footer>All rights reserved.</footer></body></html>"
    )


def published_meta(value: str) -> str:
    """Return an article:published_time meta tag."""
    return f'<meta property="article:published_time" content="{value}">'


def extract(html: str, url: str = PLAIN_URL, **kwargs: Any) -> Any:
    """Return extract_article at the fixed NOW with the default rules."""
    return extract_article(html, url, RULES, now=NOW, **kwargs)


# --- publish dates (docs/extraction.md, "Publish date") --------------------------------------------


def test_page_time_with_offset_is_stored_in_utc() -> None:
    article = extract(page(published_meta("2025-12-24T09:30:00+03:00")))
    assert (article.published, article.published_source) == (datetime(2025, 12, 24, 6, 30), "page")


def test_page_time_in_utc_zulu_is_kept() -> None:
    article = extract(page(published_meta("2025-12-23T21:15:00Z")))
    assert (article.published, article.published_source) == (datetime(2025, 12, 23, 21, 15), "page")


def test_page_time_without_offset_keeps_only_the_day() -> None:
    # Sites write offset-less times in UTC or in local time: only the day is trusted.
    article = extract(page(published_meta("2025-12-23 18:30:00")))
    assert (article.published, article.published_source) == (datetime(2025, 12, 23), "page")


def test_page_day_takes_the_time_of_a_feed_entry_on_that_day() -> None:
    article = extract(page(published_meta("2025-12-23")), feed_published=datetime(2025, 12, 23, 7, 40))
    assert (article.published, article.published_source) == (datetime(2025, 12, 23, 7, 40), "feed")


def test_page_day_accepts_a_feed_time_on_that_day_in_another_time_zone() -> None:
    # 03:00 UTC on the 24th is the evening of the 23rd in New York: still the page's day.
    feed = datetime(2025, 12, 24, 3, 0)
    article = extract(page(published_meta("2025-12-23")), feed_published=feed)
    assert (article.published, article.published_source) == (feed, "feed")


def test_page_day_beats_a_feed_time_on_another_day() -> None:
    # Feeds re-stamp entries when a story is updated; the page's own date comes first.
    article = extract(page(published_meta("2025-12-20")), feed_published=datetime(2025, 12, 23, 9))
    assert (article.published, article.published_source) == (datetime(2025, 12, 20), "page")


def test_page_time_with_offset_beats_the_feed_time() -> None:
    article = extract(
        page(published_meta("2025-12-23T10:00:00+00:00")), feed_published=datetime(2025, 12, 23, 11)
    )
    assert (article.published, article.published_source) == (datetime(2025, 12, 23, 10), "page")


def test_no_date_anywhere_gives_none() -> None:
    article = extract(page())
    assert (article.published, article.published_source) == (None, "none")


def test_no_page_date_takes_the_feed_date() -> None:
    article = extract(page(), feed_published=datetime(2025, 12, 23, 16, 20))
    assert (article.published, article.published_source) == (datetime(2025, 12, 23, 16, 20), "feed")


def test_feed_time_with_an_offset_is_converted_to_utc() -> None:
    feed = datetime(2025, 12, 23, 19, 0, tzinfo=timezone(timedelta(hours=-5)))
    article = extract(page(), feed_published=feed)
    assert article.published == datetime(2025, 12, 24, 0, 0)


def test_date_only_in_the_url_gives_that_day_at_midnight() -> None:
    article = extract(page(), url="https://news.example/world/2025/12/23/talks-in-moscow")
    assert (article.published, article.published_source) == (datetime(2025, 12, 23), "url")


def test_url_date_is_not_reported_as_the_page_date() -> None:
    # htmldate would read the URL first; newsmon keeps the URL as its own, last source.
    article = extract(
        page(published_meta("2025-12-22T09:00:00+00:00")),
        url="https://news.example/world/2025/12/23/talks-in-moscow",
    )
    assert (article.published, article.published_source) == (datetime(2025, 12, 22, 9), "page")


def test_feed_date_comes_before_the_url_date() -> None:
    article = extract(
        page(), url="https://news.example/2025/12/20/talks", feed_published=datetime(2025, 12, 21, 8)
    )
    assert (article.published, article.published_source) == (datetime(2025, 12, 21, 8), "feed")


def test_future_page_date_is_skipped_for_the_feed_date() -> None:
    article = extract(
        page(published_meta("2026-06-01T10:00:00+00:00")), feed_published=datetime(2025, 12, 24, 9)
    )
    assert (article.published, article.published_source) == (datetime(2025, 12, 24, 9), "feed")


def test_future_page_and_feed_dates_fall_back_to_the_url() -> None:
    article = extract(
        page(published_meta("2026-06-01T10:00:00+00:00")),
        url="https://news.example/2025/12/24/talks",
        feed_published=datetime(2027, 1, 1),
    )
    assert (article.published, article.published_source) == (datetime(2025, 12, 24), "url")


def test_future_dates_everywhere_give_none() -> None:
    article = extract(
        page(published_meta("2026-06-01T10:00:00+00:00")),
        url="https://news.example/2026/06/01/talks",
        feed_published=datetime(2026, 6, 1),
    )
    assert (article.published, article.published_source) == (None, "none")


def test_a_date_within_the_clock_skew_is_kept() -> None:
    # A publisher's clock a few hours ahead (or a time zone mistake) is not "the future".
    soon = NOW + timedelta(hours=RULES.max_future_skew_hours - 1)
    article = extract(page(published_meta(soon.strftime("%Y-%m-%dT%H:%M:%S+00:00"))))
    assert (article.published, article.published_source) == (soon, "page")


def test_absurdly_old_dates_are_rejected() -> None:
    article = extract(
        page(published_meta("1970-01-01T00:00:00+00:00")),
        url="https://news.example/1980/01/01/talks",
        feed_published=datetime(1990, 5, 5),
    )
    assert (article.published, article.published_source) == (None, "none")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2025-12-24T09:30:00+0300", PageDate(datetime(2025, 12, 24, 6, 30), True)),
        ("2025-12-24T00:00:00", PageDate(datetime(2025, 12, 24), False)),
        ("2025-12-24T17:45:10", PageDate(datetime(2025, 12, 24), False)),
        ("2025-12-24", PageDate(datetime(2025, 12, 24), False)),
        ("24/12/2025", None),
        (None, None),
    ],
)
def test_parse_page_date(value: str | None, expected: PageDate | None) -> None:
    assert parse_page_date(value) == expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://x.example/2025/12/23/story", datetime(2025, 12, 23)),
        ("https://x.example/news/2025-12-23-story", datetime(2025, 12, 23)),
        ("https://x.example/2025/02/30/story", None),  # no such day
        ("https://x.example/story-20251223", None),  # digits glued to words are not a date
        ("https://x.example/world/story", None),
    ],
)
def test_date_from_url(url: str, expected: datetime | None) -> None:
    assert date_from_url(url) == expected


def test_choose_published_with_nothing() -> None:
    assert choose_published(None, None, None, NOW, RULES) == (None, "none")


# --- text chain and status ------------------------------------------------------------------------


def test_fixture_page_extracts_as_expected() -> None:
    expected = json.loads(FIXTURE.with_suffix(".expected.json").read_text())
    article = extract_article(FIXTURE.read_text(), FIXTURE_URL, RULES, now=NOW)
    for key in ("url", "title", "author", "site", "published_source", "language",
                "extraction_path", "status"):
        assert getattr(article, key) == expected[key], key
    assert article.published == datetime.fromisoformat(expected["published"])
    for snippet in expected["text_includes"]:
        assert snippet in article.text
    for snippet in expected["text_excludes"]:
        assert snippet not in article.text


def test_thin_page_is_kept_with_status_thin() -> None:
    article = extract(page(body="<p>Ministers met in Moscow on Tuesday to discuss wheat.</p>"))
    assert article.status == "thin"
    assert "Ministers met in Moscow" in article.text
    assert article.extraction_path.startswith("trafilatura")


def test_thin_page_falls_back_to_a_longer_feed_summary() -> None:
    summary = "<p>" + " ".join(["Officials from both countries discussed wheat and power."] * 5)
    article = extract(page(body="<p>Ministers met.</p>"), feed_summary=summary)
    assert article.extraction_path == "feed_summary"
    assert article.status == "ok"
    assert article.text.startswith("Officials from both countries")


def test_short_feed_summary_keeps_status_thin() -> None:
    article = extract("", feed_summary="<b>Ministers</b> met in Moscow.", feed_title="Talks")
    assert (article.extraction_path, article.status) == ("feed_summary", "thin")
    assert (article.text, article.title) == ("Ministers met in Moscow.", "Talks")


def test_no_text_at_all_is_status_empty() -> None:
    article = extract("")
    assert (article.text, article.extraction_path, article.status) == ("", "none", "empty")


def _fake_trafilatura(texts: dict[str, str | None]) -> Any:
    """Return a stand-in for _run_trafilatura giving each mode's text ('default' when no flag)."""
    calls: list[str] = []

    def run(html: str, url: str, **options: Any) -> Any:
        mode = ("precision" if options.get("favor_precision")
                else "recall" if options.get("favor_recall") else "default")
        calls.append(mode)
        text = texts.get(mode)
        return None if text is None else SimpleNamespace(
            text=text, title="T", author=None, sitename=None
        )

    run.calls = calls  # type: ignore[attr-defined]
    return run


def test_precision_mode_is_used_when_it_keeps_most_of_the_text(monkeypatch: Any) -> None:
    fake = _fake_trafilatura({"precision": "p" * 800, "default": "d" * 1000})
    monkeypatch.setattr(extract_module, "_run_trafilatura", fake)
    article = extract("<html><body>x</body></html>")
    assert (article.extraction_path, len(article.text)) == ("trafilatura_precision", 800)
    assert fake.calls == ["precision", "default"]  # recall mode is not needed


def test_precision_mode_losing_most_of_the_text_falls_back_to_default(monkeypatch: Any) -> None:
    fake = _fake_trafilatura({"precision": "p" * 300, "default": "d" * 1000})
    monkeypatch.setattr(extract_module, "_run_trafilatura", fake)
    article = extract("<html><body>x</body></html>")
    assert (article.extraction_path, len(article.text)) == ("trafilatura", 1000)


def test_recall_mode_is_tried_when_the_text_is_still_short(monkeypatch: Any) -> None:
    fake = _fake_trafilatura({"precision": None, "default": "d" * 50, "recall": "r" * 400})
    monkeypatch.setattr(extract_module, "_run_trafilatura", fake)
    article = extract("<html><head><title>T</title></head><body>x</body></html>")
    assert (article.extraction_path, article.status) == ("trafilatura_recall", "ok")
    assert fake.calls == ["precision", "default", "recall"]


# --- language -------------------------------------------------------------------------------------


def test_language_of_a_non_english_article_is_identified() -> None:
    german = """<p>Die Außenminister Syriens und Russlands haben sich am Dienstag in Moskau
    getroffen, um über Getreidelieferungen und die Reparatur von Kraftwerken zu sprechen.</p>
    <p>Beide Seiten vereinbarten eine Arbeitsgruppe, die im Februar erneut tagen soll. Über
    die Zukunft der Militärstützpunkte an der Küste wurde keine Einigung erzielt.</p>
    <p>Diplomaten sagten, der Besuch sei der ranghöchste Kontakt seit dem Frühjahr gewesen.</p>"""
    article = extract(page(body=german, lang="en"))  # the template's declaration is wrong
    assert article.status == "ok"
    assert article.language == "de"


def test_short_text_uses_the_declared_language() -> None:
    assert choose_language("Talks", "Ministers met.", '<html lang="fr-FR">', 200) == "fr"
    # A real article's text outweighs the declaration.
    long_text = "The ministers met in Moscow and agreed to continue the talks next year. " * 5
    assert choose_language("Talks", long_text, '<html lang="fr">', 200) == "en"


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ('<html lang="ar"><head></head>', "ar"),
        ("<html class='x' lang='ru-RU'>", "ru"),
        ('<html><head><meta http-equiv="Content-Language" content="de"></head>', "de"),
        ('<html><head><meta content="tr_TR" property="og:locale"></head>', "tr"),
        ("<html><head><title>x</title></head>", None),
    ],
)
def test_declared_language(html: str, expected: str | None) -> None:
    assert declared_language(html) == expected


# --- newsmon extract ------------------------------------------------------------------------------


runner = CliRunner()


def test_cli_extract_json_on_the_fixture_page() -> None:
    expected = json.loads(FIXTURE.with_suffix(".expected.json").read_text())
    result = runner.invoke(app, ["extract", str(FIXTURE), "--url", FIXTURE_URL, "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    for key in ("url", "title", "author", "site", "published", "published_source", "language",
                "extraction_path", "status"):
        assert data[key] == expected[key], key
    assert data["chars"] == len(data["text"]) > 500
    for snippet in expected["text_excludes"]:
        assert snippet not in data["text"]


def test_cli_extract_json_on_a_gzipped_copy(tmp_path: Path) -> None:
    gz = tmp_path / "page.html.gz"
    gz.write_bytes(gzip.compress(FIXTURE.read_bytes()))
    plain = runner.invoke(app, ["extract", str(FIXTURE), "--url", FIXTURE_URL, "--json"])
    zipped = runner.invoke(app, ["extract", str(gz), "--url", FIXTURE_URL, "--json"])
    assert zipped.exit_code == 0, zipped.output
    assert json.loads(zipped.stdout) == json.loads(plain.stdout)


def test_cli_extract_json_on_a_benchmark_page() -> None:
    bench = shared_path("data", "extraction-benchmark")
    page_id = "076f4f33bf75059db581bedf36e76fb65e89a8f7752db3339aa3ea11c5122f32"
    gz = bench / "html" / f"{page_id}.html.gz"
    if not gz.exists():
        pytest.skip(f"{gz} is absent")
    gold = json.loads((bench / "ground-truth.json").read_text())[page_id]
    result = runner.invoke(app, ["extract", str(gz), "--url", gold["url"], "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["status"] == "ok"
    assert data["language"] == "en"
    assert data["extraction_path"].startswith("trafilatura")
    assert data["published_source"] in ("page", "url")
    assert bag_scores(gold["articleBody"], data["text"]).f1 > 0.9


def test_cli_extract_decodes_a_latin1_page_as_the_cycle_does(tmp_path: Path) -> None:
    paragraph = ("Der Minister traf seinen Kollegen im Café Müller in Zürich, wo über die "
                 "Lage in Syrien gesprochen wurde. ")
    html = ('<html><head><meta charset="iso-8859-1"><title>Gespräch in Zürich</title></head>'
            f"<body><article><h1>Gespräch</h1><p>{paragraph * 4}</p><p>{paragraph * 3}</p>"
            "</article></body></html>")
    page = tmp_path / "latin1.html"
    page.write_bytes(html.encode("iso-8859-1"))
    result = runner.invoke(app, ["extract", str(page), "--json"])
    assert result.exit_code == 0, result.output
    text = json.loads(result.stdout)["text"]
    assert "Café Müller in Zürich" in text
    assert "\ufffd" not in text


def test_cli_extract_missing_file_fails_with_a_message(tmp_path: Path) -> None:
    result = runner.invoke(app, ["extract", str(tmp_path / "nope.html")])
    assert result.exit_code == 2
    assert "no such file" in result.output


def test_extract_accepts_an_aware_now() -> None:
    aware = datetime(2025, 12, 24, 15, 0, tzinfo=timezone(timedelta(hours=3)))
    assert aware.astimezone(UTC).replace(tzinfo=None) == NOW
    html = page(published_meta("2025-12-24T14:00:00+00:00"))  # 2 h ahead: within the skew
    assert extract_article(html, PLAIN_URL, RULES, now=aware) == extract(html)
