"""Print the fault suite's table and total line from the JSON-lines ledger a run wrote.

    python -m tests.faults.report FILE [--markdown]

Exit 1 when any fault did not behave as expected (or the ledger is empty), so `make faults`
fails loudly. --markdown prints the same table as Markdown, for docs/reliability.md.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

COLUMNS = ("group", "fault", "expected behaviour", "observed", "result")


def load(path: Path) -> list[dict[str, Any]]:
    """Return the ledger rows in the order they were recorded."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def total_line(rows: list[dict[str, Any]]) -> str:
    """Return "N faults injected, C crashes, L articles lost, D duplicate alerts" (+ failures)."""
    crashes = sum(r["crashes"] for r in rows)
    lost = sum(r["lost"] for r in rows)
    duplicates = sum(r["duplicates"] for r in rows)
    failed = sum(not r["passed"] for r in rows)
    line = (f"{len(rows)} faults injected, {crashes} crashes, {lost} articles lost, "
            f"{duplicates} duplicate alerts")
    return line + (f"; {failed} not as expected" if failed else "")


def _cells(row: dict[str, Any]) -> list[str]:
    """Return the table cells of one row."""
    return [row["group"], row["fault"], row["expected"], row["observed"],
            "pass" if row["passed"] else "FAIL"]


def text_table(rows: list[dict[str, Any]], width: int = 60) -> str:
    """Return the rows as a plain-text table, long cells cut to width characters."""
    cut = [[c if len(c) <= width else c[: width - 1] + "…" for c in _cells(r)] for r in rows]
    widths = [max(len(h), *(len(c[i]) for c in cut)) for i, h in enumerate(COLUMNS)]

    def line(cells: list[str] | tuple[str, ...]) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(COLUMNS), rule, *(line(c) for c in cut)])


def markdown_table(rows: list[dict[str, Any]]) -> str:
    """Return the rows as a Markdown table (pipes in cells escaped)."""
    head = "| " + " | ".join(COLUMNS) + " |\n|" + "---|" * len(COLUMNS)
    body = [
        "| " + " | ".join(c.replace("|", "\\|") for c in _cells(r)) + " |" for r in rows
    ]
    return "\n".join([head, *body])


def main(argv: list[str]) -> int:
    """Print the table and the total line; return 1 if any fault misbehaved."""
    if not argv:
        print(__doc__)
        return 2
    rows = load(Path(argv[0]))
    if not rows:
        print(f"no fault rows in {argv[0]}: did the suite run?")
        return 1
    print(markdown_table(rows) if "--markdown" in argv else text_table(rows))
    print()
    print(total_line(rows))
    bad = any(not r["passed"] or r["crashes"] or r["lost"] or r["duplicates"] for r in rows)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
