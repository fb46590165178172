"""Extraction evaluation: our extract_article vs plain trafilatura on pages with gold text.

The folder layout is that of scrapinghub/article-extraction-benchmark: `html/<id>.html.gz`
(or `.html`) and `ground-truth.json` mapping each id to `{"articleBody": ..., "url": ...}`.
Both extractors run on every page in the same run, so the comparison is side by side.

Scores are bags of tokens as in the benchmark's evaluate.py (tokens are `\\w+` runs, case
kept, counted with multiplicity): per page, precision = shared tokens / predicted tokens,
recall = shared tokens / gold tokens, F1 their harmonic mean; a report gives the mean of each
over the pages. The benchmark's own headline figure (4-gram shingles, F1 of the mean precision
and mean recall) is reported beside it for comparison with published numbers.

The gate (tests/evaluation/test_extraction_gate.py) holds our figures to floors pinned in a baseline JSON
file; `raise_floors` moves floors up to what was measured and refuses to lower one unless
`allow_regression` is given with a reason (issue 4).
"""

from __future__ import annotations

import gzip
import json
import math
import multiprocessing
import re
import statistics
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import trafilatura

from newsmon.articles.extract import ExtractionRules, extract_article

OURS = "newsmon"
PLAIN = "trafilatura"
EXTRACTORS = (OURS, PLAIN)
# Floors the gate holds: ours only (plain trafilatura is the comparison, not the product).
FLOOR_METRICS = ("f1", "precision", "recall")
_TOKEN = re.compile(r"\w+", re.UNICODE)
_SHINGLE = 4  # the benchmark's shingle size


class FloorRegression(ValueError):
    """A floor would be lowered without allow_regression (and a reason)."""


@dataclass(frozen=True)
class GoldPage:
    """One page of the evaluation folder with its gold article text."""

    id: str
    url: str
    html_path: Path
    gold: str


@dataclass(frozen=True)
class Scores:
    """Precision, recall and F1 of one prediction against its gold text."""

    precision: float
    recall: float
    f1: float


@dataclass(frozen=True)
class PageResult:
    """Both extractors' scores and timings on one page."""

    id: str
    url: str
    scores: dict[str, Scores]  # by extractor name
    shingles: dict[str, tuple[float, float, float]]  # normalised (tp, fp, fn), benchmark style
    ms: dict[str, float]
    chars: dict[str, int]
    path: str  # our extraction path (trafilatura_precision, trafilatura, ...)


@dataclass(frozen=True)
class ExtractorSummary:
    """One extractor's figures over all pages."""

    name: str
    precision: float
    recall: float
    f1: float
    benchmark_f1: float  # 4-gram shingles, F1 of mean precision and mean recall
    ms_per_page: float
    empty_pages: int


@dataclass(frozen=True)
class ExtractionReport:
    """The outcome of one evaluation run."""

    folder: str
    pages: tuple[PageResult, ...]
    summaries: dict[str, ExtractorSummary]
    paths: dict[str, int]  # how many pages each of our extraction paths produced
    workers: int
    seconds: float


def tokenize(text: str) -> list[str]:
    """Return the benchmark's tokens of a text: runs of word characters, case kept."""
    return _TOKEN.findall(text or "")


def bag_scores(gold: str, predicted: str) -> Scores:
    """Return bag-of-tokens precision, recall and F1 of a prediction against the gold text."""
    gold_bag, pred_bag = Counter(tokenize(gold)), Counter(tokenize(predicted))
    gold_n, pred_n = sum(gold_bag.values()), sum(pred_bag.values())
    if not gold_n and not pred_n:
        return Scores(1.0, 1.0, 1.0)  # nothing to find and nothing found
    shared = sum((gold_bag & pred_bag).values())
    precision = shared / pred_n if pred_n else 0.0
    recall = shared / gold_n if gold_n else 0.0
    f1 = 2 * precision * recall / (precision + recall) if shared else 0.0
    return Scores(precision, recall, f1)


