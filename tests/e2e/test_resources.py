"""Any resource plugs in as the example one does: the test probe resource
(tests/probe_resource.py), served beside every resource of service/resources.py, gets health,
error mapping and UNIMPLEMENTED for what it does not write. (Scopes: test_security.py;
reflection: test_lifecycle.py.)"""

from __future__ import annotations

import grpc
import pytest
from google.protobuf.wrappers_pb2 import StringValue
from grpc_health.v1 import health_pb2

from service.client import field_violations
from service.resources import RESOURCES
from tests.probe_resource import SERVICE, ProbeClient
from tests.support import ServerProcess, unique_mark

Code = grpc.StatusCode


async def test_every_resource_is_reported_by_health(server: ServerProcess) -> None:
    async with grpc.aio.insecure_channel(server.target) as channel:
        check = channel.unary_unary(
            "/grpc.health.v1.Health/Check",
            request_serializer=health_pb2.HealthCheckRequest.SerializeToString,
            response_deserializer=health_pb2.HealthCheckResponse.FromString,
        )
        for name in ("", SERVICE.full_name, *(resource.name for resource in RESOURCES)):
            response = await check(health_pb2.HealthCheckRequest(service=name), timeout=5)
            assert response.status == health_pb2.HealthCheckResponse.SERVING, name
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await check(health_pb2.HealthCheckRequest(service="no.such.v1.Service"), timeout=5)
    assert caught.value.code() is Code.NOT_FOUND


async def test_a_declared_method_the_servicer_lacks_is_unimplemented(
    server: ServerProcess,
) -> None:
    logged_before = len(server.logs)
    async with ProbeClient(server.target) as client:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await client.call("DeleteMark", StringValue(value=unique_mark()))
        assert caught.value.code() is Code.UNIMPLEMENTED  # a fact about the server, not a bug
        assert f"/{SERVICE.full_name}/DeleteMark" in str(caught.value.details())
        assert await client.echo("still serving") == "still serving"
    errors = [e for e in server.logs[logged_before:] if e.get("level") == "ERROR"]
    assert not errors  # no traceback: nothing is broken


async def test_a_resources_domain_errors_become_their_status_codes(
    server: ServerProcess,
) -> None:
    mark = unique_mark()
    async with ProbeClient(server.target) as client:
        with pytest.raises(grpc.aio.AioRpcError) as invalid:
            await client.get_mark("")
        with pytest.raises(grpc.aio.AioRpcError) as unstorable:
            await client.create_mark("a\x00b")  # a valid proto string PostgreSQL refuses
        with pytest.raises(grpc.aio.AioRpcError) as missing:
            await client.get_mark(mark)
        await client.create_mark(mark)
        with pytest.raises(grpc.aio.AioRpcError) as again:
            await client.create_mark(mark)

    assert invalid.value.code() is Code.INVALID_ARGUMENT
    assert field_violations(invalid.value) == [("value", "must not be empty")]
    assert unstorable.value.code() is Code.INVALID_ARGUMENT
    assert field_violations(unstorable.value) == [("value", "must not contain NUL characters")]
    assert missing.value.code() is Code.NOT_FOUND
    assert again.value.code() is Code.ALREADY_EXISTS
    assert mark in str(again.value.details())
