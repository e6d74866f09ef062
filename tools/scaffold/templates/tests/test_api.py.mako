"""The ${p} API as a client sees it: real socket, real database."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

import grpc
import pytest
from google.protobuf import field_mask_pb2

from generated.${p}.v1 import ${p}_pb2 as pb
from generated.${p}.v1.${p}_enums import ${S}State
from service.client import field_violations

if TYPE_CHECKING:
    from collections.abc import Awaitable

    from generated.${p}.v1.${p}_pb2_grpc import ${S}ServiceAsyncStub

Code = grpc.StatusCode
# An enum number this server does not know, as a newer (or hostile) client may send.
UNKNOWN_STATE = pb.${S}State.ValueType(99)


async def rpc_error(call: Awaitable[object]) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    return caught.value


async def create(stub: ${S}ServiceAsyncStub, display_name: str) -> pb.${S}:
    return await stub.Create${S}(
        pb.Create${S}Request(${s}=pb.${S}(display_name=display_name)), timeout=10
    )


async def test_create_then_get(stub: ${S}ServiceAsyncStub) -> None:
    created = await create(stub, "  First  ")

    assert created.name.startswith("${collection}/")
    assert created.display_name == "First"
    assert ${S}State.from_proto(created.state) is ${S}State.ACTIVE
    assert created.update_time == created.create_time
    assert await stub.Get${S}(pb.Get${S}Request(name=created.name)) == created


async def test_list_pages_through_everything_once(stub: ${S}ServiceAsyncStub) -> None:
    tag = uuid.uuid4().hex
    made = [(await create(stub, f"{tag} {n}")).name for n in range(5)]

    seen: list[str] = []
    token = ""
    while True:
        page = await stub.List${P}(pb.List${P}Request(page_size=2, page_token=token))
        assert len(page.${p}) <= 2
        seen += [item.name for item in page.${p} if item.display_name.startswith(tag)]
        token = page.next_page_token
        if not token:
            break

    assert seen == made  # oldest first, each once


async def test_update_changes_only_the_masked_fields(stub: ${S}ServiceAsyncStub) -> None:
    created = await create(stub, "before")
    change = pb.${S}(name=created.name, display_name="after", state=${S}State.ARCHIVED.to_proto())

    updated = await stub.Update${S}(
        pb.Update${S}Request(${s}=change, update_mask=field_mask_pb2.FieldMask(paths=["state"]))
    )

    assert updated.display_name == "before"
    assert ${S}State.from_proto(updated.state) is ${S}State.ARCHIVED
    assert updated.update_time.ToDatetime() > created.update_time.ToDatetime()
    assert await stub.Get${S}(pb.Get${S}Request(name=created.name)) == updated


async def test_delete_then_get_is_not_found(stub: ${S}ServiceAsyncStub) -> None:
    created = await create(stub, "short-lived")

    await stub.Delete${S}(pb.Delete${S}Request(name=created.name))

    error = await rpc_error(stub.Get${S}(pb.Get${S}Request(name=created.name)))
    assert error.code() is Code.NOT_FOUND
    assert error.details() == f"{created.name} does not exist"
    error = await rpc_error(stub.Delete${S}(pb.Delete${S}Request(name=created.name)))
    assert error.code() is Code.NOT_FOUND


@pytest.mark.parametrize(
    ("request_", "field"),
    [
        (pb.Create${S}Request(), "${s}"),
        (pb.Create${S}Request(${s}=pb.${S}(display_name=" ")), "${s}.display_name"),
        (pb.Create${S}Request(${s}=pb.${S}(display_name="a" * 201)), "${s}.display_name"),
        (pb.Create${S}Request(${s}=pb.${S}(display_name="nul\x00")), "${s}.display_name"),
        (pb.Create${S}Request(${s}=pb.${S}(display_name="x", state=UNKNOWN_STATE)), "${s}.state"),
    ],
)
async def test_bad_create_names_the_field(
    stub: ${S}ServiceAsyncStub, request_: pb.Create${S}Request, field: str
) -> None:
    error = await rpc_error(stub.Create${S}(request_))

    assert error.code() is Code.INVALID_ARGUMENT
    assert [f for f, _ in field_violations(error)] == [field]


@pytest.mark.parametrize(
    ("request_", "field"),
    [
        (pb.Get${S}Request(name=""), "name"),
        (pb.Get${S}Request(name="${collection}/not-a-uuid"), "name"),
        (pb.Get${S}Request(name="elsewhere/00000000-0000-0000-0000-000000000000"), "name"),
    ],
)
async def test_bad_name_is_invalid_argument(
    stub: ${S}ServiceAsyncStub, request_: pb.Get${S}Request, field: str
) -> None:
    error = await rpc_error(stub.Get${S}(request_))

    assert error.code() is Code.INVALID_ARGUMENT
    assert [f for f, _ in field_violations(error)] == [field]


async def test_bad_list_and_update_requests_name_their_fields(
    stub: ${S}ServiceAsyncStub,
) -> None:
    error = await rpc_error(stub.List${P}(pb.List${P}Request(page_size=-1, page_token="forged")))
    assert error.code() is Code.INVALID_ARGUMENT
    assert sorted(f for f, _ in field_violations(error)) == ["page_size", "page_token"]

    created = await create(stub, "masked")
    mask = field_mask_pb2.FieldMask(paths=["create_time", "colour"])
    request = pb.Update${S}Request(${s}=pb.${S}(name=created.name), update_mask=mask)
    error = await rpc_error(stub.Update${S}(request))
    assert error.code() is Code.INVALID_ARGUMENT
    assert [f for f, _ in field_violations(error)] == [
        "update_mask.paths[0]",
        "update_mask.paths[1]",
    ]
