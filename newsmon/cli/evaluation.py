"""Evaluation commands on the corpus of real reports: eval-corpus, eval-cycle (issue 15)."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Annotated

import typer

from newsmon.cli.analysis import load_pipeline
from newsmon.cli.common import ConfigOpt, app, err, fail, quiet_prefect
from newsmon.settings import ConfigError

CacheOpt = Annotated[Path, typer.Option(help="Folder of the cached texts")]
DEFAULT_CACHE = Path("~/.cache/newsmon/pages")


@app.command(name="eval-corpus")
def eval_corpus(
    labels: Annotated[Path, typer.Argument(help="A labels file of tests/data/corpus")],
    half: Annotated[str, typer.Option(help="tune, report or all (the corpus splits by story)")]
    = "report",
    cache: CacheOpt = DEFAULT_CACHE,
    config: ConfigOpt = None,
    watchlist: Annotated[str | None, typer.Option(help="Watchlist name or YAML file")] = None,
    max_errors: Annotated[int | None, typer.Option(help="List at most N errors of each kind")]
    = None,
    report: Annotated[Path | None, typer.Option(help="Write the JSON report here")] = None,
) -> None:
    """Score meetings on the corpus of real reports: event level, item level, keyword rule."""
    from newsmon.analysis.pipeline import AnalysisRules
    from newsmon.evaluation.cases import run_analysis
    from newsmon.evaluation.corpus import (
        CorpusMissing,
        format_corpus_report,
        load_corpus,
        score_corpus,
        select,
        summary,
    )
    from newsmon.evaluation.evaluate import report_to_json

    try:
        items = select(load_corpus(labels, cache), half)
        nlp, wl, settings = load_pipeline(config, watchlist, None)
    except CorpusMissing as exc:
        fail(str(exc), code=3)
        return
    except (ConfigError, ValueError, OSError) as exc:
        fail(str(exc))
        return
    rules = AnalysisRules(settings.relevance.threshold, settings.events.new_window_days)
    predictions = run_analysis([i.case for i in items], nlp, wl, rules)
    result = score_corpus(items, predictions, wl)
    err.print(f"{labels} ({half} half): {summary(items)}", highlight=False)
    print(format_corpus_report(result, max_errors))
    if report:
        report.write_text(json.dumps({**report_to_json(result.events), "item_level": {
            "reports": result.reports, "found": result.reports_found,
            "keyword": result.reports_keyword}}, indent=2, default=str))



def _cycle_config(folder: Path, feed: str, watchlist: Path, database: Path) -> Path:
    """Write the eval-cycle's config: the one loopback feed, Slack on, no politeness waits."""
    config = {
        "database": str(database), "watchlist": watchlist.stem,
        "watchlist_dir": str(watchlist.parent.resolve()),
        "feeds": [{"name": "eval-cycle", "url": feed}],
        "fetch": {"allow_private_hosts": True, "per_host_min_interval_s": 0,
                  "per_host_concurrency": 8, "max_new_items_per_feed": 10000},
        "extraction": {"workers": 1},
        # The reports are years old: judge each as if it were seen when it was published.
        "events": {"max_article_age_days": None},
        "alerts": {"channels": ["slack"]},
    }
    path = folder / "newsmon.yaml"
    path.write_text(json.dumps(config), encoding="utf-8")  # JSON is YAML
    return path


