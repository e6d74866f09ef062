"""What happens around every RPC of our services, in one interceptor:

- a request id: the client's `x-request-id`, returned in the trailers and written in the access
  log; for a call without one that fails, one made up, in its trailers, its INTERNAL message
  and its log lines. Nothing for a successful call whose client sent none: an id nobody was
  told correlates nothing, and a trailer on every response cost 16 us of a bare echo server's
  450 (measured);
- the deadline: grpc cancels a call at the client's deadline itself (its task, and so any query
  under way: asyncpg cancels it in PostgreSQL); a unary call the client set none for is cut at
  the server's default (DEFAULT_RPC_TIMEOUT_SECONDS), DEADLINE_EXCEEDED. Not with a timer per
  call, which cost 4-16 us (asyncio.timeout) on every RPC, but by one sweep every
  SWEEP_SECONDS over the calls that have no deadline of their own;
- error mapping, the only one: a domain error (service/errors.py) becomes its status code, with
  `google.rpc.BadRequest` field violations for InvalidArgument; an RPC the servicer does not
  implement (the generated base raises NotImplementedError) is UNIMPLEMENTED; any other becomes
  INTERNAL with a message that only gives the request id, and the traceback goes to the log;
- the caller: a bearer JWT checked against the method's scope when auth is on (service/auth.py);
- a request that is not a valid message: INVALID_ARGUMENT (grpc itself would say UNKNOWN),
  naming the field when it is a string that is not UTF-8;
- one access-log line: method, status code, duration, request id (service/log.py AccessLog),
  and the request's metrics when they are on (service/metrics.py);
- a count of RPCs under way, so shutdown knows when the in-flight ones are done.

Applied once per method, when the server registers a resource (`intercepted(server, ...)`), not as a
`grpc.aio.ServerInterceptor`: grpc.aio runs a ServerInterceptor's pipeline again on every call,
which alone cost 13% of a bare echo server's throughput here (`make bench`), more than this
whole interceptor is allowed. Health checks and reflection pass by this interceptor: probes
call them every few seconds, and their lines would drown the log. They are registered through
`intercepted(server, RefuseMalformed())`, which only answers their unparsable requests as ours
are answered.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import inspect
import logging
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Protocol, TypeAlias, cast

import grpc
from google.protobuf import any_pb2, descriptor_pool
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from service import auth
from service.errors import (
    AlreadyExists,
    DeadlineExceeded,
    FailedPrecondition,
    FieldViolation,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    ResourceExhausted,
    ServiceError,
    Unauthenticated,
    Unavailable,
)
from service.log import AccessLog

logger = logging.getLogger("service.rpc")

REQUEST_ID = "x-request-id"
_NO_DEADLINE = 10**8  # seconds: grpc reports "no deadline" as a huge time_remaining()
SWEEP_SECONDS = 0.25  # how late past the default deadline a call may be cut
_OK = grpc.StatusCode.OK
_current_task = asyncio.current_task

STATUS_CODES: dict[type[ServiceError], grpc.StatusCode] = {
    InvalidArgument: grpc.StatusCode.INVALID_ARGUMENT,
    NotFound: grpc.StatusCode.NOT_FOUND,
    AlreadyExists: grpc.StatusCode.ALREADY_EXISTS,
    FailedPrecondition: grpc.StatusCode.FAILED_PRECONDITION,
    Unavailable: grpc.StatusCode.UNAVAILABLE,
    DeadlineExceeded: grpc.StatusCode.DEADLINE_EXCEEDED,
    Unauthenticated: grpc.StatusCode.UNAUTHENTICATED,
    PermissionDenied: grpc.StatusCode.PERMISSION_DENIED,
    ResourceExhausted: grpc.StatusCode.RESOURCE_EXHAUSTED,
}


class _Unparsed:
    """What a request that was not parsed deserializes to (see _parsing): why, for the client."""

    __slots__ = ("violation",)

    def __init__(self, violation: FieldViolation) -> None:
        self.violation = violation


def _parsing(
    deserialize: Callable[[bytes], Message] | None, method: str, max_bytes: int | None = None
) -> Callable[[bytes], Request] | None:
    """A deserializer that returns an _Unparsed instead of raising: grpc would answer UNKNOWN
    for bytes that do not parse, and a client's garbage is an INVALID_ARGUMENT. A request over
    `max_bytes` is not parsed at all: protobuf would build every element of a huge repeated
    field (a million update_mask paths in 3 MB) before any of our checks could refuse it."""
    if deserialize is None:
        return None
    request_type = _request_type(method)

    def parse(data: bytes) -> Request:
        if max_bytes is not None and len(data) > max_bytes:
            too_big = f"the request is {len(data)} bytes; this server takes {max_bytes}"
            return _Unparsed(FieldViolation("", too_big))
        try:
            return deserialize(data)
        except Exception:
            return _Unparsed(_malformed(request_type, data))

    return parse


def _request_type(method: str) -> Descriptor | None:
    """The request message of `/package.Service/Method`, from the descriptor pool that generated
    code registers its files in (None for a method it does not know)."""
    try:
        found = descriptor_pool.Default().FindMethodByName(method.lstrip("/").replace("/", "."))
    except KeyError:
        return None
    return found.input_type


def _malformed(request_type: Descriptor | None, data: bytes) -> FieldViolation:
    """What is wrong with request bytes that do not parse. Protobuf only says "String field had
    bad UTF-8", so the fields are walked to find which: a client sending Latin-1 or a lone
    surrogate learns that `invitation.email` is at fault, not just that the request is."""
    field = None
    if request_type is not None:
        with contextlib.suppress(ValueError):  # truncated or corrupt: no field to blame
            field = _not_utf8(request_type, memoryview(data), "", 0, {})
    if field is None:
        return FieldViolation("", "the request is not a valid message")
    return FieldViolation(field, "is not valid UTF-8")


_MAX_DEPTH = 100  # protobuf's own limit on nested messages


def _not_utf8(
    message: Descriptor, data: memoryview, prefix: str, depth: int, counts: dict[str, int]
) -> str | None:
    """The path of the first string field in a message's wire bytes that is not UTF-8, if any
    (`invitation.email`, `update_mask.paths[1]`). Linear in the bytes: each one is read once.
    `counts` numbers the elements of each repeated field across the whole request, as a message
    field sent twice is merged into one."""
    if depth > _MAX_DEPTH:
        return None
    for number, value in _length_delimited(data):
        field = message.fields_by_number.get(number)
        if field is None:
            continue
        path = prefix + field.name
        if field.is_repeated:
            counts[path] = index = counts.get(path, -1) + 1
            path += f"[{index}]"
        if field.type == FieldDescriptor.TYPE_STRING:
            try:
                str(value, "utf-8")
            except UnicodeDecodeError:
                return path
        elif field.type == FieldDescriptor.TYPE_MESSAGE and field.message_type is not None:
            found = _not_utf8(field.message_type, value, f"{path}.", depth + 1, counts)
            if found is not None:
                return found
    return None


def _length_delimited(data: memoryview) -> Iterator[tuple[int, memoryview]]:
    """(field number, bytes) of each length-delimited field in a message's wire bytes, skipping
    the others; ValueError where the bytes stop being a message."""
    position = 0
    while position < len(data):
        key, position = _varint(data, position)
        wire_type = key & 7
        if wire_type == 0:
            _, position = _varint(data, position)
        elif wire_type in (1, 5):  # 64 and 32 bits
            position += 8 if wire_type == 1 else 4
        elif wire_type == 2:
            length, position = _varint(data, position)
            if position + length > len(data):
                raise ValueError("truncated")
            yield key >> 3, data[position : position + length]
            position += length
        else:  # groups (long deprecated), or not a wire type at all
            raise ValueError(f"wire type {wire_type}")


def _varint(data: memoryview, position: int) -> tuple[int, int]:
    value = shift = 0
    while shift < 64:
        if position >= len(data):
            raise ValueError("truncated")
        byte = data[position]
        position += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, position
        shift += 7
    raise ValueError("a varint of more than ten bytes")


def _parsed(request: Request) -> Message:
    if isinstance(request, _Unparsed):
        raise InvalidArgument([request.violation])
    return request


if TYPE_CHECKING:  # generic only in the type stubs
    from service.metrics import Metrics

    # What a request deserializes to through _parsing: the message, or why it is not one.
    Request: TypeAlias = Message | _Unparsed
    # What a behavior is called with: one request, or a client's stream of them.
    Requests: TypeAlias = Request | AsyncIterator[Request]
    Context: TypeAlias = grpc.aio.ServicerContext[Message, Message]
    Unary: TypeAlias = Callable[[Message, Context], Awaitable[Message]]
    ServerStreaming: TypeAlias = Callable[[Message, Context], AsyncIterator[Message]]
    Handler: TypeAlias = grpc.RpcMethodHandler[Message, Message]
    Metadata: TypeAlias = Iterable[tuple[str, str | bytes]]
    # What `wrap` hands grpc: the handler around the servicer's, whose requests deserialize
    # through _parsing, or the handler as it was (a kind the interceptor leaves alone).
    Wrapped: TypeAlias = grpc.RpcMethodHandler[Request, Message] | Handler
    # grpc.unary_unary_rpc_method_handler and its three siblings.
    HandlerOf: TypeAlias = Callable[..., grpc.RpcMethodHandler[Request, Message]]


# The metadata of the call being looked up, as grpc gave it to the generic handler, with the
# id of the task and the method it was for (see _read_metadata). The id, not the task: the
# value lives in that task's own context, and the task itself would make a reference cycle of
# every call, left for the garbage collector.
_looked_up: contextvars.ContextVar[tuple[int, str, Metadata] | None] = contextvars.ContextVar(
    "looked_up", default=None
)


def _read_metadata(context: Context, method: str) -> tuple[str | None, str | bytes | None]:
    """The request id the client sent and its authorization header, each if any: one pass
    over the metadata.

    grpc builds the metadata's tuple for the handler lookup (HandlerCallDetails), and anew on
    each call of context.invocation_metadata(), at 9k instructions for a few headers and 20k
    with a bearer token. So the generic handler keeps what the lookup had, and it is taken
    here when it was kept by this very task, for this method: grpc.aio looks a call's handler
    up in the task that then runs it, one task a call. Anything else (another grpc) reads the
    context's."""
    looked_up = _looked_up.get()
    metadata: Metadata
    if looked_up is not None and looked_up[0] == id(_current_task()) and looked_up[1] == method:
        metadata = looked_up[2]
    else:
        metadata = context.invocation_metadata() or ()
    request_id = authorization = None
    for key, value in metadata:
        if key == REQUEST_ID:
            if isinstance(value, str) and 0 < len(value) <= 128:
                request_id = value
        elif key == "authorization" and authorization is None:
            authorization = value
    return request_id, authorization


