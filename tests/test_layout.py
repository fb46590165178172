"""The package layout draws the pipeline: no import circles, no arrow against the data flow."""

from __future__ import annotations

import ast
from collections.abc import Iterable
from pathlib import Path

import pytest

from tests.conftest import ROOT

# Stage packages in the order data flows through a cycle; a module may import from its own
# package, from an earlier stage, or from the shared core (the top-level modules).
STAGES = ("sources", "articles", "analysis", "store", "alerts", "analyst", "cycle", "evaluation",
          "bench", "cli")
CORE = ("models", "settings", "urls", "lock", "demo")


def module_name(path: Path, root: Path) -> str:
    """Return the dotted module name of a file under root (a package's __init__ is the package)."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(path: Path, name: str, known: set[str]) -> set[str]:
    """Return the known modules a file imports, at any depth of its code (lazy imports too)."""
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name.split(".")[: len(name.split(".")) - node.level + (1 if is_package else 0)]
                base = ".".join([*anchor, *([base] if base else [])])
            # "from pkg import mod" imports the module pkg.mod when it is one, else names of base.
            modules = [f"{base}.{alias.name}" for alias in node.names
                       if f"{base}.{alias.name}" in known]
            targets = modules or [base]
        else:
            continue
        found.update(target for target in targets if target in known)
    found.discard(name)
    return found


def import_graph(root: Path, package: str = "newsmon") -> dict[str, set[str]]:
    """Return module -> imported modules for every module of the package under root."""
    files = {module_name(path, root): path for path in (root / package).rglob("*.py")}
    known = set(files)
    return {name: imported_modules(path, name, known) for name, path in files.items()}


def group(module: str) -> str:
    """Return the stage package or core module a dotted module belongs to."""
    parts = module.split(".")
    if parts[1:] == ["__main__"]:  # `python -m newsmon` is the command line
        return "cli"
    return parts[1] if len(parts) > 1 else ""


def back_arrows(graph: dict[str, set[str]]) -> list[str]:
    """Return every import that goes against the data flow (or from the core into a stage)."""
    problems = []
    for module, targets in graph.items():
        mine = group(module)
        for target in targets:
            theirs = group(target)
            if theirs in ("", *CORE) or theirs == mine:
                continue
            if mine in CORE or mine == "":
                problems.append(f"{module} (core) imports the stage module {target}")
            elif STAGES.index(theirs) > STAGES.index(mine):
                problems.append(f"{module} ({mine}) imports {target} ({theirs}), a later stage")
    return sorted(problems)


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Return the import circles of the graph (each as the path that closes it)."""
    found: list[list[str]] = []
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                found.append([*path[path.index(nxt):], nxt])
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    return found


def package_groups(graph: dict[str, set[str]]) -> Iterable[str]:
    """Return the stage packages and core modules that appear in the graph."""
    return sorted({group(module) for module in graph} - {""})


def test_every_package_of_newsmon_is_a_known_stage_or_core_module() -> None:
    unknown = set(package_groups(import_graph(ROOT))) - set(STAGES) - set(CORE)
    assert not unknown, f"place these in STAGES (data-flow order) or CORE: {sorted(unknown)}"


def test_newsmon_has_no_import_circle() -> None:
    assert cycles(import_graph(ROOT)) == []


def test_no_import_goes_against_the_data_flow() -> None:
    assert back_arrows(import_graph(ROOT)) == []


def write_package(root: Path, files: dict[str, str]) -> None:
    """Write a scratch newsmon package of the given module sources under root."""
    for relative, source in files.items():
        path = root / "newsmon" / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source)


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"sources/__init__.py": "", "sources/fetch.py": "from newsmon.alerts import render\n",
          "alerts/__init__.py": "", "alerts/render.py": ""},
         ["newsmon.sources.fetch (sources) imports newsmon.alerts.render (alerts), a later stage"]),
        ({"settings.py": "def f():\n    from newsmon.analysis.nlp import load\n",
          "analysis/__init__.py": "", "analysis/nlp.py": ""},
         ["newsmon.settings (core) imports the stage module newsmon.analysis.nlp"]),
        ({"alerts/__init__.py": "", "alerts/digest.py": "from newsmon.store import repo\n",
          "store/__init__.py": "", "store/repo.py": "from newsmon.models import X\n",
          "models.py": ""}, []),
    ],
)
def test_a_deliberate_back_import_fails_the_check(
    tmp_path: Path, files: dict[str, str], expected: list[str]
) -> None:
    write_package(tmp_path, files)
    assert back_arrows(import_graph(tmp_path)) == expected


def test_a_deliberate_circle_fails_the_check(tmp_path: Path) -> None:
    write_package(tmp_path, {
        "analysis/__init__.py": "",
        "analysis/events.py": "from newsmon.analysis.dates import resolve\n",
        "analysis/dates.py": "from newsmon.analysis import events\n",
    })
    assert cycles(import_graph(tmp_path)) == [
        ["newsmon.analysis.dates", "newsmon.analysis.events", "newsmon.analysis.dates"]
    ]


def test_no_module_outgrows_the_layout_limits() -> None:
    # Issue 17: a module over 600 lines (400 in cli/) is a stage that wants splitting.
    too_long = []
    for path in (ROOT / "newsmon").rglob("*.py"):
        limit = 400 if path.parent.name == "cli" else 600
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > limit:
            too_long.append(f"{path.relative_to(ROOT)}: {lines} lines (limit {limit})")
    assert too_long == []
