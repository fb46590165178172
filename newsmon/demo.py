"""A loopback HTTP server that serves a folder of sample feeds and pages ({BASE} substituted)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


def _handler(root: Path) -> type[BaseHTTPRequestHandler]:
    """Return a request handler class serving files under root with {BASE} replaced."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = (root / self.path.split("?")[0].lstrip("/")).resolve()
            if root.resolve() not in path.parents or not path.is_file():
                self.send_error(404)
                return
            address = self.server.server_address
            base = f"http://{address[0]!s}:{address[1]!s}"  # type: ignore[index]
            body = path.read_bytes().replace(b"{BASE}", base.encode())
            kind = "application/rss+xml" if path.suffix == ".xml" else "text/html; charset=utf-8"
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            return  # quiet: the demo prints its own summary

    return Handler


@contextmanager
def serve_folder(root: Path) -> Iterator[str]:
    """Yield the base URL of a loopback server serving root until the block ends."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(root))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def feed_urls(root: Path, base: str) -> list[str]:
    """Return the URLs of the feeds in root/feeds (or root/*.xml)."""
    files = sorted((root / "feeds").glob("*.xml")) if (root / "feeds").exists() else []
    files = files or sorted(root.glob("*.xml"))
    return [f"{base}/{path.relative_to(root).as_posix()}" for path in files]
