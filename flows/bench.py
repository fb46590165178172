"""`newsmon bench`: the monitor flow against a synthetic loopback site, beside the libraries' floor.

One run measures (issue 10): a cold cycle (every item new), warm cycles (nothing new: the feeds
answer 304), the floor (trafilatura.extract on every page + nlp.pipe on the texts that name both
sides, in a plain loop in this process) and the naive order (NER on every text). Prefect task
runs and per-stage seconds come from the Prefect API; page requests from the site's counters.
See docs/performance.md for the figures and how to reproduce them.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import platform
import resource
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from newsmon.bench.harness import Floor, RssSampler, measure_floor, report_table, rss_mb, tree_cpu_s
from newsmon.bench.site import BenchSite, SiteServer, SiteSpec, load_templates
from newsmon.settings import load_settings

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PAGES = ROOT.parent / "shared" / "data" / "extraction-benchmark" / "html"
DEFAULT_CONFIG = ROOT / "config" / "bench.yaml"


@dataclass(frozen=True)
class BenchOptions:
    """What to benchmark and how."""

    feeds: int = 200
    items: int = 25
    relevant_share: float = 0.05
    latency_ms: float = 0.0
    warm_cycles: int = 1
    floor: bool = True  # measure the floor and the naive order (the slow part of a bench)
    naive_sample: int = 500  # texts run for the naive figure, the rest scaled; 0 = all
    pages_dir: Path = DEFAULT_PAGES
    config: Path = DEFAULT_CONFIG
    json_path: Path | None = None
    baseline: Path | None = None  # an earlier report (zero latency) to compare the cold wall to


def _task_runs(flow_run_id: UUID, settle_s: float = 30.0) -> list[Any]:
    """Return the task runs of a flow run once the API has recorded all of them."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    flow_filter = FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id]))
    deadline = time.monotonic() + settle_s
    previous: list[Any] | None = None
    with get_client(sync_client=True) as client:
        while True:
            runs: list[Any] = []
            while True:  # the API pages its answers (200 rows by default)
                page = client.read_task_runs(
                    flow_run_filter=flow_filter, limit=200, offset=len(runs)
                )
                runs.extend(page)
                if len(page) < 200:
                    break
            # Task run states reach the API as events, shortly after the flow returns: wait
            # until two reads agree and every run has finished.
            done = all(r.end_time is not None for r in runs)
            if previous is not None and len(previous) == len(runs) and done:
                return runs
            if time.monotonic() > deadline:
                return runs
            previous = runs
            time.sleep(1.0)


def _stage_seconds(runs: list[Any]) -> dict[str, float]:
    """Return the summed run time of the task runs per task name (e.g. 'extract-articles')."""
    totals: dict[str, float] = defaultdict(float)
    for run in runs:
        name = run.name.rsplit("-", 1)[0]  # "fetch-pages-a1b" -> "fetch-pages"
        if run.start_time and run.end_time:
            totals[name] += (run.end_time - run.start_time).total_seconds()
    return {name: round(seconds, 2) for name, seconds in sorted(totals.items())}


def _cycle(
    config: Path, db: Path, feed_urls: list[str]
) -> tuple[dict[str, Any], float, UUID]:
    """Run one monitor cycle; return its summary, wall seconds and flow run id."""
    from flows.monitor import monitor

    started = time.perf_counter()
    # Console alerts print their text: kept out of the benchmark's own output.
    with contextlib.redirect_stdout(io.StringIO()):
        state = monitor(config=str(config), db=str(db), feeds=feed_urls, return_state=True)
    wall = time.perf_counter() - started
    summary = state.result()
    return summary, wall, state.state_details.flow_run_id


def _start_prefect() -> float:
    """Start (or reach) the Prefect API before any timing; return the seconds it took."""
    from prefect.client.orchestration import get_client

    started = time.perf_counter()
    with get_client(sync_client=True) as client:
        client.api_healthcheck()
    return time.perf_counter() - started


def _machine() -> dict[str, Any]:
    """Return what the figures depend on: CPU model and count, memory, Python, libraries."""
    import duckdb
    import prefect
    import spacy
    import trafilatura

    cpu = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory_gb = 0.0
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory_gb = round(int(line.split()[1]) / 1e6, 1)
    return {
        "cpu": cpu, "cores": os.cpu_count(), "memory_gb": memory_gb,
        "python": platform.python_version(), "prefect": prefect.__version__,
        "trafilatura": trafilatura.__version__, "spacy": spacy.__version__,
        "duckdb": duckdb.__version__,
    }


