"""Calling the service: channel credentials, error details, and a command line.

Each resource brings its own typed client beside its servicer (service/invitations/client.py).
Errors come back as grpc.aio.AioRpcError; field_violations() reads the google.rpc.BadRequest
details the server attaches to INVALID_ARGUMENT.
"""

from __future__ import annotations

import grpc
from google.rpc import error_details_pb2, status_pb2

DEFAULT_TARGET = "localhost:50051"
REQUEST_ID = "x-request-id"


def field_violations(error: grpc.aio.AioRpcError) -> list[tuple[str, str]]:
    """(field, description) pairs of an INVALID_ARGUMENT error's BadRequest details."""
    for key, value in error.trailing_metadata() or ():
        if key == "grpc-status-details-bin" and isinstance(value, bytes):
            status = status_pb2.Status.FromString(value)
            violations: list[tuple[str, str]] = []
            for detail in status.details:
                bad_request = error_details_pb2.BadRequest()
                if detail.Unpack(bad_request):
                    violations += [(v.field, v.description) for v in bad_request.field_violations]
            return violations
    return []


def channel_credentials(
    ca: bytes | None = None, cert: bytes | None = None, key: bytes | None = None
) -> grpc.ChannelCredentials:
    """TLS credentials: the server's CA (None: the system's), and a client certificate for
    mutual TLS."""
    return grpc.ssl_channel_credentials(
        root_certificates=ca, private_key=key, certificate_chain=cert
    )
