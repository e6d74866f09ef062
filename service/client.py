"""Call any method of any service this project defines: JSON in, JSON out.

python -m service.client services
python -m service.client call invitations.v1.InvitationService/CreateInvitation \\
    '{"invitation": {"email": "alice@example.com", "role": "ROLE_ADMIN"}}'
python -m service.client call InvitationService/GetInvitation '{"name": "invitations/<id>"}'
python -m service.client --metadata x-request-id=debug-1 call InvitationService/WatchInvitations
python -m service.client health invitations.v1.InvitationService

async with Client("localhost:50051", token=token) as client:
    invitation = await client.call("InvitationService/GetInvitation", {"name": name})
    async for event in client.stream("InvitationService/WatchInvitations"):
        ...

Each resource also has a typed client beside its servicer (service/invitations/client.py); both
share what is below: the connection options, credentials, metadata and error output.

JSON has the .proto's field names (`expire_time`), the names the server's field violations use;
requests may also use the lowerCamelCase JSON names. Fields at their default value are left out,
as in protobuf's canonical JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import difflib
import importlib
import json
import os
import sys
from collections.abc import AsyncGenerator, Coroutine, Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any, TypeAlias, TypedDict, cast

import grpc
from google.protobuf import json_format, message, message_factory
from google.protobuf.descriptor import Descriptor, FileDescriptor, MethodDescriptor
from google.rpc import error_details_pb2, status_pb2
from grpc_health.v1 import health_pb2
from grpc_status import rpc_status

import generated

# A response as JSON: what protobuf's MessageToDict returns, whose values are of every JSON type.
JsonObject: TypeAlias = dict[str, Any]
DEFAULT_TARGET = "localhost:50051"
TOKEN_VARIABLE = "SERVICE_TOKEN"


class RequestError(ValueError):
    """A mistake the client sees before calling: an unknown method, JSON that does not fit the
    request message, a missing key file. The command lines exit 2 with its message."""


# Connecting ------------------------------------------------------------------------------------


def channel_credentials(
    ca: bytes | None = None, cert: bytes | None = None, key: bytes | None = None
) -> grpc.ChannelCredentials:
    """TLS credentials: the server's CA (None: the system's), and a client certificate for
    mutual TLS."""
    return grpc.ssl_channel_credentials(
        root_certificates=ca, private_key=key, certificate_chain=cert
    )


def open_channel(target: str, credentials: grpc.ChannelCredentials | None) -> grpc.aio.Channel:
    """TLS with credentials, plaintext without (development)."""
    if credentials is None:
        return grpc.aio.insecure_channel(target)
    return grpc.aio.secure_channel(target, credentials)


def request_metadata(
    token: str | None, metadata: Sequence[tuple[str, str]] = ()
) -> tuple[tuple[str, str], ...]:
    """What every call sends: the bearer token, then the caller's own (x-request-id, ...)."""
    bearer = (("authorization", f"Bearer {token}"),) if token else ()
    return (*bearer, *metadata)


async def check_health(
    channel: grpc.aio.Channel,
    service: str = "",
    metadata: Sequence[tuple[str, str]] = (),
    deadline: float | None = 5.0,
) -> str:
    """The health service's answer for `service` ("": the whole server): SERVING, NOT_SERVING...
    A service the server does not serve is a NOT_FOUND error."""
    # grpcio-health-checking's HealthStub is untyped; the same call, typed:
    check = channel.unary_unary(
        "/grpc.health.v1.Health/Check",
        request_serializer=health_pb2.HealthCheckRequest.SerializeToString,
        response_deserializer=health_pb2.HealthCheckResponse.FromString,
    )
    request = health_pb2.HealthCheckRequest(service=service)
    response = await check(request, timeout=deadline, metadata=metadata)
    return health_pb2.HealthCheckResponse.ServingStatus.Name(response.status)