def _targets(report: dict[str, Any]) -> list[tuple[str, str, bool | None]]:
    """Return the issue's targets this run can judge: (name, measured, met; None: not this run).

    The cold targets are set for 200 feeds x 25 items at zero latency, the warm one for 500
    feeds: a run of another size reports its figures without a verdict.
    """
    out: list[tuple[str, str, bool | None]] = []
    full = report["feeds"] >= 200 and report["items"] >= 25 and report["latency_ms"] == 0
    if report.get("ratio_vs_floor") is not None:
        out.append((
            "cold ratio pipeline / floor <= 1.3",
            f"{report['ratio_vs_floor']} wall ({report['ratio_cpu_vs_floor']} in CPU seconds)",
            report["ratio_vs_floor"] <= 1.3 if full else None,
        ))
        out.append((
            "cold >= 3x faster than naive", f"{report['speedup_vs_naive']}x",
            report["speedup_vs_naive"] >= 3 if full else None,
        ))
    if report.get("warm_wall_s") is not None:
        warm_ok = (report["warm_wall_s"] <= 10 and report["page_requests_warm"] == 0
                   and report["nlp_task_runs_warm"] == 0)
        out.append((
            "warm <= 10 s, 0 page requests, 0 NLP (500 feeds)",
            (f"{report['warm_wall_s']} s, {report['page_requests_warm']} page requests, "
             f"{report['nlp_task_runs_warm']} NLP task runs"),
            warm_ok if report["feeds"] >= 500 else None,
        ))
    growth = report.get("warm_rss_growth_mb")
    if growth is not None:
        out.append((
            "no memory growth over 20 warm cycles in one process (<= 10 MB)",
            f"{growth} MB from warm cycle 2 to {len(report['warm_rss_mb'])}",
            growth <= 10 if len(report["warm_rss_mb"]) >= 20 else None,
        ))
    if report.get("ratio_vs_baseline") is not None:
        out.append((
            "200 ms latency: cold wall within 1.5x of zero latency",
            (f"{report['ratio_vs_baseline']}x ({report['cold_wall_s']} s vs "
             f"{report['baseline_cold_wall_s']} s)"),
            report["ratio_vs_baseline"] <= 1.5 if report["latency_ms"] >= 200 else None,
        ))
    out.append(("peak RSS <= 1.5 GB (cold)", f"{report['peak_rss_mb']} MB",
                report["peak_rss_mb"] <= 1500))
    out.append(("task runs <= 5% of pages", f"{report['task_runs']} / {report['pages']}",
                report["task_runs"] <= 0.05 * report["pages"] if report["pages"] else None))
    return out


