"""The floor that `make bench` measures the service against (tools/bench/minimal.py) does the
same work on the wire: for the same rows it answers GetInvitation, CreateInvitation and
ListInvitations with the service's very bytes. When the example changes its messages, SQL or
page tokens, this fails until the floor follows."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import grpc
import pytest

from generated.invitations.v1 import invitations_pb2 as pb
from tests.support import ServerProcess
from tools.bench.launch import Running, minimal_server

SERVICE = "/invitations.v1.InvitationService"
KEY = secrets.token_urlsafe(32)  # both sign page tokens with it


@pytest.fixture
def service(database_url: str) -> Iterator[ServerProcess]:
    server = ServerProcess(database_url, page_token_key=KEY).start()
    yield server
    server.stop_cleanly()


@pytest.fixture
def floor(database_url: str) -> Iterator[Running]:
    with minimal_server(database_url, env={"PAGE_TOKEN_KEY": KEY}) as server:
        yield server


def _get(name: str) -> bytes:
    return pb.GetInvitationRequest(name=name).SerializeToString()


def _create(email: str, expire_time: datetime | None = None) -> bytes:
    invitation = pb.Invitation(email=email, role=pb.ROLE_EDITOR)
    if expire_time is not None:
        invitation.expire_time.FromDatetime(expire_time)
    return pb.CreateInvitationRequest(invitation=invitation).SerializeToString()


def _list(page_size: int) -> bytes:
    return pb.ListInvitationsRequest(page_size=page_size).SerializeToString()


async def test_the_floor_answers_with_the_services_bytes(
    service: ServerProcess, floor: Running, email: str
) -> None:
    raw: Callable[[bytes], bytes] = bytes
    async with (
        grpc.aio.insecure_channel(service.target) as ours,
        grpc.aio.insecure_channel(floor.target) as minimal,
    ):

        async def call(channel: grpc.aio.Channel, method: str, request: bytes) -> bytes:
            stub = channel.unary_unary(
                f"{SERVICE}/{method}", request_serializer=raw, response_deserializer=raw
            )
            answer: bytes = await stub(request, timeout=10)
            return answer

        # Made by the service, then read by both.
        made = await call(ours, "CreateInvitation", _create(f"a-{email}"))
        name = pb.Invitation.FromString(made).name
        assert await call(minimal, "GetInvitation", _get(name)) == made
        assert await call(ours, "GetInvitation", _get(name)) == made

        # Made by the floor, with an expiry, then read by both.
        later = datetime.now(UTC).replace(microsecond=0) + timedelta(days=7)
        made = await call(minimal, "CreateInvitation", _create(f"b-{email}", later))
        assert pb.Invitation.FromString(made).HasField("expire_time")
        name = pb.Invitation.FromString(made).name
        assert await call(ours, "GetInvitation", _get(name)) == made
        assert await call(minimal, "GetInvitation", _get(name)) == made

        # A page with a next_page_token (three rows at least now), and the default page.
        await call(minimal, "CreateInvitation", _create(f"c-{email}"))
        page = await call(ours, "ListInvitations", _list(2))
        assert pb.ListInvitationsResponse.FromString(page).next_page_token
        assert await call(minimal, "ListInvitations", _list(2)) == page
        page = await call(ours, "ListInvitations", _list(0))
        assert await call(minimal, "ListInvitations", _list(0)) == page
