"""Build the labelled dev set: the project's labels joined with the third-party texts in ../shared.

The texts are not ours to copy into the repository, so labels point at them by key and the join
happens at run time; `write_cases` writes the joined cases to a path outside the repository.
"""

from __future__ import annotations

import csv
import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

from newsmon.evaluation.cases import Case, CaseError, case_to_json, parse_gold, read_jsonl

SEED_PUBLISHED = date(2025, 12, 24)  # the seed article's publish day (shared/README.md)
FAKES_CSV = Path("data/fa-kes/fa-kes-dev.csv")
MINISTRY_JSONL = {
    "mfa": Path("data/mfa-kremlin/mfa-dev.jsonl"),
    "kremlin": Path("data/mfa-kremlin/kremlin-dev.jsonl"),
}
PUBLISHER_SITE = {
    "mfa": "https://mid.ru/en/",
    "kremlin": "http://en.kremlin.ru/",
}
SEED_TEXT = Path("seed/seed-article.txt")
_REPO_ROOT = Path(__file__).resolve().parents[2]


class DevsetError(ValueError):
    """A label that does not fit the shared data (unknown key, changed text)."""


def _require_shared(shared_dir: Path) -> None:
    """Raise FileNotFoundError with the fix when the shared data folder is absent."""
    if not (shared_dir / "data").is_dir():
        raise FileNotFoundError(
            f"shared data not found: {shared_dir / 'data'} does not exist. The dev set joins "
            "the labels with third-party texts that are kept outside the repository, in "
            "../shared relative to the project root; pass the folder holding data/ and seed/."
        )


def _read_labels(labels_dir: Path) -> list[tuple[str, dict[str, Any]]]:
    """Return (file:line, label object) for every line of labels-*.jsonl, in file order."""
    files = sorted(labels_dir.glob("labels-*.jsonl"))
    if not files:
        raise FileNotFoundError(f"no labels-*.jsonl file in {labels_dir}")
    labels: list[tuple[str, dict[str, Any]]] = []
    for path in files:
        for where, _lineno, obj in read_jsonl(path):
            if not isinstance(obj, dict) or not isinstance(obj.get("key"), str):
                raise CaseError(f'{where}: a label must be an object with a string "key"')
            labels.append((where, obj))
    return labels


def _fakes_rows(shared_dir: Path) -> dict[str, dict[str, str]]:
    """Return FA-KES rows by unit_id (the first row where an id repeats)."""
    rows: dict[str, dict[str, str]] = {}
    with (shared_dir / FAKES_CSV).open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            # A few ids repeat with identical text and differing credibility labels.
            rows.setdefault(row["unit_id"], row)
    return rows


def _jsonl_lines(path: Path) -> list[dict[str, Any]]:
    """Return the decoded lines of a JSONL file, by 0-based line number."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _fakes_date(value: str, key: str) -> date:
    """Return the date of a FA-KES M/D/YYYY cell, raising DevsetError naming the key."""
    try:
        return datetime.strptime(value.strip(), "%m/%d/%Y").date()
    except ValueError as exc:
        raise DevsetError(f"{key}: FA-KES date {value!r} is not M/D/YYYY") from exc


def load_devset(shared_dir: Path, labels_dir: Path) -> list[Case]:
    """Return the dev set cases: every label of labels_dir joined with its text in shared_dir."""
    shared_dir, labels_dir = Path(shared_dir), Path(labels_dir)
    _require_shared(shared_dir)
    fakes: dict[str, dict[str, str]] | None = None
    ministry: dict[str, list[dict[str, Any]]] = {}
    cases: list[Case] = []
    seen: dict[str, str] = {}
    for where, label in _read_labels(labels_dir):
        key = label["key"]
        if key in seen:
            raise DevsetError(f"{where}: key {key!r} already labelled at {seen[key]}")
        seen[key] = where
        source, _, ref = key.partition(":")
        gold = parse_gold(label.get("gold"), f"{where} ({key})")
        tags = tuple(label.get("tags", ()))
        note = label.get("note", "")
        if key == "seed":
            text = (shared_dir / SEED_TEXT).read_text(encoding="utf-8")
            cases.append(Case(key, text, gold, published=SEED_PUBLISHED, tags=tags, note=note))
        elif source == "fakes":
            fakes = fakes if fakes is not None else _fakes_rows(shared_dir)
            row = fakes.get(ref)
            if row is None:
                raise DevsetError(f"{where}: {key}: no unit_id {ref} in {FAKES_CSV}")
            cases.append(Case(
                key, row["article_content"], gold, title=row["article_title"],
                published=_fakes_date(row["date"], key), tags=tags, note=note,
            ))
        elif source in MINISTRY_JSONL:
            if source not in ministry:
                ministry[source] = _jsonl_lines(shared_dir / MINISTRY_JSONL[source])
            lines = ministry[source]
            if not ref.isdigit() or int(ref) >= len(lines):
                raise DevsetError(
                    f"{where}: {key}: no line {ref} in {MINISTRY_JSONL[source]} "
                    f"({len(lines)} lines, numbered from 0)"
                )
            item = lines[int(ref)]
            check = label.get("check")
            if check is not None and not item["text"].startswith(check):
                raise DevsetError(
                    f"{where}: {key}: the text changed: expected it to start with {check!r}, "
                    f"found {item['text'][:len(check)]!r}; relabel or fix the key"
                )
            cases.append(Case(
                # The ministry's posts come from its own site (SOURCE): the monitor would see
                # that URL on the feed item, so the case carries it where the data has none.
                key, item["text"], gold, url=item.get("url") or PUBLISHER_SITE[source],
                published=date.fromisoformat(item["date"][:10]) if item.get("date") else None,
                tags=tags, note=note,
            ))
        else:
            raise DevsetError(
                f"{where}: unknown key {key!r}: expected seed, fakes:<unit_id>, mfa:<n> or "
                "kremlin:<n>"
            )
    return cases


def write_cases(cases: list[Case], path: Path) -> int:
    """Return the number of cases written to a JSONL case file outside the repository."""
    target = Path(path).resolve()
    if (_REPO_ROOT / "pyproject.toml").exists() and target.is_relative_to(_REPO_ROOT):
        # The joined cases contain third-party texts that must not enter the repository.
        raise ValueError(f"refusing to write {target} inside the repository {_REPO_ROOT}")
    with target.open("w", encoding="utf-8") as fh:
        for case in cases:
            fh.write(json.dumps(case_to_json(case), ensure_ascii=False) + "\n")
    return len(cases)
