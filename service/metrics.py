"""Prometheus metrics on their own HTTP port (METRICS_PORT): what a dashboard needs first.

    grpc_server_handled_total{grpc_method, grpc_code}   RPCs finished, by method and status
    grpc_server_handling_seconds{grpc_method}           latency histogram
    grpc_server_in_flight                               RPCs under way now
    db_pool_connections{state="idle"|"in_use"}          the asyncpg pool

Recorded by the request interceptor when an RPC finishes, in plain counters of ours (_Calls),
which prometheus_client reads when Prometheus scrapes: its own Counter and Histogram took 5 us
an RPC here (a lock per increment, a Python loop over the buckets), ours 0.6, for the same
exposition; nothing else touches them but the event loop. The in-flight and pool figures are
read when scraped too, not kept up to date on every call.

The endpoint is a small HTTP server of ours on the service's event loop, not prometheus_client's
`start_http_server`: that one has a thread per connection with no timeout and no cap, so a
client that connects and sends nothing (or half a request) holds a thread for ever. Ours:

- at most MAX_CONNECTIONS at once; when full, a new connection takes the place of the oldest one
  still waiting for its request (so stalled clients cannot lock a scraper out), or is closed at
  once if every one is being answered;
- the request head must arrive within HEAD_TIMEOUT_SECONDS and fit in MAX_HEAD_BYTES, and the
  answer be taken within SEND_TIMEOUT_SECONDS, else the connection is closed;
- one request per connection: GET or HEAD of /metrics (or /) is 200 with the text format,
  another path 404, another method 405.
"""

from __future__ import annotations

import asyncio
import bisect
import itertools
from collections.abc import Callable, Iterator

import grpc
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Gauge, generate_latest
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)

MAX_CONNECTIONS = 16  # a scraper or two needs one connection each
HEAD_TIMEOUT_SECONDS = 5.0  # a scraper sends its request at once
MAX_HEAD_BYTES = 8 * 1024  # a scrape's request line and headers take a few hundred bytes
SEND_TIMEOUT_SECONDS = 10.0  # for a client that asks and does not read the answer
METRICS_PATHS = ("/metrics", "/")


_OK = grpc.StatusCode.OK


class _Calls(Collector):
    """Finished RPCs: a count by method and status code, and a latency histogram by method.
    OK calls are counted by method alone: a key holding a StatusCode is hashed by Enum's
    __hash__, a Python call."""

    def __init__(self, bounds: tuple[float, ...]) -> None:
        self.bounds = bounds
        self.ok: dict[str, int] = {}
        self.failed: dict[tuple[str, grpc.StatusCode], int] = {}
        # Per method: a count per bucket (values up to its bound; one more for +Inf), then the sum.
        self.latency: dict[str, list[float]] = {}

    def observe(self, method: str, code: grpc.StatusCode, seconds: float) -> None:
        if code is _OK:
            self.ok[method] = self.ok.get(method, 0) + 1
        else:
            key = (method, code)
            self.failed[key] = self.failed.get(key, 0) + 1
        histogram = self.latency.get(method)
        if histogram is None:
            histogram = self.latency[method] = [0] * (len(self.bounds) + 2)
        histogram[bisect.bisect_left(self.bounds, seconds)] += 1
        histogram[-1] += seconds

    def collect(self) -> Iterator[Metric]:
        handled = CounterMetricFamily(
            "grpc_server_handled",
            "RPCs finished, by method and status code.",
            labels=["grpc_method", "grpc_code"],
        )
        for method, count in self.ok.items():
            handled.add_metric([method, _OK.name], count)
        for (method, code), count in self.failed.items():
            handled.add_metric([method, code.name], count)
        yield handled
        latency = HistogramMetricFamily(
            "grpc_server_handling_seconds",
            "Time from an RPC's start to its end.",
            labels=["grpc_method"],
        )
        bounds = [*map(floatToGoString, self.bounds), "+Inf"]
        for method, histogram in self.latency.items():
            cumulative = itertools.accumulate(histogram[:-1])
            buckets = list(zip(bounds, cumulative, strict=True))
            latency.add_metric([method], buckets, sum_value=histogram[-1])
        yield latency


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self._calls = _Calls(LATENCY_BUCKETS)
        self.registry.register(self._calls)
        self.in_flight = Gauge("grpc_server_in_flight", "RPCs under way.", registry=self.registry)
        self.pool = Gauge(
            "db_pool_connections", "Database connections.", ["state"], registry=self.registry
        )
        self._endpoint: MetricsEndpoint | None = None

    def observe(self, method: str, code: grpc.StatusCode, seconds: float) -> None:
        self._calls.observe(method, code, seconds)

    def track(
        self, in_flight: Callable[[], float], idle: Callable[[], float], in_use: Callable[[], float]
    ) -> None:
        """Read these when scraped."""
        self.in_flight.set_function(in_flight)
        self.pool.labels("idle").set_function(idle)
        self.pool.labels("in_use").set_function(in_use)

    async def serve(self, port: int, host: str = "0.0.0.0") -> None:
        """Listen on `port` until close(); a port in use raises OSError."""
        self._endpoint = MetricsEndpoint(self.registry)
        await self._endpoint.start(host, port)

    async def close(self) -> None:
        """Stop listening and close every connection (nothing if serve() was never called)."""
        if self._endpoint is not None:
            await self._endpoint.close()


