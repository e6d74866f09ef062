"""A second resource for the template's own tests, built without codegen: probe.v1.ProbeService.

The server's infrastructure (shutdown, deadlines, auth, TLS, metrics, workers, ...) is tested
through this resource, not through the example one, which users remove. It plugs in exactly as
a generated resource does: its file is added to the default descriptor pool (reflection serves
it), add_to_server() registers its handlers the way generated code does, and its servicer is
built on the server's Database. Its messages are protobuf's well-known types.

    CreateMark(StringValue) -> Empty          probe.write: stores a value in probe.marks
    GetMark(StringValue) -> StringValue       probe.read: NOT_FOUND when absent
    WatchMarks(Empty) -> stream StringValue   probe.read: marks created through this process,
                                              until the server stops
    Echo(StringValue) -> StringValue          a custom verb (AIP-136), its scope declared
                                              (SessionLeakingServicer: see LEAKING_SESSION_STATE)
    DeleteMark(StringValue) -> Empty          declared, never implemented: UNIMPLEMENTED

Marks live in probe.marks, a schema of its own that the servicer creates at start-up: Alembic
compares only the schemas the models use, so migrations never see it. Being a test fixture, the
servicer runs its SQL itself rather than through a storage layer.
"""

# ruff: noqa: N802  (methods are named after the proto's RPCs, as in generated servicers)

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any, NoReturn, TypeAlias

import asyncpg
import grpc
from google.protobuf import descriptor_pb2, descriptor_pool, empty_pb2, message_factory
from google.protobuf.wrappers_pb2 import StringValue

from service.db.database import Database
from service.errors import AlreadyExists, FieldViolation, InvalidArgument, NotFound
from service.resource import Resource

if TYPE_CHECKING:
    from google.protobuf.message import Message

    Context: TypeAlias = grpc.aio.ServicerContext[Any, Any]

PACKAGE = "probe.v1"
# Replicas starting at once must not race to create the table: one takes this lock first.
SCHEMA_LOCK = 0x70726F6265  # "probe"


def _file() -> descriptor_pb2.FileDescriptorProto:
    """probe/v1/probe.proto, as protoc would describe it."""
    text = f".{StringValue.DESCRIPTOR.full_name}"
    empty = f".{empty_pb2.Empty.DESCRIPTOR.full_name}"
    file = descriptor_pb2.FileDescriptorProto(
        name="probe/v1/probe.proto",
        package=PACKAGE,
        syntax="proto3",
        dependency=[empty_pb2.DESCRIPTOR.name, StringValue.DESCRIPTOR.file.name],
    )
    service = file.service.add(name="ProbeService")
    for name, request, response in (
        ("CreateMark", text, empty),
        ("GetMark", text, text),
        ("WatchMarks", empty, text),
        ("Echo", text, text),
        ("DeleteMark", text, empty),
    ):
        streams = name.startswith("Watch")
        service.method.add(
            name=name, input_type=request, output_type=response, server_streaming=streams
        )
    return file


SERVICE = (
    descriptor_pool.Default()
    .AddSerializedFile(_file().SerializeToString())
    .services_by_name["ProbeService"]
)


def _value(request: StringValue) -> str:
    if not request.value:
        raise InvalidArgument([FieldViolation("value", "must not be empty")])
    if "\x00" in request.value:  # valid in proto3 strings, refused by PostgreSQL's text
        raise InvalidArgument([FieldViolation("value", "must not contain NUL characters")])
    return request.value


class ProbeServicer:
    def __init__(self, database: Database) -> None:
        self.database = database
        self._watchers: set[asyncio.Queue[str | None]] = set()
        self._stopped = False

    async def start(self) -> None:
        async with self.database.transaction() as connection:
            await connection.execute("SELECT pg_advisory_xact_lock($1)", SCHEMA_LOCK)
            await connection.execute("CREATE SCHEMA IF NOT EXISTS probe")
            await connection.execute(
                "CREATE TABLE IF NOT EXISTS probe.marks (value text PRIMARY KEY)"
            )

    async def stop(self) -> None:
        """End the WatchMarks streams, as a resource's background work must at shutdown."""
        self._stopped = True
        for watcher in self._watchers:
            watcher.put_nowait(None)

    async def CreateMark(self, request: StringValue, context: Context) -> empty_pb2.Empty:
        value = _value(request)
        try:
            async with self.database.connection() as connection:
                await connection.execute("INSERT INTO probe.marks (value) VALUES ($1)", value)
        except asyncpg.UniqueViolationError:
            raise AlreadyExists(f"the mark {value!r} exists") from None
        for watcher in self._watchers:
            watcher.put_nowait(value)
        return empty_pb2.Empty()

    async def GetMark(self, request: StringValue, context: Context) -> StringValue:
        value = _value(request)
        async with self.database.connection() as connection:
            found = await connection.fetchval(
                "SELECT value FROM probe.marks WHERE value = $1", value
            )
        if found is None:
            raise NotFound(f"the mark {value!r} does not exist")
        return StringValue(value=found)

    async def WatchMarks(
        self, request: empty_pb2.Empty, context: Context
    ) -> AsyncIterator[StringValue]:
        marks: asyncio.Queue[str | None] = asyncio.Queue()
        self._watchers.add(marks)
        try:
            await context.send_initial_metadata(())  # the client knows it is subscribed
            while not self._stopped and (value := await marks.get()) is not None:
                yield StringValue(value=value)
        finally:
            self._watchers.discard(marks)

    async def Echo(self, request: StringValue, context: Context) -> StringValue:
        return StringValue(value=request.value)


