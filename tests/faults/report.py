"""Print the fault suite's table and total line from the JSON-lines ledger a run wrote.

    python -m tests.faults.report FILE [--markdown] [--doc docs/reliability.md]

Exit 1 when any fault did not behave as expected (or the ledger is empty), so `make faults`
fails loudly. --markdown prints the same table as Markdown; --doc also writes it, with the
date and the commit measured on, between the faults markers of that file.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

COLUMNS = ("group", "fault", "expected behaviour", "observed", "result")
BEGIN, END = "<!-- faults:begin -->", "<!-- faults:end -->"


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


# pytest's per-run temporary folders say nothing to a reader and change every run.
_TMP = re.compile(r"/tmp/pytest-of-[^/\s]+/pytest-\d+/[^/\s]+/")


def _cells(row: dict[str, Any]) -> list[str]:
    """Return the table cells of one row (temporary paths shortened to <tmp>/)."""
    return [_TMP.sub("<tmp>/", str(c)) for c in (
        row["group"], row["fault"], row["expected"], row["observed"],
        "pass" if row["passed"] else "FAIL")]


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


def measured_on() -> str:
    """Return "YYYY-MM-DD HH:MM UTC, commit <describe>" for the run being documented."""
    describe = subprocess.run(
        ["git", "describe", "--always", "--dirty"], capture_output=True, text=True, check=False,
    ).stdout.strip() or "unknown"
    return f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, commit {describe}"


def update_doc(doc: Path, rows: list[dict[str, Any]]) -> None:
    """Replace the text between the faults markers of doc with this run's table and total."""
    text = doc.read_text(encoding="utf-8")
    if BEGIN not in text or END not in text:
        raise SystemExit(f"{doc}: add the markers {BEGIN} and {END} where the table goes")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    block = (f"{BEGIN}\nMeasured {measured_on()} (`make faults`).\n\n{markdown_table(rows)}\n\n"
             f"**{total_line(rows)}**\n{END}")
    doc.write_text(head + block + tail, encoding="utf-8")


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
    if "--doc" in argv:
        update_doc(Path(argv[argv.index("--doc") + 1]), rows)
    bad = any(not r["passed"] or r["crashes"] or r["lost"] or r["duplicates"] for r in rows)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
