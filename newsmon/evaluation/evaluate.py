"""Score the analysis against labelled cases: relevance and meetings, ours vs a keyword baseline.

Pure functions (no Prefect, no environment): the caller loads cases, runs `analyze` and passes the
results in. `python -m newsmon.evaluation` wires them together for a terminal or CI.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from typing import Any

from newsmon.analysis.pipeline import Analysis
from newsmon.analysis.watchlist import Watchlist, _fold
from newsmon.articles.extract import html_to_text
from newsmon.evaluation.cases import Case, GoldMeeting, gold_period
from newsmon.models import EventMention, Participant

# An event counts as a reported meeting only when it happened and is face to face.
MEETING_TYPES = ("meeting", "visit")
MEETING_STATUS = "occurred"
METRICS = ("relevance_precision", "relevance_recall", "meeting_precision", "meeting_recall",
           "meeting_state_precision", "meeting_state_recall")

# The baseline's meeting words; word-start bounded so that "metres" or "methods" do not count.
_BASELINE_MEETING = re.compile(r"\b(?:met|meetings?|talks|visit(?:s|ed|ing)?)\b", re.IGNORECASE)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")


# --------------------------------------------------------------------------- matching


def dates_compatible(
    gold: str | None, predicted: date | None, precision: str | None, strict: bool = False
) -> bool:
    """Return True when a predicted event date can be the gold meeting's date.

    Strict (the corpus of real reports, issue 15): a meeting labelled with its day needs a
    predicted day within ±1 day; a week or month that contains it is not the date.
    """
    if gold is None:
        return True
    if predicted is None:
        return False  # a dated gold meeting needs a dated prediction: alerts carry the date
    day, gold_precision = gold_period(gold)
    if strict and gold_precision == "day" and precision not in (None, "day"):
        return False
    if gold_precision == "year":
        return day.year == predicted.year
    if precision == "year":
        return day.year == predicted.year
    if gold_precision == "month" or precision == "month":
        return (day.year, day.month) == (predicted.year, predicted.month)
    if precision == "week":
        # A week is stored as its Monday; allow the ±1 day time-zone slack at both ends.
        return predicted - timedelta(days=1) <= day <= predicted + timedelta(days=7)
    return abs((day - predicted).days) <= 1


def _last_token(name: str) -> str:
    """Return the folded last word of a name ("al-Assad" -> "assad")."""
    words = _fold(name).split()
    return words[-1] if words else ""


def name_matches(gold_name: str, participant: Participant, watchlist: Watchlist) -> bool:
    """Return True when a gold participant name denotes the predicted participant."""
    ids = {person.id for _side, person in watchlist.persons_named(gold_name)}
    if participant.actor_id in ids or _fold(gold_name) == _fold(participant.name):
        return True
    last = _last_token(gold_name)
    return bool(last) and last == _last_token(participant.name)


def gold_name_sides(gold_name: str, watchlist: Watchlist) -> frozenset[str]:
    """Return the sides whose watchlist persons carry that name (empty when unknown)."""
    return frozenset(side for side, _person in watchlist.persons_named(gold_name))


def participants_match(
    gold_names: Sequence[str], participants: Sequence[Participant], watchlist: Watchlist,
    kind: str = "state",
) -> bool:
    """Return True when each side named in gold has a matching predicted participant.

    kind: the gold meeting's kind. A gold name the watchlist does not know ("Syrian opposition
    representatives", "leader of the Popular Front") in a meeting outside the state is matched
    by a predicted group or inferred participant of that kind.
    """
    if not gold_names:
        return True  # "consultations held in Damascus": the label names nobody
    sides = {name: gold_name_sides(name, watchlist) for name in gold_names}
    required = frozenset().union(*sides.values())

    def matches(name: str, p: Participant) -> bool:
        return name_matches(name, p, watchlist) or (
            kind != "state" and not sides[name] and p.kind == kind and p.inferred
        )

    if not required:
        # No gold name is in the watchlist, so sides are unknown: any one name must match.
        return any(matches(n, p) for n in gold_names for p in participants)
    for side in required:
        # Names the watchlist does not know (a third party, a new official) may count for
        # either side, but only through the predicted participant's side.
        names = [n for n in gold_names if not sides[n] or side in sides[n]]
        if not any(matches(n, p) for n in names for p in participants if p.side == side):
            return False
    if kind != "state":
        # The meeting is of that kind only if a participant of that kind was found.
        return any(p.kind == kind for p in participants)
    return True


def meeting_matches(
    gold: GoldMeeting, event: EventMention, watchlist: Watchlist, strict: bool = False
) -> bool:
    """Return True when a predicted event reports the gold meeting (participants and date)."""
    return participants_match(gold.participants, event.participants, watchlist, gold.kind) and (
        dates_compatible(gold.date, event.date, event.date_precision, strict)
    )


def is_counted_meeting(event: EventMention) -> bool:
    """Return True for the events scored as meetings: occurred meetings and visits."""
    return event.type in MEETING_TYPES and event.status == MEETING_STATUS


# --------------------------------------------------------------------------- report


@dataclass(frozen=True)
class Confusion:
    """Relevance confusion counts with precision, recall and F1."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0

    @property
    def precision(self) -> float:
        """Return tp / (tp + fp), 0.0 when nothing was predicted relevant."""
        return _ratio(self.tp, self.tp + self.fp)

    @property
    def recall(self) -> float:
        """Return tp / (tp + fn), 0.0 when nothing is relevant."""
        return _ratio(self.tp, self.tp + self.fn)

    @property
    def f1(self) -> float:
        """Return the harmonic mean of precision and recall."""
        return _f1(self.precision, self.recall)


