"""Benchmark pieces that need no Prefect: memory sampling, the libraries' floor, the report."""

from __future__ import annotations

import os
import resource
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

import trafilatura
from spacy.language import Language

from newsmon.analysis.nlp import prefilter
from newsmon.analysis.watchlist import Watchlist

_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def rss_mb(pid: int) -> float:
    """Return the resident memory of a process in MB (0 when it is gone)."""
    try:
        pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return 0.0
    return pages * _PAGE_SIZE / 1e6


def descendants(root: int) -> list[int]:
    """Return the ids of every living descendant process of root (Linux /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            # The command name may hold spaces and parentheses: the ppid follows the last ')'.
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry.name))
    found: list[int] = []
    stack = [root]
    while stack:
        for child in children.get(stack.pop(), []):
            found.append(child)
            stack.append(child)
    return found


def _cmdline(pid: int) -> str:
    """Return a process's command line with spaces between arguments ('' when it is gone)."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _is_prefect_server(pid: int) -> bool:
    """Return True for Prefect's temporary API server (a uvicorn child process)."""
    line = _cmdline(pid)
    return "prefect.server" in line or "uvicorn" in line


def tree_cpu_s(exclude: Sequence[int] = ()) -> float:
    """Return the CPU seconds (user + system) used so far by this process and its workers.

    Counts this process, its finished children, and its living descendants except those
    excluded and Prefect's API server: the work newsmon itself did, whatever else the machine
    was running at the time (wall time is not robust to that; CPU time is).
    """
    own = resource.getrusage(resource.RUSAGE_SELF)
    reaped = resource.getrusage(resource.RUSAGE_CHILDREN)
    total = own.ru_utime + own.ru_stime + reaped.ru_utime + reaped.ru_stime
    skip = set(exclude)
    for pid in descendants(os.getpid()):
        if pid in skip or _is_prefect_server(pid):
            continue
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        total += (int(fields[11]) + int(fields[12])) / _TICKS  # utime, stime
    return total


@dataclass
class MemoryPeaks:
    """Peak resident memory (MB) seen by a sampler, by group of processes."""

    newsmon_mb: float = 0.0  # this process plus its workers (extraction pool)
    prefect_server_mb: float = 0.0  # Prefect's temporary API server, when it is our child
    samples: int = 0


class RssSampler:
    """Sample the memory of this process tree every interval until stopped (a thread)."""

    def __init__(self, exclude: Sequence[int] = (), interval_s: float = 0.2) -> None:
        self.exclude = set(exclude)
        self.interval_s = interval_s
        self.peaks = MemoryPeaks()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def sample(self) -> tuple[float, float]:
        """Return (newsmon MB, Prefect server MB) right now."""
        own = rss_mb(os.getpid())
        server = 0.0
        for pid in descendants(os.getpid()):
            if pid in self.exclude:
                continue
            if _is_prefect_server(pid):
                server += rss_mb(pid)
            elif _cmdline(pid):
                own += rss_mb(pid)
        return own, server

    def _run(self) -> None:
        while not self._stop.is_set():
            own, server = self.sample()
            self.peaks.newsmon_mb = max(self.peaks.newsmon_mb, own)
            self.peaks.prefect_server_mb = max(self.peaks.prefect_server_mb, server)
            self.peaks.samples += 1
            self._stop.wait(self.interval_s)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