def shingle_counts(gold: str, predicted: str) -> tuple[float, float, float]:
    """Return the benchmark's per-page (tp, fp, fn) over 4-gram shingles, normalised to sum 1."""

    def bag(text: str) -> Counter[tuple[str, ...]]:
        words = tokenize(text)
        return Counter(
            tuple(words[i : i + _SHINGLE]) for i in range(max(1, len(words) - _SHINGLE + 1))
            if words[i : i + _SHINGLE]
        )

    gold_bag, pred_bag = bag(gold), bag(predicted)
    tp = sum((gold_bag & pred_bag).values())
    fp = sum((pred_bag - gold_bag).values())
    fn = sum((gold_bag - pred_bag).values())
    total = tp + fp + fn
    return (tp / total, fp / total, fn / total) if total else (0.0, 0.0, 0.0)


def benchmark_f1(counts: Sequence[tuple[float, float, float]]) -> float:
    """Return the benchmark's F1: harmonic mean of mean precision and mean recall over pages."""

    def score(tp: float, fp: float, fn: float, miss: float) -> float:
        if fp == fn == 0:
            return 1.0
        return tp / (tp + miss) if tp + miss else 0.0

    # As evaluate.py: a page with no predicted (no gold) shingles has no precision (recall).
    precisions = [score(tp, fp, fn, fp) for tp, fp, fn in counts if tp + fp > 0]
    recalls = [score(tp, fp, fn, fn) for tp, fp, fn in counts if tp + fn > 0]
    if not precisions or not recalls:
        return 0.0
    p, r = statistics.fmean(precisions), statistics.fmean(recalls)
    return 2 * p * r / (p + r) if p + r else 0.0


def load_gold(folder: Path) -> list[GoldPage]:
    """Return the folder's pages with gold text, sorted by id; raise ValueError if malformed."""
    truth_path = folder / "ground-truth.json"
    if not truth_path.is_file():
        raise ValueError(f"{folder}: no ground-truth.json (expected the extraction-benchmark "
                         "layout: html/<id>.html.gz + ground-truth.json)")
    truth = json.loads(truth_path.read_text(encoding="utf-8"))
    if not isinstance(truth, dict):
        raise ValueError(  # noqa: TRY004 - a malformed file, reported as bad input
            f"{truth_path}: expected an object {{id: {{articleBody, url}}}}"
        )
    pages: list[GoldPage] = []
    missing: list[str] = []
    for page_id, entry in sorted(truth.items()):
        html_path = next(
            (p for p in (folder / "html" / f"{page_id}.html.gz", folder / "html" / f"{page_id}.html")
             if p.is_file()),
            None,
        )
        if html_path is None:
            missing.append(page_id)
            continue
        pages.append(GoldPage(page_id, str(entry.get("url") or ""), html_path,
                              str(entry.get("articleBody") or "")))
    if missing:
        raise ValueError(f"{folder}: {len(missing)} gold entries have no html/<id>.html[.gz], "
                         f"e.g. {missing[0]}")
    return pages


def read_html(path: Path) -> str:
    """Return the decoded HTML of a .html or .html.gz file (undecodable bytes replaced)."""
    raw = path.read_bytes()
    if path.suffix == ".gz":
        raw = gzip.decompress(raw)
    return raw.decode("utf-8", errors="replace")


def score_page(page: GoldPage) -> PageResult:
    """Return both extractors' scores, timings and lengths on one page."""
    html = read_html(page.html_path)
    started = time.perf_counter()
    article = extract_article(html, page.url, ExtractionRules())
    ours_ms = (time.perf_counter() - started) * 1000
    started = time.perf_counter()
    plain = trafilatura.extract(html) or ""  # default settings: the comparison the issue asks
    plain_ms = (time.perf_counter() - started) * 1000
    texts = {OURS: article.text, PLAIN: plain}
    return PageResult(
        id=page.id,
        url=page.url,
        scores={name: bag_scores(page.gold, text) for name, text in texts.items()},
        shingles={name: shingle_counts(page.gold, text) for name, text in texts.items()},
        ms={OURS: ours_ms, PLAIN: plain_ms},
        chars={name: len(text) for name, text in texts.items()},
        path=article.extraction_path,
    )


