"""`python -m service.healthcheck`: exit 0 if this container's server reports SERVING.

The image's HEALTHCHECK, and check(), which tests and tools use to ask any server. Kubernetes
asks the gRPC health service directly (grpc probes) and does not need it.
"""

from __future__ import annotations

import os
import sys

import grpc
from grpc_health.v1 import health_pb2


def check(target: str, timeout: float = 2.0) -> str:
    """The health service's answer at target (SERVING, NOT_SERVING, ...), or the status code
    of the failed call (UNAVAILABLE when nothing listens)."""
    with grpc.insecure_channel(target) as channel:
        call = channel.unary_unary(
            "/grpc.health.v1.Health/Check",
            request_serializer=health_pb2.HealthCheckRequest.SerializeToString,
            response_deserializer=health_pb2.HealthCheckResponse.FromString,
        )
        try:
            response = call(health_pb2.HealthCheckRequest(), timeout=timeout)
        except grpc.RpcError as error:
            return str(error.code().name)
    return str(health_pb2.HealthCheckResponse.ServingStatus.Name(response.status))


def main() -> int:
    status = check(f"127.0.0.1:{os.environ.get('PORT', '50051')}")
    print(status, file=sys.stdout if status == "SERVING" else sys.stderr)
    return 0 if status == "SERVING" else 1


if __name__ == "__main__":
    sys.exit(main())