def _rich_status(error: ServiceError) -> Trailers:
    """For InvalidArgument, the trailer of a google.rpc.Status with BadRequest details, as
    grpcio-status encodes it for clients that read it (rpc_status.from_call); else none."""
    if not isinstance(error, InvalidArgument):
        return ()
    bad_request = error_details_pb2.BadRequest(
        field_violations=[
            error_details_pb2.BadRequest.FieldViolation(field=v.field, description=v.description)
            for v in error.violations
        ]
    )
    detail = any_pb2.Any()
    detail.Pack(bad_request)
    status = status_pb2.Status(
        code=code_pb2.INVALID_ARGUMENT, message=error.message, details=[detail]
    )
    return tuple(rpc_status.to_status(status).trailing_metadata)


Trailers: TypeAlias = tuple[tuple[str, str | bytes], ...]


def status_for(
    error: Exception, method: str, request_id: str
) -> tuple[grpc.StatusCode, str, Trailers]:
    """The status an RPC ends with when its handler raised `error`: (code, message, trailers).

    A domain error is its class's code and message (and BadRequest details for InvalidArgument);
    NotImplementedError is UNIMPLEMENTED; anything else is a bug, INTERNAL, whose message gives
    only the request id: the exception's text may hold what the client must not see.
    """
    trailers: Trailers = ((REQUEST_ID, request_id),)
    if isinstance(error, ServiceError):
        trailers += _rich_status(error)
        return STATUS_CODES.get(type(error), grpc.StatusCode.INTERNAL), error.message, trailers
    if isinstance(error, NotImplementedError):
        # The generated base servicer's answer for an RPC declared in the proto and not
        # written yet: a fact about this server, not a bug of the request.
        return (
            grpc.StatusCode.UNIMPLEMENTED,
            f"{method} is not implemented by this server",
            trailers,
        )
    return grpc.StatusCode.INTERNAL, f"internal error (request id {request_id})", trailers


