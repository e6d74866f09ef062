"""What happens around every RPC, in one interceptor:

- a request id, taken from the `x-request-id` metadata or made up, returned in the trailers;
- the deadline: the client's, or the server's default for unary calls, set for the database work
  (service/deadline.py);
- error mapping, the only one: a domain error (service/errors.py) becomes its status code, with
  `google.rpc.BadRequest` field violations for InvalidArgument; any other exception becomes
  INTERNAL with a message that only gives the request id, and the traceback goes to the log;
- one structured log line: method, status code, duration, request id.

It is one interceptor, not a chain, because each layer of wrapping costs CPU on every call
(measured in `make bench`). Health checks and reflection pass through untouched: probes call
them every few seconds, and their lines would drown the log.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, cast

import grpc
from google.protobuf import any_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2

from service import deadline
from service.errors import (
    AlreadyExists,
    DeadlineExceeded,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    ServiceError,
    Unavailable,
)

logger = logging.getLogger("service.rpc")

REQUEST_ID = "x-request-id"
STATUS_DETAILS = "grpc-status-details-bin"
UNTOUCHED = ("/grpc.health.v1.", "/grpc.reflection.")
_NO_DEADLINE = 10**8  # seconds: grpc reports "no deadline" as a huge time_remaining()

STATUS_CODES: dict[type[ServiceError], grpc.StatusCode] = {
    InvalidArgument: grpc.StatusCode.INVALID_ARGUMENT,
    NotFound: grpc.StatusCode.NOT_FOUND,
    AlreadyExists: grpc.StatusCode.ALREADY_EXISTS,
    FailedPrecondition: grpc.StatusCode.FAILED_PRECONDITION,
    Unavailable: grpc.StatusCode.UNAVAILABLE,
    DeadlineExceeded: grpc.StatusCode.DEADLINE_EXCEEDED,
}

Context = grpc.aio.ServicerContext[Any, Any]
Unary = Callable[[Any, Context], Awaitable[Any]]
ServerStreaming = Callable[[Any, Context], AsyncIterator[Any]]


def _request_id(context: Context) -> str:
    for key, value in context.invocation_metadata() or ():
        if key == REQUEST_ID and isinstance(value, str) and 0 < len(value) <= 128:
            return value
    return uuid.uuid4().hex


def _remaining(context: Context, default: float | None) -> float | None:
    remaining = context.time_remaining()
    if remaining is None or remaining > _NO_DEADLINE:
        return default
    return max(remaining, 0.0)


def _rich_status(error: ServiceError) -> bytes | None:
    """google.rpc.Status with BadRequest details, for clients that read them (grpcio-status)."""
    if not isinstance(error, InvalidArgument):
        return None
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
    return bytes(status.SerializeToString())


class RequestInterceptor(grpc.aio.ServerInterceptor):
    def __init__(self, default_timeout: float) -> None:
        self.default_timeout = default_timeout
        # RPCs of our services under way; shutdown waits for this to reach zero (server.py).
        self.in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()

    def _begin(self) -> None:
        self.in_flight += 1
        self._idle.clear()

    def _end(self) -> None:
        self.in_flight -= 1
        if not self.in_flight:
            self._idle.set()

    async def wait_idle(self) -> None:
        """Until no RPC of our services is under way."""
        await self._idle.wait()

    async def intercept_service(
        self,
        continuation: Callable[
            [grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler[Any, Any] | None]
        ],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler[Any, Any] | None:
        handler = await continuation(handler_call_details)
        method = handler_call_details.method
        if handler is None or method.startswith(UNTOUCHED):
            return handler
        # types-grpcio types the behaviors as plain functions; on a grpc.aio server they are
        # coroutine functions and async generators.
        if handler.unary_unary is not None:
            return grpc.unary_unary_rpc_method_handler(
                self._unary(method, cast("Unary", handler.unary_unary)),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        if handler.unary_stream is not None:
            return grpc.unary_stream_rpc_method_handler(
                self._server_streaming(method, cast("ServerStreaming", handler.unary_stream)),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        return handler  # client streaming is not used by this API; add it here when it is

    def _unary(self, method: str, behavior: Unary) -> Unary:
        async def unary(request: Any, context: Context) -> Any:
            self._begin()
            started = time.perf_counter()
            request_id = _request_id(context)
            code = grpc.StatusCode.OK
            try:
                with deadline.within(_remaining(context, self.default_timeout)):
                    return await behavior(request, context)
            except Exception as error:
                code = await self._fail(error, context, method, request_id)
                if isinstance(error, grpc.aio.AbortError):
                    raise
                return None  # the status set by _fail goes out with no response message
            except BaseException:
                code = grpc.StatusCode.CANCELLED
                raise
            finally:
                self._end()
                if code is grpc.StatusCode.OK:
                    context.set_trailing_metadata(((REQUEST_ID, request_id),))
                self._log(method, code, started, request_id)

        return unary

    def _server_streaming(self, method: str, behavior: ServerStreaming) -> ServerStreaming:
        async def server_streaming(request: Any, context: Context) -> AsyncIterator[Any]:
            self._begin()
            started = time.perf_counter()
            request_id = _request_id(context)
            code = grpc.StatusCode.OK
            try:
                # A stream lives as long as the client wants: only its own deadline applies.
                with deadline.within(_remaining(context, None)):
                    async for response in behavior(request, context):
                        yield response
            except Exception as error:
                code = await self._fail(error, context, method, request_id)
                if isinstance(error, grpc.aio.AbortError):
                    raise
            except BaseException:
                code = grpc.StatusCode.CANCELLED
                raise
            finally:
                self._end()
                if code is grpc.StatusCode.OK:
                    context.set_trailing_metadata(((REQUEST_ID, request_id),))
                self._log(method, code, started, request_id)

        return server_streaming

    @staticmethod
    async def _fail(
        error: BaseException, context: Context, method: str, request_id: str
    ) -> grpc.StatusCode:
        """Set the RPC's status for an exception; return the code to log. The caller re-raises."""
        if isinstance(error, grpc.aio.AbortError):  # the handler aborted by itself
            return context.code()
        if not isinstance(error, Exception):  # cancelled by the client or by shutdown
            return grpc.StatusCode.CANCELLED
        trailers: tuple[tuple[str, str | bytes], ...] = ((REQUEST_ID, request_id),)
        if isinstance(error, ServiceError):
            code = STATUS_CODES.get(type(error), grpc.StatusCode.INTERNAL)
            message = error.message
            details = _rich_status(error)
            if details is not None:
                trailers += ((STATUS_DETAILS, details),)
        else:
            code = grpc.StatusCode.INTERNAL
            message = f"internal error (request id {request_id})"
            logger.error(
                "unhandled exception",
                exc_info=error,
                extra={"fields": {"method": method, "request_id": request_id}},
            )
        context.set_code(code)
        context.set_details(message)
        context.set_trailing_metadata(trailers)
        return code

    @staticmethod
    def _log(method: str, code: grpc.StatusCode, started: float, request_id: str) -> None:
        if logger.isEnabledFor(logging.INFO):
            fields = {
                "method": method,
                "code": code.name,
                "duration_ms": round((time.perf_counter() - started) * 1000, 3),
                "request_id": request_id,
            }
            logger.info("rpc", extra={"fields": fields})
