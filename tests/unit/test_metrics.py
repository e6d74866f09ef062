"""The metrics the interceptor records, as Prometheus reads them (service/metrics.py)."""

from __future__ import annotations

import grpc
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from service.metrics import LATENCY_BUCKETS, Metrics

METHOD = "/probe.v1.ProbeService/GetMark"


def _samples(metrics: Metrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = generate_latest(metrics.registry).decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_calls_are_counted_by_method_and_code_and_timed_in_cumulative_buckets() -> None:
    metrics = Metrics()
    # A latency equal to a bound falls in that bound's bucket (Prometheus: le, less or equal).
    for seconds in (0.0002, LATENCY_BUCKETS[0], 0.003, 0.003, 30.0):
        metrics.observe(METHOD, grpc.StatusCode.OK, seconds)
    metrics.observe(METHOD, grpc.StatusCode.NOT_FOUND, 0.004)

    samples = _samples(metrics)

    def bucket(le: str) -> float:
        labels = (("grpc_method", METHOD), ("le", le))
        return samples[("grpc_server_handling_seconds_bucket", labels)]

    handled = "grpc_server_handled_total"
    assert samples[(handled, (("grpc_code", "OK"), ("grpc_method", METHOD)))] == 5
    assert samples[(handled, (("grpc_code", "NOT_FOUND"), ("grpc_method", METHOD)))] == 1
    assert bucket("0.001") == 2
    assert bucket("0.0025") == 2
    assert bucket("0.005") == 5
    assert bucket("10.0") == 5
    assert bucket("+Inf") == 6
    by_method = (("grpc_method", METHOD),)
    assert samples[("grpc_server_handling_seconds_count", by_method)] == 6
    total = samples[("grpc_server_handling_seconds_sum", by_method)]
    assert abs(total - (0.0002 + 0.001 + 0.003 + 0.003 + 30.0 + 0.004)) < 1e-9
