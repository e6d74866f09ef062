"""ListInvitations paging (AIP-158): every row exactly once, and tokens that cannot be misused."""

from __future__ import annotations

import base64
import uuid

import grpc
import pytest

from generated.invitations.v1 import invitations_pb2 as pb
from generated.invitations.v1.invitations_enums import InvitationStatus, Role
from service.client import field_violations
from service.invitations.client import InvitationsClient


async def test_paging_returns_every_row_once_while_rows_are_inserted(
    client: InvitationsClient,
) -> None:
    marker = uuid.uuid4().hex[:8]
    existing = {
        (await client.create(f"{marker}-{n}@example.com", Role.VIEWER)).name for n in range(45)
    }

    seen: list[str] = []
    token = ""
    pages = inserted = 0
    while True:
        page = await client.list(page_size=7, page_token=token)
        seen += [i.name for i in page.invitations if i.email.startswith(marker)]
        pages += 1
        token = page.next_page_token
        if not token:
            break
        for _ in range(2):  # rows inserted between two pages of one listing
            await client.create(f"{marker}-late-{inserted}@example.com", Role.VIEWER)
            inserted += 1

    assert pages > 1
    assert len(seen) == len(set(seen))  # nothing twice
    assert existing <= set(seen)  # nothing that existed before is missed


async def test_the_last_page_has_no_token(client: InvitationsClient) -> None:
    page = await client.list(page_size=1000)
    assert page.next_page_token == ""


async def call_with_token(
    client: InvitationsClient, token: str, status: InvitationStatus = InvitationStatus.UNSPECIFIED
) -> grpc.aio.AioRpcError:
    request = pb.ListInvitationsRequest(page_size=1, page_token=token, status=status.to_proto())
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await client.stub.ListInvitations(request)
    return caught.value


async def test_a_tampered_token_is_an_invalid_argument(
    client: InvitationsClient, email: str
) -> None:
    await client.create(email, Role.VIEWER)
    await client.create("b" + email, Role.VIEWER)
    token = (await client.list(page_size=1)).next_page_token
    raw = bytearray(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    raw[8] ^= 1  # the cursor moved: its timestamp's last byte, the signature left as it was
    tampered = base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=")

    for bad in (tampered, token[:-3], "garbage", "💥"):
        error = await call_with_token(client, bad)
        assert error.code() is grpc.StatusCode.INVALID_ARGUMENT
        assert [f for f, _ in field_violations(error)] == ["page_token"]


async def test_a_token_for_another_filter_is_an_invalid_argument(
    client: InvitationsClient, email: str
) -> None:
    await client.create(email, Role.VIEWER)
    await client.create("b" + email, Role.VIEWER)
    token = (await client.list(page_size=1)).next_page_token

    error = await call_with_token(client, token, InvitationStatus.PENDING)

    assert error.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert "only works with the request it came from" in dict(field_violations(error))["page_token"]


async def test_a_negative_page_size_is_an_invalid_argument(client: InvitationsClient) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await client.stub.ListInvitations(pb.ListInvitationsRequest(page_size=-1))

    assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert [f for f, _ in field_violations(caught.value)] == ["page_size"]
