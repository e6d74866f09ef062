"""The floor of the example resource: `python -m tools.bench.minimal --database URL`.

A grpc.aio server with asyncpg and nothing else, serving GetInvitation, CreateInvitation and
ListInvitations (a first page) as the service does on the wire and in the database, and no
more: the same SQL (the service's own compiled statements, taken from
service/invitations/sql.py), the same response messages (the generated classes, built
straight from asyncpg's rows, timestamps set as the service sets them), the same pool size and
pool settings (service/db/database.py: no query when a connection goes back to the pool, idle
connections kept), the same event loop (uvloop where it is installed). No interceptor, no
access log, no deadline, no validation beyond parsing the request. `make bench service` measures
the service against it; tests/invitations/test_floor.py checks that both answer with the same
bytes.

List answers the first page only (it reads page_size, not page_token or the filter), with the
service's next_page_token: signed with PAGE_TOKEN_KEY as the service signs it. It prints its
port once it serves, and stops on SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hmac
import importlib
import os
import secrets
import signal
import struct
import sys
import uuid
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import asyncpg
import grpc

from service.config import Settings
from service.conventions import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, set_timestamp
from service.db.database import asyncpg_dsn

SERVICE = "invitations.v1.InvitationService"
COLLECTION = "invitations/"
POOL_SIZE = Settings.database_pool_size  # DATABASE_POOL_SIZE's
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
T = TypeVar("T")


def statements() -> tuple[str, str, str]:
    """The service's SQL for a Get ($1 id), a Create ($1 id, $2 email, $3 role, $4 status,
    $5 expire_time) and a first page of a List ($1 limit)."""
    sql: Any = importlib.import_module("service.invitations.sql")
    return str(sql.GET.sql), str(sql.INSERT.sql), str(sql.list_page(False, False).sql)


class Messages:
    """The example resource's generated message classes and enums, imported by name: once
    `make remove-resource` has taken them out, this module is never run, and still type checks.
    """

    def __init__(self) -> None:
        self.pb: Any = importlib.import_module("generated.invitations.v1.invitations_pb2")
        enums: Any = importlib.import_module("generated.invitations.v1.invitations_enums")
        # PostgreSQL's enum labels are the generated enums' member names (service/db/enums.py).
        self.role_label = {member.value: member.name for member in enums.Role if member.value}
        self.role = {member.name: member.value for member in enums.Role}
        self.status = {member.name: member.value for member in enums.InvitationStatus}

    def invitation(self, row: asyncpg.Record) -> Any:
        message = self.pb.Invitation(
            name=f"{COLLECTION}{row['id']}",
            email=row["email"],
            role=self.role[row["role"]],
            status=self.status[row["status"]],
        )
        set_timestamp(message.create_time, row["create_time"])
        set_timestamp(message.update_time, row["update_time"])
        if row["expire_time"] is not None:
            set_timestamp(message.expire_time, row["expire_time"])
        return message


class PageToken:
    """The service's next_page_token (service/conventions.py): version 2, the cursor's
    create_time in microseconds and id, an HMAC-SHA256 truncated to 16 bytes over it and the
    request's filter (none: "status="), base64url without padding."""

    _PAYLOAD = struct.Struct(">Bq16s")

    def __init__(self, key: bytes) -> None:
        self.key = key

    def encode(self, row: asyncpg.Record) -> str:
        micros = (row["create_time"] - _EPOCH) // _MICROSECOND
        payload = self._PAYLOAD.pack(2, micros, row["id"].bytes)
        mac = hmac.digest(self.key, b"page-token\0status=\0" + payload, "sha256")[:16]
        return base64.urlsafe_b64encode(payload + mac).decode().rstrip("=")


async def _keep_session(connection: object) -> None:
    """Nothing is reset when a connection goes back to the pool, as in the service."""