class RequestInterceptor:
    def __init__(
        self,
        default_timeout: float,
        access_log: AccessLog,
        *,
        metrics: Metrics | None = None,
        authenticator: auth.Authenticator | None = None,
        max_in_flight: int = 1000,
        max_streams: int = 200,
        max_streams_per_caller: int = 50,
        max_request_bytes: int = 256 * 1024,
    ) -> None:
        """Beyond `max_in_flight` RPCs of our services at once, of which at most `max_streams`
        server streams, and `max_streams_per_caller` for one authenticated caller, a call is
        RESOURCE_EXHAUSTED at once. Health and reflection are not counted: they stay answerable
        whatever clients do to the API."""
        self.default_timeout = default_timeout
        self._timeout_ns = int(default_timeout * 1e9)
        self.access_log = access_log
        self.metrics = metrics
        self.authenticator = authenticator
        self.max_in_flight = max_in_flight
        self.max_streams = max_streams
        self.max_streams_per_caller = max_streams_per_caller
        self.max_request_bytes = max_request_bytes
        # RPCs of our services under way, until grpc has sent their last byte (a response a
        # client does not read holds its place); shutdown waits for this to reach zero.
        self.in_flight = 0
        self.streams = 0
        self.streams_by_caller: dict[str, int] = {}
        # Unary calls without a deadline of their own, by their task, with when they started
        # (time.perf_counter_ns), in that order: the server's deadline is as long for all, so
        # that is the order of their deadlines too. Those cut wait in `cut` until their handler
        # has seen it.
        self.unbounded: dict[asyncio.Task[object], int] = {}
        self.cut: set[asyncio.Task[object]] = set()
        self._sweep: asyncio.TimerHandle | None = None

    def _bound(self, started: int) -> asyncio.Task[object]:
        """Give the running call, which has no deadline, the server's default one."""
        task = _current_task()
        assert task is not None  # grpc.aio runs each call in a task
        self.unbounded[task] = started
        if self._sweep is None:
            self._sweep = task.get_loop().call_later(SWEEP_SECONDS, self._cut_overdue)
        return task

    def _cut_overdue(self) -> None:
        """Cancel the calls past the default deadline (their handler says why); again in
        SWEEP_SECONDS while any are left."""
        loop = asyncio.get_running_loop()
        started_by = time.perf_counter_ns() - self._timeout_ns
        overdue = []
        for task, started in self.unbounded.items():
            if started > started_by:
                break
            overdue.append(task)
        for task in overdue:
            del self.unbounded[task]
            self.cut.add(task)
            task.cancel()
        self._sweep = loop.call_later(SWEEP_SECONDS, self._cut_overdue) if self.unbounded else None

    def wrap(self, method: str, handler: Handler) -> Wrapped:
        """The same method handler, with this interceptor around its behavior."""
        # types-grpcio types the behaviors as plain functions; on a grpc.aio server they are
        # coroutine functions and async generators.
        if handler.unary_unary is not None:
            return grpc.unary_unary_rpc_method_handler(
                self._unary(method, cast("Unary", handler.unary_unary)),
                request_deserializer=_parsing(
                    handler.request_deserializer, method, self.max_request_bytes
                ),
                response_serializer=handler.response_serializer,
            )
        if handler.unary_stream is not None:
            return grpc.unary_stream_rpc_method_handler(
                self._server_streaming(method, cast("ServerStreaming", handler.unary_stream)),
                request_deserializer=_parsing(
                    handler.request_deserializer, method, self.max_request_bytes
                ),
                response_serializer=handler.response_serializer,
            )
        return handler  # client streaming is not used by this API; add it here when it is

    # A call's passage, the same for both kinds: count it in; read its request id and caller;
    # refuse it when the server is full, the caller not allowed (before anything is said about
    # the request) or the request unparsable; run the behavior; map an exception to its status;
    # undo its context and record it. Its places are returned when grpc is done with it
    # (context.add_done_callback), after its last byte was sent, not when the behavior returns.
    # Written out in each function, not as a context manager around the behavior: on every
    # unary call, the manager's object and protocol cost more than this whole path may.

    def _unary(
        self, method: str, behavior: Unary
    ) -> Callable[[Request, Context], Awaitable[Message | None]]:
        # types-grpcio declares the callback a class where any callable of the context will do.
        returned = cast("grpc.aio._DoneCallback[Message, Message]", self._returned)

        async def unary(request: Request, context: Context) -> Message | None:
            started = time.perf_counter_ns()
            self.in_flight += 1
            context.add_done_callback(returned)
            request_id, authorization = _read_metadata(context, method)
            remaining = context.time_remaining()
            # grpc cancels the task at the client's deadline; without one, the server's applies.
            task = self._bound(started) if remaining is None or remaining > _NO_DEADLINE else None
            token = None
            code: grpc.StatusCode | None = _OK
            try:
                if self.in_flight > self.max_in_flight:
                    raise ResourceExhausted(self._busy(self.max_in_flight, "RPCs"))
                if self.authenticator is not None:
                    token = auth.set_caller(self.authenticator.authenticate(method, authorization))
                return await behavior(_parsed(request), context)
            except asyncio.CancelledError:
                if task is None or task not in self.cut:
                    code = grpc.StatusCode.CANCELLED
                    raise
                task.uncancel()  # this cancellation was ours: it ends here
                code, request_id = self._fail(self._overdue(), context, method, request_id)
            except Exception as error:
                code, request_id = self._fail(error, context, method, request_id)
                if code is None:  # the handler aborted: grpc has the status
                    raise
            finally:
                if task is not None:
                    self.unbounded.pop(task, None)
                    self.cut.discard(task)
                if token is not None:
                    auth.reset_caller(token)
                self._end(method, context, code, started, request_id)
            return None  # the error's status is set: it goes out with no response message

        return unary

    def _server_streaming(
        self, method: str, behavior: ServerStreaming
    ) -> Callable[[Request, Context], AsyncIterator[Message]]:
        async def server_streaming(request: Request, context: Context) -> AsyncIterator[Message]:
            # A stream lives as long as the client wants: only its own deadline applies.
            started = time.perf_counter_ns()
            self.in_flight += 1
            self.streams += 1
            places = _StreamPlaces(self)
            context.add_done_callback(
                cast("grpc.aio._DoneCallback[Message, Message]", places.returned)
            )
            request_id, authorization = _read_metadata(context, method)
            token = None
            code: grpc.StatusCode | None = _OK
            try:
                if self.in_flight > self.max_in_flight:
                    raise ResourceExhausted(self._busy(self.max_in_flight, "RPCs"))
                if self.streams > self.max_streams:
                    raise ResourceExhausted(self._busy(self.max_streams, "streams"))
                if self.authenticator is not None:
                    caller = self.authenticator.authenticate(method, authorization)
                    token = auth.set_caller(caller)
                    places.count_caller(caller.subject)
                async for response in behavior(_parsed(request), context):
                    yield response
            except Exception as error:
                code, request_id = self._fail(error, context, method, request_id)
                if code is None:
                    raise
            except BaseException:  # cancelled, or closed as its client went away
                code = grpc.StatusCode.CANCELLED
                raise
            finally:
                if token is not None:
                    auth.reset_caller(token)
                self._end(method, context, code, started, request_id)

        return server_streaming

    def _returned(self, context: Context) -> None:
        """grpc is done with a unary call, whichever way it ended: return its place."""
        self.in_flight -= 1

    def _overdue(self) -> DeadlineExceeded:
        return DeadlineExceeded(
            f"no deadline was set, and the server's ({self.default_timeout:g} s) passed"
        )

    @staticmethod
    def _busy(limit: int, what: str) -> str:
        return f"this server runs {limit} {what} at once already; retry later, with backoff"

    @staticmethod
    def _fail(
        error: Exception, context: Context, method: str, request_id: str | None
    ) -> tuple[grpc.StatusCode | None, str]:
        """Set the RPC's status for an exception: its code (None: the handler aborted, grpc has
        the status) and its request id, made up if the client sent none."""
        if request_id is None:
            # Not a secret, only unique: 128 random bits without uuid4's system call.
            request_id = f"{random.getrandbits(128):032x}"
        if isinstance(error, grpc.aio.AbortError):
            return None, request_id
        code, message, trailers = status_for(error, method, request_id)
        if not isinstance(error, ServiceError | NotImplementedError):
            logger.error(
                "unhandled exception",
                exc_info=error,
                extra={"fields": {"method": method, "request_id": request_id}},
            )
        context.set_code(code)
        context.set_details(message)
        context.set_trailing_metadata(trailers)
        return code, request_id

    def _end(
        self,
        method: str,
        context: Context,
        code: grpc.StatusCode | None,
        started: int,
        request_id: str | None,
    ) -> None:
        """Return the client's request id, and record the call."""
        elapsed = time.perf_counter_ns() - started
        if code is _OK and request_id is not None:  # the client's own: a failure set its trailers
            context.set_trailing_metadata(((REQUEST_ID, request_id),))
        final = code if code is not None else context.code()
        self.access_log.record(method, final, elapsed, request_id)
        if self.metrics is not None:
            self.metrics.observe(method, final, elapsed / 1e9)