class SessionLeakingServicer(ProbeServicer):
    """A probe whose Echo answers with the connection's statement_timeout, then leaves a SET of
    its own on the connection: what a careless resource would do."""

    async def Echo(self, request: StringValue, context: Context) -> StringValue:
        async with self.database.connection() as connection:
            timeout = await connection.fetchval("SHOW statement_timeout")
            await connection.execute(f"SET statement_timeout = {len(request.value) + 1000}")
        return StringValue(value=str(timeout))


def _not_implemented(request: Message, context: Context) -> NoReturn:
    raise NotImplementedError("Method not implemented!")  # what a generated base servicer does


def add_to_server(servicer: object, server: grpc.aio.Server) -> None:
    """Register the servicer's methods as a generated `add_XServicer_to_server` does; a method
    it lacks answers as the generated base servicer's would."""
    handlers: dict[str, grpc.RpcMethodHandler[Any, Any]] = {}
    for method in SERVICE.methods:
        request, response = _message_classes(method.name)
        behavior = getattr(servicer, method.name, _not_implemented)
        handler = (
            grpc.unary_stream_rpc_method_handler
            if method.server_streaming
            else grpc.unary_unary_rpc_method_handler
        )
        handlers[method.name] = handler(
            behavior,
            request_deserializer=request.FromString,
            response_serializer=response.SerializeToString,
        )
    server.add_generic_rpc_handlers(
        (grpc.method_handlers_generic_handler(SERVICE.full_name, handlers),)
    )
    server.add_registered_method_handlers(SERVICE.full_name, handlers)


RESOURCE = Resource(
    service=SERVICE,
    add_to_server=add_to_server,
    servicer=ProbeServicer,
    scopes={"Echo": "probe.read"},
)
# The same, with its custom verb's scope forgotten: with auth on, the server must not start.
WITHOUT_ECHO_SCOPE = dataclasses.replace(RESOURCE, scopes={})
# The same, with an Echo that leaves session state on its pooled connection.
LEAKING_SESSION_STATE = dataclasses.replace(RESOURCE, servicer=SessionLeakingServicer)


class ProbeClient:
    """The probe's methods as typed calls, and any method by name for tests that try them all."""

    def __init__(
        self,
        target: str,
        *,
        timeout: float | None = 10.0,
        credentials: grpc.ChannelCredentials | None = None,
        token: str | None = None,
    ) -> None:
        self.channel = (
            grpc.aio.secure_channel(target, credentials)
            if credentials is not None
            else grpc.aio.insecure_channel(target)
        )
        self.timeout = timeout
        self.metadata = (("authorization", f"Bearer {token}"),) if token else ()

    async def __aenter__(self) -> ProbeClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def close(self) -> None:
        await self.channel.close()

    def _unary(self, method: str) -> grpc.aio.UnaryUnaryMultiCallable[Message, Message]:
        request, response = _message_classes(method)
        return self.channel.unary_unary(
            f"/{SERVICE.full_name}/{method}",
            request_serializer=request.SerializeToString,
            response_deserializer=response.FromString,
        )

    async def call(self, method: str, request: Message | None = None) -> Message | None:
        """Any probe method by name, with an empty request by default: its response (a
        stream's first message, None if it ended without one); errors raise AioRpcError."""
        request_class, response_class = _message_classes(method)
        if request is None:
            request = request_class()
        if not SERVICE.methods_by_name[method].server_streaming:
            return await self._unary(method)(request, timeout=self.timeout, metadata=self.metadata)
        stream = self.channel.unary_stream(
            f"/{SERVICE.full_name}/{method}",
            request_serializer=request_class.SerializeToString,
            response_deserializer=response_class.FromString,
        )
        call = stream(request, timeout=self.timeout, metadata=self.metadata)
        try:
            async for response in call:
                return response
            return None
        finally:
            call.cancel()

    async def create_mark(self, value: str) -> None:
        await self._unary("CreateMark")(
            StringValue(value=value), timeout=self.timeout, metadata=self.metadata
        )

    async def get_mark(self, value: str) -> str:
        found = await self._unary("GetMark")(
            StringValue(value=value), timeout=self.timeout, metadata=self.metadata
        )
        assert isinstance(found, StringValue)
        return found.value

    async def echo(self, value: str) -> str:
        echoed = await self._unary("Echo")(
            StringValue(value=value), timeout=self.timeout, metadata=self.metadata
        )
        assert isinstance(echoed, StringValue)
        return echoed.value

    async def watch_marks(self) -> AsyncIterator[str]:
        """The marks created through the server's process from now on; returns once the
        server has subscribed the stream."""
        stream = self.channel.unary_stream(
            f"/{SERVICE.full_name}/WatchMarks",
            request_serializer=empty_pb2.Empty.SerializeToString,
            response_deserializer=StringValue.FromString,
        )
        call = stream(empty_pb2.Empty(), metadata=self.metadata)
        await call.initial_metadata()
        return _values(call)


def _message_classes(method: str) -> tuple[type[Message], type[Message]]:
    descriptor = SERVICE.methods_by_name[method]
    return (
        message_factory.GetMessageClass(descriptor.input_type),
        message_factory.GetMessageClass(descriptor.output_type),
    )


async def _values(call: grpc.aio.UnaryStreamCall[Any, StringValue]) -> AsyncIterator[str]:
    try:
        async for mark in call:
            yield mark.value
    finally:
        call.cancel()
