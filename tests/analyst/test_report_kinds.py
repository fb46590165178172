"""Issue 16 in the report: a chart by kind, a kind filter on the page, and `report --kind`.

The database is a real DuckDB file filled by the real store functions; the page is rendered
by the CLI and opened in headless Chromium.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from newsmon.models import Article, ArticleRow, EventMention, Participant
from newsmon.store import connect, migrate, utcnow
from newsmon.store.events import store_event
from newsmon.store.repo import save_article
from tests.analyst.test_analyst import _chromium, _cli, _console_messages, needs_chromium

BOGDANOV = Participant("mikhail-bogdanov", "Mikhail Bogdanov", "RUS",
                       "deputy foreign minister", "deputy_minister")
MEETINGS = (
    (date(2025, 3, 4), (BOGDANOV, Participant("asaad-al-shaibani", "Asaad al-Shaibani", "SYR",
                                              "foreign minister", "minister"))),
    (date(2025, 3, 11), (BOGDANOV, Participant("qadri-jamil", "Qadri Jamil", "SYR",
                                               "head of the Moscow platform", "leader",
                                               kind="opposition"))),
    (date(2025, 4, 2), (BOGDANOV, Participant("mazloum-abdi", "Mazloum Abdi", "SYR",
                                              "commander of the SDF", "leader",
                                              kind="armed_group"))),
)


@pytest.fixture(scope="module")
def kinds_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return a database with one state, one opposition and one armed-group meeting."""
    db = tmp_path_factory.mktemp("kinds") / "kinds.duckdb"
    con = connect(db)
    try:
        migrate(con)
        for n, (day, who) in enumerate(MEETINGS):
            url = f"https://news.example/{n}"
            save_article(con, ArticleRow(f"a{n}", Article(
                url, f"Report {n}", "text", site="Example",
                published=datetime(day.year, day.month, day.day, 12, tzinfo=UTC),
                canonical_url=url), None, "ok"))
            names = " and ".join(p.name for p in who)
            store_event(con, "syria-russia", f"a{n}", EventMention(
                "meeting", "occurred", day, "day", "text", "Moscow", who,
                f"{names} met in Moscow.", 0, True), utcnow())
    finally:
        con.close()
    return db


def _page(db: Path, tmp_path: Path, *args: str) -> tuple[Path, str]:
    """Return the path and HTML of `newsmon report` on the database."""
    html = tmp_path / f"report{len(args)}.html"
    result = _cli("report", "--db", str(db), "--since", "2025-01-01", "--output", str(html),
                  *args)
    assert result.exit_code == 0, result.output
    return html, html.read_text(encoding="utf-8")


def test_the_report_charts_by_kind_and_offers_a_kind_filter(kinds_db: Path, tmp_path: Path) -> None:
    _, page = _page(kinds_db, tmp_path)
    kinds = re.findall(r"<tr class='event' data-kind='(\w+)'>", page)
    assert sorted(kinds) == ["armed_group", "opposition", "state"]
    bars = re.findall(r'<rect class="bar" data-month="([\d-]+)" data-group="(\w+)"', page)
    by_kind = {b for b in bars if b[1] in ("state", "opposition", "armed_group")}
    assert by_kind == {("2025-03", "state"), ("2025-03", "opposition"),
                       ("2025-04", "armed_group")}
    assert 'id="kind-opposition"' in page and 'id="kind-armed_group"' in page
    assert "Qadri Jamil (SYR, head of the Moscow platform, opposition)" in page
    assert "<script" not in page  # the filter is CSS only: the page's policy forbids scripts


def test_report_kind_limits_every_part_of_the_page(kinds_db: Path, tmp_path: Path) -> None:
    _, page = _page(kinds_db, tmp_path, "--kind", "opposition")
    assert re.findall(r"<tr class='event' data-kind='(\w+)'>", page) == ["opposition"]
    assert "only opposition" in page
    bad = _cli("report", "--db", str(kinds_db), "--kind", "rebels",
               "--output", str(tmp_path / "x.html"))
    assert bad.exit_code == 2 and "'rebels' is not a kind" in bad.output


@needs_chromium
def test_the_kind_filter_works_in_chromium(kinds_db: Path, tmp_path: Path) -> None:
    html, page = _page(kinds_db, tmp_path)
    dumped = _chromium(tmp_path, "--enable-logging=stderr", "--v=0", "--dump-dom",
                       html.as_uri())
    assert dumped.returncode == 0, dumped.stderr[-2000:]
    assert _console_messages(dumped.stderr) == []
    assert '<svg id="kind-timeline"' in dumped.stdout
    # What a click on "Opposition" does, measured by the browser: a copy of the page with that
    # button checked and a probe script (the copy's policy allows it) that counts the rows
    # Chromium displays.
    probe = (page.replace(' id="kind-all" checked>', ' id="kind-all">')
             .replace(' id="kind-opposition">', ' id="kind-opposition" checked>')
             .replace("default-src 'none'; style-src 'unsafe-inline'",
                      "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'")
             .replace("</body>", "<script>document.body.dataset.visible = [...document."
                      "querySelectorAll('tr.event')].filter(r => getComputedStyle(r).display "
                      "!== 'none').map(r => r.dataset.kind).join(',');</script></body>"))
    copy = tmp_path / "probe.html"
    copy.write_text(probe, encoding="utf-8")
    run = _chromium(tmp_path, "--enable-logging=stderr", "--v=0", "--dump-dom", copy.as_uri())
    assert run.returncode == 0, run.stderr[-2000:]
    assert re.search(r'<body data-visible="opposition"', run.stdout), run.stdout[-500:]
    # The control: with "All kinds" checked every row shows.
    copy.write_text(probe.replace(' id="kind-opposition" checked>', ' id="kind-opposition">')
                    .replace(' id="kind-all">', ' id="kind-all" checked>'), encoding="utf-8")
    run = _chromium(tmp_path, "--enable-logging=stderr", "--v=0", "--dump-dom", copy.as_uri())
    visible = re.search(r'<body data-visible="([\w,]+)"', run.stdout)
    assert visible and sorted(visible.group(1).split(",")) == [
        "armed_group", "opposition", "state"]
