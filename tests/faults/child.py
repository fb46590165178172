"""Entry point of a cycle run in a child process by the fault suite, with a network tripwire.

    python -m tests.faults.child CONFIG [FEED_URL ...]

Before anything else it installs an audit hook that sees every socket connection the process
attempts: it appends "ok <address>" (loopback) or "BLOCKED <address>" to $NEWSMON_FAULTS_NETLOG
and refuses any non-loopback connection, so a test can prove that only loopback traffic happened
and that refused addresses (10.0.0.1, 169.254.169.254, ...) were never contacted. Names under
the reserved .invalid domain fail to resolve at once, as RFC 6761 says they must, without asking
the machine's resolver (keeps the DNS-failure case hermetic). Then it runs one monitor cycle and
prints its summary as the last stdout line (JSON).
"""

from __future__ import annotations

import ipaddress
import json
import os
import socket
import sys
from typing import Any

NETLOG_ENV = "NEWSMON_FAULTS_NETLOG"
_real_getaddrinfo = socket.getaddrinfo


def _is_loopback(host: str) -> bool:
    """Return True when host is a loopback address literal."""
    try:
        return ipaddress.ip_address(host.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


def _audit(event: str, args: tuple[Any, ...]) -> None:
    """Log every IP connection attempt and stop those that leave the loopback interface."""
    if event != "socket.connect":
        return
    sock, address = args
    if sock.family not in (socket.AF_INET, socket.AF_INET6):
        return  # unix sockets stay on the machine
    host = str(address[0])
    allowed = _is_loopback(host)
    path = os.environ.get(NETLOG_ENV)
    if path:
        with open(path, "a", encoding="utf-8") as log:
            log.write(f"{'ok' if allowed else 'BLOCKED'} {host}:{address[1]}\n")
    if not allowed:
        raise PermissionError(f"fault harness: connection to {host} blocked (loopback only)")


def _getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
    """Return getaddrinfo's answer, failing .invalid names the way a resolver does."""
    name = host.decode() if isinstance(host, bytes) else str(host or "")
    if name.rstrip(".").lower().endswith(".invalid"):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    return _real_getaddrinfo(host, *args, **kwargs)


def install_tripwire() -> None:
    """Install the audit hook and the .invalid resolver (for this process, irrevocably)."""
    sys.addaudithook(_audit)
    socket.getaddrinfo = _getaddrinfo


def main(argv: list[str]) -> int:
    """Run one cycle on the config and feeds in argv; return the exit code."""
    install_tripwire()
    from flows.monitor import monitor

    summary = monitor(config=argv[0], feeds=argv[1:] or None)
    sys.stdout.write("\n" + json.dumps(summary, default=str) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
