"""OpenTelemetry tracing, off unless configured: it costs nothing when OTEL_EXPORTER_OTLP_ENDPOINT
is unset (nothing is imported, no interceptor is added).

To turn it on: install the `otel` extra (`uv pip install '.[otel]'`), set
OTEL_EXPORTER_OTLP_ENDPOINT (and the other standard OTEL_* variables: OTEL_SERVICE_NAME, ...).
Each RPC then becomes a span, exported over OTLP/gRPC.
"""

from __future__ import annotations

import os

import grpc


def server_interceptors() -> list[grpc.aio.ServerInterceptor]:
    """The grpc.aio interceptors tracing needs: none unless it is configured."""
    if not os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
        return []
    try:
        from opentelemetry import trace
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
        from opentelemetry.instrumentation.grpc import aio_server_interceptor
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError as error:
        raise RuntimeError(
            "OTEL_EXPORTER_OTLP_ENDPOINT is set but the `otel` extra is not installed"
        ) from error
    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    return [aio_server_interceptor()]
