"""The invitations resource, as the server plugs it in (listed in service/resources.py)."""

from __future__ import annotations

from generated.invitations.v1 import invitations_pb2, invitations_pb2_grpc
from service.db.database import Database
from service.invitations.events import EventHub
from service.invitations.logic import Invitations
from service.invitations.servicer import InvitationServicer
from service.resource import Resource


def _servicer(database: Database) -> InvitationServicer:
    return InvitationServicer(Invitations(database), EventHub(database.dsn))


RESOURCE = Resource(
    service=invitations_pb2.DESCRIPTOR.services_by_name["InvitationService"],
    add_to_server=invitations_pb2_grpc.add_InvitationServiceServicer_to_server,
    servicer=_servicer,
    # Custom methods (AIP-136) have no standard verb to give them a scope.
    scopes={"AcceptInvitation": "invitations.write", "DeclineInvitation": "invitations.write"},
)