class Invitations:
    def __init__(self, pool: asyncpg.Pool[asyncpg.Record], token: PageToken) -> None:
        self.pool = pool
        self.token = token
        self.messages = Messages()
        self.get_sql, self.insert_sql, self.list_sql = statements()

    async def get(self, request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
        try:
            id = uuid.UUID(request.name.removeprefix(COLLECTION))
        except ValueError:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "name")
        async with self.pool.acquire() as connection:
            row = await connection.fetchrow(self.get_sql, id)
        if row is None:
            await context.abort(grpc.StatusCode.NOT_FOUND, request.name)
        return self.messages.invitation(row)

    async def create(self, request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
        invitation = request.invitation
        role = self.messages.role_label.get(invitation.role)
        if role is None:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "invitation.role")
        expire_time = None
        if invitation.HasField("expire_time"):
            expire_time = invitation.expire_time.ToDatetime(tzinfo=UTC)
        arguments = (uuid.uuid4(), invitation.email, role, "PENDING", expire_time)
        try:
            async with self.pool.acquire() as connection:
                row = await connection.fetchrow(self.insert_sql, *arguments)
        except asyncpg.UniqueViolationError:
            await context.abort(grpc.StatusCode.ALREADY_EXISTS, invitation.email)
        assert row is not None  # INSERT ... RETURNING returns the row it inserted
        return self.messages.invitation(row)

    async def list(self, request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
        page_size = min(request.page_size or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
        async with self.pool.acquire() as connection:
            rows = await connection.fetch(self.list_sql, page_size + 1)
        page = rows[:page_size]
        token = self.token.encode(page[-1]) if len(rows) > page_size else ""
        invitation = self.messages.invitation
        return self.messages.pb.ListInvitationsResponse(
            invitations=[invitation(row) for row in page], next_page_token=token
        )


def _handlers(invitations: Invitations) -> dict[str, grpc.RpcMethodHandler[Any, Any]]:
    """As the generated add_InvitationServiceServicer_to_server registers them."""
    pb = invitations.messages.pb

    def handler(
        behavior: Callable[..., Coroutine[Any, Any, Any]], request: Any, response: Any
    ) -> grpc.RpcMethodHandler[Any, Any]:
        return grpc.unary_unary_rpc_method_handler(
            behavior,
            request_deserializer=request.FromString,
            response_serializer=response.SerializeToString,
        )

    return {
        "GetInvitation": handler(invitations.get, pb.GetInvitationRequest, pb.Invitation),
        "CreateInvitation": handler(invitations.create, pb.CreateInvitationRequest, pb.Invitation),
        "ListInvitations": handler(
            invitations.list, pb.ListInvitationsRequest, pb.ListInvitationsResponse
        ),
    }


async def serve(database_url: str, key: bytes, ready: Callable[[int], None], port: int = 0) -> None:
    """Serve on `port` of 127.0.0.1 (0: a free one), call `ready` with it, and run until
    SIGTERM."""
    pool = await asyncpg.create_pool(
        asyncpg_dsn(database_url),
        min_size=0,
        max_size=POOL_SIZE,
        reset=_keep_session,
        max_inactive_connection_lifetime=0,
    )
    server = grpc.aio.server(options=[("grpc.so_reuseport", 0)])
    handlers = _handlers(Invitations(pool, PageToken(key)))
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE, handlers),))
    server.add_registered_method_handlers(SERVICE, handlers)
    port = server.add_insecure_port(f"127.0.0.1:{port}")
    await server.start()
    ready(port)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    await server.stop(None)
    await pool.close()


def _runner() -> Callable[[Coroutine[Any, Any, T]], T]:
    try:
        import uvloop
    except ImportError:
        return asyncio.run
    return uvloop.run


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", metavar="URL", required=True)
    parser.add_argument("--cpu", type=int, help="pin this process to one CPU")
    parser.add_argument("--port", type=int, default=0, help="listen here (0: a free port)")
    args = parser.parse_args()
    if args.cpu is not None:
        os.sched_setaffinity(0, {args.cpu})
    key = os.environ.get("PAGE_TOKEN_KEY", "").encode() or secrets.token_bytes(32)
    _runner()(serve(args.database, key, lambda port: print(port, flush=True), args.port))
    return 0


if __name__ == "__main__":
    sys.exit(main())
