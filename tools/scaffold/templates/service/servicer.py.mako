"""The gRPC face of ${p}: translate, call the logic, translate back.

Nothing else happens here. Errors are raised as domain errors below and mapped to status codes
by service/interceptors.py; request logging, deadlines and auth are the interceptor's too.
"""

from __future__ import annotations

import grpc
from google.protobuf import empty_pb2
from typing_extensions import override

from generated.${p}.v1 import ${p}_pb2 as pb
from generated.${p}.v1 import ${p}_pb2_grpc as pb_grpc
from service.${p} import convert
from service.${p}.logic import ${P}


class ${S}Servicer(pb_grpc.${S}ServiceServicer):
    def __init__(self, ${p}: ${P}) -> None:
        self.${p} = ${p}

    @override
    async def Create${S}(
        self,
        request: pb.Create${S}Request,
        context: grpc.aio.ServicerContext[pb.Create${S}Request, pb.${S}],
    ) -> pb.${S}:
        created = await self.${p}.create(convert.parse_create(request))
        return convert.${s}_to_proto(created)

    @override
    async def Get${S}(
        self,
        request: pb.Get${S}Request,
        context: grpc.aio.ServicerContext[pb.Get${S}Request, pb.${S}],
    ) -> pb.${S}:
        found = await self.${p}.get(convert.parse_name(request.name))
        return convert.${s}_to_proto(found)

    @override
    async def List${P}(
        self,
        request: pb.List${P}Request,
        context: grpc.aio.ServicerContext[pb.List${P}Request, pb.List${P}Response],
    ) -> pb.List${P}Response:
        after, page_size = convert.parse_list(request)
        return convert.page_to_proto(await self.${p}.list(after=after, page_size=page_size))

    @override
    async def Update${S}(
        self,
        request: pb.Update${S}Request,
        context: grpc.aio.ServicerContext[pb.Update${S}Request, pb.${S}],
    ) -> pb.${S}:
        id, changes = convert.parse_update(request)
        return convert.${s}_to_proto(await self.${p}.update(id, changes))

    @override
    async def Delete${S}(
        self,
        request: pb.Delete${S}Request,
        context: grpc.aio.ServicerContext[pb.Delete${S}Request, empty_pb2.Empty],
    ) -> empty_pb2.Empty:
        await self.${p}.delete(convert.parse_name(request.name))
        return empty_pb2.Empty()
