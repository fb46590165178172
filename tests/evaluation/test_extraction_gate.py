"""Extraction gate: our extract_article on the 181-page benchmark, side by side with plain
trafilatura, held to the floors pinned in tests/data/extraction_baseline.json (issue 4).

Raise the floors after an improvement with
    newsmon eval-extraction ../shared/data/extraction-benchmark \
        --baseline tests/data/extraction_baseline.json --raise-floors
Lowering one needs --allow-regression --reason "..." and the reason in the commit message.
The benchmark data stays in ../shared; it is never copied into the repository.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from newsmon.evaluation.extraction import (
    OURS,
    PLAIN,
    ExtractionReport,
    ExtractorSummary,
    FloorRegression,
    PageResult,
    Scores,
    bag_scores,
    benchmark_f1,
    evaluate_extraction,
    gate_failures,
    load_baseline,
    load_gold,
    raise_floors,
    shingle_counts,
)

BENCHMARK = Path(__file__).resolve().parents[3] / "shared" / "data" / "extraction-benchmark"
BASELINE = Path(__file__).parents[1] / "data" / "extraction_baseline.json"


@pytest.fixture(scope="module")
def report() -> ExtractionReport:
    """Return one evaluation run over the whole benchmark (~10 s on one core)."""
    if not (BENCHMARK / "ground-truth.json").is_file():
        pytest.skip(f"{BENCHMARK} is absent: the extraction benchmark lives in ../shared, "
                    "outside the repository")
    return evaluate_extraction(BENCHMARK)


def test_gate_floors_and_plain_trafilatura(report: ExtractionReport) -> None:
    baseline = load_baseline(BASELINE)
    assert baseline.get("floors"), f"{BASELINE} pins no floors"
    assert gate_failures(report, baseline) == []


def test_our_f1_is_at_least_plain_trafilatura_on_the_same_pages(report: ExtractionReport) -> None:
    ours, plain = report.summaries[OURS], report.summaries[PLAIN]
    assert len(report.pages) == 181
    assert all(set(p.scores) == {OURS, PLAIN} for p in report.pages)  # one run, same pages
    assert ours.f1 >= plain.f1
    assert ours.f1 >= load_baseline(BASELINE)["floors"]["newsmon.f1"]
    assert ours.empty_pages == 0


def test_baseline_records_what_docs_report(report: ExtractionReport) -> None:
    # docs/extraction.md quotes the measured figures; the baseline keeps them beside the floors.
    measured = load_baseline(BASELINE)["measured"]
    for name in (OURS, PLAIN):
        assert measured[name]["f1"] == pytest.approx(report.summaries[name].f1, abs=5e-4)
    docs = (Path(__file__).resolve().parents[2] / "docs" / "extraction.md").read_text()
    assert f"{measured[OURS]['f1']:.4f}" in docs
    assert f"{measured[PLAIN]['f1']:.4f}" in docs


def test_two_workers_give_the_same_scores_as_one() -> None:
    if not (BENCHMARK / "ground-truth.json").is_file():
        pytest.skip(f"{BENCHMARK} is absent")
    one = evaluate_extraction(BENCHMARK, limit=6)
    two = evaluate_extraction(BENCHMARK, workers=2, limit=6)
    assert [p.scores for p in one.pages] == [p.scores for p in two.pages]


# --- the scoring and the floor helper, on data of our own -----------------------------------------


def test_bag_scores_count_tokens_with_multiplicity() -> None:
    scores = bag_scores("the talks the talks ended", "the talks ended today")
    assert scores.precision == pytest.approx(3 / 4)
    assert scores.recall == pytest.approx(3 / 5)
    assert scores.f1 == pytest.approx(2 * 0.75 * 0.6 / 1.35)
    assert bag_scores("", "") == Scores(1.0, 1.0, 1.0)
    assert bag_scores("gold text", "") == Scores(0.0, 0.0, 0.0)
    assert bag_scores("Talks", "talks").f1 == 0.0  # case kept, as in the benchmark


def test_benchmark_formula_matches_its_definition() -> None:
    perfect = shingle_counts("one two three four five", "one two three four five")
    assert perfect == (1.0, 0.0, 0.0)
    nothing = shingle_counts("one two three four five", "")
    assert benchmark_f1([perfect, nothing]) == pytest.approx(2 * 1.0 * 0.5 / 1.5)


def _report(f1: float, plain_f1: float = 0.5, pages: int = 3) -> ExtractionReport:
    """Return a report whose figures are all f1 (ours) and plain_f1 (plain trafilatura)."""

    def summary(name: str, value: float) -> ExtractorSummary:
        return ExtractorSummary(name, value, value, value, value, 1.0, 0)

    page = PageResult("x", "", {}, {}, {}, {}, "trafilatura")
    return ExtractionReport(
        "gold", (page,) * pages, {OURS: summary(OURS, f1), PLAIN: summary(PLAIN, plain_f1)},
        {}, 1, 0.1,
    )


def test_raise_floors_pins_then_raises(tmp_path: Path) -> None:
    path = tmp_path / "baseline.json"
    first = raise_floors(path, _report(0.9012))
    assert first["floors"] == {"newsmon.f1": 0.901, "newsmon.precision": 0.901,
                               "newsmon.recall": 0.901}
    second = raise_floors(path, _report(0.95))
    assert second["floors"]["newsmon.f1"] == 0.95
    assert json.loads(path.read_text()) == second
    assert len(second["history"]) == 2


def test_raise_floors_refuses_to_lower_a_floor(tmp_path: Path) -> None:
    path = tmp_path / "baseline.json"
    raise_floors(path, _report(0.95))
    before = path.read_text()
    with pytest.raises(FloorRegression, match="refusing to lower"):
        raise_floors(path, _report(0.90))
    with pytest.raises(FloorRegression, match="needs a reason"):
        raise_floors(path, _report(0.90), allow_regression=True)
    assert path.read_text() == before  # nothing written
    lowered = raise_floors(path, _report(0.90), allow_regression=True, reason="new lxml")
    assert lowered["floors"]["newsmon.f1"] == 0.9
    assert lowered["history"][-1]["lowered_because"] == "new lxml"


def test_gate_failures_name_each_problem() -> None:
    baseline = {"pages": 3, "floors": {"newsmon.f1": 0.9}}
    assert gate_failures(_report(0.95), baseline) == []
    assert "below its floor" in gate_failures(_report(0.85, plain_f1=0.5), baseline)[0]
    assert "below plain trafilatura" in gate_failures(_report(0.95, plain_f1=0.96), baseline)[0]
    assert "pinned on 3" in gate_failures(_report(0.95, pages=2), baseline)[0]


def test_load_gold_names_a_malformed_folder(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no ground-truth.json"):
        load_gold(tmp_path)
    (tmp_path / "ground-truth.json").write_text(json.dumps({"a": {"articleBody": "x"}}))
    with pytest.raises(ValueError, match="have no html"):
        load_gold(tmp_path)