class _StreamPlaces:
    """The places a server stream holds (RPCs, streams, and its caller's streams) until grpc is
    done with it."""

    __slots__ = ("caller", "interceptor")

    def __init__(self, interceptor: RequestInterceptor) -> None:
        self.interceptor = interceptor
        self.caller: str | None = None  # counted in streams_by_caller under this subject

    def count_caller(self, subject: str) -> None:
        interceptor = self.interceptor
        open_streams = interceptor.streams_by_caller.get(subject, 0) + 1
        interceptor.streams_by_caller[subject] = open_streams
        self.caller = subject
        if open_streams > interceptor.max_streams_per_caller:
            raise ResourceExhausted(
                f"this caller has {interceptor.max_streams_per_caller} streams open already; "
                "close one first"
            )

    def returned(self, context: Context) -> None:
        interceptor = self.interceptor
        interceptor.in_flight -= 1
        interceptor.streams -= 1
        if self.caller is not None:
            left = interceptor.streams_by_caller[self.caller] - 1
            if left:
                interceptor.streams_by_caller[self.caller] = left
            else:
                del interceptor.streams_by_caller[self.caller]


class Wraps(Protocol):
    """What `intercepted` puts around each method handler: RequestInterceptor, or
    RefuseMalformed."""

    def wrap(self, method: str, handler: Handler) -> Wrapped: ...


