"""Every RPC of the invitations API over a real socket: what a client sees."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import grpc
import pytest
from google.protobuf import field_mask_pb2

from generated.invitations.v1 import invitations_pb2 as pb
from generated.invitations.v1.invitations_enums import InvitationEventKind, InvitationStatus, Role
from service.client import field_violations
from service.db.database import asyncpg_dsn
from service.invitations.client import InvitationsClient
from tests.support import ServerProcess, poll, until_database_clock_passes

Code = grpc.StatusCode


async def rpc_error(call: object) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call  # type: ignore[misc]  # any awaitable RPC
    return caught.value


def missing_name() -> str:
    return f"invitations/{uuid.uuid4()}"


# Happy paths -----------------------------------------------------------------------------------


async def test_create_then_get(client: InvitationsClient, email: str) -> None:
    expire = datetime.now(UTC).replace(microsecond=0) + timedelta(days=7)

    created = await client.create(email.upper(), Role.EDITOR, expire)

    assert created.name.startswith("invitations/")
    assert created.email == email  # stored lower-case
    assert Role.from_proto(created.role) is Role.EDITOR
    assert InvitationStatus.from_proto(created.status) is InvitationStatus.PENDING
    assert created.create_time.ToDatetime(UTC) > datetime.now(UTC) - timedelta(minutes=1)
    assert created.update_time == created.create_time
    assert created.expire_time.ToDatetime(UTC) == expire
    assert await client.get(created.name) == created


async def test_list_filters_by_status(client: InvitationsClient, email: str) -> None:
    pending = await client.create(email, Role.VIEWER)
    declined = await client.decline((await client.create("d-" + email, Role.VIEWER)).name)

    names = {i.name async for i in client.list_all(InvitationStatus.DECLINED)}

    assert declined.name in names
    assert pending.name not in names


async def test_update_changes_only_the_masked_fields(client: InvitationsClient, email: str) -> None:
    created = await client.create(email, Role.VIEWER)
    request = pb.UpdateInvitationRequest(
        invitation=pb.Invitation(name=created.name, email="other-" + email, role=pb.ROLE_ADMIN),
        update_mask=field_mask_pb2.FieldMask(paths=["role"]),
    )

    updated = await client.stub.UpdateInvitation(request)

    assert Role.from_proto(updated.role) is Role.ADMIN
    assert updated.email == email  # not in the mask: unchanged although the request set it
    assert updated.update_time.ToDatetime() > created.update_time.ToDatetime()
    assert await client.get(created.name) == updated


async def test_update_without_a_mask_changes_the_populated_fields(
    client: InvitationsClient, email: str
) -> None:
    created = await client.create(email, Role.VIEWER)
    request = pb.UpdateInvitationRequest(
        invitation=pb.Invitation(name=created.name, email="new-" + email)
    )

    updated = await client.stub.UpdateInvitation(request)

    assert updated.email == "new-" + email
    assert Role.from_proto(updated.role) is Role.VIEWER


async def test_update_can_revoke_and_clear_the_expiry(
    client: InvitationsClient, email: str
) -> None:
    created = await client.create(email, Role.VIEWER, datetime.now(UTC) + timedelta(days=1))
    request = pb.UpdateInvitationRequest(
        invitation=pb.Invitation(name=created.name, status=pb.INVITATION_STATUS_REVOKED),
        update_mask=field_mask_pb2.FieldMask(paths=["status", "expire_time"]),
    )

    updated = await client.stub.UpdateInvitation(request)

    assert InvitationStatus.from_proto(updated.status) is InvitationStatus.REVOKED
    assert not updated.HasField("expire_time")


async def test_delete(client: InvitationsClient, email: str) -> None:
    created = await client.create(email, Role.VIEWER)

    await client.delete(created.name)

    assert (await rpc_error(client.get(created.name))).code() is Code.NOT_FOUND


async def test_accept_and_decline_answer_a_pending_invitation(
    client: InvitationsClient, email: str
) -> None:
    accepted = await client.accept((await client.create(email, Role.VIEWER)).name)
    declined = await client.decline((await client.create("x" + email, Role.VIEWER)).name)

    assert InvitationStatus.from_proto(accepted.status) is InvitationStatus.ACCEPTED
    assert InvitationStatus.from_proto(declined.status) is InvitationStatus.DECLINED


async def test_an_accepted_email_can_be_invited_again(
    client: InvitationsClient, email: str
) -> None:
    await client.accept((await client.create(email, Role.VIEWER)).name)

    again = await client.create(email, Role.ADMIN)

    assert InvitationStatus.from_proto(again.status) is InvitationStatus.PENDING


async def test_watch_streams_every_change(client: InvitationsClient, email: str) -> None:
    events: list[pb.InvitationEvent] = []
    async with asyncio.timeout(10), client.watch() as stream:  # entered once subscribed
        created = await client.create(email, Role.VIEWER)
        await client.accept(created.name)
        await client.delete(created.name)
        async for event in stream:
            if event.invitation.email == email:
                events.append(event)
                if len(events) == 3:
                    break

    kinds = [InvitationEventKind.from_proto(e.kind) for e in events]
    assert kinds == [
        InvitationEventKind.CREATED,
        InvitationEventKind.UPDATED,
        InvitationEventKind.DELETED,
    ]
    assert [InvitationStatus.from_proto(e.invitation.status) for e in events] == [
        InvitationStatus.PENDING,
        InvitationStatus.ACCEPTED,
        InvitationStatus.ACCEPTED,
    ]
    assert all(e.invitation.name == created.name for e in events)


async def _events_connection_ran(server: ServerProcess) -> str | None:
    """The last statement of the server's events connection, as PostgreSQL shows it."""
    connection = await asyncpg.connect(asyncpg_dsn(server.database_url))
    try:
        query: str | None = await connection.fetchval(
            "SELECT query FROM pg_stat_activity WHERE application_name = $1",
            f"invitations events, pid {server.process.pid}",
        )
        return query
    finally:
        await connection.close()


