"""The metrics endpoint is bounded: clients that connect and send nothing, or half a request,
cost the server no thread and cannot keep a scraper out; it answers GET and HEAD of /metrics and
nothing else. Against a real server process (service/metrics.py says how it is bounded)."""

from __future__ import annotations

import contextlib
import socket
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from service.metrics import HEAD_TIMEOUT_SECONDS, MAX_CONNECTIONS
from tests.support import PROBE_SERVER, ServerProcess, poll_here, scrape

SILENT, HALF_A_REQUEST = 200, 50


@pytest.fixture(scope="module")
def metrics(database_url: str) -> Iterator[tuple[ServerProcess, int]]:
    """A server with its metrics endpoint, and that endpoint's port; it must stop cleanly."""
    server = ServerProcess(database_url, module=PROBE_SERVER, with_metrics=True).start()
    port = server.metrics_port
    yield server, port
    server.stop_cleanly()
    troubles = [e for e in server.logs if e.get("level") in ("ERROR", "CRITICAL", "RAW")]
    assert not troubles, troubles


def threads(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Threads:"):
            return int(line.split()[1])
    raise AssertionError(f"no Threads: in /proc/{pid}/status")


def exchange(port: int, request: bytes, timeout: float = 5.0) -> bytes:
    """Send `request` on a connection of its own and read until the server closes it."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(request)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
        return received


def closed_by_server(sock: socket.socket, within: float) -> bool:
    """Whether the server closes `sock` within `within` seconds (end of stream or a reset)."""
    sock.settimeout(within)
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


def test_half_open_connections_neither_take_threads_nor_keep_a_scrape_out(
    metrics: tuple[ServerProcess, int],
) -> None:
    server, port = metrics
    urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).close()  # warmed up
    before = threads(server.process.pid)
    hostile: list[socket.socket] = []
    try:
        for n in range(SILENT + HALF_A_REQUEST):
            sock = socket.create_connection(("127.0.0.1", port), timeout=5)
            hostile.append(sock)
            if n >= SILENT:
                sock.sendall(b"GET /metr")
        # Taken in by the server: each one past MAX_CONNECTIONS closed the oldest one waiting.
        poll_here(
            lambda: (
                sum(closed_by_server(sock, within=0.001) for sock in hostile)
                >= len(hostile) - MAX_CONNECTIONS
            ),
            10,
            "the server closing all but MAX_CONNECTIONS of the silent connections",
        )

        started = time.monotonic()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
            status, body = response.status, response.read()
        latency = time.monotonic() - started
        after = threads(server.process.pid)

        assert status == 200
        assert b"grpc_server_in_flight" in body
        assert latency < 1.0, f"a scrape took {latency:.3f} s under the half-open load"
        assert after <= before + 2, f"threads: {before} before, {after} with the load"
        # All but the few the server may hold were closed at once.
        closed = sum(closed_by_server(sock, within=0.01) for sock in hostile)
        assert closed >= len(hostile) - MAX_CONNECTIONS, f"{closed} of {len(hostile)} closed"
    finally:
        for sock in hostile:
            sock.close()


def test_a_stalled_request_is_closed_after_the_head_timeout(
    metrics: tuple[ServerProcess, int],
) -> None:
    _, port = metrics
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # and no blank line
        started = time.monotonic()
        assert closed_by_server(sock, within=HEAD_TIMEOUT_SECONDS + 2)
        waited = time.monotonic() - started
    assert waited >= HEAD_TIMEOUT_SECONDS - 0.5, f"closed after {waited:.2f} s"


def test_a_scrape_is_answered_once_with_the_text_format(
    metrics: tuple[ServerProcess, int],
) -> None:
    _, port = metrics
    for path in ("/metrics", "/", "/metrics?name[]=grpc_server_in_flight"):
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
            assert response.status == 200
            assert response.headers["Content-Type"].startswith("text/plain; version=")
            assert response.headers["Connection"] == "close"
            assert b"# TYPE grpc_server_handled_total counter" in response.read()

    head = exchange(port, b"HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK\r\n")
    assert head.endswith(b"\r\n\r\n")  # no body
    assert b"Content-Length: 0" not in head

    # One request per connection: a second one on it is not read.
    two = b"GET /metrics HTTP/1.1\r\n\r\nGET /nowhere HTTP/1.1\r\n\r\n"
    assert exchange(port, two).count(b"HTTP/1.1 ") == 1


def test_other_paths_methods_and_bad_requests_are_refused(
    metrics: tuple[ServerProcess, int],
) -> None:
    _, port = metrics
    assert exchange(port, b"GET /nowhere HTTP/1.1\r\n\r\n").startswith(b"HTTP/1.1 404 ")
    refused = exchange(port, b"POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n")
    assert refused.startswith(b"HTTP/1.1 405 ")
    assert b"\r\nAllow: GET, HEAD\r\n" in refused
    assert exchange(port, b"nonsense\r\n\r\n").startswith(b"HTTP/1.1 400 ")

    long_head = b"GET /metrics HTTP/1.1\r\nX-Padding: " + b"a" * 20 * 1024 + b"\r\n\r\n"
    answer = b""
    with contextlib.suppress(ConnectionResetError, BrokenPipeError):
        answer = exchange(port, long_head)
    assert answer == b"", answer[:100]


def test_stalled_connections_do_not_hold_up_a_shutdown(database_url: str) -> None:
    server = ServerProcess(database_url, module=PROBE_SERVER, with_metrics=True).start()
    port = server.metrics_port
    stalled = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(5)]
    try:
        for sock in stalled:
            sock.sendall(b"GET /metrics HTTP/1.1\r\n")
        # Connections are taken in the order they came: this scrape is answered once the
        # server holds the stalled ones.
        assert "grpc_server_in_flight" in scrape(port)
        started = time.monotonic()
        server.stop_cleanly()
        took = time.monotonic() - started
        assert took < HEAD_TIMEOUT_SECONDS, f"stopped after {took:.2f} s"
        assert all(closed_by_server(sock, within=1) for sock in stalled)
    finally:
        for sock in stalled:
            sock.close()