@dataclass
class Floor:
    """What the libraries alone cost on the benchmark's pages, called in a plain loop."""

    pages: int = 0
    extract_s: float = 0.0  # trafilatura.extract on every page
    extract_cpu_s: float = 0.0  # the same in CPU seconds of this process
    ner_cpu_s: float = 0.0
    ner_texts: int = 0  # texts that name both sides (the watchlist prefilter's survivors)
    ner_words: int = 0
    ner_s: float = 0.0  # nlp.pipe on those texts
    naive_texts: int = 0  # every text with words: the naive order runs NER on all of them
    naive_words: int = 0
    naive_sampled_texts: int = 0  # texts actually run for the naive figure (the rest scaled)
    naive_sample_s: float = 0.0
    naive_ner_s: float = 0.0  # NER on every text (measured, or scaled from the sample by words)
    texts: list[str] = field(default_factory=list, repr=False)

    @property
    def floor_s(self) -> float:
        """Return the floor: extract every page + NER on the texts naming both sides."""
        return self.extract_s + self.ner_s

    @property
    def floor_cpu_s(self) -> float:
        """Return the floor in CPU seconds (robust to other load on the machine)."""
        return self.extract_cpu_s + self.ner_cpu_s

    @property
    def naive_s(self) -> float:
        """Return the naive order's cost: extract every page + NER on every text."""
        return self.extract_s + self.naive_ner_s


def measure_floor(
    pages: Iterable[str],
    nlp: Language,
    watchlist: Watchlist,
    batch_size: int,
    naive_sample: int,
    progress: Callable[[str], None] = lambda _msg: None,
) -> Floor:
    """Return the floor and the naive order measured in this process on the given page HTML.

    naive_sample caps how many texts outside the NER set run through spaCy for the naive
    figure (spread evenly); the rest is scaled by word count. 0 runs every text.
    """
    floor = Floor()
    for html in pages:
        started, cpu = time.perf_counter(), time.process_time()
        text = trafilatura.extract(html) or ""
        floor.extract_s += time.perf_counter() - started
        floor.extract_cpu_s += time.process_time() - cpu
        floor.texts.append(text)
        floor.pages += 1
    progress(f"floor: extracted {floor.pages} pages in {floor.extract_s:.1f} s")
    # Which texts deserve NER is decided outside the timer: the floor is the libraries' cost.
    named = [bool(t) and prefilter(t, watchlist).passed for t in floor.texts]
    chosen = [t for t, ok in zip(floor.texts, named, strict=True) if ok]
    rest = [t for t, ok in zip(floor.texts, named, strict=True) if t and not ok]
    floor.ner_texts = len(chosen)
    floor.ner_words = sum(len(t.split()) for t in chosen)
    started, cpu = time.perf_counter(), time.process_time()
    for _doc in nlp.pipe(chosen, batch_size=batch_size):
        pass
    floor.ner_s = time.perf_counter() - started
    floor.ner_cpu_s = time.process_time() - cpu
    progress(f"floor: NER on {len(chosen)} texts in {floor.ner_s:.1f} s")
    step = max(1, -(-len(rest) // naive_sample)) if naive_sample > 0 else 1
    sample = rest[::step]
    started = time.perf_counter()
    for _doc in nlp.pipe(sample, batch_size=batch_size):
        pass
    floor.naive_sample_s = time.perf_counter() - started
    floor.naive_texts = len(chosen) + len(rest)
    rest_words = sum(len(t.split()) for t in rest)
    sample_words = sum(len(t.split()) for t in sample)
    floor.naive_words = floor.ner_words + rest_words
    floor.naive_sampled_texts = len(sample)
    scaled = floor.naive_sample_s * rest_words / sample_words if sample_words else 0.0
    floor.naive_ner_s = floor.ner_s + scaled
    progress(
        f"naive: NER on {len(sample)} of {len(rest)} other texts in {floor.naive_sample_s:.1f} s"
    )
    return floor


def report_table(report: dict[str, Any], targets: Sequence[tuple[str, str, bool | None]]) -> str:
    """Return the benchmark report as a plain-text table, then the targets and whether met."""
    width = max(len(key) for key in report)
    lines = ["newsmon bench", ""]
    for key, value in report.items():
        if isinstance(value, dict):
            value = ", ".join(f"{k} {v}" for k, v in value.items())
        elif isinstance(value, list):
            value = " ".join(str(v) for v in value)
        lines.append(f"  {key.ljust(width)}  {value}")
    if targets:
        lines += ["", "targets"]
        for name, detail, met in targets:
            mark = "n/a " if met is None else ("met " if met else "MISS")
            lines.append(f"  [{mark}] {name}: {detail}")
    return "\n".join(lines)