async def _listens(server: ServerProcess, expected: bool) -> None:
    """Wait until the server does (or does not) LISTEN: a stream that just ended stops it soon
    after, not at once."""

    async def as_expected() -> bool:
        return (await _events_connection_ran(server) == 'LISTEN "invitations"') == expected

    await poll(as_expected, within=5, what=f"LISTEN {expected}")


async def test_the_server_listens_for_changes_only_while_a_watch_is_open(
    server: ServerProcess, client: InvitationsClient, email: str
) -> None:
    await _listens(server, False)  # so no write wakes it for nobody
    async with asyncio.timeout(10), client.watch() as stream:
        assert await _events_connection_ran(server) == 'LISTEN "invitations"'
        created = await client.create(email, Role.VIEWER)
        async for event in stream:
            if event.invitation.email == email:
                break
    await _listens(server, False)

    await client.accept(created.name)  # heard by nobody
    async with asyncio.timeout(10), client.watch() as stream:  # listens again
        await client.delete(created.name)
        async for event in stream:
            if event.invitation.email == email:
                break
    assert InvitationEventKind.from_proto(event.kind) is InvitationEventKind.DELETED


async def test_a_refused_watch_raises_when_entered(auth_server: ServerProcess) -> None:
    async with InvitationsClient(auth_server.target) as anonymous:  # no token
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            async with anonymous.watch():
                pytest.fail("entered a watch that the server refused")

    assert refused.value.code() is grpc.StatusCode.UNAUTHENTICATED


