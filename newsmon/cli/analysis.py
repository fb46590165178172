"""Analysis and evaluation commands: analyze, extract, eval, eval-extraction."""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer

from newsmon.cli.common import ConfigOpt, app, config_path, err, fail, out
from newsmon.settings import ConfigError, load_settings


def _read_jsonl(source: str) -> list[tuple[int, str]]:
    """Return (line number, line) of a JSON-lines file or stdin ('-')."""
    handle = sys.stdin if source == "-" else open(source, encoding="utf-8")  # noqa: SIM115
    try:
        return [(n, line) for n, line in enumerate(handle, 1) if line.strip()]
    finally:
        if handle is not sys.stdin:
            handle.close()


def load_pipeline(config: Path | None, watchlist: str | None, watchlist_dir: Path | None):  # type: ignore[no-untyped-def]
    """Return (nlp, watchlist, settings) for analysis commands."""
    from newsmon.analysis.nlp import build_pipeline, load_nlp
    from newsmon.analysis.watchlist import load_watchlist

    settings = load_settings(config_path(config))
    directory = watchlist_dir or settings.watchlist_dir
    if watchlist and (Path(watchlist).suffix == ".yaml"):
        directory, watchlist = Path(watchlist).parent, Path(watchlist).stem
    wl = load_watchlist(directory, watchlist or settings.watchlist)
    nlp = build_pipeline(load_nlp(settings.nlp.model, settings.nlp.fallback_model), wl)
    return nlp, wl, settings


def analysis_json(analysis: Any) -> dict[str, Any]:
    """Return the public JSON form of an Analysis (the `newsmon analyze` contract)."""
    from newsmon.analysis.dates import format_date

    return {
        "id": analysis.id,
        "relevant": analysis.relevant,
        "relevance": analysis.relevance,
        "reason": analysis.reason,
        "actors": [
            {"name": a.name, "country": a.country, "role": a.role, "mentions": a.mentions,
             "inferred": a.inferred}
            for a in analysis.actors
        ],
        "events": [
            {"type": e.type, "status": e.status,
             "date": format_date(e.date, e.date_precision or "day"),
             "date_precision": e.date_precision, "place": e.place,
             "participants": [{"name": p.name, "country": p.side, "role": p.role}
                              for p in e.participants],
             "evidence": e.evidence, "new": e.new}
            for e in analysis.events
        ],
    }


def parse_analysis_line(line: str, number: int) -> Any:
    """Return an AnalysisInput from one JSON line, or raise ValueError naming the problem."""
    from newsmon.analysis.pipeline import AnalysisInput
    from newsmon.articles.extract import ExtractionRules, extract_article

    try:
        data = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ValueError(
            f"line {number}: not valid JSON ({exc.msg}); write one JSON object per line"
        ) from exc
    if not isinstance(data, dict) or "id" not in data:
        raise ValueError(
            f"line {number}: expected an object with an 'id', e.g. "
            '{"id": "a1", "text": "..."}'
        )
    text = data.get("text")
    title = data.get("title") or ""
    if text is None and data.get("html") is not None:
        article = extract_article(str(data["html"]), data.get("url") or "", ExtractionRules(0))
        text, title = article.text, title or article.title
    if not isinstance(text, str):
        raise ValueError(  # noqa: TRY004 - reported to the user as a bad input line
            f"line {number} (id {data['id']}): needs 'text' or 'html'; add one of them"
        )
    published = None
    if data.get("published"):
        try:
            published = date.fromisoformat(str(data["published"])[:10])
        except ValueError as exc:
            raise ValueError(
                f"line {number} (id {data['id']}): 'published' must be YYYY-MM-DD"
            ) from exc
    return AnalysisInput(str(data["id"]), text, str(title), published, str(data.get("url") or ""))


@app.command()
def analyze(
    source: Annotated[str, typer.Argument(help="JSON-lines file, or - for stdin")],
    config: ConfigOpt = None,
    watchlist: Annotated[str | None, typer.Option(help="Watchlist name or YAML file")] = None,
) -> None:
    """Analyse JSON lines {id, text|html, title?, url?, published?}; print one JSON line each."""
    from newsmon.analysis.pipeline import AnalysisRules
    from newsmon.analysis.pipeline import analyze as run_analysis

    try:
        lines = _read_jsonl(source)  # before the model loads: a wrong path fails at once
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        fail(f"{source}: cannot read it ({reason}); pass a UTF-8 JSON-lines file, or - for "
              "stdin")
        return
    try:
        nlp, wl, settings = load_pipeline(config, watchlist, None)
    except ConfigError as exc:
        fail(str(exc))
        return
    rules = AnalysisRules(settings.relevance.threshold, settings.events.new_window_days)
    errors = 0
    for number, line in lines:
        try:
            item = parse_analysis_line(line, number)
        except ValueError as exc:
            print(json.dumps({"id": _line_id(line), "error": str(exc)}))
            errors += 1
            continue
        for analysis in run_analysis(nlp, wl, [item], rules):
            print(json.dumps(analysis_json(analysis), ensure_ascii=False))
    if lines and errors == len(lines):
        # Not one line could be analysed: the whole command failed (wrong file?).
        fail(f"{source}: none of its {errors} lines could be analysed (see the error lines); "
              'each line must be a JSON object such as {"id": "a1", "text": "..."}', code=1)


def _line_id(line: str) -> Any:
    """Return the id of a JSON line if it has one (for error lines)."""
    try:
        return json.loads(line).get("id")
    except (json.JSONDecodeError, AttributeError):
        return None


