"""Run reports (pure): per-stage timings, the structured stage log line, the run's markdown and
feed-health tables. The flow turns them into a `runs` row, Prefect artifacts and log lines."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from newsmon.store.repo import FeedHealth

# The stages of a cycle, in order; the summary's "stages" object has one key per stage.
STAGES = ("poll", "fetch", "extract", "analyse", "store", "deliver")
# Prefix of the structured log line: grep for it, parse the JSON after it.
STAGE_LOG_PREFIX = "newsmon.stage"


class StageClock:
    """Wall-clock seconds spent in each stage of one run, summed over batches."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self.seconds: dict[str, float] = dict.fromkeys(STAGES, 0.0)

    @contextmanager
    def stage(self, name: str) -> Iterator[dict[str, Any]]:
        """Yield a dict for the stage's counts while timing the block; add its time to name."""
        if name not in self.seconds:
            raise ValueError(f"unknown stage {name!r}; stages are {', '.join(STAGES)}")
        counts: dict[str, Any] = {}
        start = self._clock()
        try:
            yield counts
        finally:
            elapsed = self._clock() - start
            self.seconds[name] += elapsed
            counts["seconds"] = round(elapsed, 3)

    def rounded(self) -> dict[str, float]:
        """Return the seconds per stage rounded to milliseconds (the summary's "stages")."""
        return {name: round(value, 3) for name, value in self.seconds.items()}


def stage_line(run_id: str, stage: str, counts: dict[str, Any]) -> str:
    """Return the structured log line of one stage: the prefix, then one JSON object."""
    record = {"run_id": run_id, "stage": stage, **counts}
    return f"{STAGE_LOG_PREFIX} {json.dumps(record, default=str, sort_keys=False)}"


def parse_stage_line(line: str) -> dict[str, Any] | None:
    """Return the JSON object of a structured stage line found in a log line, else None."""
    at = line.find(STAGE_LOG_PREFIX + " ")
    if at < 0:
        return None
    try:
        value = json.loads(line[at + len(STAGE_LOG_PREFIX) + 1:])
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _cell(value: Any) -> str:
    """Return a value as a markdown table cell (pipes escaped, newlines flattened)."""
    text = "" if value is None else str(value)
    return text.replace("|", "\\|").replace("\n", " ")


def _when(value: datetime | None) -> str:
    """Return a naive-UTC time as 'YYYY-MM-DD HH:MM', '' for None."""
    return value.strftime("%Y-%m-%d %H:%M") if value is not None else ""


NOT_IN_TABLE = ("feed_errors", "alert_failures", "feeds_moved", "stages", "new_events",
                "feed_problems")


def run_markdown(summary: dict[str, Any]) -> str:
    """Return the markdown of a run: measures, stage timings, new events, feed problems."""
    lines = ["# newsmon cycle", "", "| measure | value |", "|---|---|"]
    lines += [
        f"| {k} | {_cell(v)} |" for k, v in summary.items() if k not in NOT_IN_TABLE
    ]
    stages = summary.get("stages") or {}
    if stages:
        lines += ["", "## Stage timings (s)", "", "| " + " | ".join(stages) + " |",
                  "|" + "---|" * len(stages), "| " + " | ".join(str(v) for v in stages.values())
                  + " |"]
    events = summary.get("new_events") or []
    lines += ["", f"## New events ({len(events)})", ""]
    if events:
        lines += ["| date | type | status | place | participants | alert | sources |",
                  "|---|---|---|---|---|---|---|"]
        lines += [
            f"| {_cell(e['date'])} | {_cell(e['type'])} | {_cell(e['status'])} | "
            f"{_cell(e['place'])} | {_cell(', '.join(e['participants']))} | "
            f"{'yes' if e['alerted'] else 'no (' + _cell(e['why_not']) + ')'} | "
            f"{_cell(e['sources'])} |"
            for e in events
        ]
    else:
        lines.append("No new event this run.")
    problems = summary.get("feed_problems") or []
    lines += ["", f"## Feed problems ({len(problems)})", ""]
    if problems:
        lines += ["| feed | status | problem |", "|---|---|---|"]
        lines += [f"| {_cell(p['feed'])} | {_cell(p['status'])} | {_cell(p['problem'])} |"
                  for p in problems]
    else:
        lines.append("Every feed of the run is healthy.")
    if summary.get("alert_failures"):
        lines += ["", "## Alerts that failed", "", "| alert | reason |", "|---|---|"]
        lines += [f"| {_cell(f['alert'])} | {_cell(f['reason'])} |"
                  for f in summary["alert_failures"]]
    return "\n".join(lines)


def feed_problems(health: Sequence[FeedHealth], errors: Sequence[dict[str, Any]]
                  ) -> list[dict[str, str]]:
    """Return one row per feed that needs a look: failed this run, failing, gone, quiet, moved."""
    rows: dict[str, dict[str, str]] = {}
    for error in errors:
        rows[error["feed"]] = {"feed": error["feed"], "status": "failing",
                               "problem": f"{error['kind']}: {error['error']}"}
    for h in health:
        notes = []
        if h.status in ("failing", "gone") and h.url not in rows:
            notes.append(f"{h.last_error_kind or h.status}: {h.last_error or ''}".rstrip(": "))
        if h.status == "quiet":
            notes.append(f"quiet: no new item since {_when(h.last_new_item_at) or 'it was added'}")
        if h.moved_to:
            notes.append(f"moved permanently to {h.moved_to} (update the config)")
        if notes:
            row = rows.setdefault(h.url, {"feed": h.url, "status": h.status, "problem": ""})
            row["problem"] = "; ".join(p for p in (row["problem"], *notes) if p)
    return list(rows.values())


def feed_health_table(health: Sequence[FeedHealth]) -> list[dict[str, Any]]:
    """Return the feed-health rows of the Prefect table artifact (one dict per feed)."""
    return [
        {
            "feed": h.name or h.url, "url": h.url, "status": h.status,
            "last_success": _when(h.last_success_at), "items": h.items_total,
            "failures": h.failures, "next_poll": _when(h.next_poll_at),
            "error": f"{h.last_error_kind}: {h.last_error}" if h.last_error_kind else "",
            "moved_to": h.moved_to or "",
        }
        for h in health
    ]
