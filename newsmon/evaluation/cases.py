"""Labelled cases: the gold format, reading and writing case files, a case as analysis input."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from newsmon.analysis.pipeline import Analysis, AnalysisInput, AnalysisRules, analyze
from newsmon.analysis.watchlist import Watchlist
from newsmon.articles.extract import ExtractionRules, extract_article

_GOLD_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")


def gold_period(value: str) -> tuple[date, str]:
    """Return (first day, "day" | "month" | "year") of a gold date string."""
    if len(value) == 4:
        return date(int(value), 1, 1), "year"
    if len(value) == 7:
        return date.fromisoformat(value + "-01"), "month"
    return date.fromisoformat(value), "day"


class CaseError(ValueError):
    """A case file line that is not a valid case."""


# --------------------------------------------------------------------------- cases


@dataclass(frozen=True)
class GoldMeeting:
    """One meeting the text reports, as labelled."""

    date: str | None  # YYYY-MM-DD, YYYY-MM or None (unknown)
    participants: tuple[str, ...]
    place: str | None = None
    # The kind of the non-Russian-state side (state, parliament, party, opposition, ...).
    kind: str = "state"
    # True when the text recalls it as background rather than reporting it as its news.
    recalled: bool = False


@dataclass(frozen=True)
class Gold:
    """The labels of one case."""

    relevant: bool
    meetings: tuple[GoldMeeting, ...] = ()


@dataclass(frozen=True)
class Case:
    """One labelled text: plain text or an HTML page to extract first."""

    id: str
    text: str
    gold: Gold
    title: str = ""
    url: str | None = None
    published: date | None = None
    html: str | None = None
    tags: tuple[str, ...] = ()
    note: str = ""

    @property
    def input(self) -> AnalysisInput:
        """Return the analysis input of this case (see case_input)."""
        return case_input(self)


def _require(cond: bool, where: str, message: str) -> None:
    """Raise CaseError at `where` when cond is false."""
    if not cond:
        raise CaseError(f"{where}: {message}")


def parse_gold(obj: Any, where: str) -> Gold:
    """Return the Gold of a case's "gold" object, raising CaseError naming `where`."""
    _require(isinstance(obj, dict), where, '"gold" must be an object')
    _require(isinstance(obj.get("relevant"), bool), where, '"gold.relevant" must be true or false')
    raw_meetings = obj.get("meetings", [])
    _require(isinstance(raw_meetings, list), where, '"gold.meetings" must be a list')
    meetings: list[GoldMeeting] = []
    for n, m in enumerate(raw_meetings):
        at = f"{where}: gold.meetings[{n}]"
        _require(isinstance(m, dict), at, "must be an object")
        when = m.get("date")
        _require(
            when is None or (isinstance(when, str) and bool(_GOLD_DATE.match(when))),
            at, f'"date" must be YYYY-MM-DD, YYYY-MM, YYYY or null, not {when!r}',
        )
        if when is not None:
            try:
                gold_period(when)
            except ValueError as exc:
                raise CaseError(f"{at}: \"date\" {when!r} is not a calendar date") from exc
        names = m.get("participants", [])
        _require(
            isinstance(names, list) and all(isinstance(x, str) and x.strip() for x in names),
            at, '"participants" must be a list of names',
        )
        place = m.get("place")
        _require(place is None or isinstance(place, str), at, '"place" must be a string or null')
        kind = m.get("kind", "state")
        _require(isinstance(kind, str) and bool(kind), at, '"kind" must be a string')
        recalled = m.get("recalled", False)
        _require(isinstance(recalled, bool), at, '"recalled" must be true or false')
        meetings.append(GoldMeeting(when, tuple(names), place, kind, recalled))
    return Gold(obj["relevant"], tuple(meetings))