def run_bench(
    options: BenchOptions, progress: Callable[[str], None] = print
) -> tuple[dict[str, Any], str]:
    """Run the benchmark; return the report (the JSON) and its printable table."""
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    spec = SiteSpec(options.feeds, options.items, options.relevant_share, options.latency_ms)
    settings = load_settings(options.config)
    with tempfile.TemporaryDirectory(prefix="newsmon-bench-") as tmp, SiteServer(
        spec, options.pages_dir
    ) as server:
        db = Path(tmp) / "bench.duckdb"
        feed_urls = server.feed_urls(spec.feeds)
        progress(f"site: {spec.feeds} feeds x {spec.items} items at {server.base}")
        prefect_start_s = _start_prefect()

        load_before = os.getloadavg()
        before = server.stats()
        cpu_before = tree_cpu_s(exclude=[server.pid])
        with RssSampler(exclude=[server.pid]) as sampler:
            cold, cold_wall, cold_id = _cycle(options.config, db, feed_urls)
        cold_cpu = tree_cpu_s(exclude=[server.pid]) - cpu_before
        load_cold = os.getloadavg()
        max_rss_main = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3
        cold_requests = server.stats() - before
        cold_runs = _task_runs(cold_id)
        progress(f"cold cycle: {cold_wall:.1f} s, {cold['new_articles']} new articles")

        warm_walls: list[float] = []
        warm_rss: list[float] = []
        warm_requests: Counter[str] = Counter()
        warm_nlp_runs = warm_task_runs = 0
        for _ in range(options.warm_cycles):
            before = server.stats()
            _summary, wall, warm_id = _cycle(options.config, db, feed_urls)
            warm_requests = server.stats() - before
            runs = _task_runs(warm_id)
            warm_task_runs = len(runs)
            warm_nlp_runs = sum(r.name.startswith("analyze-articles") for r in runs)
            warm_walls.append(round(wall, 2))
            warm_rss.append(round(rss_mb(os.getpid()), 1))
        if warm_walls:
            progress(f"warm cycles: {warm_walls} s")

        floor: Floor | None = None
        if options.floor:
            from tasks.nlp import pipeline_for

            site = BenchSite(spec, load_templates(options.pages_dir))
            nlp, watchlist = pipeline_for(
                settings.nlp.model, settings.nlp.fallback_model, str(settings.watchlist_dir),
                settings.watchlist,
            )
            floor = measure_floor(
                (site.page_html(p) for p in range(spec.pages)), nlp, watchlist,
                settings.nlp.batch_size, options.naive_sample, progress,
            )

    pages = cold_requests["page"]
    report: dict[str, Any] = {
        "when": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "feeds": spec.feeds, "items": spec.items, "relevant_share": spec.relevant_share,
        "latency_ms": spec.latency_ms,
        "pages": pages,
        "new_articles": cold["new_articles"],
        "relevant": cold["relevant"],
        "near_duplicates": cold["near_duplicates"],
        "cold_wall_s": round(cold_wall, 2),
        "cold_cpu_s": round(cold_cpu, 2),
        "articles_per_s": round(cold["new_articles"] / cold_wall, 1) if cold_wall else 0.0,
        # Wall seconds of each stage as the flow timed it (summed over batches), and the run
        # time of each task summed over its runs (tasks that overlap both count in full).
        "stage_seconds": cold.get("stages", {}),
        "task_seconds": _stage_seconds(cold_runs),
        "http_requests_cold": sum(cold_requests.values()),
        "page_requests_cold": pages,
        "task_runs": len(cold_runs),
        "peak_rss_mb": round(sampler.peaks.newsmon_mb, 1),
        "peak_rss_prefect_server_mb": round(sampler.peaks.prefect_server_mb, 1),
        "max_rss_main_mb": round(max_rss_main, 1),
        "prefect_start_s": round(prefect_start_s, 2),
        "warm_wall_s": warm_walls[0] if warm_walls else None,
        "warm_walls_s": warm_walls,
        "warm_rss_mb": warm_rss,
        # From the second warm cycle on: the first one may still fill caches.
        "warm_rss_growth_mb": round(warm_rss[-1] - warm_rss[1], 1) if len(warm_rss) > 2 else None,
        "http_requests_warm": sum(warm_requests.values()) if warm_walls else None,
        "feed_304s_warm": warm_requests["feed_304"] if warm_walls else None,
        "page_requests_warm": warm_requests["page"] if warm_walls else None,
        "task_runs_warm": warm_task_runs if warm_walls else None,
        "nlp_task_runs_warm": warm_nlp_runs if warm_walls else None,
    }
    if floor is not None:
        report.update({
            "floor_s": round(floor.floor_s, 2),
            "floor_cpu_s": round(floor.floor_cpu_s, 2),
            "floor_extract_s": round(floor.extract_s, 2),
            "floor_ner_s": round(floor.ner_s, 2),
            "floor_ner_texts": floor.ner_texts,
            "floor_ner_words": floor.ner_words,
            "ratio_vs_floor": round(cold_wall / floor.floor_s, 2),
            "ratio_cpu_vs_floor": round(cold_cpu / floor.floor_cpu_s, 2),
            "naive_s": round(floor.naive_s, 2),
            "naive_ner_texts": floor.naive_texts,
            "naive_measured_texts": floor.ner_texts + floor.naive_sampled_texts,
            "speedup_vs_naive": round(floor.naive_s / cold_wall, 2),
        })
    if options.baseline is not None:
        base = json.loads(options.baseline.read_text(encoding="utf-8"))
        if (base.get("feeds"), base.get("items"), base.get("latency_ms")) == (
            spec.feeds, spec.items, 0.0
        ):
            report["baseline_cold_wall_s"] = base["cold_wall_s"]
            report["ratio_vs_baseline"] = round(cold_wall / base["cold_wall_s"], 2)
        else:
            progress(f"baseline {options.baseline} is not a zero-latency run of the same size: "
                     "not compared")
    # Other work on the machine slows wall times: the load averages say how busy it was.
    report["load_avg"] = {
        "before": [round(x, 2) for x in load_before],
        "after_cold": [round(x, 2) for x in load_cold],
        "end": [round(x, 2) for x in os.getloadavg()],
    }
    report["machine"] = _machine()
    table = report_table(report, _targets(report))
    if options.json_path:
        options.json_path.parent.mkdir(parents=True, exist_ok=True)
        options.json_path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return report, table
