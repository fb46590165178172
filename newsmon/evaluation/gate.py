"""The dev-set gate: floors pinned in baseline.json, checked on every run, raised on request."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

from newsmon.evaluation.evaluate import METRICS, EvalReport


def floor_of(value: float) -> float:
    """Return value rounded down to 2 decimals (a floor never exceeds what was measured)."""
    # The epsilon keeps 0.29 (stored as 0.28999...) from dropping to 0.28.
    return math.floor(value * 100 + 1e-9) / 100


def load_floors(path: Path) -> dict[str, float]:
    """Return the pinned floors of a baseline file (empty when the file does not exist)."""
    if not Path(path).exists():
        return {}
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    return {name: float(value) for name, value in data.get("floors", {}).items()}


def check_floors(report: EvalReport, floors: Mapping[str, float]) -> list[str]:
    """Return one message per figure below its pinned floor (empty when the gate passes)."""
    figures = report.figures
    return [
        f"{name} {figures[name]:.4f} < floor {floor:.2f}"
        for name, floor in floors.items()
        if name in figures and figures[name] < floor
    ]


class FloorRegression(ValueError):
    """A run below a pinned floor, where lowering the floor was not allowed."""


def update_baseline(
    report: EvalReport,
    path: Path,
    allow_regression: bool = False,
    *,
    reason: str | None = None,
    today: date | None = None,
) -> dict[str, float]:
    """Return the floors written to path: raised to this run, lowered only if allow_regression."""
    path = Path(path)
    baseline: dict[str, Any] = (
        json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    )
    old = {name: float(value) for name, value in baseline.get("floors", {}).items()}
    new = {name: floor_of(value) for name, value in report.figures.items()}
    lowered = [f"{n} {old[n]:.2f} -> {new[n]:.2f}" for n in METRICS if n in old and new[n] < old[n]]
    if lowered and not allow_regression:
        raise FloorRegression(
            "refusing to lower floor(s): " + "; ".join(lowered)
            + " (fix the regression, or pass allow_regression=True / --allow-regression with a"
            " reason)"
        )
    floors = dict(old)
    for name in METRICS:
        floors[name] = new[name] if allow_regression else max(new[name], old.get(name, 0.0))
    changes = {n: [old.get(n), floors[n]] for n in METRICS if old.get(n) != floors[n]}
    history = list(baseline.get("history", []))
    if changes:
        entry: dict[str, Any] = {"date": (today or date.today()).isoformat(), "changes": changes}
        if lowered:
            entry["lowered_because"] = reason or "(no reason given)"
        history.append(entry)
    baseline.update({
        "floors": floors,
        "measured": {n: round(v, 4) for n, v in report.figures.items()},
        "cases": report.cases,
        "history": history,
    })
    baseline.setdefault(
        "note", "floors for tests/evaluation/test_devset_gate.py (rounded down); raise them with "
        "`python -m newsmon.evaluation --devset --update-baseline`",
    )
    path.write_text(json.dumps(baseline, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return floors
