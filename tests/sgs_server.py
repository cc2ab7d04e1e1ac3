"""A local HTTP server that answers like the SGS JSON API, from ``tests/fixtures/sgs``.

The narrowest seam for :class:`core.market.sgs.SgsClient`: the client's own ``requests``
session, URL building, timeout, status handling and retries all run; only the host differs
(``SgsServer.base_url`` points at ``127.0.0.1``). Routing: ``/dados/serie/bcdata.sgs.<code>/
dados`` answers the body a test set for the code with :meth:`SgsServer.answer` (a fixture
file's name or any JSON value), else 404 with the API's not-found body. Faults are queued
per code with :meth:`SgsServer.fail` (a status with a body, or ``"hang"``: wait longer than
the client's read timeout). Every request is recorded with its query parameters.
"""

from __future__ import annotations

import json
import threading
import time
from collections import defaultdict, deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

FIXTURES = Path(__file__).parent / "fixtures" / "sgs"
NOT_FOUND = {"error": "Value(s) not found", "tag": "built for the tests"}


@dataclass
class Request:
    """One request the server received."""

    code: int
    params: dict[str, str]


@dataclass
class SgsServer:
    """Answers and faults per series code, and the requests received."""

    port: int = 0
    bodies: dict[int, str] = field(default_factory=dict)
    faults: dict[int, deque[int | str]] = field(default_factory=lambda: defaultdict(deque))
    requests: list[Request] = field(default_factory=list)
    hang_s: float = 2.0

    @property
    def base_url(self) -> str:
        """The client's ``base_url`` for this server."""
        return f"http://127.0.0.1:{self.port}/dados/serie/bcdata.sgs.{{code}}/dados"

    def answer(self, code: int, body: str | Any) -> None:
        """Answer ``code`` with a fixture file (a name ending in ``.json``) or a JSON value."""
        if isinstance(body, str) and body.endswith(".json"):
            self.bodies[code] = (FIXTURES / body).read_text(encoding="utf-8")
        else:
            self.bodies[code] = json.dumps(body)

    def fail(self, code: int, *faults: int | str) -> None:
        """The next requests for ``code`` get these statuses (or ``"hang"``, or
        ``"garbage"``: a 200 whose body is not JSON), in order."""
        self.faults[code].extend(faults)

    def count(self, code: int) -> int:
        """How many requests asked for ``code``."""
        return sum(1 for r in self.requests if r.code == code)


def _handler(server: SgsServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return None

        def _send(self, status: int, body: str) -> None:
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            prefix, _, rest = parts.path.partition("/dados/serie/bcdata.sgs.")
            code_text = rest.removesuffix("/dados")
            if prefix or not code_text.isdigit():
                self._send(404, json.dumps(NOT_FOUND))
                return
            code = int(code_text)
            params = {k: v[0] for k, v in parse_qs(parts.query).items()}
            server.requests.append(Request(code, params))
            faults = server.faults[code]
            if faults:
                fault = faults.popleft()
                if fault == "hang":
                    time.sleep(server.hang_s)
                    self._send(200, "[]")
                elif fault == "garbage":
                    self._send(200, "<html>not json</html>")
                else:
                    self._send(int(fault), json.dumps({"error": f"HTTP {fault}"}))
                return
            body = server.bodies.get(code)
            self._send(404, json.dumps(NOT_FOUND)) if body is None else self._send(200, body)

    return Handler


@contextmanager
def sgs_server() -> Iterator[SgsServer]:
    """A running server on a free local port, stopped afterwards."""
    state = SgsServer()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    httpd.daemon_threads = True
    state.port = httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)
