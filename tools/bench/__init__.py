"""`make bench`: benchmarks that print figures. They never pass or fail; CI does not run them.

The echo figures (a bare grpc.aio server, the request interceptor, one database round trip)
need no resource. The figures of the example resource's RPCs need it served: once
`make remove-resource name=invitation` has taken it out, they are skipped, and say so.

No benchmark imports the example resource's modules: its messages are found by name among the
descriptors of the served resources (the floor server, tools/bench/minimal.py, imports its
generated modules and statements by name when it starts), so `make typecheck` holds once it is
removed.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import grpc
from google.protobuf import descriptor_pool, json_format, message_factory
from google.protobuf.message import Message

INVITATIONS = "invitations.v1.InvitationService"
GET = f"/{INVITATIONS}/GetInvitation"
CREATE = f"/{INVITATIONS}/CreateInvitation"
ECHO = "/bench.Echo/Echo"  # tools/bench/echo.py's one method
SECONDS = float(os.environ.get("BENCH_SECONDS", "4"))  # how long a figure is measured
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))  # how many times the main figures are taken


def serves_invitations() -> bool:
    """Whether service/resources.py still lists the example resource (importing it registers
    the descriptors of every resource it lists)."""
    from service.resources import RESOURCES

    return any(resource.name == INVITATIONS for resource in RESOURCES)


def skipped(what: str) -> None:
    print(f"  skipped {what}: service/resources.py does not serve {INVITATIONS}")


def invitations_message(name: str) -> type[Message]:
    """A message class of the example resource's API, by its name in invitations.v1."""
    if not serves_invitations():
        raise RuntimeError(f"service/resources.py does not serve {INVITATIONS}")
    descriptor = descriptor_pool.Default().FindMessageTypeByName(f"invitations.v1.{name}")
    return message_factory.GetMessageClass(descriptor)


def invitations_request(message: str, /, **fields: Any) -> bytes:
    """A serialized request: `invitations_request("GetInvitationRequest", name=...)`."""
    return invitations_message(message)(**fields).SerializeToString()


def create_request(email: str) -> bytes:
    """A serialized CreateInvitationRequest: a viewer invited at `email`."""
    return invitations_request(
        "CreateInvitationRequest", invitation={"email": email, "role": "ROLE_VIEWER"}
    )


async def create_invitation(target: str, email: str) -> str:
    """The name of a new invitation, made through the API."""
    invitation = invitations_message("Invitation")
    raw: Callable[[bytes], bytes] = bytes
    async with grpc.aio.insecure_channel(target) as channel:
        create = channel.unary_unary(
            CREATE, request_serializer=raw, response_deserializer=invitation.FromString
        )
        created = await create(create_request(email), timeout=10)
    return str(json_format.MessageToDict(created)["name"])