class RefuseMalformed:
    """For the services that pass by RequestInterceptor (health, reflection): their handlers as
    they are, except that a request that does not parse is INVALID_ARGUMENT, as on our own
    services. grpc would answer UNKNOWN, and log a client's bad bytes as a traceback."""

    def wrap(self, method: str, handler: Handler) -> Wrapped:
        kinds: tuple[tuple[Callable[..., object] | None, HandlerOf], ...] = (
            (handler.unary_unary, grpc.unary_unary_rpc_method_handler),
            (handler.unary_stream, grpc.unary_stream_rpc_method_handler),
            (handler.stream_unary, grpc.stream_unary_rpc_method_handler),
            (handler.stream_stream, grpc.stream_stream_rpc_method_handler),
        )
        for behavior, handler_of in kinds:
            if behavior is not None:
                return handler_of(
                    _refusing(behavior),
                    request_deserializer=_parsing(handler.request_deserializer, method),
                    response_serializer=handler.response_serializer,
                )
        return handler


def _refusing(behavior: Callable[..., object]) -> Callable[[Requests, Context], object]:
    """`behavior`, after a check of its request, or of each request of a client's stream; an
    async generator stays one, as grpc tells the two kinds apart."""

    if inspect.isasyncgenfunction(behavior):

        async def generating(requests: Requests, context: Context) -> AsyncIterator[Message]:
            async for response in behavior(await _checked(requests, context), context):
                yield response

        return generating

    async def returning(requests: Requests, context: Context) -> object:
        result = behavior(await _checked(requests, context), context)
        return await result if inspect.isawaitable(result) else result  # grpc.aio allows both

    return returning