class MetricsEndpoint:
    """The HTTP endpoint Prometheus scrapes: bounded in connections, time and bytes (see the
    module's docstring)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self._server: asyncio.Server | None = None
        self._open: set[asyncio.StreamWriter] = set()
        # The connections still waiting for their request head, oldest first.
        self._waiting: dict[asyncio.StreamWriter, None] = {}

    async def start(self, host: str, port: int) -> None:
        # The reader's limit bounds what a request head can buffer.
        self._server = await asyncio.start_server(self._connected, host, port, limit=MAX_HEAD_BYTES)

    async def close(self) -> None:
        if self._server is None:
            return
        self._server.close()
        for writer in list(self._open):
            self._drop(writer)
        await self._server.wait_closed()
        self._server = None

    def _drop(self, writer: asyncio.StreamWriter) -> None:
        """Close at once, with no wait for unsent bytes; its handler then ends by itself."""
        self._open.discard(writer)
        self._waiting.pop(writer, None)
        writer.transport.abort()

    async def _connected(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if len(self._open) >= MAX_CONNECTIONS:
            if not self._waiting:  # every one is being answered: no room for this one
                writer.transport.abort()
                return
            self._drop(next(iter(self._waiting)))
        self._open.add(writer)
        self._waiting[writer] = None
        try:
            try:
                async with asyncio.timeout(HEAD_TIMEOUT_SECONDS):
                    head = await reader.readuntil(b"\r\n\r\n")
            except (TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, OSError):
                return  # too slow, too long, or gone
            finally:
                self._waiting.pop(writer, None)
            if writer not in self._open:  # dropped meanwhile (close())
                return
            response = self._answer(head)
            async with asyncio.timeout(SEND_TIMEOUT_SECONDS):
                writer.write(response)
                writer.close()
                await writer.wait_closed()  # returns once the answer is sent, or fails
        except (TimeoutError, OSError):
            pass
        finally:
            self._drop(writer)

    def _answer(self, head: bytes) -> bytes:
        """The whole response to a request head (one request per connection)."""
        request_line = head.split(b"\r\n", 1)[0].decode("latin-1")
        parts = request_line.split(" ")
        if len(parts) != 3 or not parts[2].startswith("HTTP/"):
            return _response(400, "Bad Request", b"bad request line\n")
        method, target, _ = parts
        if target.split("?", 1)[0] not in METRICS_PATHS:
            return _response(404, "Not Found", b"metrics are at /metrics\n")
        if method not in ("GET", "HEAD"):
            allow = ("Allow", "GET, HEAD")
            return _response(405, "Method Not Allowed", b"GET or HEAD\n", allow)
        body = generate_latest(self.registry)
        return _response(
            200, "OK", body, content_type=CONTENT_TYPE_LATEST, with_body=method != "HEAD"
        )


def _response(
    status: int,
    reason: str,
    body: bytes,
    *headers: tuple[str, str],
    content_type: str = "text/plain; charset=utf-8",
    with_body: bool = True,
) -> bytes:
    lines = [
        f"HTTP/1.1 {status} {reason}",
        f"Content-Type: {content_type}",
        f"Content-Length: {len(body)}",
        "Connection: close",
        *(f"{name}: {value}" for name, value in headers),
    ]
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    return head + body if with_body else head