@dataclass(frozen=True)
class MeetingCounts:
    """Event-level meeting counts with precision, recall and F1."""

    predicted: int = 0
    matched: int = 0  # predicted meetings that report some gold meeting
    gold: int = 0
    found: int = 0  # gold meetings reported by some predicted meeting

    @property
    def precision(self) -> float:
        """Return matched / predicted, 0.0 when nothing was predicted."""
        return _ratio(self.matched, self.predicted)

    @property
    def recall(self) -> float:
        """Return found / gold, 0.0 when there is no gold meeting."""
        return _ratio(self.found, self.gold)

    @property
    def f1(self) -> float:
        """Return the harmonic mean of precision and recall."""
        return _f1(self.precision, self.recall)


@dataclass(frozen=True)
class EvalError:
    """One false positive or false negative, with what to look at."""

    kind: str  # relevance_fp, relevance_fn, meeting_fp, meeting_fn
    case_id: str
    gold: str
    predicted: str
    evidence: str
    why: str
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class EvalReport:
    """The scores of one evaluation run, ours and the keyword baseline's, and every error."""

    cases: int
    relevance: Confusion
    meetings: MeetingCounts
    baseline_relevance: Confusion
    baseline_meetings: MeetingCounts
    errors: tuple[EvalError, ...] = ()
    # Occurred meetings predicted in articles the relevance stage rejected (still scored).
    meetings_in_irrelevant: int = 0
    errors_by_tag: dict[str, dict[str, int]] = field(default_factory=dict)
    # State meetings only: gold meetings of kind state, predicted events whose participants
    # are all of the state (the figure before issue 16 counted every kind).
    meetings_state: MeetingCounts = field(default_factory=MeetingCounts)

    @property
    def figures(self) -> dict[str, float]:
        """Return the gated figures by metric name."""
        return {
            "relevance_precision": self.relevance.precision,
            "relevance_recall": self.relevance.recall,
            "meeting_precision": self.meetings.precision,
            "meeting_recall": self.meetings.recall,
            "meeting_state_precision": self.meetings_state.precision,
            "meeting_state_recall": self.meetings_state.recall,
        }


def _ratio(num: int, den: int) -> float:
    """Return num / den, or 0.0 for an empty denominator (a silent model must not pass a gate)."""
    return num / den if den else 0.0


def _f1(p: float, r: float) -> float:
    """Return 2pr / (p + r), 0.0 when both are 0."""
    return 2 * p * r / (p + r) if p + r else 0.0


def _case_text(case: Case) -> str:
    """Return the title and text of a case as one string (HTML reduced to its visible text)."""
    body = case.text or (html_to_text(case.html) if case.html else "")
    return f"{case.title}\n{body}" if case.title else body


