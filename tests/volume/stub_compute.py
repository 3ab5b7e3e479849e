"""A stand-in compute endpoint for the CLI's ``volume attachment create``, which looks the
server up in Nova before it calls Cinder. It knows servers by id and answers discovery;
nothing else (the real compute part is another engineer's)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@contextmanager
def stub_compute(servers: dict[str, str]) -> Iterator[str]:
    """Serve ``{id: name}`` as Nova servers; yields the ``…/v2.1`` endpoint URL."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _send(self, status: int, doc: Any) -> None:
            body = json.dumps(doc).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            base = f"http://127.0.0.1:{self.server.server_address[1]}/v2.1"
            path = self.path.split("?")[0].rstrip("/")
            if path in ("", "/v2.1"):
                version = {
                    "id": "v2.1",
                    "status": "CURRENT",
                    "version": "2.90",
                    "min_version": "2.1",
                    "links": [{"rel": "self", "href": base + "/"}],
                }
                self._send(200, {"version": version})
            elif path.startswith("/v2.1/servers/") and path.rsplit("/", 1)[1] in servers:
                sid = path.rsplit("/", 1)[1]
                self._send(200, {"server": {"id": sid, "name": servers[sid], "status": "ACTIVE"}})
            else:
                self._send(404, {"itemNotFound": {"code": 404, "message": "not found"}})

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v2.1"
    finally:
        server.shutdown()
        server.server_close()