async def test_request_id_is_returned_and_taken_from_metadata(client: InvitationsClient) -> None:
    call = client.stub.ListInvitations(
        pb.ListInvitationsRequest(page_size=1), metadata=(("x-request-id", "trace-42"),)
    )
    await call
    assert ("x-request-id", "trace-42") in list(await call.trailing_metadata() or ())

    # A successful call of a client that sent none carries none: nothing to quote.
    call = client.stub.ListInvitations(pb.ListInvitationsRequest(page_size=1))
    await call
    assert "x-request-id" not in dict(await call.trailing_metadata() or ())

    # A failed one carries the id the server made up for it, as its log line does.
    failing = client.stub.GetInvitation(pb.GetInvitationRequest(name="invitations/x"))
    with pytest.raises(grpc.aio.AioRpcError) as failed:
        await failing
    generated = dict(failed.value.trailing_metadata() or ())["x-request-id"]
    assert isinstance(generated, str)
    assert len(generated) == 32


# Errors ----------------------------------------------------------------------------------------


async def test_create_reports_every_bad_field(client: InvitationsClient) -> None:
    request = pb.CreateInvitationRequest(
        invitation=pb.Invitation(email="not an email", role=pb.ROLE_UNSPECIFIED)
    )
    request.invitation.expire_time.FromDatetime(datetime.now(UTC) - timedelta(hours=1))

    error = await rpc_error(client.stub.CreateInvitation(request))

    assert error.code() is Code.INVALID_ARGUMENT
    fields = dict(field_violations(error))
    assert set(fields) == {"invitation.email", "invitation.role", "invitation.expire_time"}
    assert "not an email" in fields["invitation.email"]
    assert "invitation.email" in (error.details() or "")


@pytest.mark.parametrize(
    ("invitation", "field"),
    [
        # 99 is no Role: proto3 enums are open, so a client can send any number.
        (pb.Invitation(email="a@example.com", role=pb.Role.ValueType(99)), "invitation.role"),
        (pb.Invitation(email="a" * 250 + "@example.com", role=pb.ROLE_VIEWER), "invitation.email"),
        (pb.Invitation(role=pb.ROLE_VIEWER), "invitation.email"),
        # PostgreSQL's text cannot hold NUL: refused here, not an INTERNAL from the database.
        (pb.Invitation(email="a\x00b@example.com", role=pb.ROLE_VIEWER), "invitation.email"),
        (pb.Invitation(email="a\u200bb@example.com", role=pb.ROLE_VIEWER), "invitation.email"),
    ],
)
async def test_create_rejects(
    client: InvitationsClient, invitation: pb.Invitation, field: str
) -> None:
    error = await rpc_error(
        client.stub.CreateInvitation(pb.CreateInvitationRequest(invitation=invitation))
    )

    assert error.code() is Code.INVALID_ARGUMENT
    assert [f for f, _ in field_violations(error)] == [field]


async def test_a_second_pending_invitation_for_an_email_already_exists(
    client: InvitationsClient, email: str
) -> None:
    first = await client.create(email, Role.VIEWER)

    error = await rpc_error(client.create(email.upper(), Role.ADMIN))

    assert error.code() is Code.ALREADY_EXISTS
    assert email in (error.details() or "")
    assert [
        i.name async for i in client.list_all(InvitationStatus.PENDING) if i.email == email
    ] == [first.name]


def fullwidth(text: str) -> str:
    """The same text in fullwidth letters (U+FF01...), which look alike and NFKC unifies."""
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


async def test_a_look_alike_spelling_of_a_pending_email_already_exists(
    client: InvitationsClient, email: str
) -> None:
    await client.create(email, Role.VIEWER)

    error = await rpc_error(client.create(fullwidth(email), Role.VIEWER))

    assert error.code() is Code.ALREADY_EXISTS


async def test_only_the_canonical_spelling_of_a_name_resolves(
    client: InvitationsClient, email: str
) -> None:
    created = await client.create(email, Role.VIEWER)
    id = created.name.removeprefix("invitations/")

    for other in (id.upper(), id.replace("-", ""), "{" + id + "}", "urn:uuid:" + id):
        error = await rpc_error(client.get("invitations/" + other))
        assert error.code() is Code.INVALID_ARGUMENT, other
    assert await client.get(created.name) == created


