"""A typed asyncio client for the invitations API, and a command line over it.

async with InvitationsClient("localhost:50051") as client:
    invitation = await client.create("alice@example.com", Role.ADMIN)
    async with client.watch() as events:  # subscribed: changes from here on are in events
        async for event in events:
            ...

python -m service.invitations.client create alice@example.com --role ADMIN
python -m service.invitations.client list --status PENDING
python -m service.invitations.client update invitations/<id> --role VIEWER
python -m service.invitations.client accept invitations/<id>
python -m service.invitations.client watch

The connection options (--target, TLS, --token or $SERVICE_TOKEN, --timeout, --metadata) and the
error output are service/client.py's, shared with the generic `python -m service.client`.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import grpc
from google.protobuf import field_mask_pb2

from generated.invitations.v1 import invitations_pb2 as pb
from generated.invitations.v1 import invitations_pb2_grpc as pb_grpc
from generated.invitations.v1.invitations_enums import InvitationStatus, Role
from service.client import (
    DEFAULT_TARGET,
    add_connection_options,
    check_health,
    connection_options,
    open_channel,
    print_json,
    request_metadata,
    run_command,
)

if TYPE_CHECKING:
    from generated.invitations.v1.invitations_pb2_grpc import InvitationServiceAsyncStub


class InvitationsClient:
    def __init__(
        self,
        target: str = DEFAULT_TARGET,
        *,
        timeout: float | None = 10.0,
        credentials: grpc.ChannelCredentials | None = None,
        token: str | None = None,
        metadata: Sequence[tuple[str, str]] = (),
    ) -> None:
        """`credentials` for TLS (see service.client.channel_credentials), `token` for a bearer
        JWT, `metadata` sent with every call (x-request-id, ...)."""
        self.channel = open_channel(target, credentials)
        self.stub: InvitationServiceAsyncStub = pb_grpc.InvitationServiceStub(self.channel)
        self.timeout = timeout
        self.metadata = request_metadata(token, metadata)

    async def __aenter__(self) -> InvitationsClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def close(self) -> None:
        await self.channel.close()

    async def create(
        self, email: str, role: Role, expire_time: datetime | None = None
    ) -> pb.Invitation:
        invitation = pb.Invitation(email=email, role=role.to_proto())
        if expire_time is not None:
            invitation.expire_time.FromDatetime(expire_time)
        request = pb.CreateInvitationRequest(invitation=invitation)
        return await self.stub.CreateInvitation(
            request, timeout=self.timeout, metadata=self.metadata
        )

    async def get(self, name: str) -> pb.Invitation:
        request = pb.GetInvitationRequest(name=name)
        return await self.stub.GetInvitation(request, timeout=self.timeout, metadata=self.metadata)

    async def list(
        self, status: InvitationStatus | None = None, page_size: int = 0, page_token: str = ""
    ) -> pb.ListInvitationsResponse:
        request = pb.ListInvitationsRequest(
            status=(status or InvitationStatus.UNSPECIFIED).to_proto(),
            page_size=page_size,
            page_token=page_token,
        )
        return await self.stub.ListInvitations(
            request, timeout=self.timeout, metadata=self.metadata
        )

    async def list_all(
        self, status: InvitationStatus | None = None, page_size: int = 0
    ) -> AsyncIterator[pb.Invitation]:
        """Every invitation, following next_page_token."""
        token = ""
        while True:
            page = await self.list(status, page_size, token)
            for invitation in page.invitations:
                yield invitation
            token = page.next_page_token
            if not token:
                return

    async def update(
        self,
        name: str,
        *,
        email: str | None = None,
        role: Role | None = None,
        expire_time: datetime | None = None,
        revoke: bool = False,
    ) -> pb.Invitation:
        """Change the given fields only (the update_mask names exactly those)."""
        invitation = pb.Invitation(name=name)
        paths: list[str] = []
        if email is not None:
            invitation.email, paths = email, [*paths, "email"]
        if role is not None:
            invitation.role, paths = role.to_proto(), [*paths, "role"]
        if expire_time is not None:
            invitation.expire_time.FromDatetime(expire_time)
            paths.append("expire_time")
        if revoke:
            invitation.status, paths = InvitationStatus.REVOKED.to_proto(), [*paths, "status"]
        request = pb.UpdateInvitationRequest(
            invitation=invitation, update_mask=field_mask_pb2.FieldMask(paths=paths)
        )
        return await self.stub.UpdateInvitation(
            request, timeout=self.timeout, metadata=self.metadata
        )

    async def delete(self, name: str) -> None:
        request = pb.DeleteInvitationRequest(name=name)
        await self.stub.DeleteInvitation(request, timeout=self.timeout, metadata=self.metadata)

    async def accept(self, name: str) -> pb.Invitation:
        request = pb.AcceptInvitationRequest(name=name)
        return await self.stub.AcceptInvitation(
            request, timeout=self.timeout, metadata=self.metadata
        )

    async def decline(self, name: str) -> pb.Invitation:
        request = pb.DeclineInvitationRequest(name=name)
        return await self.stub.DeclineInvitation(
            request, timeout=self.timeout, metadata=self.metadata
        )

    @contextlib.asynccontextmanager
    async def watch(self) -> AsyncIterator[AsyncIterator[pb.InvitationEvent]]:
        """Every change from the moment the server has subscribed the stream: entered only
        then, so a change made inside the block is among the events (a refused call raises
        its AioRpcError on entry). They come until the server ends the stream; leaving the
        block ends it."""
        call = self.stub.WatchInvitations(pb.WatchInvitationsRequest(), metadata=self.metadata)
        try:
            await call.initial_metadata()  # the server sends it once subscribed...
            await call.wait_for_connection()  # ...or refuses the call, raised here
            yield aiter(call)
        finally:
            call.cancel()

    async def health(self, service: str = "") -> str:
        """The health service's answer: SERVING, NOT_SERVING, ..."""
        return await check_health(self.channel, service, self.metadata)


