"""The cycle lock: one cycle at a time per DuckDB file, held from the first read to the last write.

DuckDB's own file lock only covers one open connection, and a cycle opens many short ones (so
that an analyst's read-only session can get in between). Two cycles could therefore interleave
their writes: both select the same unseen items, both store and alert them. An advisory
fcntl.flock on `<database>.lock`, held for the whole cycle, makes the second cycle wait. The
kernel releases a flock when its process dies (even by SIGKILL), so a crashed cycle never leaves
a stale lock behind; the pid written into the file is only there to name the holder.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO


class CycleLocked(Exception):
    """Another cycle holds the lock of the database; the message names it and says what next."""

    def __init__(self, message: str, holder: dict[str, object], waited_s: float) -> None:
        super().__init__(message)
        self.holder = holder
        self.waited_s = waited_s


@dataclass(frozen=True)
class LockInfo:
    """What the holder of a cycle lock wrote about itself."""

    path: Path
    waited_s: float  # how long this process waited before it got the lock


def lock_path(db_path: Path) -> Path:
    """Return the lock file of a database: `<database>.lock` beside it."""
    return db_path.with_name(db_path.name + ".lock")


def _read_holder(handle: IO[str]) -> dict[str, object]:
    """Return what the current holder wrote into the lock file ({} if unreadable)."""
    try:
        handle.seek(0)
        data = json.loads(handle.read() or "{}")
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def locked_message(db_path: Path, holder: dict[str, object], waited_s: float) -> str:
    """Return the documented message of a cycle that gave up waiting for the lock."""
    who = f"pid {holder.get('pid', '?')}"
    if holder.get("what"):
        who = f"{holder['what']} ({who})"
    since = f" since {holder['since']}" if holder.get("since") else ""
    return (
        f"skipped: another newsmon cycle is still running on {db_path}: {who}{since}; waited "
        f"{waited_s:.0f} s for it (lock_wait_s). Nothing was done; the next run catches up."
    )


@contextmanager
def cycle_lock(
    db_path: Path,
    wait_s: float,
    what: str = "cycle",
    *,
    poll_s: float = 0.2,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[LockInfo]:
    """Yield once this process holds the database's cycle lock; raise CycleLocked after wait_s."""
    path = lock_path(db_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    # "a+" never truncates: the holder's note stays readable to the processes that wait.
    handle = open(path, "a+", encoding="utf-8")  # noqa: SIM115 - closed in finally below
    try:
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                waited = time.monotonic() - started
                if waited >= wait_s:
                    holder = _read_holder(handle)
                    raise CycleLocked(
                        locked_message(db_path, holder, waited), holder, waited
                    ) from None
                sleep(min(poll_s, max(0.01, wait_s - waited)))
        waited = time.monotonic() - started
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps({
            "pid": os.getpid(), "what": what,
            "since": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }))
        handle.flush()
        try:
            yield LockInfo(path, waited)
        finally:
            # The note is left in place: an unlocked file with an old note is harmless (the
            # flock, not the file, is the lock) and removing it would race with a waiter.
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
    finally:
        handle.close()
