"""Task that runs extraction and NLP over a batch of pages (CPU-heavy work)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE
from spacy.language import Language

from newsmon.analysis.nlp import build_pipeline, load_nlp
from newsmon.analysis.pipeline import Analysis, AnalysisRules, analyze
from newsmon.analysis.watchlist import Watchlist, load_watchlist
from tasks.faults import fault_point


def watchlist_stamp(watchlist_dir: str, watchlist_name: str) -> tuple[int, int] | None:
    """Return the watchlist file's (mtime in ns, size), or None if there is no such file."""
    try:
        info = (Path(watchlist_dir) / f"{watchlist_name}.yaml").stat()
    except OSError:
        return None
    return info.st_mtime_ns, info.st_size


def pipeline_for(
    model: str, fallback: str, watchlist_dir: str, watchlist_name: str
) -> tuple[Language, Watchlist]:
    """Return the loaded spaCy pipeline with the watchlist ruler (loaded once per process and
    watchlist version)."""
    # The file's stamp is part of the key: long-lived processes (Dask workers, a test session,
    # a replay right after a watchlist edit) must not keep analysing with the old watchlist.
    return _pipeline(model, fallback, watchlist_dir, watchlist_name,
                     watchlist_stamp(watchlist_dir, watchlist_name))


@lru_cache(maxsize=4)
def _pipeline(
    model: str, fallback: str, watchlist_dir: str, watchlist_name: str,
    stamp: tuple[int, int] | None,
) -> tuple[Language, Watchlist]:
    """Return a pipeline for one version (stamp) of the watchlist."""
    watchlist = load_watchlist(Path(watchlist_dir), watchlist_name)
    return build_pipeline(load_nlp(model, fallback), watchlist), watchlist


@task(name="analyze-articles", cache_policy=NO_CACHE)
def analyze_batch(
    inputs: list, model: str, fallback: str, watchlist_dir: str, watchlist_name: str,
    rules: AnalysisRules,
) -> list[Analysis]:
    """Return the analyses of a batch of article texts, in order."""
    nlp, watchlist = pipeline_for(model, fallback, watchlist_dir, watchlist_name)
    results = []
    for analysis in analyze(nlp, watchlist, inputs, rules):
        results.append(analysis)
        # Test hook (NEWSMON_FAULT=during_nlp, NEWSMON_FAULT_AT=n): die after the n-th text.
        fault_point("during_nlp")
    get_run_logger().info(
        "analysed %d articles: %d passed the prefilter, %d relevant, %d events",
        len(results), sum(a.prefiltered for a in results), sum(a.relevant for a in results),
        sum(len(a.events) for a in results),
    )
    return results