def field_violations(error: grpc.RpcError) -> list[tuple[str, str]]:
    """(field, description) pairs of an INVALID_ARGUMENT error's BadRequest details, from
    grpc.aio or grpc's blocking API. Details that contradict the call's own status (which
    grpcio-status refuses) count as none."""
    # Both APIs' errors answer code(), details() and trailing_metadata() as a grpc.Call does,
    # which is all rpc_status.from_call reads; the stubs do not say so.
    try:
        status: status_pb2.Status | None = rpc_status.from_call(cast("grpc.Call", error))
    except ValueError:
        return []
    violations: list[tuple[str, str]] = []
    for detail in status.details if status is not None else ():
        bad_request = error_details_pb2.BadRequest()
        if detail.Unpack(bad_request):
            violations += [(v.field, v.description) for v in bad_request.field_violations]
    return violations


# Methods, from the generated code --------------------------------------------------------------


@cache
def known_methods() -> dict[str, MethodDescriptor]:
    """Every method by its path (`/invitations.v1.InvitationService/GetInvitation`).

    From the generated modules, not server reflection: production servers usually turn
    reflection off. Every generated/<package>/v1/*_pb2.py is imported rather than
    service.resources, which would pull in the servicers and the database layer, and would miss
    protos not registered yet. Which services a server actually serves, health answers
    (`health <service>`: NOT_FOUND for one it does not). Health itself is included: every
    server serves it.
    """
    root = Path(next(iter(generated.__path__)))  # also when generated/ holds no proto yet
    modules = [
        ".".join(path.relative_to(root.parent).with_suffix("").parts)
        for path in root.rglob("*_pb2.py")
    ]
    files: list[FileDescriptor] = [
        importlib.import_module(module).DESCRIPTOR
        for module in [health_pb2.__name__, *sorted(modules)]
    ]
    return {
        f"/{service.full_name}/{method.name}": method
        for file in files
        for service in file.services_by_name.values()
        for method in service.methods
    }


def path_of(method: MethodDescriptor) -> str:
    return f"/{method.containing_service.full_name}/{method.name}"


def find_method(name: str) -> MethodDescriptor:
    """`package.v1.Service/Method`, `/package.v1.Service/Method`, or `Service/Method` when only
    one package has it."""
    methods = known_methods()
    wanted = name.strip().strip("/")
    if f"/{wanted}" in methods:
        return methods[f"/{wanted}"]
    matches = [path for path in methods if path.endswith(f".{wanted}")]
    if len(matches) == 1:
        return methods[matches[0]]
    if matches:
        raise RequestError(f"{name!r} is ambiguous: {', '.join(matches)}")
    raise RequestError(f"no method {name!r}{_suggestions(wanted, methods)}")


def _suggestions(wanted: str, methods: dict[str, MethodDescriptor]) -> str:
    """Close names: the service's methods when the service is known, else close services."""
    service, _, method = wanted.rpartition("/")
    candidates = {
        found.name: path
        for path, found in methods.items()
        if not service
        or service in (found.containing_service.full_name, found.containing_service.name)
    }
    if candidates:
        close = difflib.get_close_matches(method, candidates, cutoff=0.6)
        if not close and service:
            return f"; {service} has {', '.join(candidates)}"
        paths = [candidates[name] for name in close]
    else:
        services = {found.containing_service.full_name for found in methods.values()}
        forms = {form: full for full in services for form in (full, full.rsplit(".", 1)[-1])}
        paths = sorted({forms[f] for f in difflib.get_close_matches(service, forms, cutoff=0.6)})
    if not paths:
        return "; `services` lists every method"
    return f"; did you mean {' or '.join(paths)}?"


def message_class(descriptor: Descriptor) -> type[message.Message]:
    return message_factory.GetMessageClass(descriptor)


