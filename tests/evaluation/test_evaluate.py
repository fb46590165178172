"""Scoring rules of newsmon.evaluation.evaluate on tiny hand-made cases and predictions (no spaCy)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from newsmon.analysis.pipeline import Analysis
from newsmon.analysis.watchlist import Watchlist
from newsmon.evaluation.cases import Case, CaseError, Gold, GoldMeeting, case_to_json, load_cases
from newsmon.evaluation.evaluate import (
    EvalReport,
    baseline_meeting,
    baseline_relevant,
    dates_compatible,
    evaluate,
    format_report,
    name_matches,
    participants_match,
    report_to_json,
)
from newsmon.evaluation.gate import (
    FloorRegression,
    check_floors,
    floor_of,
    load_floors,
    update_baseline,
)
from newsmon.models import EventMention, Participant


def _role(office: str, level: str, start: str, end: str | None = None) -> dict[str, object]:
    return {"office": office, "level": level, "from": start, "to": end}


@pytest.fixture(scope="module")
def wl() -> Watchlist:
    """Return a small two-sided watchlist written for these tests."""
    return Watchlist.model_validate({
        "name": "tiny",
        "title": "tiny",
        "sides": [
            {"key": "SYR", "names": ["Syria"], "persons": [
                {"id": "walid-muallem", "name": "Walid Muallem",
                 "aliases": ["Muallem", "Walid al-Moualem"],
                 "roles": [_role("foreign minister", "minister", "2006-02-11", "2020-11-16")]},
                {"id": "bashar-al-assad", "name": "Bashar al-Assad", "aliases": ["Assad"],
                 "roles": [_role("president", "head_of_state", "2000-07-17", "2024-12-08")]},
            ]},
            {"key": "RUS", "names": ["Russia"], "persons": [
                {"id": "sergei-lavrov", "name": "Sergei Lavrov",
                 "aliases": ["Sergey Lavrov", "Lavrov"],
                 "roles": [_role("foreign minister", "minister", "2004-03-09")]},
                {"id": "vladimir-putin", "name": "Vladimir Putin", "aliases": ["Putin"],
                 "roles": [_role("president", "head_of_state", "2012-05-07")]},
            ]},
        ],
    })


def _p(actor_id: str, name: str, side: str) -> Participant:
    return Participant(actor_id, name, side)


LAVROV = _p("sergei-lavrov", "Sergei Lavrov", "RUS")
MUALLEM = _p("walid-muallem", "Walid Muallem", "SYR")
ASSAD = _p("bashar-al-assad", "Bashar al-Assad", "SYR")
PUTIN = _p("vladimir-putin", "Vladimir Putin", "RUS")


def _event(
    *people: Participant, when: date | None = date(2018, 8, 30), precision: str | None = "day",
    type: str = "meeting", status: str = "occurred", evidence: str = "They met.",
) -> EventMention:
    return EventMention(type, status, when, precision, "text", None, people, evidence, 0)


def _analysis(case_id: str, relevant: bool, *events: EventMention, reason: str = "r") -> Analysis:
    return Analysis(case_id, True, relevant, 0.9 if relevant else 0.1, reason, events=events)


def _case(case_id: str, text: str, relevant: bool, *meetings: GoldMeeting) -> Case:
    return Case(case_id, text, Gold(relevant, meetings), tags=("test",))


# ------------------------------------------------------------------ load_cases


def _with_meeting(meeting: dict[str, object]) -> str:
    """Return a case line whose only gold meeting is the given object."""
    return json.dumps({"id": "x", "text": "t", "gold": {"relevant": True, "meetings": [meeting]}})


def test_load_cases_reads_text_and_html_cases(tmp_path: Path) -> None:
    path = tmp_path / "cases.jsonl"
    path.write_text(
        json.dumps({"id": "a", "text": "Lavrov met Muallem in Sochi.", "title": "Talks",
                    "published": "2018-08-30T10:00:00Z",
                    "gold": {"relevant": True, "meetings": [
                        {"date": "2018-08", "participants": ["Lavrov", "Muallem"],
                         "place": "Sochi"}]}}) + "\n\n"
        + json.dumps({"id": "b", "html": "<p>Nothing here</p>", "url": "https://x.test/b",
                      "gold": {"relevant": False, "meetings": []}, "tags": ["other"]}) + "\n",
        encoding="utf-8",
    )
    a, b = load_cases(path)
    assert a.published == date(2018, 8, 30) and a.title == "Talks"
    assert a.gold.meetings == (GoldMeeting("2018-08", ("Lavrov", "Muallem"), "Sochi"),)
    assert b.html == "<p>Nothing here</p>" and b.text == "" and b.tags == ("other",)
    # case_to_json is the inverse of the loader
    again = tmp_path / "again.jsonl"
    again.write_text("".join(json.dumps(case_to_json(c)) + "\n" for c in (a, b)))
    assert load_cases(again) == [a, b]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"id": "x", "text": "t", "gold": {"relevant": true}', "not valid JSON"),
        ('{"id": "x", "text": "t"}', 'missing "gold"'),
        ('{"id": "x", "gold": {"relevant": true}}', 'needs "text" or "html"'),
        ('{"id": "x", "text": "t", "gold": {"relevant": "yes"}}', "gold.relevant"),
        (_with_meeting({"date": "30.08.2018", "participants": []}), "YYYY-MM-DD"),
        (_with_meeting({"date": "2018-02-30", "participants": []}), "not a calendar date"),
        (_with_meeting({"date": None, "participants": "Lavrov"}), "list of names"),
        ('{"id": "x", "text": "t", "published": "yesterday", "gold": {"relevant": true}}',
         "not ISO"),
        ('["not", "an", "object"]', "JSON object"),
    ],
)
def test_load_cases_names_the_bad_line(tmp_path: Path, line: str, message: str) -> None:
    path = tmp_path / "cases.jsonl"
    good = '{"id": "ok", "text": "t", "gold": {"relevant": false, "meetings": []}}'
    path.write_text(f"{good}\n{line}\n", encoding="utf-8")
    with pytest.raises(CaseError, match=message) as info:
        load_cases(path)
    assert f"{path}:2" in str(info.value)


def test_load_cases_rejects_a_repeated_id(tmp_path: Path) -> None:
    path = tmp_path / "cases.jsonl"
    line = '{"id": "same", "text": "t", "gold": {"relevant": false}}\n'
    path.write_text(line * 2, encoding="utf-8")
    with pytest.raises(CaseError, match="already used on line 1"):
        load_cases(path)


# ------------------------------------------------------------------ matching rules


@pytest.mark.parametrize(
    ("gold", "predicted", "precision", "ok"),
    [
        (None, None, None, True),  # an undated gold meeting matches any date
        (None, date(2001, 1, 1), "day", True),
        ("2018-08-30", None, None, False),  # a dated gold meeting needs a dated prediction
        ("2018-08-30", date(2018, 8, 30), "day", True),
        ("2018-08-30", date(2018, 8, 31), "day", True),  # ±1 day for time zones
        ("2018-08-30", date(2018, 8, 29), "day", True),
        ("2018-08-30", date(2018, 9, 1), "day", False),
        ("2018-08", date(2018, 8, 30), "day", True),  # gold month precision
        ("2018-08", date(2018, 9, 1), "day", False),
        ("2018-08-30", date(2018, 8, 1), "month", True),  # predicted month precision
        ("2018-08-30", date(2018, 7, 1), "month", False),
        ("2018-08-30", date(2018, 1, 1), "year", True),
        ("2018-08-30", date(2018, 8, 27), "week", True),  # week stored as its Monday
        ("2018-08-30", date(2018, 8, 13), "week", False),
    ],
)
def test_dates_compatible(
    gold: str | None, predicted: date | None, precision: str | None, ok: bool
) -> None:
    assert dates_compatible(gold, predicted, precision) is ok


@pytest.mark.parametrize(
    ("gold_name", "participant", "ok"),
    [
        ("Sergey Lavrov", LAVROV, True),  # watchlist alias resolves to the actor id
        ("Walid al-Moualem", MUALLEM, True),  # alias of the same person
        ("sergei  LAVROV", _p("x", "Sergei Lavrov", "RUS"), True),  # folded names equal
        ("Bashar Assad", ASSAD, True),  # last tokens equal ("al-Assad" -> "assad")
        ("Sergey Lavrov", PUTIN, False),
        ("Mohammad Javad Zarif", LAVROV, False),
    ],
)
def test_name_matches(gold_name: str, participant: Participant, ok: bool, wl: Watchlist) -> None:
    assert name_matches(gold_name, participant, wl) is ok


def test_participants_need_one_match_per_gold_side(wl: Watchlist) -> None:
    gold = ["Sergey Lavrov", "Walid Muallem"]
    assert participants_match(gold, [LAVROV, MUALLEM], wl)
    assert participants_match(gold, [LAVROV, MUALLEM, PUTIN], wl)  # extra names do no harm
    assert not participants_match(gold, [LAVROV], wl)  # the Syrian side is missing
    assert not participants_match(gold, [LAVROV, ASSAD], wl)  # wrong Syrian
    # A Syrian name cannot stand in for the Russian side.
    assert not participants_match(gold, [_p("walid-muallem", "Walid Muallem", "RUS"), MUALLEM], wl)


def test_one_sided_gold_requires_only_that_side(wl: Watchlist) -> None:
    assert participants_match(["Bashar al-Assad"], [ASSAD, PUTIN], wl)
    assert participants_match(["Bashar al-Assad"], [ASSAD], wl)
    assert not participants_match(["Bashar al-Assad"], [PUTIN], wl)


def test_unknown_third_party_name_is_not_required(wl: Watchlist) -> None:
    gold = ["Sergey Lavrov", "Walid Muallem", "Mohammad Javad Zarif"]
    assert participants_match(gold, [LAVROV, MUALLEM], wl)


def test_gold_without_participants_matches_any_participants(wl: Watchlist) -> None:
    assert participants_match([], [LAVROV, MUALLEM], wl)


# ------------------------------------------------------------------ evaluate


@pytest.fixture(scope="module")
def report(wl: Watchlist) -> EvalReport:
    """Return the report of five hand-made cases covering every outcome."""
    sochi = GoldMeeting("2018-08-30", ("Sergey Lavrov", "Walid Muallem"), "Sochi")
    recalled = GoldMeeting("2015-10", ("Vladimir Putin", "Bashar al-Assad"), "Moscow")
    cases = [
        # 1: relevant, two gold meetings; one found (twice), the recalled one missed.
        _case("hit", "Russia's Lavrov met Syria's Muallem for talks in Sochi.", True,
              sochi, recalled),
        # 2: a phone call and a planned visit are not meetings; gold has none.
        _case("call", "Putin phoned Assad; Russia and Syria plan a visit.", True),
        # 3: predicted relevant, gold not: Russia is only a dateline.
        _case("dateline", "MOSCOW, Russia - Rain fell on Syria's coast.", False),
        # 4: gold relevant, predicted not; no meeting words.
        _case("missed", "The Syrian embassy thanked the Russian people.", True),
        # 5: a predicted meeting where gold has none (an Iraqi minister mistaken).
        _case("trap", "Lavrov held talks with Iraq's al-Jaafari.", False),
    ]
    predictions = [
        _analysis("hit", True,
                  _event(LAVROV, MUALLEM, evidence="Lavrov met Muallem in Sochi."),
                  _event(MUALLEM, LAVROV, when=date(2018, 8, 31), type="visit"),
                  _event(PUTIN, ASSAD, when=date(2018, 8, 30), evidence="Putin recalled it.")),
        _analysis("call", True,
                  _event(PUTIN, ASSAD, type="call"),
                  _event(PUTIN, ASSAD, status="planned", type="visit")),
        _analysis("dateline", True, reason="both sides named once"),
        _analysis("missed", False, reason="only one side named"),
        _analysis("trap", True, _event(LAVROV, _p("bashar-jaafari", "Bashar Jaafari", "SYR"),
                                       evidence="Lavrov held talks with al-Jaafari.")),
    ]
    return evaluate(cases, predictions, wl)


def test_relevance_confusion_and_scores(report: EvalReport) -> None:
    r = report.relevance
    assert (r.tp, r.fp, r.fn, r.tn) == (2, 2, 1, 0)
    assert r.precision == pytest.approx(2 / 4)
    assert r.recall == pytest.approx(2 / 3)
    assert r.f1 == pytest.approx(2 * 0.5 * (2 / 3) / (0.5 + 2 / 3))


def test_meetings_are_scored_per_event(report: EvalReport) -> None:
    m = report.meetings
    # Counted: 3 occurred meetings/visits in "hit" + 1 in "trap"; the call and plan are not.
    assert m.predicted == 4
    assert m.matched == 2  # both Sochi reports (the ±1-day visit too)
    assert (m.gold, m.found) == (2, 1)
    assert m.precision == pytest.approx(0.5) and m.recall == pytest.approx(0.5)


def test_every_error_is_listed_with_its_evidence(report: EvalReport) -> None:
    kinds = sorted((e.kind, e.case_id) for e in report.errors)
    assert kinds == [
        ("meeting_fn", "hit"), ("meeting_fp", "hit"), ("meeting_fp", "trap"),
        ("relevance_fn", "missed"), ("relevance_fp", "dateline"), ("relevance_fp", "trap"),
    ]
    by_key = {(e.kind, e.case_id): e for e in report.errors}
    fn = by_key["meeting_fn", "hit"]
    assert "2015-10" in fn.gold and "participants match but date" in fn.why
    assert fn.evidence == "Putin recalled it."
    trap = by_key["meeting_fp", "trap"]
    assert trap.why == "no meeting in gold" and trap.evidence.startswith("Lavrov held talks")
    assert by_key["relevance_fp", "dateline"].evidence == "both sides named once"
    assert report.errors_by_tag == {
        "test": {"meeting_fn": 1, "meeting_fp": 2, "relevance_fn": 1, "relevance_fp": 2}
    }


def test_keyword_baseline_side_by_side(report: EvalReport) -> None:
    br, bm = report.baseline_relevance, report.baseline_meetings
    # Substrings: "Russia's", "Russian" and "Syrian" all count; "trap" names no Syria.
    assert (br.tp, br.fp, br.fn, br.tn) == (3, 1, 0, 1)
    # Article level: "hit" (talks, met) and "call" (visit) are flagged; "hit" has 2 gold.
    assert (bm.predicted, bm.matched, bm.gold, bm.found) == (2, 1, 2, 2)


def test_baseline_rules() -> None:
    assert baseline_relevant("SYRIAN and russian")
    assert not baseline_relevant("the ambassador of Russia")  # "assad" is not "syria"
    assert baseline_meeting("Syria and Russia held talks")
    assert baseline_meeting("Syria's minister visited Russia")
    assert not baseline_meeting("Syria and Russia: a method of metres")


def test_a_case_without_prediction_is_an_error(wl: Watchlist) -> None:
    with pytest.raises(ValueError, match="no prediction for 1 case"):
        evaluate([_case("lonely", "text", False)], {}, wl)


def test_empty_denominators_score_zero(wl: Watchlist) -> None:
    report = evaluate([_case("quiet", "nothing", False)], [_analysis("quiet", False)], wl)
    assert report.relevance.precision == 0.0 and report.meetings.recall == 0.0
    assert report.relevance.f1 == 0.0


def test_format_report_and_json(report: EvalReport) -> None:
    text = format_report(report)
    assert "relevance  ours" in text and "meetings   keyword" in text
    assert "predicted=4 matched=2 gold=2 found=1" in text
    assert "meeting_fn (1)" in text and "- hit [test]" in text
    data = json.loads(json.dumps(report_to_json(report)))
    assert data["meetings"]["precision"] == pytest.approx(0.5)
    assert data["baseline"]["relevance"]["tp"] == 3
    assert {e["kind"] for e in data["errors"]} >= {"meeting_fp", "relevance_fn"}


# ------------------------------------------------------------------ gate


def test_floor_of_rounds_down() -> None:
    assert floor_of(0.8567) == 0.85
    assert floor_of(29 / 100) == 0.29  # 0.29 is stored as 0.28999...: must not become 0.28
    assert floor_of(1.0) == 1.0


def test_update_baseline_raises_floors_and_refuses_to_lower(
    tmp_path: Path, report: EvalReport
) -> None:
    path = tmp_path / "baseline.json"
    floors = update_baseline(report, path, today=date(2026, 11, 27))
    assert floors == {
        "relevance_precision": 0.5, "relevance_recall": 0.66,
        "meeting_precision": 0.5, "meeting_recall": 0.5,
        # Every gold meeting of the fixture is a state meeting.
        "meeting_state_precision": 0.5, "meeting_state_recall": 0.5,
    }
    assert load_floors(path) == floors and check_floors(report, floors) == []
    # A better run elsewhere pinned a higher floor: this run may not lower it.
    data = json.loads(path.read_text())
    data["floors"]["meeting_recall"] = 0.75
    path.write_text(json.dumps(data))
    assert check_floors(report, load_floors(path)) == ["meeting_recall 0.5000 < floor 0.75"]
    with pytest.raises(FloorRegression, match="meeting_recall 0.75 -> 0.50"):
        update_baseline(report, path)
    assert load_floors(path)["meeting_recall"] == 0.75  # nothing written
    lowered = update_baseline(report, path, allow_regression=True, reason="relabelled")
    assert lowered["meeting_recall"] == 0.5
    history = json.loads(path.read_text())["history"]
    assert history[-1]["lowered_because"] == "relabelled"


def test_update_baseline_keeps_a_higher_floor_when_nothing_regressed(
    tmp_path: Path, report: EvalReport
) -> None:
    path = tmp_path / "baseline.json"
    path.write_text(json.dumps({"floors": {"relevance_precision": 0.4}, "source": "kept"}))
    floors = update_baseline(report, path)
    assert floors["relevance_precision"] == 0.5  # raised from 0.4
    assert json.loads(path.read_text())["source"] == "kept"
