"""`newsmon analyze` and `newsmon eval` as a user runs them: JSON lines in, JSON lines out."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from newsmon.cli.main import app

MEETING = (
    "Russian Foreign Minister Sergey Lavrov held talks with Syrian Foreign Minister Asaad "
    "al-Shaibani in Moscow on Wednesday, discussing bilateral cooperation."
)


def _run(args: list[str], stdin: str = "") -> tuple[int, list[dict[str, object]]]:
    """Return the exit code and the JSON lines printed."""
    result = CliRunner().invoke(app, args, input=stdin)
    lines = [json.loads(x) for x in result.stdout.splitlines() if x.startswith("{")]
    return result.exit_code, lines


def test_text_and_html_inputs_give_one_line_each_in_order() -> None:
    html = f"<html><body><article><h1>Talks</h1><p>{MEETING}</p></article></body></html>"
    stdin = "\n".join([
        json.dumps({"id": "a", "text": MEETING, "published": "2025-12-24"}),
        json.dumps({"id": "b", "html": html, "published": "2025-12-24"}),
        json.dumps({"id": "c", "text": "Heavy snow fell on Oslo on Tuesday."}),
    ])
    code, out = _run(["analyze", "-"], stdin)
    assert code == 0
    assert [o["id"] for o in out] == ["a", "b", "c"]
    for line in out[:2]:
        assert line["relevant"] is True
        [event] = line["events"]  # type: ignore[misc]
        assert event["type"] == "meeting" and event["date"] == "2025-12-24" and event["new"]
        assert {p["country"] for p in event["participants"]} == {"RUS", "SYR"}
    assert out[2]["relevant"] is False and out[2]["events"] == []


def test_invalid_lines_give_error_lines_and_the_run_goes_on() -> None:
    stdin = "\n".join([
        "{not json",
        json.dumps({"text": "no id"}),
        json.dumps({"id": "x"}),
        json.dumps({"id": "y", "text": MEETING, "published": "24/12/2025"}),
        json.dumps({"id": "ok", "text": MEETING}),
    ])
    code, out = _run(["analyze", "-"], stdin)
    assert code == 0
    errors = [o for o in out if "error" in o]
    assert len(errors) == 4
    assert "line 1" in str(errors[0]["error"]) and "not valid JSON" in str(errors[0]["error"])
    assert "needs 'text' or 'html'" in str(errors[2]["error"])
    assert "YYYY-MM-DD" in str(errors[3]["error"])
    assert out[-1]["id"] == "ok" and "relevant" in out[-1]


def test_unknown_watchlist_is_one_clear_error() -> None:
    result = CliRunner().invoke(app, ["analyze", "-", "--watchlist", "nope"], input="")
    assert result.exit_code == 2
    assert "unknown watchlist 'nope'" in result.output


def test_eval_scores_cases_and_writes_a_report(tmp_path: Path) -> None:
    cases = tmp_path / "cases.jsonl"
    cases.write_text("\n".join([
        json.dumps({"id": "m", "text": MEETING, "published": "2025-12-24", "gold": {
            "relevant": True,
            "meetings": [{"date": "2025-12-24", "participants": ["Lavrov", "al-Shaibani"]}]}}),
        json.dumps({"id": "n", "text": "Heavy snow fell on Oslo.", "published": "2025-12-24",
                    "gold": {"relevant": False, "meetings": []}}),
    ]))
    report = tmp_path / "report.json"
    result = CliRunner().invoke(app, ["eval", str(cases), "--report", str(report)])
    assert result.exit_code == 0, result.output
    assert "relevance" in result.output and "meetings" in result.output
    data = json.loads(report.read_text())
    assert data["relevance"] == {"tp": 1, "fp": 0, "fn": 0, "tn": 1, "precision": 1.0,
                                 "recall": 1.0, "f1": 1.0}
    assert (data["meetings"]["found"], data["meetings"]["gold"]) == (1, 1)
