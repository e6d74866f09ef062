"""Helpers for tests and benchmarks that drive real servers: a free port, a copy of this
repository to edit, and asking a running server whether it serves, and which API."""

from __future__ import annotations

import shutil
import socket
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TypeVar

import grpc
from google.protobuf import descriptor_pb2
from grpc_reflection.v1alpha import reflection_pb2

from service import healthcheck

ROOT = Path(__file__).resolve().parent.parent
T = TypeVar("T")


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


def _all(call: Iterator[T], seconds: float = 1.0) -> list[T]:
    """Every message of a streaming call, cancelled after `seconds` at the latest: a stream
    call's own timeout was seen not to end a read that waits on a restarting server."""
    cancel = getattr(call, "cancel", None)
    timer = threading.Timer(seconds, cancel) if cancel else None
    if timer is not None:
        timer.start()
    try:
        return list(call)
    finally:
        if timer is not None:
            timer.cancel()


def serving_with(target: str, field: str) -> bool:
    """Whether a server answers at target, SERVING, and one of its services' messages (as
    reflection describes them) has a field named `field`."""
    if not serving(target):
        return False
    with grpc.insecure_channel(target) as channel:
        reflect = channel.stream_stream(
            "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
            request_serializer=reflection_pb2.ServerReflectionRequest.SerializeToString,
            response_deserializer=reflection_pb2.ServerReflectionResponse.FromString,
        )
        try:
            listing = reflection_pb2.ServerReflectionRequest(list_services="")
            [listed] = _all(reflect(iter([listing]), timeout=0.2))
            services = [s.name for s in listed.list_services_response.service]
            requests = [
                reflection_pb2.ServerReflectionRequest(file_containing_symbol=name)
                for name in services
                if not name.startswith("grpc.")  # health and reflection themselves
            ]
            answers = _all(reflect(iter(requests), timeout=0.2)) if requests else []
        except grpc.RpcError:
            return False
    files = [
        descriptor_pb2.FileDescriptorProto.FromString(data)
        for answer in answers
        for data in answer.file_descriptor_response.file_descriptor_proto
    ]
    return any(
        f.name == field
        for file in files
        for message in _messages(file.message_type)
        for f in message.field
    )


def _messages(
    messages: Iterable[descriptor_pb2.DescriptorProto],
) -> Iterator[descriptor_pb2.DescriptorProto]:
    for message in messages:
        yield message
        yield from _messages(message.nested_type)