def parse_request(method: MethodDescriptor, request: Mapping[str, object]) -> message.Message:
    """The request message from JSON; a field it does not have, or a value of the wrong type,
    is a RequestError naming it."""
    try:
        return json_format.ParseDict(dict(request), message_class(method.input_type)())
    except json_format.ParseError as error:
        raise RequestError(f"{method.input_type.full_name}: {error}") from None


def as_json(item: message.Message) -> JsonObject:
    return json_format.MessageToDict(item, preserving_proto_field_name=True)


# The Python API --------------------------------------------------------------------------------


class Client:
    """Every method, by name, with JSON-shaped dicts for requests and responses."""

    def __init__(
        self,
        target: str = DEFAULT_TARGET,
        *,
        credentials: grpc.ChannelCredentials | None = None,
        token: str | None = None,
        metadata: Sequence[tuple[str, str]] = (),
        timeout: float | None = 10.0,
    ) -> None:
        """`credentials` for TLS (see channel_credentials), `token` for a bearer JWT,
        `metadata` sent with every call, `timeout` the deadline of unary calls."""
        self.channel = open_channel(target, credentials)
        self.metadata = request_metadata(token, metadata)
        self.timeout = timeout

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def close(self) -> None:
        await self.channel.close()

    def _method(self, name: str, *, streaming: bool) -> MethodDescriptor:
        method = find_method(name)
        if method.client_streaming:
            raise RequestError(f"{path_of(method)} takes a stream of requests: not supported")
        if method.server_streaming != streaming:
            use = "stream()" if method.server_streaming else "call()"
            raise RequestError(f"{path_of(method)}: use {use}")
        return method

    async def call(self, method: str, request: Mapping[str, object] | None = None) -> JsonObject:
        """One request, one response."""
        found = self._method(method, streaming=False)
        rpc = self.channel.unary_unary(
            path_of(found),
            request_serializer=message_class(found.input_type).SerializeToString,
            response_deserializer=message_class(found.output_type).FromString,
        )
        response = await rpc(
            parse_request(found, request or {}), timeout=self.timeout, metadata=self.metadata
        )
        return as_json(response)

    async def stream(
        self, method: str, request: Mapping[str, object] | None = None
    ) -> AsyncGenerator[JsonObject, None]:
        """Every response of a server-streaming method, until the server ends the stream or the
        caller stops. No deadline: streams such as watches are meant to stay open."""
        found = self._method(method, streaming=True)
        rpc = self.channel.unary_stream(
            path_of(found),
            request_serializer=message_class(found.input_type).SerializeToString,
            response_deserializer=message_class(found.output_type).FromString,
        )
        call = rpc(parse_request(found, request or {}), metadata=self.metadata)
        try:
            async for response in call:
                yield as_json(response)
        finally:
            call.cancel()

    async def health(self, service: str = "") -> str:
        return await check_health(self.channel, service, self.metadata, self.timeout)


# What every command line shares --------------------------------------------------------------


def add_connection_options(parser: argparse.ArgumentParser) -> None:
    """--target, TLS, token, timeout and metadata: the same for every command line."""
    group = parser.add_argument_group("connection")
    group.add_argument("--target", default=DEFAULT_TARGET, help="host:port of the server")
    group.add_argument("--tls-ca", type=Path, help="CA certificate of the server (turns on TLS)")
    group.add_argument("--tls-cert", type=Path, help="client certificate, for mutual TLS")
    group.add_argument("--tls-key", type=Path, help="client key, for mutual TLS")
    group.add_argument(
        "--token",
        default=os.environ.get(TOKEN_VARIABLE),
        help=f"bearer JWT (default: ${TOKEN_VARIABLE})",
    )
    group.add_argument(
        "--timeout", type=float, default=10.0, help="deadline of unary calls, in seconds"
    )
    group.add_argument(
        "--metadata",
        type=_metadatum,
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="sent with every call, e.g. x-request-id=abc (repeatable)",
    )


