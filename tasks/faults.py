"""Opt-in crash points for tests: NEWSMON_FAULT=<point> kills the process there with SIGKILL.

A test hook, documented in docs/alerts.md. It exists so that tests can show what a real crash
(OOM killer, power loss, `kill -9`) at the worst moments does to the outbox; unset, it costs one
environment lookup. Points: after_store (events and alerts committed, nothing delivered yet),
after_post (a channel answered an alert, its row not yet marked).
"""

from __future__ import annotations

import os
import signal
import sys

FAULT_ENV = "NEWSMON_FAULT"
POINTS = ("after_store", "after_post")


def fault_point(name: str) -> None:
    """Return normally, unless NEWSMON_FAULT names this point: then the process dies at once."""
    if os.environ.get(FAULT_ENV) == name:
        sys.stdout.flush()
        sys.stderr.flush()
        # SIGKILL, not an exception: no finally blocks, no atexit, no flushing of open files,
        # exactly like the crashes the outbox must survive.
        os.kill(os.getpid(), signal.SIGKILL)
