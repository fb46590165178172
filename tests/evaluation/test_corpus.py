"""The corpus of real reports: labels, the split by story, and the cache join."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from newsmon.evaluation.corpus import CorpusMissing, half, load_corpus, select, url_key
from tests.conftest import ROOT

CORPUS = ROOT / "tests" / "data" / "corpus"


def labels(name: str) -> list[dict]:
    """Return the label objects of one corpus file."""
    path = CORPUS / f"labels-{name}.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_the_syria_russia_corpus_has_the_size_the_issue_asks_for() -> None:
    rows = labels("syria-russia")
    reports = [r for r in rows if r["class"] == "meeting_report"]
    assert len(rows) >= 200
    assert len(reports) >= 120
    assert len({r["story"] for r in reports}) >= 25
    assert len(rows) - len(reports) >= 80
    assert len({r["outlet"] for r in rows}) >= 40
    assert len(labels("russia-turkey")) >= 40


def test_every_label_points_at_its_url_and_came_from_a_recorded_query() -> None:
    queries = {json.loads(line)["query"] for line in (CORPUS / "queries.jsonl").open()}
    for row in labels("syria-russia") + labels("russia-turkey"):
        assert row["key"] == url_key(row["url"])
        assert row["query"] in queries, row["url"]


def test_the_split_is_by_story_so_a_meeting_never_spans_both_halves() -> None:
    rows = labels("syria-russia")
    halves: dict[str, set[str]] = {}
    for row in rows:
        halves.setdefault(row["story"], set()).add(half(row["story"]))
    assert all(len(h) == 1 for h in halves.values())
    counts = {h: sum(1 for r in rows if half(r["story"]) == h) for h in ("tune", "report")}
    assert min(counts.values()) > 0.35 * len(rows)  # both halves carry weight


def test_a_missing_cache_names_the_fix(tmp_path: Path) -> None:
    with pytest.raises(CorpusMissing, match="queries.jsonl"):
        load_corpus(CORPUS / "labels-syria-russia.jsonl", tmp_path)


def test_a_changed_cached_text_is_refused(tmp_path: Path) -> None:
    label = {"url": "https://example.org/a", "query": "q", "outlet": "example.org",
             "published": "2025-12-24", "watchlist": "syria-russia", "class": "near_miss",
             "story": "s", "relevant": False, "meetings": [], "note": "n", "chars": 5}
    label["key"] = url_key(label["url"])
    file = tmp_path / "labels.jsonl"
    file.write_text(json.dumps(label) + "\n")
    (tmp_path / f"{label['key']}.txt").write_text("four")
    with pytest.raises(CorpusMissing, match="4 characters, the label 5"):
        load_corpus(file, tmp_path)
    (tmp_path / f"{label['key']}.txt").write_text("fives")
    [item] = load_corpus(file, tmp_path)
    assert item.case.text == "fives" and item.half == half("s")
    assert select([item], "all") == [item]
