"""Bad input to the commands: one clear error line naming the input and the fix, never a
traceback, and a non-zero exit code where the whole command failed."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from newsmon.cli.main import app
from tests.conftest import ROOT
from tests.faults.conftest import Ledger

pytestmark = pytest.mark.faults
# Words that say what to do next: every error line must carry one.
FIX = re.compile(r"\b(pass|use|add|fix|write|save|set|must|check|restore)\b|e\.g\.|such as")
GOOD_LINE = '{"id": "ok", "text": "The bakery changed its opening hours for the winter."}'


def _invoke(args: list[str], stdin: str | None = None) -> tuple[int, str, str]:
    """Return (exit code, stdout, stderr) of the CLI run in this process."""
    result = CliRunner().invoke(app, args, input=stdin)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        return 99, result.stdout, f"{type(result.exception).__name__}: {result.exception}"
    return result.exit_code, result.stdout, result.stderr


def _check(
    ledger: Ledger, fault: str, args: list[str], *, code: int, names: str,
    stdin: str | None = None, also: Callable[[str, str], bool] = lambda out, err: True,
) -> None:
    """Run a command on bad input and record whether it failed as documented."""
    exit_code, out, err = _invoke(args, stdin)
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    line = errors[0] if errors else (err.strip().splitlines() or [""])[-1]
    # A config with several bad keys names each on its own line under the one error line.
    ok = (exit_code == code and len(errors) == 1 and names in err and bool(FIX.search(err))
          and "Traceback" not in err and also(out, err))
    ledger.record("input", fault, f"exit {code}, one error line naming {names!r} and the fix",
                  f"exit {exit_code}: {line[:110]}", ok, crashes=int(exit_code == 99))


def test_analyze_and_eval_on_unreadable_or_malformed_input(
    tmp_path: Path, ledger: Ledger
) -> None:
    bad_lines = tmp_path / "mixed.jsonl"
    lines = ["{not json", "[1, 2]", '{"id": "x"}', GOOD_LINE,
             '{"id": "d", "text": "t", "published": "24/12/2025"}']
    bad_lines.write_text("\n".join(lines) + "\n")
    all_bad = tmp_path / "all-bad.jsonl"
    all_bad.write_text("{not json\nplain text\n")
    latin = tmp_path / "latin1.jsonl"
    latin.write_bytes('{"id": "é", "text": "café"}\n'.encode("iso-8859-1"))
    missing = str(tmp_path / "missing.jsonl")

    # Mixed file: one error object per bad line (each naming its line and the fix), the good
    # line analysed, exit 0: the command did its job.
    code, out, _ = _invoke(["analyze", str(bad_lines)])
    line_errors = [line for line in out.splitlines() if '"error"' in line]
    ok = (code == 0 and len(line_errors) == 4 and '"id": "ok"' in out
          and all(re.search(r"line \d", e) and FIX.search(e) for e in line_errors))
    ledger.record("input", "analyze: 4 malformed JSON lines among 5",
                  "exit 0; one error object per bad line naming it and the fix; the rest "
                  "analysed", f"exit {code}, {len(line_errors)} error objects: "
                  f"{line_errors[0][:70] if line_errors else ''}", ok)
    _check(ledger, "analyze: no line valid", ["analyze", str(all_bad)], code=1,
           names=str(all_bad))
    _check(ledger, "analyze: file does not exist", ["analyze", missing], code=2, names=missing)
    _check(ledger, "analyze: file not UTF-8", ["analyze", str(latin)], code=2, names=str(latin))
    _check(ledger, "analyze: unknown watchlist", ["analyze", "-", "--watchlist", "atlantis"],
           code=2, names="atlantis", stdin=GOOD_LINE)

    cases = tmp_path / "cases.jsonl"
    cases.write_text('{"id": "a", "text": "t", "gold": {"relevant": false}}\n{oops\n')
    _check(ledger, "eval: malformed JSON line", ["eval", str(cases)], code=2,
           names=f"{cases}:2")
    _check(ledger, "eval: file does not exist", ["eval", missing], code=2, names=missing)
    good_cases = tmp_path / "good-cases.jsonl"
    good_cases.write_text('{"id": "a", "text": "t", "gold": {"relevant": false}}\n')
    _check(ledger, "eval: unknown watchlist", ["eval", str(good_cases), "--watchlist",
                                               "atlantis"], code=2, names="atlantis")
    ledger.assert_all()


@pytest.mark.parametrize("url", ["notaurl", "example.org/rss.xml", "http://", "ftp://host/rss",
                                 "http://exa mple.org/rss", "http://host:99999/rss"])
def test_a_feed_url_that_is_not_a_url_stops_run_and_feeds_add_before_any_work(
    url: str, tmp_path: Path, ledger: Ledger
) -> None:
    _check(ledger, f"run --feed {url!r}", ["run", "--feed", url, "--db",
                                          str(tmp_path / "x.duckdb")], code=2, names=repr(url))
    _check(ledger, f"feeds add {url!r}", ["feeds", "add", url], code=2, names=repr(url))
    assert not (tmp_path / "x.duckdb").exists()  # refused before the cycle started
    ledger.assert_all()


def test_a_feed_url_that_is_not_a_url_in_the_config_names_the_key(
    tmp_path: Path, ledger: Ledger
) -> None:
    config = tmp_path / "c.yaml"
    config.write_text('feeds:\n  - {name: wire, url: "http//wire.example/rss"}\n')
    _check(ledger, "config feed URL 'http//wire.example/rss'",
           ["feeds", "--config", str(config)], code=2, names="feeds.0.url")
    ledger.assert_all()


def test_an_unknown_watchlist_in_the_config_stops_run_with_one_line(
    tmp_path: Path, ledger: Ledger
) -> None:
    config = tmp_path / "c.yaml"
    config.write_text(f"database: {tmp_path / 'n.duckdb'}\nwatchlist: atlantis\n"
                      f"watchlist_dir: {ROOT / 'config' / 'watchlists'}\n")
    _check(ledger, "run: unknown watchlist in the config", ["run", "--config", str(config)],
           code=2, names="atlantis")
    ledger.assert_all()