@app.command(name="eval-cycle")
def eval_cycle(
    labels: Annotated[Path, typer.Argument(help="A labels file of tests/data/corpus")],
    story: Annotated[list[str] | None, typer.Option(
        "--story", help="Serve this story's reports (repeatable); default: every meeting story "
        "with at least --min-reports reports")] = None,
    min_reports: Annotated[int, typer.Option(help="Default stories: at least this many reports")]
    = 6,
    cache: CacheOpt = DEFAULT_CACHE,
    watchlist: Annotated[Path, typer.Option(help="The watchlist YAML file")] = Path(
        "config/watchlists/syria-russia.yaml"),
    keep: Annotated[Path | None, typer.Option(help="Keep the database here")] = None,
    undated: Annotated[bool, typer.Option(
        help="Serve reports without a publication date too (the cycle reads an undated page "
        "as of the day it sees it: today, for these old reports)")] = False,
) -> None:
    """Run the real cycle on labelled reports served on loopback, with a Slack stand-in;
    print per real meeting the stored events and alerts, and every extra event."""
    from newsmon.analysis.watchlist import load_watchlist
    from newsmon.demo import serve_folder
    from newsmon.evaluation.corpus import CorpusMissing, load_corpus, stories
    from newsmon.evaluation.cycle_eval import (
        cycle_report,
        format_cycle_report,
        slack_stand_in,
        stored_meetings,
        write_site,
    )

    quiet_prefect()
    try:
        items = load_corpus(labels, cache)
        wl = load_watchlist(watchlist.parent, watchlist.stem)
    except CorpusMissing as exc:
        fail(str(exc), code=3)
        return
    except (ConfigError, ValueError, OSError) as exc:
        fail(str(exc))
        return
    grouped = stories([i for i in items if i.watchlist == wl.name])
    chosen = story or [s for s, group in grouped.items()
                       if sum(i.meeting_report for i in group) >= min_reports]
    unknown = [s for s in chosen if s not in grouped]
    if unknown or not chosen:
        fail(f"no reports for the stories {unknown or chosen} in {labels}; name stories of "
             "its \"story\" field, or lower --min-reports")
    served = [i for s in chosen for i in grouped[s] if undated or i.case.published]
    skipped = sum(len(grouped[s]) for s in chosen) - len(served)
    with tempfile.TemporaryDirectory(prefix="newsmon-eval-cycle-") as tmp:
        folder = Path(tmp)
        write_site(served, folder / "site")
        database = keep or folder / "eval.duckdb"
        with serve_folder(folder / "site") as base, slack_stand_in() as (hook, received):
            config = _cycle_config(folder, f"{base}/feed.xml", watchlist, database)
            from flows.monitor import monitor

            err.print(f"serving {len(served)} reports of {len(chosen)} stories on {base}"
                      + (f" ({skipped} undated left out; --undated serves them)" if skipped
                         else ""), highlight=False)
            # The stand-in, never the user's own Slack: set for this cycle only.
            saved = os.environ.get("NEWSMON_SLACK_WEBHOOK_URL")
            os.environ["NEWSMON_SLACK_WEBHOOK_URL"] = hook
            try:
                monitor(config=str(config))
            finally:
                if saved is None:
                    os.environ.pop("NEWSMON_SLACK_WEBHOOK_URL", None)
                else:
                    os.environ["NEWSMON_SLACK_WEBHOOK_URL"] = saved
        import duckdb

        con = duckdb.connect(str(database), read_only=True)
        try:
            events = stored_meetings(con)
        finally:
            con.close()
    print(format_cycle_report(cycle_report(served, events, wl, len(received))))


@app.command(name="eval-headlines")
def eval_headlines(
    labels: Annotated[Path, typer.Argument(help="tests/data/corpus/labels-headlines.jsonl")]
    = Path("tests/data/corpus/labels-headlines.jsonl"),
    shared: Annotated[Path, typer.Option(help="The shared data folder")] = Path("../shared"),
    config: ConfigOpt = None,
    max_errors: Annotated[int | None, typer.Option(help="List at most N errors of each kind")]
    = None,
) -> None:
    """Score TASS/RT feed items that have no page (title + first characters): relevance,
    meetings, and the labelled planned meetings and calls found."""
    from newsmon.analysis.pipeline import AnalysisRules
    from newsmon.evaluation.cases import run_analysis
    from newsmon.evaluation.corpus import found_kind, load_headlines
    from newsmon.evaluation.evaluate import evaluate, format_report

    try:
        items = load_headlines(labels, shared)
        nlp, wl, settings = load_pipeline(config, None, None)
    except (ConfigError, ValueError, OSError) as exc:
        fail(str(exc))
        return
    rules = AnalysisRules(settings.relevance.threshold, settings.events.new_window_days)
    cases = [i.case for i in items]
    predictions = run_analysis(cases, nlp, wl, rules)
    print(format_report(evaluate(cases, predictions, wl), max_errors=max_errors))
    for name, kind, status in (("planned meetings", "meeting", "planned"),
                               ("calls", "call", "occurred")):
        found = total = 0
        for item in items:
            gold = item.planned if kind == "meeting" else item.calls
            f, n = found_kind(gold, predictions[item.case.id].events, kind, status, wl)
            found, total = found + f, total + n
        print(f"{name}: {found}/{total} labelled found")