def summarize(name: str, pages: Sequence[PageResult]) -> ExtractorSummary:
    """Return one extractor's mean figures over the page results."""
    scores = [p.scores[name] for p in pages]
    return ExtractorSummary(
        name=name,
        precision=statistics.fmean(s.precision for s in scores),
        recall=statistics.fmean(s.recall for s in scores),
        f1=statistics.fmean(s.f1 for s in scores),
        benchmark_f1=benchmark_f1([p.shingles[name] for p in pages]),
        ms_per_page=statistics.fmean(p.ms[name] for p in pages),
        empty_pages=sum(p.chars[name] == 0 for p in pages),
    )


def evaluate_extraction(
    folder: Path, *, workers: int = 1, limit: int | None = None
) -> ExtractionReport:
    """Return the side-by-side evaluation of both extractors on a folder of gold pages."""
    pages = load_gold(folder)[:limit] if limit else load_gold(folder)
    if not pages:
        raise ValueError(f"{folder}: no pages to evaluate")
    started = time.perf_counter()
    if workers > 1:
        # spawn, not fork: the caller may hold threads (Prefect, test servers) that fork copies
        # in a locked state.
        with multiprocessing.get_context("spawn").Pool(workers) as pool:
            results = list(pool.imap(score_page, pages, chunksize=4))
    else:
        results = [score_page(page) for page in pages]
    paths = Counter(r.path for r in results)
    return ExtractionReport(
        folder=str(folder),
        pages=tuple(results),
        summaries={name: summarize(name, results) for name in EXTRACTORS},
        paths=dict(sorted(paths.items())),
        workers=workers,
        seconds=time.perf_counter() - started,
    )


def format_report(report: ExtractionReport) -> str:
    """Return the report as a plain-text table, our figures beside plain trafilatura's."""
    lines = [
        (f"extraction evaluation: {len(report.pages)} pages in {report.folder} "
         f"({report.seconds:.1f} s, {report.workers} worker(s))"),
        (f"{'extractor':<20}{'precision':>10}{'recall':>9}{'F1':>8}{'bench F1':>10}"
         f"{'ms/page':>9}{'empty':>7}"),
    ]
    for name in EXTRACTORS:
        s = report.summaries[name]
        label = f"{name} (ours)" if name == OURS else f"{name} (plain)"
        lines.append(
            f"{label:<20}{s.precision:>10.4f}{s.recall:>9.4f}{s.f1:>8.4f}{s.benchmark_f1:>10.4f}"
            f"{s.ms_per_page:>9.1f}{s.empty_pages:>7}"
        )
    diff = report.summaries[OURS].f1 - report.summaries[PLAIN].f1
    better = sum(p.scores[OURS].f1 > p.scores[PLAIN].f1 + 1e-9 for p in report.pages)
    worse = sum(p.scores[OURS].f1 < p.scores[PLAIN].f1 - 1e-9 for p in report.pages)
    lines.append(f"F1 ours - plain: {diff:+.4f} (better on {better} pages, worse on {worse})")
    lines.append("our extraction paths: " + ", ".join(f"{k} {v}" for k, v in report.paths.items()))
    lines.append("F1: mean per-page bag-of-tokens F1; bench F1: the benchmark's 4-gram formula")
    return "\n".join(lines)


def report_to_json(report: ExtractionReport) -> dict[str, Any]:
    """Return the report as JSON-ready data, per-page scores included."""
    return {
        "folder": report.folder,
        "pages": len(report.pages),
        "workers": report.workers,
        "seconds": round(report.seconds, 2),
        "summaries": {
            name: {
                "precision": s.precision, "recall": s.recall, "f1": s.f1,
                "benchmark_f1": s.benchmark_f1, "ms_per_page": s.ms_per_page,
                "empty_pages": s.empty_pages,
            }
            for name, s in report.summaries.items()
        },
        "paths": report.paths,
        "per_page": [
            {
                "id": p.id, "url": p.url, "path": p.path,
                **{f"{name}_{metric}": getattr(p.scores[name], metric)
                   for name in EXTRACTORS for metric in ("precision", "recall", "f1")},
                **{f"{name}_ms": p.ms[name] for name in EXTRACTORS},
            }
            for p in report.pages
        ],
    }