@app.command()
def extract(
    source: Annotated[str, typer.Argument(help="HTML file, .html.gz file, or http(s) URL")],
    url: Annotated[str | None, typer.Option(help="Original URL of a saved page")] = None,
    json_out: Annotated[bool, typer.Option("--json")] = False,
    allow_private_hosts: Annotated[bool, typer.Option("--allow-private-hosts")] = False,
) -> None:
    """Print the article extracted from one page, by the same code path as the cycle."""
    import gzip

    from newsmon.articles.extract import ExtractionRules, extract_article
    from newsmon.sources.charset import decode_html
    from newsmon.sources.fetch import FetchLimits, fetch, make_client

    if source.startswith(("http://", "https://")):
        limits = FetchLimits(allow_private_hosts=allow_private_hosts)
        with make_client(limits) as client:
            result = fetch(client, source, limits)
        if result.error_kind:
            fail(result.error or result.error_kind)
        # The cycle's decoder: BOM, valid UTF-8, the declared charset, then cp1252.
        html = decode_html(result.body, result.headers.get("content-type", ""))
        url = url or result.final_url
    else:
        path = Path(source)
        if not path.exists():
            fail(f"{source}: no such file")
        raw = path.read_bytes()
        html = decode_html(gzip.decompress(raw) if path.suffix == ".gz" else raw)
    article = extract_article(html, url or source, ExtractionRules())
    data = {
        "url": article.url, "title": article.title, "author": article.author,
        "site": article.site,
        "published": article.published.isoformat() if article.published else None,
        "published_source": article.published_source, "language": article.language,
        "extraction_path": article.extraction_path, "status": article.status,
        "chars": len(article.text), "text": article.text,
    }
    if json_out:
        print(json.dumps(data, ensure_ascii=False))
        return
    for key, value in data.items():
        if key != "text":
            out.print(f"[bold]{key}[/]: {value}")
    out.print()
    out.print(article.text)


@app.command(name="eval")
def evaluate_cmd(
    cases: Annotated[Path, typer.Argument(help="JSON-lines cases with gold labels")],
    config: ConfigOpt = None,
    watchlist: Annotated[str | None, typer.Option(help="Watchlist name or YAML file")] = None,
    report: Annotated[Path | None, typer.Option(help="Write the JSON report here")] = None,
) -> None:
    """Score relevance and meetings against gold labels; list every error."""
    from newsmon.analysis.pipeline import AnalysisRules
    from newsmon.analysis.pipeline import analyze as run_analysis
    from newsmon.evaluation.cases import load_cases
    from newsmon.evaluation.evaluate import evaluate, format_report, report_to_json

    try:
        loaded = load_cases(cases)
    except OSError as exc:
        fail(f"{cases}: cannot read it ({exc.strerror or exc}); pass a JSON-lines file of "
              "cases (docs/analyze.md)")
        return
    except ValueError as exc:  # CaseError: names the file, the line and what is wrong
        fail(f"{exc}; fix that line (one JSON case per line: docs/analyze.md)")
        return
    try:
        nlp, wl, settings = load_pipeline(config, watchlist, None)
    except (ConfigError, ValueError, OSError) as exc:
        fail(str(exc))
        return
    rules = AnalysisRules(settings.relevance.threshold, settings.events.new_window_days)
    predictions = list(run_analysis(nlp, wl, [c.input for c in loaded], rules))
    result = evaluate(loaded, predictions, wl)
    print(format_report(result))
    if report:
        report.write_text(json.dumps(report_to_json(result), indent=2, default=str))


# --- analyst commands: query, export, report (docs/schema.md) ------------------------------------

@app.command(name="eval-extraction")
def eval_extraction(
    folder: Annotated[Path, typer.Argument(help="html/<id>.html.gz + ground-truth.json folder")],
    workers: Annotated[int, typer.Option(help="Worker processes (spawned)")] = 1,
    limit: Annotated[int | None, typer.Option(help="Only the first N pages (by id)")] = None,
    report: Annotated[Path | None, typer.Option(help="Write the JSON report here")] = None,
    baseline: Annotated[
        Path | None, typer.Option(help="Baseline JSON: check its floors (exit 1 if missed)")
    ] = None,
    raise_floors: Annotated[
        bool, typer.Option("--raise-floors", help="Raise the baseline's floors to this run")
    ] = False,
    allow_regression: Annotated[
        bool, typer.Option("--allow-regression", help="With --raise-floors: may lower a floor")
    ] = False,
    reason: Annotated[str | None, typer.Option(help="Why a floor is lowered (recorded)")] = None,
) -> None:
    """Token precision/recall/F1 of our extraction vs plain trafilatura on pages with gold text."""
    from newsmon.evaluation import extraction as ev

    if raise_floors and baseline is None:
        fail("--raise-floors needs --baseline FILE")
    try:
        result = ev.evaluate_extraction(folder, workers=max(1, workers), limit=limit)
    except (ValueError, OSError) as exc:
        fail(str(exc))
        return
    print(ev.format_report(result))
    if report:
        report.write_text(json.dumps(ev.report_to_json(result), indent=2))
    if baseline is None:
        return
    if raise_floors:
        try:
            written = ev.raise_floors(
                baseline, result, allow_regression=allow_regression, reason=reason
            )
        except ev.FloorRegression as exc:
            fail(str(exc), code=1)
            return
        print(f"floors in {baseline}: {json.dumps(written['floors'])}")
        return
    failures = ev.gate_failures(result, ev.load_baseline(baseline))
    for failure in failures:
        err.print(f"[bold red]gate:[/] {failure}")
    if failures:
        raise typer.Exit(1)
    print(f"gate passed: floors in {baseline} met, F1 at least plain trafilatura's")
