"""Request ids and a structured access log.

Every response carries ``X-Openstack-Request-Id`` (the header OpenStack clients log); Swift
APIs carry the same id as ``X-Trans-Id`` too, in Swift's own shape, which Swift clients and
Tempest check on every response. Every request is one JSON line on the ``ocx.access`` logger.
Only the method, path, status, duration and principal ids are logged; query strings are
dropped because temp-URL signatures live there, and no header is logged because tokens do.
"""

from __future__ import annotations

import json
import logging
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

access_log = logging.getLogger("ocx.access")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, Any] = {
            "ts": round(record.created, 3),
            "level": record.levelname.lower(),
            "logger": record.name,
            "pid": record.process,
            "msg": record.getMessage(),
        }
        doc.update(getattr(record, "fields", {}))
        if record.exc_info:
            doc["exc"] = self.formatException(record.exc_info)
        return json.dumps(doc, default=str)


def configure(level: str = "INFO", *, json_lines: bool = True) -> None:
    handler = logging.StreamHandler(sys.stderr)
    fmt = "%(asctime)s %(levelname)s %(name)s %(message)s"
    handler.setFormatter(JsonFormatter() if json_lines else logging.Formatter(fmt))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("uvicorn.access", "httpx", "httpcore", "aiosqlite", "alembic.runtime.migration"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


class ConsoleFormatter(logging.Formatter):
    """Short human lines: time, who, what (``12:00:01 harvard  identity ready at …``)."""

    def __init__(self, prefix: str = ""):
        super().__init__("%(asctime)s " + (f"{prefix:<8} " if prefix else "") + "%(message)s")
        self.default_time_format = "%H:%M:%S"
        self.default_msec_format = None


def configure_process(
    level: str = "INFO",
    *,
    log_file: Path | None,
    json_console: bool = False,
    prefix: str = "",
) -> None:
    """Logging for a long-running OCX process: everything as JSON lines to ``log_file``
    (the access log among it), and short human lines on the console, without the access log
    (``json_console`` puts the JSON lines on the console instead)."""
    handlers: list[logging.Handler] = []
    console = logging.StreamHandler(sys.stderr)
    if json_console:
        console.setFormatter(JsonFormatter())
    else:
        console.setFormatter(ConsoleFormatter(prefix))
        console.addFilter(lambda record: record.name != access_log.name)
    handlers.append(console)
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        to_file = logging.FileHandler(log_file, encoding="utf-8")
        to_file.setFormatter(JsonFormatter())
        handlers.append(to_file)
    root = logging.getLogger()
    root.handlers[:] = handlers
    root.setLevel(level.upper())
    for noisy in ("uvicorn.access", "uvicorn.error", "httpx", "httpcore", "aiosqlite"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    logging.getLogger("alembic.runtime.migration").setLevel(logging.WARNING)


def swift_trans_id(now: float) -> str:
    """Swift's transaction id: ``tx``, 21 random hex digits, ``-``, the time in 10 hex digits."""
    return f"tx{uuid.uuid4().hex[:21]}-{int(now):010x}"


class RequestContext:
    """ASGI middleware: request id in, request id out, one access-log line per request."""

    def __init__(self, app: ASGIApp, *, service: str, swift: bool = False):
        self.app = app
        self.service = service
        self.swift = swift

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = swift_trans_id(time.time()) if self.swift else "req-" + str(uuid.uuid4())
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-openstack-request-id", request_id.encode()))
                if self.swift:
                    headers.append((b"x-trans-id", request_id.encode()))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            if state.get("client_gone"):
                status = 499  # the client left before its answer: not a server error
            self._log(scope, state, request_id, status, time.perf_counter() - started)

    def _log(self, scope: Scope, state: dict[str, Any], rid: str, status: int, took: float) -> None:
        if not access_log.isEnabledFor(logging.INFO):
            return
        fields = {
            "service": self.service,
            "request_id": rid,
            "method": scope["method"],
            "path": scope["path"],
            "status": status,
            "ms": round(took * 1000, 2),
        }
        principal = state.get("principal")
        if principal is not None:
            fields["user_id"] = principal.user_id
            fields["project_id"] = principal.project_id
        access_log.info(
            "%s %s %s", scope["method"], scope["path"], status, extra={"fields": fields}
        )
