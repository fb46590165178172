"""Entry point of a cycle run in a child process by the fault suite, with a network tripwire.

    python -m tests.faults.child CONFIG [FEED_URL ...]

It runs the real command, `newsmon run --config CONFIG --json [--feed URL ...]`. Before anything
else it installs an audit hook that sees every socket connection the process
attempts: it appends "ok <address>" (loopback) or "BLOCKED <address>" to $NEWSMON_FAULTS_NETLOG
and refuses any non-loopback connection, so a test can prove that only loopback traffic happened
and that refused addresses (10.0.0.1, 169.254.169.254, ...) were never contacted. Names under
the reserved .invalid domain fail to resolve at once, as RFC 6761 says they must, without asking
the machine's resolver (keeps the DNS-failure case hermetic). The exit code is the command's
(0 ok, 1 or 2 a failure it reported, 75 busy), or CRASH_EXIT when an exception escaped it:
that, or an unplanned signal, is what the suite counts as a crash. With $NEWSMON_FAULTS_MAX_FILE_BYTES no file
it writes may grow past that size (a full disk, as far as the database is concerned).
"""

from __future__ import annotations

import ipaddress
import os
import socket
import sys
import traceback
from typing import Any

NETLOG_ENV = "NEWSMON_FAULTS_NETLOG"
CRASH_EXIT = 70  # EX_SOFTWARE: an exception escaped the command
MAX_FILE_ENV = "NEWSMON_FAULTS_MAX_FILE_BYTES"
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


def limit_file_size(max_bytes: int) -> None:
    """Cap the size of every file this process writes (RLIMIT_FSIZE): past it a write fails
    with EFBIG, as it would with ENOSPC on a full disk, instead of SIGXFSZ killing us."""
    import resource
    import signal

    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (max_bytes, max_bytes))


def install_tripwire() -> None:
    """Install the audit hook and the .invalid resolver (for this process, irrevocably)."""
    sys.addaudithook(_audit)
    socket.getaddrinfo = _getaddrinfo


def main(argv: list[str]) -> int:
    """Run one cycle on the config and feeds in argv; return the exit code."""
    install_tripwire()
    if os.environ.get(MAX_FILE_ENV):
        # The language model is unpacked to a 68 MB temporary file on first use: load it
        # first, so that the limit hits the database, not that file.
        import py3langid

        py3langid.classify("warm up the language model")
        limit_file_size(int(os.environ[MAX_FILE_ENV]))
    from newsmon.cli.main import app

    args = ["run", "--config", argv[0], "--json"]
    for url in argv[1:]:
        args += ["--feed", url]
    try:
        result = app(args, standalone_mode=False)
    except Exception:  # noqa: BLE001 - the crash being measured
        traceback.print_exc()
        return CRASH_EXIT
    return result if isinstance(result, int) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