def _metadatum(text: str) -> tuple[str, str]:
    key, equals, value = text.partition("=")
    if not equals or not key:
        raise argparse.ArgumentTypeError(f"{text!r} is not KEY=VALUE")
    return key.strip().lower(), value  # gRPC metadata keys are lower-case


class ConnectionOptions(TypedDict):
    target: str
    credentials: grpc.ChannelCredentials | None
    token: str | None
    metadata: list[tuple[str, str]]
    timeout: float | None


def connection_options(args: argparse.Namespace) -> ConnectionOptions:
    """The keyword arguments of a client (Client, InvitationsClient) from the options."""
    files: tuple[Path | None, ...] = (args.tls_ca, args.tls_cert, args.tls_key)
    if (args.tls_cert is None) != (args.tls_key is None):
        raise RequestError("--tls-cert and --tls-key go together")
    credentials = None
    if any(files):
        try:
            credentials = channel_credentials(*(p.read_bytes() if p else None for p in files))
        except OSError as error:
            raise RequestError(f"cannot read {error.filename}: {error.strerror}") from None
    return ConnectionOptions(
        target=args.target,
        credentials=credentials,
        token=args.token,
        metadata=args.metadata,
        timeout=args.timeout,
    )


def print_json(item: Mapping[str, object] | message.Message) -> None:
    """One line of JSON per response, flushed, so a stream can be piped line by line."""
    data = as_json(item) if isinstance(item, message.Message) else item
    print(json.dumps(data), flush=True)


def print_rpc_error(error: grpc.aio.AioRpcError) -> None:
    print(f"error: {error.code().name}: {error.details()}", file=sys.stderr)
    for field, description in field_violations(error):
        print(f"  {field}: {description}", file=sys.stderr)


def run_command(command: Coroutine[object, object, int]) -> int:
    """Run a command line's coroutine; its exit code, 1 for an error from the server, 2 for a
    RequestError, 130 for Ctrl-C."""
    try:
        return asyncio.run(command)
    except RequestError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except grpc.aio.AioRpcError as error:
        print_rpc_error(error)
        return 1
    except KeyboardInterrupt:
        return 130


# The generic command line ----------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m service.client",
        description=__doc__.split("\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Connection options go before the command.",
    )
    add_connection_options(parser)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser(
        "services", help="every method this client knows (whether served: `health <service>`)"
    )
    call = commands.add_parser("call", help="call a method: JSON request in, JSON lines out")
    call.add_argument("method", help="package.v1.Service/Method, or Service/Method")
    call.add_argument("request", nargs="?", default="{}", help="JSON, or - for stdin ({})")
    health = commands.add_parser("health", help="SERVING or not: the server, or one service")
    health.add_argument("service", nargs="?", default="")
    return parser


def _describe(method: MethodDescriptor) -> str:
    stream = "stream " if method.server_streaming else ""
    return (
        f"{path_of(method)}  {method.input_type.full_name} -> {stream}"
        f"{method.output_type.full_name}"
    )


def _request_json(text: str) -> dict[str, object]:
    if text == "-":
        text = sys.stdin.read()
    try:
        request = json.loads(text)
    except json.JSONDecodeError as error:
        raise RequestError(f"the request is not JSON: {error}") from None
    if not isinstance(request, dict):
        raise RequestError(f"the request must be a JSON object, not {type(request).__name__}")
    return request


async def _run(args: argparse.Namespace) -> int:
    if args.command == "services":
        for method in known_methods().values():
            print(_describe(method))
        return 0
    async with Client(**connection_options(args)) as client:
        if args.command == "health":
            status = await client.health(args.service)
            print(status)
            return 0 if status == "SERVING" else 1
        method = find_method(args.method)
        request = _request_json(args.request)
        if method.server_streaming:
            async for response in client.stream(path_of(method), request):
                print_json(response)
        else:
            print_json(await client.call(path_of(method), request))
        return 0


def main(argv: Sequence[str] | None = None) -> int:
    return run_command(_run(_parser().parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