def baseline_relevant(text: str) -> bool:
    """Return the keyword baseline's relevance: both country names as substrings."""
    lower = text.lower()
    return "syria" in lower and "russia" in lower


def baseline_meeting(text: str) -> bool:
    """Return the keyword baseline's article-level meeting flag."""
    return baseline_relevant(text) and bool(_BASELINE_MEETING.search(text))


def _describe_event(event: EventMention) -> str:
    """Return a one-line summary of a predicted event."""
    names = ", ".join(f"{p.name} ({p.side})" for p in event.participants) or "nobody"
    when = event.date.isoformat() if event.date else "no date"
    return (
        f"{event.type}/{event.status} {when}/{event.date_precision or '-'} "
        f"[{names}] at {event.place or '-'}"
    )


def _describe_gold(meeting: GoldMeeting) -> str:
    """Return a one-line summary of a gold meeting."""
    names = ", ".join(meeting.participants) or "nobody named"
    return f"meeting {meeting.date or 'no date'} [{names}] at {meeting.place or '-'}"


def _gold_summary(case: Case) -> str:
    """Return the gold labels of a case as one line."""
    meetings = "; ".join(_describe_gold(m) for m in case.gold.meetings) or "no meeting"
    note = f" ({case.note})" if case.note else ""
    return f"relevant={str(case.gold.relevant).lower()}, {meetings}{note}"


def _sentence_naming(text: str, names: Iterable[str]) -> str:
    """Return the first sentence of text naming one of the names' last words, else its start."""
    lasts = [re.escape(_last_token(n)) for n in names if _last_token(n)]
    sentences = [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]
    if lasts:
        pattern = re.compile(rf"\b(?:{'|'.join(lasts)})", re.IGNORECASE)
        for sentence in sentences:
            if pattern.search(sentence):
                return sentence[:300]
    return (sentences[0] if sentences else "")[:300]


def _why_missed(gold: GoldMeeting, events: Sequence[EventMention], wl: Watchlist) -> str:
    """Return why no predicted meeting reports the gold meeting (the nearest miss)."""
    if not events:
        return "no event extracted"
    for e in events:
        if not is_counted_meeting(e) and meeting_matches(gold, e, wl):
            return f"right participants and date but predicted as {e.type}/{e.status}"
    for e in events:
        if is_counted_meeting(e) and participants_match(gold.participants, e.participants, wl):
            when = e.date.isoformat() if e.date else "none"
            return f"participants match but date {when}/{e.date_precision} vs gold {gold.date}"
    for e in events:
        if is_counted_meeting(e) and dates_compatible(gold.date, e.date, e.date_precision):
            return "date matches but participants differ"
    return "events found, none close"


def _why_spurious(case: Case, event: EventMention, wl: Watchlist) -> str:
    """Return why a predicted meeting matches no gold meeting."""
    if not case.gold.meetings:
        return "no meeting in gold"
    if any(participants_match(g.participants, event.participants, wl) for g in case.gold.meetings):
        return "participants match a gold meeting but the date does not"
    if any(dates_compatible(g.date, event.date, event.date_precision) for g in case.gold.meetings):
        return "date matches a gold meeting but participants differ"
    return "neither participants nor date match a gold meeting"