# Command line ----------------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m service.invitations.client", description=__doc__.split("\n")[0]
    )
    add_connection_options(parser)
    commands = parser.add_subparsers(dest="command", required=True)
    roles = [r.name for r in Role if r.value]
    statuses = [s.name for s in InvitationStatus if s.value]

    create = commands.add_parser("create", help="invite an email address")
    create.add_argument("email")
    create.add_argument("--role", choices=roles, required=True)
    create.add_argument("--expire-in", type=float, metavar="SECONDS")
    for name in ("get", "delete", "accept", "decline"):
        commands.add_parser(name, help=f"{name} one invitation").add_argument("name")
    listing = commands.add_parser("list", help="list invitations (every page)")
    listing.add_argument("--status", choices=statuses)
    listing.add_argument("--page-size", type=int, default=0)
    update = commands.add_parser("update", help="change fields of an invitation")
    update.add_argument("name")
    update.add_argument("--email")
    update.add_argument("--role", choices=roles)
    update.add_argument("--expire-in", type=float, metavar="SECONDS")
    update.add_argument("--revoke", action="store_true")
    commands.add_parser("watch", help="stream every change until interrupted")
    commands.add_parser("health", help="ask the health service")
    return parser


def _expire(seconds: float | None) -> datetime | None:
    return None if seconds is None else datetime.now(UTC) + timedelta(seconds=seconds)


async def _run(args: argparse.Namespace) -> int:
    async with InvitationsClient(**connection_options(args)) as client:
        command = args.command
        if command == "create":
            print_json(await client.create(args.email, Role[args.role], _expire(args.expire_in)))
        elif command in ("get", "accept", "decline"):
            print_json(await getattr(client, command)(args.name))
        elif command == "delete":
            await client.delete(args.name)
        elif command == "list":
            status = InvitationStatus[args.status] if args.status else None
            async for invitation in client.list_all(status, args.page_size):
                print_json(invitation)
        elif command == "update":
            role = Role[args.role] if args.role else None
            print_json(
                await client.update(
                    args.name,
                    email=args.email,
                    role=role,
                    expire_time=_expire(args.expire_in),
                    revoke=args.revoke,
                )
            )
        elif command == "watch":
            async with client.watch() as events:
                async for event in events:
                    print_json(event)
        elif command == "health":
            print(await client.health())
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return run_command(_run(_parser().parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
