"""The corpus of real reports (tests/data/corpus): our labels joined with the cached texts.

The texts are third-party pages kept outside the repository, in a cache that the labels'
queries rebuild (tests/data/corpus/README.md); labels point at them by the hash of their URL.
The corpus is split by story, so the tuning half and the report half never share a meeting.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from newsmon.analysis.pipeline import Analysis
from newsmon.analysis.watchlist import Watchlist
from newsmon.evaluation.cases import Case, CaseError, Gold, parse_gold, read_jsonl
from newsmon.evaluation.evaluate import (
    EvalReport,
    baseline_meeting,
    evaluate,
    format_report,
    is_counted_meeting,
    participants_match,
)

DEFAULT_CACHE = Path("~/.cache/newsmon/pages")
HALVES = ("tune", "report")
STATE_KINDS = frozenset({"state"})


class CorpusMissing(FileNotFoundError):
    """The cached texts of the corpus are absent (they are rebuilt from the queries)."""


@dataclass(frozen=True)
class CorpusItem:
    """One labelled real report: the case to analyse and what the label says of it."""

    case: Case
    story: str
    watchlist: str
    meeting_report: bool  # its news is an occurred in-person meeting of the two sides
    outlet: str
    planned: tuple[dict[str, Any], ...] = ()
    calls: tuple[dict[str, Any], ...] = ()

    @property
    def half(self) -> str:
        """Return the half of the corpus this item's story falls in."""
        return half(self.story)


def url_key(url: str) -> str:
    """Return the cache key of a URL (the first 16 hex digits of its sha256)."""
    return hashlib.sha256(url.encode()).hexdigest()[:16]


def half(story: str) -> str:
    """Return "tune" or "report": a stable split by story, so one meeting is in one half."""
    return HALVES[hashlib.sha256(story.encode()).digest()[0] % 2]


def _gold(label: dict[str, Any], where: str) -> Gold:
    """Return the Gold of a corpus label: relevance and every occurred meeting it lists.

    A report without a publication date cannot have its "on Tuesday" resolved by anyone: its
    meetings are scored on their participants only (their labelled dates are dropped).
    """
    meetings = label.get("meetings", [])
    if label.get("published") is None:
        meetings = [{**meeting, "date": None} for meeting in meetings]
    return parse_gold({"relevant": label["relevant"], "meetings": meetings}, where)