def parse_case(obj: Any, where: str) -> Case:
    """Return the Case of one decoded JSON object, raising CaseError naming `where`."""
    _require(isinstance(obj, dict), where, "a case must be a JSON object")
    case_id = obj.get("id")
    _require(isinstance(case_id, str) and bool(case_id.strip()), where, '"id" must be a string')
    where = f"{where} (id {case_id!r})"
    text, html = obj.get("text"), obj.get("html")
    _require(text is not None or html is not None, where, 'needs "text" or "html"')
    for name in ("text", "html", "title", "url", "published", "note"):
        value = obj.get(name)
        _require(value is None or isinstance(value, str), where, f'"{name}" must be a string')
    published = None
    if obj.get("published"):
        try:
            # A datetime is fine too: only the calendar day matters to the analysis.
            published = date.fromisoformat(obj["published"][:10])
        except ValueError as exc:
            raise CaseError(f'{where}: "published" {obj["published"]!r} is not ISO') from exc
    tags = obj.get("tags", [])
    _require(isinstance(tags, list) and all(isinstance(t, str) for t in tags), where,
             '"tags" must be a list of strings')
    _require("gold" in obj, where, 'missing "gold"')
    return Case(
        id=case_id, text=text or "", gold=parse_gold(obj["gold"], where),
        title=obj.get("title") or "", url=obj.get("url"), published=published, html=html,
        tags=tuple(tags), note=obj.get("note") or "",
    )


def read_jsonl(path: Path) -> Iterator[tuple[str, int, Any]]:
    """Yield (file:line, line number, parsed object) of a JSONL file; CaseError on bad JSON."""
    with Path(path).open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            where = f"{path}:{lineno}"
            try:
                yield where, lineno, json.loads(line)
            except json.JSONDecodeError as exc:
                raise CaseError(f"{where}: not valid JSON ({exc.msg} at column {exc.colno})") from exc


def load_cases(path: Path) -> list[Case]:
    """Return the cases of a JSONL file; CaseError names the line of the first bad one."""
    cases: list[Case] = []
    seen: dict[str, int] = {}
    for where, lineno, obj in read_jsonl(path):
        case = parse_case(obj, where)
        if case.id in seen:
            raise CaseError(f"{where}: id {case.id!r} already used on line {seen[case.id]}")
        seen[case.id] = lineno
        cases.append(case)
    return cases


def case_to_json(case: Case) -> dict[str, Any]:
    """Return the JSON object of a case, the inverse of parse_case."""
    out: dict[str, Any] = {"id": case.id}
    if case.html is not None:
        out["html"] = case.html
    if case.text or case.html is None:
        out["text"] = case.text
    for name in ("title", "url", "note"):
        if getattr(case, name):
            out[name] = getattr(case, name)
    if case.published:
        out["published"] = case.published.isoformat()
    out["gold"] = {
        "relevant": case.gold.relevant,
        "meetings": [
            {"date": m.date, "participants": list(m.participants), "place": m.place,
             **({"kind": m.kind} if m.kind != "state" else {}),
             **({"recalled": True} if m.recalled else {})}
            for m in case.gold.meetings
        ],
    }
    if case.tags:
        out["tags"] = list(case.tags)
    return out


def case_input(case: Case, rules: ExtractionRules | None = None) -> AnalysisInput:
    """Return the analysis input of a case, extracting HTML pages the way the monitor does."""
    if case.html is None or case.text:
        return AnalysisInput(case.id, case.text, case.title, case.published, case.url or "")
    article = extract_article(case.html, case.url or "", rules or ExtractionRules())
    published = case.published or (article.published.date() if article.published else None)
    return AnalysisInput(
        case.id, article.text, case.title or article.title, published, case.url or ""
    )


def run_analysis(
    cases: Sequence[Case], nlp: Any, watchlist: Watchlist, rules: AnalysisRules | None = None
) -> dict[str, Analysis]:
    """Return case id -> Analysis, one nlp.pipe pass over all cases."""
    inputs = [case_input(case) for case in cases]
    return {a.id: a for a in analyze(nlp, watchlist, inputs, rules or AnalysisRules())}
