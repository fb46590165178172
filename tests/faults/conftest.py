"""Fixtures of the fault suite: the hostile web, the good sample site, and the fault ledger.

Every scenario writes one ledger row per fault it injects (fault, expected, observed, pass,
and any crash, lost article or duplicate alert it saw) before asserting, so a failing scenario
still shows in the table. With NEWSMON_FAULTS_REPORT=FILE the rows are appended to FILE as JSON
lines; `python -m tests.faults.report FILE` prints the table (`make faults` does both).
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import pytest

from newsmon.demo import feed_urls, serve_folder
from tests.conftest import ROOT
from tests.faults.hostile import HostileWeb

REPORT_ENV = "NEWSMON_FAULTS_REPORT"


@dataclass(frozen=True)
class FaultRow:
    """One injected fault and what came of it."""

    group: str  # network, content, links, process, outage, input
    fault: str
    expected: str
    observed: str
    passed: bool
    crashes: int = 0  # processes that died on their own, or commands that raised
    lost: int = 0  # fixture articles missing afterwards
    duplicates: int = 0  # alerts received more than once
    test: str = ""


class Ledger:
    """Collects the rows of one test and appends them to the report file, if any."""

    def __init__(self, test: str) -> None:
        self.test = test
        self.rows: list[FaultRow] = []

    def record(
        self, group: str, fault: str, expected: str, observed: str, passed: bool, *,
        crashes: int = 0, lost: int = 0, duplicates: int = 0,
    ) -> bool:
        """Record one fault's outcome; return passed."""
        row = FaultRow(group, fault, expected, observed, bool(passed), crashes, lost,
                       duplicates, self.test)
        self.rows.append(row)
        path = os.environ.get(REPORT_ENV)
        if path:
            with open(path, "a", encoding="utf-8") as report:
                report.write(json.dumps(asdict(row), ensure_ascii=False) + "\n")
        return row.passed

    def assert_all(self) -> None:
        """Fail the test, naming every fault whose outcome was not the expected one."""
        bad = [f"{r.fault}: expected {r.expected}; observed {r.observed}"
               for r in self.rows if not r.passed or r.crashes or r.lost or r.duplicates]
        assert not bad, "\n".join(bad)


@pytest.fixture
def ledger(request: pytest.FixtureRequest) -> Ledger:
    """Return this test's fault ledger."""
    return Ledger(request.node.nodeid.split("::", 1)[-1])


@pytest.fixture
def hostile() -> Iterator[HostileWeb]:
    """Yield a running hostile web (fresh per test: request logs start empty)."""
    web = HostileWeb()
    try:
        yield web
    finally:
        web.close()


@pytest.fixture(scope="session")
def good_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return a copy of samples/demo: three well-behaved feeds, twelve articles, two alerts."""
    site = tmp_path_factory.mktemp("good-site")
    shutil.copytree(ROOT / "samples" / "demo", site, dirs_exist_ok=True)
    return site


@pytest.fixture
def good_feeds(good_site: Path) -> Iterator[tuple[str, list[str]]]:
    """Yield (base URL, feed URLs) of the good site served on loopback."""
    with serve_folder(good_site) as base:
        yield base, feed_urls(good_site, base)


def good_article_urls(good_site: Path, base: str) -> set[str]:
    """Return the URLs of the good site's article pages (what every cycle must store)."""
    return {f"{base}/pages/{p.name}" for p in (good_site / "pages").glob("*.html")}