# --- the gate's baseline -------------------------------------------------------------------------


def measured_floors(report: ExtractionReport) -> dict[str, float]:
    """Return our figures rounded down to 3 decimals: the floors this run would pin."""
    ours = report.summaries[OURS]
    return {f"{OURS}.{m}": math.floor(getattr(ours, m) * 1000) / 1000 for m in FLOOR_METRICS}


def load_baseline(path: Path) -> dict[str, Any]:
    """Return a baseline file's content ({} when it does not exist yet)."""
    if not path.exists():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a JSON object")  # noqa: TRY004 - bad input file
    return data


def gate_failures(report: ExtractionReport, baseline: dict[str, Any]) -> list[str]:
    """Return why the report fails the gate: a floor missed, fewer pages, or F1 below plain."""
    failures: list[str] = []
    expected_pages = baseline.get("pages")
    if expected_pages is not None and len(report.pages) != expected_pages:
        failures.append(f"evaluated {len(report.pages)} pages, the baseline was pinned on "
                        f"{expected_pages}: the floors do not apply to a different set")
    ours = report.summaries[OURS]
    for key, floor in sorted(baseline.get("floors", {}).items()):
        name, _, metric = key.partition(".")
        if name != OURS or metric not in FLOOR_METRICS:
            failures.append(f"unknown floor {key!r} in the baseline")
            continue
        value = getattr(ours, metric)
        if value < floor:
            failures.append(f"{key} = {value:.4f} is below its floor {floor:.3f}")
    plain = report.summaries[PLAIN]
    if ours.f1 < plain.f1:
        failures.append(f"our F1 {ours.f1:.4f} is below plain trafilatura's {plain.f1:.4f}")
    return failures


def raise_floors(
    path: Path,
    report: ExtractionReport,
    *,
    allow_regression: bool = False,
    reason: str | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Return the baseline written to path with floors raised to this run's figures.

    A floor the run falls below is lowered only with allow_regression and a reason, which is
    recorded in the file's history; otherwise FloorRegression is raised and nothing is written.
    """
    baseline = load_baseline(path)
    old: dict[str, float] = dict(baseline.get("floors", {}))
    new = measured_floors(report)
    lowered = {k: (old[k], v) for k, v in new.items() if k in old and v < old[k]}
    if lowered and not allow_regression:
        detail = ", ".join(f"{k} {a:.3f} -> {b:.3f}" for k, (a, b) in lowered.items())
        raise FloorRegression(
            f"refusing to lower floors ({detail}); pass allow_regression with a reason, and say "
            "why in the commit"
        )
    if lowered and not (reason and reason.strip()):
        raise FloorRegression("lowering a floor needs a reason")
    floors = new  # every floor is now either raised (or kept) or deliberately lowered
    history = list(baseline.get("history", []))
    stamp = (now or datetime.now(UTC)).strftime("%Y-%m-%d")
    changes = {k: [old.get(k), v] for k, v in floors.items() if old.get(k) != v}
    if changes:
        entry: dict[str, Any] = {"date": stamp, "changes": changes}
        if lowered:
            entry["lowered_because"] = reason
        history.append(entry)
    summaries = report.summaries
    updated = {
        "benchmark": baseline.get("benchmark", report.folder),
        "metric": "mean per-page bag-of-tokens precision/recall/F1 (\\w+ tokens, case kept)",
        "pages": len(report.pages),
        "floors": floors,
        "measured": {
            name: {
                "precision": round(s.precision, 4), "recall": round(s.recall, 4),
                "f1": round(s.f1, 4), "benchmark_f1": round(s.benchmark_f1, 4),
                "ms_per_page": round(s.ms_per_page, 1),
            }
            for name, s in summaries.items()
        },
        "versions": _versions(("trafilatura", "htmldate", "lxml", "py3langid")),
        "history": history,
    }
    path.write_text(json.dumps(updated, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return updated


def _versions(packages: Iterable[str]) -> dict[str, str]:
    """Return the installed version of each package (extraction output depends on them)."""
    found: dict[str, str] = {}
    for package in packages:
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = "absent"
    return found