def _published(value: str | None, where: str) -> date | None:
    """Return the publication day of a label (None when unknown)."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise CaseError(f'{where}: "published" {value!r} is not YYYY-MM-DD') from exc


def load_corpus(labels: Path, cache: Path = DEFAULT_CACHE) -> list[CorpusItem]:
    """Return the labelled reports of a labels file, each joined with its cached text.

    Raises CorpusMissing, naming the fix, when a text is absent or its length differs.
    """
    cache = cache.expanduser()
    items: list[CorpusItem] = []
    problems: list[str] = []
    for where, _line, label in read_jsonl(labels):
        key = label.get("key") or url_key(label["url"])
        path = cache / f"{key}.txt"
        if not path.exists():
            problems.append(f"{where}: no cached text {path}")
            continue
        text = path.read_text(encoding="utf-8")
        if "chars" in label and len(text) != label["chars"]:
            problems.append(f"{where}: {path} has {len(text)} characters, the label {label['chars']}")
            continue
        case = Case(
            id=f"corpus:{key}", text=text, gold=_gold(label, where), url=label["url"],
            published=_published(label.get("published"), where),
            tags=tuple(label.get("tags", ())) + (label["class"],), note=label.get("note", ""),
        )
        items.append(CorpusItem(
            case, label["story"], label["watchlist"], label["class"] == "meeting_report",
            label.get("outlet", ""), tuple(label.get("planned", ())), tuple(label.get("calls", ())),
        ))
    if problems:
        raise CorpusMissing(
            f"{len(problems)} corpus text(s) missing or changed, e.g. {problems[0]}. Rebuild the "
            "cache from tests/data/corpus/queries.jsonl (tests/data/corpus/README.md)."
        )
    return items


def select(items: Iterable[CorpusItem], which: str) -> list[CorpusItem]:
    """Return the items of one half ("tune" or "report"), or all of them ("all")."""
    if which not in (*HALVES, "all"):
        raise ValueError(f"half must be tune, report or all, not {which!r}")
    return [item for item in items if which == "all" or item.half == which]


def stories(items: Sequence[CorpusItem]) -> dict[str, list[CorpusItem]]:
    """Return the items grouped by story, in label order."""
    grouped: dict[str, list[CorpusItem]] = {}
    for item in items:
        grouped.setdefault(item.story, []).append(item)
    return grouped


def summary(items: Sequence[CorpusItem]) -> dict[str, Any]:
    """Return the corpus counts the issue asks for: reports, meetings, near-misses, outlets."""
    reports = [item for item in items if item.meeting_report]
    return {
        "items": len(items),
        "meeting_reports": len(reports),
        "meetings": len({item.story for item in reports}),
        "near_misses": len(items) - len(reports),
        "outlets": len({item.outlet for item in items}),
    }


@dataclass(frozen=True)
class CorpusReport:
    """The corpus figures: event level (strict dates, state meetings), item level, baseline."""

    events: EvalReport
    reports: int  # items whose news is an occurred meeting
    reports_found: int  # ... in which we found some occurred meeting
    reports_keyword: int  # ... which the keyword rule flags


def score_corpus(
    items: Sequence[CorpusItem], predictions: dict[str, Analysis], watchlist: Watchlist
) -> CorpusReport:
    """Return the corpus report of predictions by case id (issue 15's figures)."""
    cases = [item.case for item in items]
    events = evaluate(cases, predictions, watchlist, strict_dates=True,
                      counted_kinds=STATE_KINDS)
    reports = [item for item in items if item.meeting_report]
    found = sum(
        1 for item in reports
        if any(is_counted_meeting(e) for e in predictions[item.case.id].events)
    )
    keyword = sum(1 for item in reports if baseline_meeting(item.case.text))
    return CorpusReport(events, len(reports), found, keyword)


def format_corpus_report(report: CorpusReport, max_errors: int | None = None) -> str:
    """Return the corpus report as text: the evaluation table, then the item-level line."""
    share = (lambda n: f"{n}/{report.reports} = {n / report.reports:.2f}" if report.reports
             else "0/0")
    return (
        format_report(report.events, max_errors=max_errors)
        + f"\nitem level (reports of a meeting with some occurred meeting found): ours "
        f"{share(report.reports_found)}, keyword rule {share(report.reports_keyword)}\n"
    )


HEADLINES_JSONL = Path("data/headlines/tass-rt-syria-dev.jsonl")


@dataclass(frozen=True)
class HeadlineItem:
    """A feed item with no page (title and the first characters), with its labels."""

    case: Case
    planned: tuple[dict[str, Any], ...]
    calls: tuple[dict[str, Any], ...]


def load_headlines(labels: Path, shared_dir: Path) -> list[HeadlineItem]:
    """Return the labelled TASS/RT feed items: title + snippet as the text, the item's date.

    Raises FileNotFoundError naming the fix when ../shared is absent, CaseError when a label's
    check no longer matches its item.
    """
    source = shared_dir / HEADLINES_JSONL
    if not source.exists():
        raise FileNotFoundError(f"{source} not found: the headline items are read from the "
                                "shared data folder (../shared); pass --shared DIR")
    rows = source.read_text(encoding="utf-8").splitlines()
    items = []
    for where, _line, label in read_jsonl(labels):
        index = int(label["key"].removeprefix("headline:"))
        row = json.loads(rows[index])
        if not row["title"].startswith(label["check"]):
            raise CaseError(f"{where}: item {index} of {source} no longer starts with "
                            f"{label['check']!r}")
        gold = label["gold"]
        case = Case(
            id=label["key"], text=row.get("snippet") or "", title=row["title"],
            gold=parse_gold({"relevant": gold["relevant"], "meetings": gold["meetings"]}, where),
            url=row.get("url"), published=date.fromisoformat(row["date"]),
            tags=tuple(label.get("tags", ())),
        )
        items.append(HeadlineItem(case, tuple(gold.get("planned", ())),
                                  tuple(gold.get("calls", ()))))
    return items


def found_kind(
    gold: Sequence[dict[str, Any]], events: Sequence[Any], kind: str, status: str,
    watchlist: Watchlist,
) -> tuple[int, int]:
    """Return (found, labelled) for labelled planned meetings or calls among predicted events."""
    found = sum(
        1 for g in gold
        if any(e.status == status and (e.type == "call") == (kind == "call")
               and participants_match(g.get("participants", ()), e.participants, watchlist)
               for e in events)
    )
    return found, len(gold)
