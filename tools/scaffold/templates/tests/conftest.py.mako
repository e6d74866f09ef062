"""A client of the ${p} API on the session's real server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import grpc
import pytest

from generated.${p}.v1 import ${p}_pb2_grpc as pb_grpc
from tests.support import ServerProcess

if TYPE_CHECKING:
    from generated.${p}.v1.${p}_pb2_grpc import ${S}ServiceAsyncStub


@pytest.fixture
async def stub(server: ServerProcess) -> AsyncIterator[${S}ServiceAsyncStub]:
    async with grpc.aio.insecure_channel(server.target) as channel:
        yield pb_grpc.${S}ServiceStub(channel)
