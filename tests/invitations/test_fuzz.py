"""Hypothesis-generated requests for every RPC: a client's mistakes are never INTERNAL or UNKNOWN.

Any request a client can encode is fair game: random strings in every field, enum numbers the
proto does not define, timestamps at the edges of their range, update masks with made-up paths,
page tokens of random bytes. Every answer must be a deliberate status code.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import grpc
import pytest
from google.protobuf import field_mask_pb2, timestamp_pb2
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generated.invitations.v1 import invitations_pb2 as pb
from generated.invitations.v1 import invitations_pb2_grpc as pb_grpc
from tests.support import ServerProcess

NEVER = {grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN}
EXAMPLES = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

int32 = st.integers(-(2**31), 2**31 - 1)
text = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["invitations/", "invitations/00000000-0000-0000-0000-000000000000", "a@b.co"]),
    st.builds(lambda s: f"invitations/{s}", st.text(max_size=40)),
    st.builds(lambda s: f"{s}@example.com", st.text(min_size=1, max_size=300)),
)
timestamps = st.builds(
    timestamp_pb2.Timestamp,
    seconds=st.integers(-(2**40), 2**40),
    nanos=st.integers(-(10**9), 2 * 10**9),
)


@st.composite
def invitations(draw: st.DrawFn) -> pb.Invitation:
    invitation = pb.Invitation(
        name=draw(text),
        email=draw(text),
        role=pb.Role.ValueType(draw(st.one_of(st.integers(0, 4), int32))),
        status=pb.InvitationStatus.ValueType(draw(st.one_of(st.integers(0, 5), int32))),
    )
    for field in ("expire_time", "create_time", "update_time"):
        stamp = draw(st.none() | timestamps)
        if stamp is not None:
            getattr(invitation, field).CopyFrom(stamp)
    return invitation


masks = st.none() | st.builds(
    lambda paths: field_mask_pb2.FieldMask(paths=paths),
    st.lists(st.sampled_from(["email", "role", "status", "expire_time", "name", "*"]) | text),
)


@st.composite
def updates(draw: st.DrawFn) -> pb.UpdateInvitationRequest:
    request = pb.UpdateInvitationRequest(invitation=draw(invitations()))
    mask = draw(masks)
    if mask is not None:
        request.update_mask.CopyFrom(mask)
    return request


@pytest.fixture(scope="module")
def stub(server: ServerProcess) -> Iterator[pb_grpc.InvitationServiceStub]:
    with grpc.insecure_channel(server.target) as channel:
        yield pb_grpc.InvitationServiceStub(channel)


def check(call: Callable[..., object], request: object) -> None:
    """Call a unary RPC; it may fail, but only with a deliberate status code."""
    code, details = grpc.StatusCode.OK, None
    try:
        call(request, timeout=10)
    except grpc.RpcError as error:
        code, details = error.code(), error.details()
    assert code not in NEVER, (request, details)


@EXAMPLES
@given(st.builds(pb.CreateInvitationRequest, invitation=invitations()))
def test_create(stub: pb_grpc.InvitationServiceStub, request: pb.CreateInvitationRequest) -> None:
    check(stub.CreateInvitation, request)


@EXAMPLES
@given(text)
def test_get_delete_accept_decline(stub: pb_grpc.InvitationServiceStub, name: str) -> None:
    check(stub.GetInvitation, pb.GetInvitationRequest(name=name))
    check(stub.DeleteInvitation, pb.DeleteInvitationRequest(name=name))
    check(stub.AcceptInvitation, pb.AcceptInvitationRequest(name=name))
    check(stub.DeclineInvitation, pb.DeclineInvitationRequest(name=name))


@EXAMPLES
@given(
    st.builds(
        pb.ListInvitationsRequest,
        page_size=int32,
        page_token=text | st.binary(max_size=60).map(lambda b: b.hex()),
        status=st.one_of(st.integers(0, 5), int32).map(pb.InvitationStatus.ValueType),
    )
)
def test_list(stub: pb_grpc.InvitationServiceStub, request: pb.ListInvitationsRequest) -> None:
    check(stub.ListInvitations, request)


@EXAMPLES
@given(updates())
def test_update(stub: pb_grpc.InvitationServiceStub, request: pb.UpdateInvitationRequest) -> None:
    check(stub.UpdateInvitation, request)


def test_update_of_a_real_invitation(stub: pb_grpc.InvitationServiceStub) -> None:
    """The same generated updates, aimed at an invitation that exists."""
    created = stub.CreateInvitation(
        pb.CreateInvitationRequest(
            invitation=pb.Invitation(email="fuzz-target@example.com", role=pb.ROLE_VIEWER)
        )
    )

    @EXAMPLES
    @given(updates())
    def aimed(request: pb.UpdateInvitationRequest) -> None:
        request.invitation.name = created.name
        check(stub.UpdateInvitation, request)

    aimed()


def test_watch_with_a_deadline(stub: pb_grpc.InvitationServiceStub) -> None:
    stream = stub.WatchInvitations(pb.WatchInvitationsRequest(), timeout=0.5)
    with pytest.raises(grpc.RpcError) as caught:
        list(stream)
    assert caught.value.code() is grpc.StatusCode.DEADLINE_EXCEEDED