def evaluate(
    cases: Sequence[Case],
    predictions: Mapping[str, Analysis] | Iterable[Analysis],
    watchlist: Watchlist,
    *,
    strict_dates: bool = False,
    counted_kinds: frozenset[str] | None = None,
) -> EvalReport:
    """Return the EvalReport of predictions (by case id) scored against the cases' gold.

    counted_kinds: the kinds of gold meeting that recall counts (None: all); a prediction that
    matches a gold meeting of another kind is still right, not a false positive.
    """
    by_id = (
        dict(predictions) if isinstance(predictions, Mapping) else {a.id: a for a in predictions}
    )
    missing = [case.id for case in cases if case.id not in by_id]
    if missing:
        raise ValueError(f"no prediction for {len(missing)} case(s): {', '.join(missing[:5])}")
    rel: Counter[str] = Counter()
    base_rel: Counter[str] = Counter()
    meet: Counter[str] = Counter()
    meet_state: Counter[str] = Counter()
    base_meet: Counter[str] = Counter()
    errors: list[EvalError] = []
    in_irrelevant = 0
    for case in cases:
        analysis = by_id[case.id]
        gold = case.gold
        rel[_cell(analysis.relevant, gold.relevant)] += 1
        text = _case_text(case)
        base_rel[_cell(baseline_relevant(text), gold.relevant)] += 1
        if analysis.relevant != gold.relevant:
            errors.append(EvalError(
                "relevance_fp" if analysis.relevant else "relevance_fn", case.id,
                _gold_summary(case), f"relevant={str(analysis.relevant).lower()} "
                f"score={analysis.relevance:.2f}", analysis.reason, "", case.tags,
            ))
        # Meetings, event level.
        predicted = [e for e in analysis.events if is_counted_meeting(e)]
        if predicted and not analysis.relevant:
            in_irrelevant += len(predicted)
        counted = [g for g in gold.meetings if counted_kinds is None or g.kind in counted_kinds]
        meet["gold"] += len(counted)
        meet["predicted"] += len(predicted)
        for event in predicted:
            if any(meeting_matches(g, event, watchlist, strict_dates) for g in gold.meetings):
                meet["matched"] += 1
            else:
                errors.append(EvalError(
                    "meeting_fp", case.id, _gold_summary(case), _describe_event(event),
                    event.evidence, _why_spurious(case, event, watchlist), case.tags,
                ))
        for g in counted:
            if any(meeting_matches(g, event, watchlist, strict_dates) for event in predicted):
                meet["found"] += 1
                continue
            near = "; ".join(_describe_event(e) for e in analysis.events) or "no event"
            evidence = next(
                (e.evidence for e in analysis.events
                 if participants_match(g.participants, e.participants, watchlist)),
                _sentence_naming(text, g.participants),
            )
            errors.append(EvalError(
                "meeting_fn", case.id, _describe_gold(g), near, evidence,
                _why_missed(g, analysis.events, watchlist), case.tags,
            ))
        meet_state.update(_state_counts(gold.meetings, predicted, watchlist, strict_dates))
        # Keyword baseline, article level: one predicted meeting that matches all gold ones.
        base_meet["gold"] += len(counted)
        if baseline_meeting(text):
            base_meet["predicted"] += 1
            if gold.meetings:
                base_meet["matched"] += 1
                base_meet["found"] += len(counted)
    by_tag: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for err in errors:
        for tag in err.tags or ("untagged",):
            by_tag[tag][err.kind] += 1
    return EvalReport(
        cases=len(cases),
        relevance=_confusion(rel),
        meetings=_meeting_counts(meet),
        baseline_relevance=_confusion(base_rel),
        baseline_meetings=_meeting_counts(base_meet),
        errors=tuple(errors),
        meetings_in_irrelevant=in_irrelevant,
        errors_by_tag={tag: dict(kinds) for tag, kinds in sorted(by_tag.items())},
        meetings_state=_meeting_counts(meet_state),
    )


def _state_counts(
    gold: Sequence[GoldMeeting], predicted: Sequence[EventMention], watchlist: Watchlist,
    strict: bool,
) -> Counter[str]:
    """Return the meeting counts of one case restricted to state meetings."""
    state_gold = [g for g in gold if g.kind == "state"]
    state_events = [e for e in predicted if all(p.kind == "state" for p in e.participants)]
    return Counter(
        gold=len(state_gold), predicted=len(state_events),
        matched=sum(any(meeting_matches(g, e, watchlist, strict) for g in state_gold)
                    for e in state_events),
        found=sum(any(meeting_matches(g, e, watchlist, strict) for e in state_events)
                  for g in state_gold),
    )


def _cell(predicted: bool, gold: bool) -> str:
    """Return the confusion cell name of one binary decision."""
    return ("tp" if gold else "fp") if predicted else ("fn" if gold else "tn")


def _confusion(counts: Counter[str]) -> Confusion:
    """Return a Confusion from a counter of cells."""
    return Confusion(counts["tp"], counts["fp"], counts["fn"], counts["tn"])


