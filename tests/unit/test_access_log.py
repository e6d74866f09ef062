"""The access log's lines (service/log.py AccessLog): the same fields and order as the logging
formatter's JSON, one line per RPC, the request id only when there is one."""

from __future__ import annotations

import io
import json

import grpc

from service.log import AccessLog

METHOD = "/probe.v1.ProbeService/GetMark"


async def _lines(format: str, *calls: tuple[grpc.StatusCode, str | None]) -> list[str]:
    stream = io.StringIO()
    log = AccessLog(stream, "json" if format == "json" else "text", enabled=True)
    for code, request_id in calls:
        log.record(METHOD, code, 1_234_567, request_id)
    log.flush()  # as the timer record() set would, FLUSH_SECONDS later
    return stream.getvalue().splitlines()


async def test_json_lines_name_the_call_and_its_request_id_when_it_has_one() -> None:
    lines = await _lines(
        "json",
        (grpc.StatusCode.OK, None),
        (grpc.StatusCode.NOT_FOUND, "0f" * 16),
        (grpc.StatusCode.OK, 'a "quoted" id'),
    )

    first, second, third = (json.loads(line) for line in lines)
    assert list(first) == ["time", "level", "logger", "message", "method", "code", "duration_ms"]
    assert (first["method"], first["code"], first["level"]) == (METHOD, "OK", "INFO")
    assert first["duration_ms"] == 1.234  # 1,234,567 ns
    assert (second["code"], second["request_id"]) == ("NOT_FOUND", "0f" * 16)
    assert third["request_id"] == 'a "quoted" id'  # a client's id, escaped


async def test_text_lines_carry_the_same_fields() -> None:
    [line] = await _lines("text", (grpc.StatusCode.INTERNAL, "r-1"))

    assert f"rpc method={METHOD} code=INTERNAL duration_ms=1.234 " in line
    assert line.endswith(" request_id=r-1")
