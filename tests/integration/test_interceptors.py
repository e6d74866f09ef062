"""The request interceptor on a real grpc.aio server and socket, with servicers that misbehave."""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator

import grpc
import pytest
from google.protobuf import empty_pb2
from typing_extensions import override

from generated.invitations.v1 import invitations_pb2 as pb
from generated.invitations.v1 import invitations_pb2_grpc as pb_grpc
from service.errors import NotFound
from service.interceptors import RequestInterceptor, intercepted
from service.log import AccessLog

Context = grpc.aio.ServicerContext


class Broken(pb_grpc.InvitationServiceServicer):
    """A servicer with a bug, a domain error and a self-inflicted abort."""

    @override
    async def GetInvitation(
        self,
        request: pb.GetInvitationRequest,
        context: Context[pb.GetInvitationRequest, pb.Invitation],
    ) -> pb.Invitation:
        raise RuntimeError("password=hunter2 in a stack trace")

    @override
    async def DeleteInvitation(
        self,
        request: pb.DeleteInvitationRequest,
        context: Context[pb.DeleteInvitationRequest, empty_pb2.Empty],
    ) -> empty_pb2.Empty:
        raise NotFound(f"{request.name} does not exist")

    @override
    async def AcceptInvitation(
        self,
        request: pb.AcceptInvitationRequest,
        context: Context[pb.AcceptInvitationRequest, pb.Invitation],
    ) -> pb.Invitation:
        await context.abort(grpc.StatusCode.PERMISSION_DENIED, "not yours")


@pytest.fixture
def access_log() -> AccessLog:
    return AccessLog(io.StringIO(), "json", enabled=True)


@pytest.fixture
async def stub(access_log: AccessLog) -> AsyncIterator[pb_grpc.InvitationServiceAsyncStub]:
    server = grpc.aio.server()
    interceptor = RequestInterceptor(default_timeout=5, access_log=access_log)
    servicer = Broken()  # type: ignore[abstract]  # only the three RPCs above are called
    pb_grpc.add_InvitationServiceServicer_to_server(servicer, intercepted(server, interceptor))  # type: ignore[arg-type]  # a stand-in
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        yield pb_grpc.InvitationServiceStub(channel)
    await server.stop(None)


async def test_a_bug_is_internal_with_no_internals_leaked(
    stub: pb_grpc.InvitationServiceAsyncStub, caplog: pytest.LogCaptureFixture
) -> None:
    call = stub.GetInvitation(pb.GetInvitationRequest(name="x"), metadata=(("x-request-id", "r1"),))
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call

    assert caught.value.code() is grpc.StatusCode.INTERNAL
    assert caught.value.details() == "internal error (request id r1)"
    assert "hunter2" not in str(caught.value.trailing_metadata())
    [logged] = [r for r in caplog.records if r.getMessage() == "unhandled exception"]
    assert logged.exc_info is not None
    assert "hunter2" in str(logged.exc_info[1])


async def test_a_domain_error_becomes_its_status_code(
    stub: pb_grpc.InvitationServiceAsyncStub,
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.DeleteInvitation(pb.DeleteInvitationRequest(name="invitations/9"))

    assert caught.value.code() is grpc.StatusCode.NOT_FOUND
    assert caught.value.details() == "invitations/9 does not exist"


async def test_a_handlers_own_abort_passes_through(
    stub: pb_grpc.InvitationServiceAsyncStub, access_log: AccessLog
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.AcceptInvitation(pb.AcceptInvitationRequest(name="x"))

    assert caught.value.code() is grpc.StatusCode.PERMISSION_DENIED
    assert caught.value.details() == "not yours"
    access_log.flush()
    [line] = [json.loads(line) for line in access_log.stream.getvalue().splitlines()]  # type: ignore[attr-defined]
    assert line["method"] == "/invitations.v1.InvitationService/AcceptInvitation"
    assert line["code"] == "PERMISSION_DENIED"
