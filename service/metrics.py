"""Prometheus metrics on their own HTTP port (METRICS_PORT): what a dashboard needs first.

    grpc_server_handled_total{grpc_method, grpc_code}   RPCs finished, by method and status
    grpc_server_handling_seconds{grpc_method}           latency histogram
    grpc_server_in_flight                               RPCs under way now
    db_pool_connections{state="idle"|"in_use"}          the asyncpg pool

Recorded by the request interceptor when an RPC finishes; label children are cached, so an RPC
costs two dictionary lookups and two increments. The in-flight and pool figures are read when
Prometheus scrapes, not kept up to date on every call.
"""

from __future__ import annotations

from collections.abc import Callable

import grpc
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self._handled = Counter(
            "grpc_server_handled_total",
            "RPCs finished, by method and status code.",
            ["grpc_method", "grpc_code"],
            registry=self.registry,
        )
        self._latency = Histogram(
            "grpc_server_handling_seconds",
            "Time from an RPC's start to its end.",
            ["grpc_method"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.in_flight = Gauge("grpc_server_in_flight", "RPCs under way.", registry=self.registry)
        self.pool = Gauge(
            "db_pool_connections", "Database connections.", ["state"], registry=self.registry
        )
        self._children: dict[tuple[str, grpc.StatusCode], tuple[Counter, Histogram]] = {}

    def observe(self, method: str, code: grpc.StatusCode, seconds: float) -> None:
        children = self._children.get((method, code))
        if children is None:
            children = (
                self._handled.labels(method, code.name),
                self._latency.labels(method),
            )
            self._children[(method, code)] = children
        children[0].inc()
        children[1].observe(seconds)

    def track(
        self, in_flight: Callable[[], float], idle: Callable[[], float], in_use: Callable[[], float]
    ) -> None:
        """Read these when scraped."""
        self.in_flight.set_function(in_flight)
        self.pool.labels("idle").set_function(idle)
        self.pool.labels("in_use").set_function(in_use)

    def serve(self, port: int, host: str = "0.0.0.0") -> None:
        start_http_server(port, addr=host, registry=self.registry)
