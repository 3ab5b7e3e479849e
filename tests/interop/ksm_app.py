"""A tiny WSGI app behind keystonemiddleware's ``auth_token``: what any OpenStack service is.

Run with the Swift venv's Python (it has keystonemiddleware), not the project's::

    .venv-swift/bin/python tests/interop/ksm_app.py CONF.json

``CONF.json`` is the ``[keystone_authtoken]`` options as a JSON object. The app prints the
port it listens on, then answers every request with the identity headers auth_token set
(``X-Project-Id``, ``X-User-Id``, ``X-Roles``, ``X-Identity-Status``) as JSON. auth_token's
own log goes to stderr.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable, Iterable
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, make_server

from keystonemiddleware import auth_token

HEADERS = ("X-Project-Id", "X-User-Id", "X-Roles", "X-Identity-Status")


def echo(environ: dict[str, Any], start: Callable[..., Any]) -> Iterable[bytes]:
    found = {name: environ.get("HTTP_" + name.upper().replace("-", "_")) for name in HEADERS}
    start("200 OK", [("Content-Type", "application/json")])
    return [json.dumps(found).encode()]


class Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def main() -> None:
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    with open(sys.argv[1]) as fh:
        conf = json.load(fh)
    app = auth_token.filter_factory({}, **conf)(echo)
    server = make_server("127.0.0.1", 0, app, handler_class=Quiet)
    print(server.server_port, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
