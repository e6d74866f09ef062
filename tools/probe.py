"""Helpers for tests and benchmarks that drive real servers: a free port, a copy of this
repository to edit, and asking a running server which version of the API it serves."""

from __future__ import annotations

import shutil
import socket
from pathlib import Path

import grpc
from grpc_reflection.v1alpha import reflection_pb2

from service import healthcheck

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def copy_repository(destination: Path) -> Path:
    """This repository's files, without its environment, database, history or caches."""
    ignore = shutil.ignore_patterns(".venv", ".local", ".git", "*_cache", "__pycache__")
    shutil.copytree(ROOT, destination, ignore=ignore)
    return destination


def serving(target: str) -> bool:
    """Whether a server answers at target and its health service says SERVING."""
    return healthcheck.check(target, timeout=0.2) == "SERVING"


def serving_with(target: str, field: str) -> bool:
    """Whether a server answers at target, SERVING, with `field` in its Invitation message."""
    if not serving(target):
        return False
    with grpc.insecure_channel(target) as channel:
        try:
            reflect = channel.stream_stream(
                "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
                request_serializer=reflection_pb2.ServerReflectionRequest.SerializeToString,
                response_deserializer=reflection_pb2.ServerReflectionResponse.FromString,
            )
            request = reflection_pb2.ServerReflectionRequest(
                file_containing_symbol="invitations.v1.Invitation"
            )
            [answer] = list(reflect(iter([request]), timeout=0.2))
        except grpc.RpcError:
            return False
    protos = answer.file_descriptor_response.file_descriptor_proto
    return any(field.encode() in proto for proto in protos)