async def _checked(requests: Requests, context: Context) -> Message | AsyncIterator[Message]:
    """The request, parsed; a client's stream, each request checked as it comes."""
    if isinstance(requests, AsyncIterator):
        return _each_parsed(requests, context)
    return await _refuse_malformed(requests, context)


async def _each_parsed(
    requests: AsyncIterator[Request], context: Context
) -> AsyncIterator[Message]:
    async for request in requests:
        yield await _refuse_malformed(request, context)


async def _refuse_malformed(request: Request, context: Context) -> Message:
    """The request, or INVALID_ARGUMENT with its violation when it did not parse."""
    if isinstance(request, _Unparsed):
        error = InvalidArgument([request.violation])
        trailers = _rich_status(error)
        await context.abort(grpc.StatusCode.INVALID_ARGUMENT, error.message, trailers)
    return request


class _InterceptedGenericHandler(grpc.GenericRpcHandler):
    """A generic handler whose method handlers are wrapped, each once, on first use. Only the
    methods it serves are kept: a client naming made-up methods adds nothing."""

    def __init__(self, inner: grpc.GenericRpcHandler, interceptor: Wraps) -> None:
        self.inner = inner
        self.interceptor = interceptor
        self.wrapped: dict[str, Wrapped] = {}

    def service(self, handler_call_details: grpc.HandlerCallDetails) -> Wrapped | None:
        method = handler_call_details.method
        wrapped = self.wrapped.get(method)
        if wrapped is None:
            handler = self.inner.service(handler_call_details)
            if handler is None:
                return None
            wrapped = self.wrapped[method] = self.interceptor.wrap(method, handler)
        # The call's metadata, already built by grpc for this lookup (_read_metadata).
        _looked_up.set((id(_current_task()), method, handler_call_details.invocation_metadata))
        return wrapped


