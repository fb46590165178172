"""`newsmon bench` (issue 10): the synthetic site, and one tiny end-to-end run.

Speed is measured by the benchmark itself (`make bench`), never asserted here; these tests only
check that the harness serves what it claims and reports every key. They use the project's own
demo pages as templates, so they run without ../shared.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.request import Request, urlopen

import pytest
import trafilatura

from newsmon.analysis.nlp import prefilter
from newsmon.analysis.watchlist import Watchlist
from newsmon.articles.dedup import containment, shingles
from newsmon.bench.site import (
    FEED_ETAG,
    RELEVANT_SENTENCES,
    BenchDataMissing,
    BenchSite,
    PageTemplate,
    SiteServer,
    SiteSpec,
    load_templates,
)
from newsmon.settings import ExtractionSettings
from tests.conftest import ROOT

PAGES = ROOT / "samples" / "demo" / "pages"


@pytest.fixture(scope="module")
def templates() -> list[PageTemplate]:
    """Return the demo pages as bench templates."""
    return load_templates(PAGES)


def test_copies_of_one_page_are_not_near_duplicates(templates: list[PageTemplate]) -> None:
    threshold = ExtractionSettings().near_duplicate_threshold
    for template in templates:
        first, second = (trafilatura.extract(template.render(k, None)) or "" for k in (0, 1))
        assert first and second
        assert first != second
        assert containment(shingles(first), shingles(second)) < threshold


def test_relevant_share_is_exact_and_the_sentence_survives_extraction(
    templates: list[PageTemplate], watchlist: Watchlist
) -> None:
    site = BenchSite(SiteSpec(feeds=10, items=10, relevant_share=0.1), templates)
    relevant = [p for p in range(100) if site.is_relevant(p)]
    assert len(relevant) == 10
    for page in relevant:
        text = trafilatura.extract(site.page_html(page)) or ""
        assert any(sentence[:40] in text for sentence in RELEVANT_SENTENCES)
        assert prefilter(text, watchlist).passed


def test_too_many_pages_for_the_slot_words_is_refused(templates: list[PageTemplate]) -> None:
    with pytest.raises(ValueError, match="distinct copies"):
        BenchSite(SiteSpec(feeds=100, items=100), templates)


def test_missing_pages_explain_where_they_live(tmp_path: Path) -> None:
    with pytest.raises(BenchDataMissing, match="extraction-benchmark"):
        load_templates(tmp_path)


def test_server_answers_304_to_its_etag_and_counts_requests() -> None:
    with SiteServer(SiteSpec(feeds=2, items=3), PAGES) as server:
        feed_url = server.feed_urls(2)[1]
        with urlopen(feed_url, timeout=10) as response:
            feed = response.read().decode()
        assert feed.count("<item>") == 3 and f"{server.base}/f1/story-2.html" in feed
        request = Request(feed_url, headers={"If-None-Match": FEED_ETAG})
        with pytest.raises(Exception, match="304"):
            urlopen(request, timeout=10)  # urllib raises on 304
        with urlopen(f"{server.base}/f1/story-2.html", timeout=10) as response:
            assert b"<html" in response.read()
        stats = server.stats()
    assert stats == {"feed_200": 1, "feed_304": 1, "page": 1}


@pytest.mark.usefixtures("prefect_harness")
def test_a_tiny_bench_reports_every_key(tmp_path: Path) -> None:
    from flows.bench import BenchOptions, run_bench

    out = tmp_path / "bench.json"
    report, table = run_bench(
        BenchOptions(feeds=2, items=4, relevant_share=0.25, naive_sample=2, pages_dir=PAGES,
                     json_path=out),
        progress=lambda _msg: None,
    )
    assert json.loads(out.read_text()) == report
    for key in ("cold_wall_s", "warm_wall_s", "floor_s", "ratio_vs_floor", "naive_s",
                "speedup_vs_naive", "peak_rss_mb", "task_runs", "pages", "page_requests_warm"):
        assert report[key] is not None, key
        assert key in table
    assert report["pages"] == report["new_articles"] == 8
    assert report["page_requests_warm"] == 0 and report["feed_304s_warm"] == 2
    assert report["nlp_task_runs_warm"] == 0
