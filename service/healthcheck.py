"""`python -m service.healthcheck`: exit 0 if this container's server reports SERVING.

The image's HEALTHCHECK. Kubernetes asks the gRPC health service directly (grpc probes) and
does not need it.
"""

from __future__ import annotations

import os
import sys

import grpc
from grpc_health.v1 import health_pb2


def main() -> int:
    target = f"127.0.0.1:{os.environ.get('PORT', '50051')}"
    with grpc.insecure_channel(target) as channel:
        check = channel.unary_unary(
            "/grpc.health.v1.Health/Check",
            request_serializer=health_pb2.HealthCheckRequest.SerializeToString,
            response_deserializer=health_pb2.HealthCheckResponse.FromString,
        )
        try:
            response = check(health_pb2.HealthCheckRequest(), timeout=2)
        except grpc.RpcError as error:
            print(f"unhealthy: {error.code().name}", file=sys.stderr)
            return 1
    status = health_pb2.HealthCheckResponse.ServingStatus.Name(response.status)
    print(status)
    return 0 if response.status == health_pb2.HealthCheckResponse.SERVING else 1


if __name__ == "__main__":
    sys.exit(main())
