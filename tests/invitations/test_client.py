"""The generic client, `python -m service.client` and `Client`, on the invitations API."""

from __future__ import annotations

import asyncio
import json
import subprocess
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import pytest

from service.client import Client, RequestError, field_violations
from tests.support import (
    JwtKeys,
    ServerProcess,
    assert_a_mistake_the_client_saw,
    client_process,
    interrupt_client,
    logged_through,
    run_client,
)

CREATE = "invitations.v1.InvitationService/CreateInvitation"
GET = "invitations.v1.InvitationService/GetInvitation"
WATCH = "invitations.v1.InvitationService/WatchInvitations"


def one_json_line(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert result.returncode == 0, result.stderr
    [line] = result.stdout.splitlines()
    response: dict[str, Any] = json.loads(line)
    return response


# The command line ------------------------------------------------------------------------------


def test_services_lists_methods_with_their_messages(server: ServerProcess) -> None:
    result = run_client(server, "services")

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert (
        "/invitations.v1.InvitationService/CreateInvitation  "
        "invitations.v1.CreateInvitationRequest -> invitations.v1.Invitation"
    ) in lines
    assert (
        "/invitations.v1.InvitationService/WatchInvitations  "
        "invitations.v1.WatchInvitationsRequest -> stream invitations.v1.InvitationEvent"
    ) in lines


def test_call_creates_then_gets_by_the_returned_name(server: ServerProcess, email: str) -> None:
    expire = (datetime.now(UTC) + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
    # Requests may use the lowerCamelCase JSON names; responses have the .proto's.
    request = {"invitation": {"email": email, "role": "ROLE_EDITOR", "expireTime": expire}}

    created = one_json_line(run_client(server, "call", CREATE, json.dumps(request)))

    assert created["name"].startswith("invitations/")
    assert created["email"] == email
    assert created["role"] == "ROLE_EDITOR"
    assert created["status"] == "INVITATION_STATUS_PENDING"
    assert created["expire_time"] == expire
    # The leading-slash form, with the request on stdin:
    fetched = run_client(
        server, "call", f"/{GET}", "-", stdin=json.dumps({"name": created["name"]})
    )
    assert one_json_line(fetched) == created
    # The short form:
    name = json.dumps({"name": created["name"]})
    short = run_client(server, "call", "InvitationService/GetInvitation", name)
    assert one_json_line(short) == created


def test_a_bad_email_is_invalid_argument_naming_the_field(server: ServerProcess) -> None:
    request = {"invitation": {"email": "not-an-address", "role": "ROLE_VIEWER"}}

    result = run_client(server, "call", CREATE, json.dumps(request))

    assert result.returncode == 1
    assert result.stderr.startswith("error: INVALID_ARGUMENT: ")
    assert "  invitation.email: " in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("method", "request_json", "named"),
    [
        ("InvitationService/CreateInvitatio", "{}", "InvitationService/CreateInvitation"),
        ("Invitations/Get", "{}", "no method 'Invitations/Get'"),
        (CREATE, '{"invitation": {"email": ', "not JSON: Expecting value: line 1 column 26"),
        (CREATE, "[]", "must be a JSON object"),
        (CREATE, '{"invitation": {"emial": "a@example.com"}}', 'no field named "emial"'),
        (CREATE, '{"invitation": {"role": "ROLE_OWNER"}}', "Invalid enum value ROLE_OWNER"),
        (CREATE, '{"invitation": {"expire_time": "tomorrow"}}', "expire_time"),
    ],
)
def test_mistakes_the_client_can_see_exit_2_naming_them(
    server: ServerProcess, method: str, request_json: str, named: str
) -> None:
    result = run_client(server, "call", method, request_json)

    assert_a_mistake_the_client_saw(result, named)


def test_health_of_the_server_and_of_one_service(server: ServerProcess) -> None:
    assert run_client(server, "health").stdout == "SERVING\n"
    assert run_client(server, "health", "invitations.v1.InvitationService").stdout == "SERVING\n"
    unknown = run_client(server, "health", "nothing.v1.NoService")
    assert unknown.returncode == 1
    assert unknown.stderr.startswith("error: NOT_FOUND: ")


def test_metadata_options_reach_the_server(server: ServerProcess) -> None:
    request_id = f"client-test-{uuid.uuid4().hex}"

    result = run_client(
        server, "--metadata", f"X-Request-Id={request_id}", "call", GET, '{"name": "x"}'
    )

    assert result.returncode == 1  # a malformed name; the access log still has the call
    logged_through(server, request_id)


@pytest.mark.parametrize(
    ("module", "args"),
    [
        ("service.client", ("call", "InvitationService/WatchInvitations")),
        ("service.invitations.client", ("watch",)),
    ],
    ids=["call", "watch"],
)
async def test_a_stream_prints_each_event_until_interrupted(
    server: ServerProcess, email: str, module: str, args: tuple[str, ...]
) -> None:
    async with client_process(server, *args, module=module) as watcher:
        assert watcher.stdout is not None
        assert watcher.stderr is not None
        stdout, stderr = watcher.stdout, watcher.stderr

        async def next_line() -> dict[str, Any]:
            line = await stdout.readline()
            assert line, f"the stream ended: {(await stderr.read()).decode()}"
            event: dict[str, Any] = json.loads(line)
            return event

        async with Client(server.target) as client:
            event = await event_of_a_new_invitation(client, next_line, email)
        assert event["kind"] == "KIND_CREATED"
        assert event["invitation"]["email"].endswith(email)

        await interrupt_client(watcher)


async def event_of_a_new_invitation(
    client: Client, next_event: Callable[[], Awaitable[dict[str, Any]]], email: str
) -> dict[str, Any]:
    """Create invitations until the stream shows one of them: it subscribes at a moment the
    caller cannot see, so an invitation created once might come before it."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 30
    created: set[str] = set()
    pending = asyncio.ensure_future(next_event())
    try:
        while loop.time() < deadline:
            if not pending.done():
                address = f"{len(created)}-{email}"
                request = {"invitation": {"email": address, "role": "ROLE_VIEWER"}}
                created.add((await client.call(CREATE, request))["name"])
                await asyncio.wait({pending}, timeout=0.5)
                continue
            event = pending.result()
            if event["invitation"]["name"] in created:
                return event
            pending = asyncio.ensure_future(next_event())
    finally:
        pending.cancel()
    raise AssertionError(f"no event for any of {len(created)} new invitations within 30 s")


# The Python API --------------------------------------------------------------------------------


async def test_python_api_calls_and_streams_with_dicts(server: ServerProcess, email: str) -> None:
    async with Client(server.target, metadata=[("x-request-id", "python-api")]) as client:
        created = await client.call(CREATE, {"invitation": {"email": email, "role": "ROLE_ADMIN"}})
        assert await client.call("InvitationService/GetInvitation", {"name": created["name"]}) == (
            created
        )
        assert await client.health() == "SERVING"

        events = client.stream(WATCH)
        try:
            event = await event_of_a_new_invitation(client, events.__anext__, email)
        finally:
            await events.aclose()
        assert event["kind"] == "KIND_CREATED"


async def test_python_api_errors(server: ServerProcess) -> None:
    async with Client(server.target) as client:
        with pytest.raises(RequestError, match=r"use stream\(\)"):
            await client.call(WATCH)
        with pytest.raises(RequestError, match='no field named "emial"'):
            await client.call(CREATE, {"invitation": {"emial": "a@example.com"}})
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await client.call(CREATE, {"invitation": {"email": "nope", "role": "ROLE_VIEWER"}})
    assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert "invitation.email" in dict(field_violations(caught.value))


# Tokens, with authentication on ------------------------------------------------------------------


@pytest.mark.parametrize("module", ["service.client", "service.invitations.client"])
def test_both_command_lines_send_the_token_of_service_token(
    auth_server: ServerProcess, keys: JwtKeys, module: str
) -> None:
    token = keys.token(scope="invitations.read", sub="cli")
    args = (
        ("call", "InvitationService/ListInvitations") if module == "service.client" else ("list",)
    )

    refused = run_client(auth_server, *args, module=module)
    accepted = run_client(auth_server, *args, module=module, env={"SERVICE_TOKEN": token})

    assert refused.returncode == 1
    assert refused.stderr.startswith("error: UNAUTHENTICATED: ")
    assert accepted.returncode == 0, accepted.stderr