def _meeting_counts(counts: Counter[str]) -> MeetingCounts:
    """Return MeetingCounts from a counter."""
    return MeetingCounts(counts["predicted"], counts["matched"], counts["gold"], counts["found"])


# --------------------------------------------------------------------------- output


def _counts(m: MeetingCounts) -> str:
    """Return the meeting counts as one table cell."""
    return f"predicted={m.predicted} matched={m.matched} gold={m.gold} found={m.found}"


def format_report(report: EvalReport, *, max_errors: int | None = None) -> str:
    """Return the report as a plain-text table followed by the error list."""
    r, m = report.relevance, report.meetings
    br, bm = report.baseline_relevance, report.baseline_meetings
    ms = report.meetings_state
    rows = [
        ("", "P", "R", "F1", "counts"),
        ("relevance  ours", *_prf(r), f"tp={r.tp} fp={r.fp} fn={r.fn} tn={r.tn}"),
        ("relevance  keyword", *_prf(br), f"tp={br.tp} fp={br.fp} fn={br.fn} tn={br.tn}"),
        ("meetings   ours", *_prf(m), _counts(m)),
        ("meetings   state only", *_prf(ms), _counts(ms)),
        ("meetings   keyword", *_prf(bm), _counts(bm)),
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = [f"{report.cases} cases"]
    for row in rows:
        cells = [row[0].ljust(widths[0])] + [row[i].rjust(widths[i]) for i in (1, 2, 3)]
        lines.append("  ".join([*cells, row[4]]).rstrip())
    lines.append(
        f"(meeting keyword baseline is article level; {report.meetings_in_irrelevant} of our "
        "predicted meetings are in articles judged not relevant)"
    )
    errors = report.errors if max_errors is None else report.errors[:max_errors]
    for kind in ("relevance_fp", "relevance_fn", "meeting_fp", "meeting_fn"):
        chosen = [e for e in errors if e.kind == kind]
        if not chosen:
            continue
        lines += ["", f"{kind} ({sum(e.kind == kind for e in report.errors)})"]
        for e in chosen:
            tags = f" [{', '.join(e.tags)}]" if e.tags else ""
            lines.append(f"- {e.case_id}{tags}: {e.why}" if e.why else f"- {e.case_id}{tags}")
            lines.append(f"    gold:      {e.gold}")
            lines.append(f"    predicted: {e.predicted}")
            if e.evidence:
                lines.append(f"    evidence:  {_one_line(e.evidence)}")
    if report.errors_by_tag:
        lines += ["", "errors by tag (relevance fp/fn, meeting fp/fn)"]
        for tag, kinds in report.errors_by_tag.items():
            counts = "/".join(
                str(kinds.get(k, 0))
                for k in ("relevance_fp", "relevance_fn", "meeting_fp", "meeting_fn")
            )
            lines.append(f"  {tag:<16} {counts}")
    return "\n".join(lines) + "\n"


def _prf(score: Confusion | MeetingCounts) -> tuple[str, str, str]:
    """Return precision, recall and F1 formatted with two decimals."""
    return f"{score.precision:.2f}", f"{score.recall:.2f}", f"{score.f1:.2f}"


def _one_line(text: str, limit: int = 300) -> str:
    """Return text on one line, cut to limit characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def report_to_json(report: EvalReport) -> dict[str, Any]:
    """Return the report as a JSON-ready dict (scores, counts, errors, errors by tag)."""

    def score(s: Confusion | MeetingCounts) -> dict[str, Any]:
        return {**asdict(s), "precision": s.precision, "recall": s.recall, "f1": s.f1}

    return {
        "cases": report.cases,
        "relevance": score(report.relevance),
        "meetings": score(report.meetings),
        "meetings_state": score(report.meetings_state),
        "baseline": {
            "relevance": score(report.baseline_relevance),
            "meetings": score(report.baseline_meetings),
        },
        "meetings_in_irrelevant": report.meetings_in_irrelevant,
        "errors": [{**asdict(e), "tags": list(e.tags)} for e in report.errors],
        "errors_by_tag": report.errors_by_tag,
    }