@pytest.mark.parametrize("name", ["", "invitation/1", "invitations/not-a-uuid", "users/x"])
async def test_malformed_names_are_invalid_arguments(client: InvitationsClient, name: str) -> None:
    for call in (client.get(name), client.delete(name), client.accept(name), client.decline(name)):
        error = await rpc_error(call)
        assert error.code() is Code.INVALID_ARGUMENT
        assert [f for f, _ in field_violations(error)] == ["name"]


async def test_unknown_invitations_are_not_found(client: InvitationsClient) -> None:
    name = missing_name()
    for call in (
        client.get(name),
        client.delete(name),
        client.accept(name),
        client.decline(name),
        client.update(name, role=Role.ADMIN),
    ):
        error = await rpc_error(call)
        assert error.code() is Code.NOT_FOUND
        assert name in (error.details() or "")


async def test_only_a_pending_invitation_can_be_answered_or_revoked(
    client: InvitationsClient, email: str
) -> None:
    accepted = await client.accept((await client.create(email, Role.VIEWER)).name)

    for call in (
        client.accept(accepted.name),
        client.decline(accepted.name),
        client.update(accepted.name, revoke=True),
    ):
        error = await rpc_error(call)
        assert error.code() is Code.FAILED_PRECONDITION
        assert "ACCEPTED" in (error.details() or "")
    assert InvitationStatus.from_proto((await client.get(accepted.name)).status) is (
        InvitationStatus.ACCEPTED
    )


async def test_an_expired_invitation_cannot_be_accepted(
    client: InvitationsClient, email: str, database_url: str
) -> None:
    created = await client.create(email, Role.VIEWER, datetime.now(UTC) + timedelta(seconds=0.5))
    await until_database_clock_passes(database_url, created.expire_time.ToDatetime(tzinfo=UTC))

    error = await rpc_error(client.accept(created.name))

    assert error.code() is Code.FAILED_PRECONDITION
    assert "expired" in (error.details() or "")


@pytest.mark.parametrize(
    ("paths", "status", "field", "message"),
    [
        (["nickname"], 0, "update_mask.paths[0]", "unknown field 'nickname'"),
        (["role", "create_time"], 0, "update_mask.paths[1]", "'create_time' is output only"),
        (["status"], pb.INVITATION_STATUS_ACCEPTED, "invitation.status", "only be changed to"),
        ([], 0, "update_mask", "names no field"),
    ],
)
async def test_update_rejects_bad_masks(
    client: InvitationsClient, email: str, paths: list[str], status: int, field: str, message: str
) -> None:
    created = await client.create(email, Role.VIEWER)
    request = pb.UpdateInvitationRequest(
        invitation=pb.Invitation(
            name=created.name,
            role=pb.ROLE_ADMIN,
            status=status,  # type: ignore[arg-type]  # values the enum does not declare, on purpose
        ),
        update_mask=field_mask_pb2.FieldMask(paths=paths),
    )

    error = await rpc_error(client.stub.UpdateInvitation(request))

    assert error.code() is Code.INVALID_ARGUMENT
    violations = dict(field_violations(error))
    assert field in violations
    assert message in violations[field]
    assert await client.get(created.name) == created  # nothing changed


async def test_changing_email_onto_another_pending_invitation_already_exists(
    client: InvitationsClient, email: str
) -> None:
    await client.create(email, Role.VIEWER)
    other = await client.create("other-" + email, Role.VIEWER)

    error = await rpc_error(client.update(other.name, email=email))

    assert error.code() is Code.ALREADY_EXISTS


async def test_two_concurrent_accepts_exactly_one_wins(
    client: InvitationsClient, email: str
) -> None:
    for attempt in range(5):
        created = await client.create(f"{attempt}-{email}", Role.VIEWER)
        results = await asyncio.gather(
            client.accept(created.name), client.accept(created.name), return_exceptions=True
        )
        winners = [r for r in results if isinstance(r, pb.Invitation)]
        losers = [r for r in results if isinstance(r, grpc.aio.AioRpcError)]
        assert len(winners) == 1
        assert [e.code() for e in losers] == [Code.FAILED_PRECONDITION]
