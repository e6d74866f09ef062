"""The gRPC face of invitations: translate each request, call the logic, translate the answer.

Nothing else happens here. Errors are raised as domain errors below and mapped to status codes
by service/interceptors.py; request logging and deadlines are the interceptor's too.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
from google.protobuf import empty_pb2
from typing_extensions import override

from generated.invitations.v1 import invitations_pb2 as pb
from generated.invitations.v1 import invitations_pb2_grpc as pb_grpc
from service.invitations import convert
from service.invitations.events import EventHub
from service.invitations.logic import Invitations


class InvitationServicer(pb_grpc.InvitationServiceServicer):
    def __init__(self, invitations: Invitations, events: EventHub) -> None:
        self.invitations = invitations
        self.events = events

    async def start(self) -> None:
        """Listen for changes, for WatchInvitations (the server calls this at start-up)."""
        await self.events.start()

    async def stop(self) -> None:
        """End the WatchInvitations streams, so they do not hold shutdown's grace period."""
        await self.events.close()

    @override
    async def CreateInvitation(
        self,
        request: pb.CreateInvitationRequest,
        context: grpc.aio.ServicerContext[pb.CreateInvitationRequest, pb.Invitation],
    ) -> pb.Invitation:
        created = await self.invitations.create(convert.parse_create(request))
        return convert.invitation_to_proto(created)

    @override
    async def GetInvitation(
        self,
        request: pb.GetInvitationRequest,
        context: grpc.aio.ServicerContext[pb.GetInvitationRequest, pb.Invitation],
    ) -> pb.Invitation:
        invitation = await self.invitations.get(convert.parse_name(request.name))
        return convert.invitation_to_proto(invitation)

    @override
    async def ListInvitations(
        self,
        request: pb.ListInvitationsRequest,
        context: grpc.aio.ServicerContext[pb.ListInvitationsRequest, pb.ListInvitationsResponse],
    ) -> pb.ListInvitationsResponse:
        status, after, page_size = convert.parse_list(request)
        page = await self.invitations.list(status=status, after=after, page_size=page_size)
        token = convert.encode_page_token(page.next, status) if page.next else ""
        return pb.ListInvitationsResponse(
            invitations=[convert.invitation_to_proto(i) for i in page.invitations],
            next_page_token=token,
        )

    @override
    async def UpdateInvitation(
        self,
        request: pb.UpdateInvitationRequest,
        context: grpc.aio.ServicerContext[pb.UpdateInvitationRequest, pb.Invitation],
    ) -> pb.Invitation:
        id, changes = convert.parse_update(request)
        return convert.invitation_to_proto(await self.invitations.update(id, changes))

    @override
    async def DeleteInvitation(
        self,
        request: pb.DeleteInvitationRequest,
        context: grpc.aio.ServicerContext[pb.DeleteInvitationRequest, empty_pb2.Empty],
    ) -> empty_pb2.Empty:
        await self.invitations.delete(convert.parse_name(request.name))
        return empty_pb2.Empty()

    @override
    async def AcceptInvitation(
        self,
        request: pb.AcceptInvitationRequest,
        context: grpc.aio.ServicerContext[pb.AcceptInvitationRequest, pb.Invitation],
    ) -> pb.Invitation:
        accepted = await self.invitations.accept(convert.parse_name(request.name))
        return convert.invitation_to_proto(accepted)

    @override
    async def DeclineInvitation(
        self,
        request: pb.DeclineInvitationRequest,
        context: grpc.aio.ServicerContext[pb.DeclineInvitationRequest, pb.Invitation],
    ) -> pb.Invitation:
        declined = await self.invitations.decline(convert.parse_name(request.name))
        return convert.invitation_to_proto(declined)

    @override
    async def WatchInvitations(
        self,
        request: pb.WatchInvitationsRequest,
        context: grpc.aio.ServicerContext[pb.WatchInvitationsRequest, pb.InvitationEvent],
    ) -> AsyncIterator[pb.InvitationEvent]:
        async with self.events.subscribe() as events:
            # Headers go out now, so the client knows it is subscribed before the first event.
            await context.send_initial_metadata(())
            async for event in events:
                yield convert.event_to_proto(event)