class intercepted:  # noqa: N801  (used like a function: `add_X_to_server(s, intercepted(...))`)
    """Stands in for the server in a generated `add_XServicer_to_server` call, and hands the
    server every method handler with the interceptor around it.

    Every method is served through a generic handler, none as a registered method: grpc.aio
    keeps one call request pending per registered method, and for every call it serves it
    waits again on all of them (asyncio.wait: callbacks added to and removed from each). With
    the example's and health's 11 methods, that was 68k instructions a GetInvitation, 10% of
    the server's whole work, and each resource added would have made every call dearer. A
    generic handler costs grpc one lookup by name instead. Generated code registers both
    kinds: the generic handler serves, and the registered ones are dropped, unless no generic
    handler of that service came first."""

    def __init__(self, server: grpc.aio.Server, interceptor: Wraps) -> None:
        self.server = server
        self.interceptor = interceptor
        self.services: set[str] = set()  # those a generic handler was added for

    def add_generic_rpc_handlers(self, handlers: Sequence[grpc.GenericRpcHandler]) -> None:
        for handler in handlers:
            if isinstance(handler, grpc.ServiceRpcHandler):
                self.services.add(handler.service_name())
        self.server.add_generic_rpc_handlers(
            tuple(_InterceptedGenericHandler(h, self.interceptor) for h in handlers)
        )

    def add_registered_method_handlers(self, service: str, handlers: dict[str, Handler]) -> None:
        if service not in self.services:
            generic = grpc.method_handlers_generic_handler(service, handlers)
            self.add_generic_rpc_handlers((generic,))
