"""The generated type hints make mypy --strict useful: right code passes, wrong code is caught.

Each snippet is a file that mypy checks from the repository root, as `make typecheck` would.
"""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.tools.conftest import ROOT

HEADER = """\
from collections.abc import AsyncIterator

import grpc
from google.protobuf import empty_pb2

from generated.invitations.v1 import invitations_pb2 as pb
from generated.invitations.v1 import invitations_pb2_grpc as pb_grpc
from generated.invitations.v1.invitations_enums import InvitationStatus, Role

Context = grpc.aio.ServicerContext
"""

# A complete aio servicer and an aio client: must pass --strict with no Any expression at all.
GOOD = """\
class Servicer(pb_grpc.InvitationServiceServicer):
    async def CreateInvitation(
        self, request: pb.CreateInvitationRequest, context: Context[pb.CreateInvitationRequest, pb.Invitation]
    ) -> pb.Invitation:
        role = Role.from_proto(request.invitation.role)
        return pb.Invitation(
            email=request.invitation.email,
            role=role.to_proto(),
            status=InvitationStatus.PENDING.to_proto(),
        )

    async def GetInvitation(
        self, request: pb.GetInvitationRequest, context: Context[pb.GetInvitationRequest, pb.Invitation]
    ) -> pb.Invitation:
        await context.abort(grpc.StatusCode.NOT_FOUND, f"{request.name} does not exist")

    async def ListInvitations(
        self,
        request: pb.ListInvitationsRequest,
        context: Context[pb.ListInvitationsRequest, pb.ListInvitationsResponse],
    ) -> pb.ListInvitationsResponse:
        return pb.ListInvitationsResponse(invitations=[pb.Invitation()], next_page_token="")

    async def UpdateInvitation(
        self, request: pb.UpdateInvitationRequest, context: Context[pb.UpdateInvitationRequest, pb.Invitation]
    ) -> pb.Invitation:
        paths: list[str] = list(request.update_mask.paths)
        return request.invitation if paths else pb.Invitation()

    async def DeleteInvitation(
        self, request: pb.DeleteInvitationRequest, context: Context[pb.DeleteInvitationRequest, empty_pb2.Empty]
    ) -> empty_pb2.Empty:
        return empty_pb2.Empty()

    async def AcceptInvitation(
        self, request: pb.AcceptInvitationRequest, context: Context[pb.AcceptInvitationRequest, pb.Invitation]
    ) -> pb.Invitation:
        return pb.Invitation(name=request.name, status=InvitationStatus.ACCEPTED.to_proto())

    async def DeclineInvitation(
        self, request: pb.DeclineInvitationRequest, context: Context[pb.DeclineInvitationRequest, pb.Invitation]
    ) -> pb.Invitation:
        return pb.Invitation(name=request.name, status=InvitationStatus.DECLINED.to_proto())

    async def WatchInvitations(
        self, request: pb.WatchInvitationsRequest, context: Context[pb.WatchInvitationsRequest, pb.InvitationEvent]
    ) -> AsyncIterator[pb.InvitationEvent]:
        yield pb.InvitationEvent(kind=pb.InvitationEvent.KIND_CREATED)


async def serve() -> grpc.aio.Server:
    server = grpc.aio.server()
    pb_grpc.add_InvitationServiceServicer_to_server(Servicer(), server)
    server.add_insecure_port("127.0.0.1:0")
    await server.start()
    return server


async def call(channel: grpc.aio.Channel) -> list[str]:
    stub = pb_grpc.InvitationServiceStub(channel)
    created = await stub.CreateInvitation(
        pb.CreateInvitationRequest(invitation=pb.Invitation(email="a@example.com", role=pb.ROLE_ADMIN)),
        timeout=1.0,
    )
    status: InvitationStatus = InvitationStatus.from_proto(created.status)
    names = [status.name, created.create_time.ToDatetime().isoformat()]
    async for event in stub.WatchInvitations(pb.WatchInvitationsRequest()):
        names.append(event.invitation.name)
    return names
"""

# Each wrong snippet, with the mypy error code and message part it must produce.
WRONG = {
    "wrong_field_type": (
        "pb.Invitation(email=5)",
        "arg-type",
        'Argument "email" to "Invitation" has incompatible type "int"',
    ),
    "wrong_enum_for_field": (
        "pb.Invitation(role=InvitationStatus.PENDING.to_proto())",
        "arg-type",
        'Argument "role" to "Invitation" has incompatible type "generated.invitations.v1.invitations_pb2._InvitationStatus.ValueType"',
    ),
    "unknown_field": (
        "pb.Invitation(nickname='x')",
        "call-arg",
        'Unexpected keyword argument "nickname" for "Invitation"',
    ),
    "missing_rpc": (
        """\
        class Partial(pb_grpc.InvitationServiceServicer):
            async def GetInvitation(
                self, request: pb.GetInvitationRequest, context: Context[pb.GetInvitationRequest, pb.Invitation]
            ) -> pb.Invitation:
                return pb.Invitation()

        pb_grpc.add_InvitationServiceServicer_to_server(Partial(), grpc.aio.server())
        """,
        "abstract",
        'Cannot instantiate abstract class "Partial" with abstract attributes "AcceptInvitation"',
    ),
    "wrong_request_type_on_client": (
        """\
        async def call(channel: grpc.aio.Channel) -> None:
            stub = pb_grpc.InvitationServiceStub(channel)
            await stub.GetInvitation(pb.DeleteInvitationRequest(name="invitations/1"))
        """,
        "arg-type",
        'has incompatible type "DeleteInvitationRequest"; expected "GetInvitationRequest"',
    ),
    "wrong_response_type_in_servicer": (
        """\
        class Wrong(pb_grpc.InvitationServiceServicer):
            async def GetInvitation(
                self, request: pb.GetInvitationRequest, context: Context[pb.GetInvitationRequest, pb.Invitation]
            ) -> pb.Invitation:
                return pb.ListInvitationsResponse()
        """,
        "return-value",
        'Incompatible return value type (got "ListInvitationsResponse", expected "Invitation")',
    ),
}


def run_mypy(files: list[Path]) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--disallow-any-expr", "--no-pretty"]
        + [str(f) for f in files],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    return result.stdout + result.stderr


@pytest.fixture(scope="module")
def mypy_output(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[str]]:
    """One mypy run over every snippet (mypy's start-up dominates); errors by snippet name."""
    folder = tmp_path_factory.mktemp("snippets")
    files = []
    for name, body in {"good": GOOD, **{n: w[0] for n, w in WRONG.items()}}.items():
        path = folder / f"{name}.py"
        path.write_text(HEADER + "\n\n" + textwrap.dedent(body))
        files.append(path)
    output = run_mypy(files)
    errors: dict[str, list[str]] = {path.stem: [] for path in files}
    for line in output.splitlines():
        match = re.match(r".*?(\w+)\.py:\d+: error: (.*)", line)
        if match:
            errors[match.group(1)].append(match.group(2))
    return errors


def test_a_complete_aio_servicer_and_client_pass_strict_with_no_any(
    mypy_output: dict[str, list[str]],
) -> None:
    assert mypy_output["good"] == []


@pytest.mark.parametrize("name", sorted(WRONG))
def test_wrong_code_is_rejected(name: str, mypy_output: dict[str, list[str]]) -> None:
    _, code, message = WRONG[name]
    assert any(f"[{code}]" in error and message in error for error in mypy_output[name]), (
        mypy_output[name]
    )
