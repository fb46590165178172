"""Opt-in crash points for tests: NEWSMON_FAULT=<point> kills the process there with SIGKILL.

A test hook, documented in docs/alerts.md and docs/reliability.md. It exists so that tests can
show what a real crash (OOM killer, power loss, `kill -9`) at the worst moments does to the
database and the outbox; unset, it costs one environment lookup. Points:

- during_migration: a migration's SQL ran inside its transaction, not yet committed;
- during_nlp: a text of the batch was analysed, the batch not yet stored;
- after_store: events and alerts committed, nothing delivered yet;
- after_post: a channel answered an alert, its row not yet marked.

NEWSMON_FAULT_AT=<n> (default 1) dies at the n-th time the point is reached in the process,
so a test can pick the moment at random (the 3rd migration, the 7th text, ...).
"""

from __future__ import annotations

import os
import signal
import sys

FAULT_ENV = "NEWSMON_FAULT"
FAULT_AT_ENV = "NEWSMON_FAULT_AT"
POINTS = ("during_migration", "during_nlp", "after_store", "after_post")
_reached: dict[str, int] = {}


def fault_point(name: str) -> None:
    """Return normally, unless NEWSMON_FAULT names this point and this is its n-th arrival
    (NEWSMON_FAULT_AT, default 1): then the process dies at once."""
    if os.environ.get(FAULT_ENV) != name:
        return
    _reached[name] = _reached.get(name, 0) + 1
    if _reached[name] < int(os.environ.get(FAULT_AT_ENV) or 1):
        return
    sys.stdout.flush()
    sys.stderr.flush()
    # SIGKILL, not an exception: no finally blocks, no atexit, no flushing of open files,
    # exactly like the crashes the database and the outbox must survive.
    os.kill(os.getpid(), signal.SIGKILL)
