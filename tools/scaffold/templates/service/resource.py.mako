"""The ${p} resource, as the server plugs it in (service/resources.py).

Scopes come from the AIP verbs of its methods (service/resource.py):
    ${p}.read     Get, List
    ${p}.write    Create, Update, Delete
A custom method (AIP-136) needs its scope in `scopes`.
"""

from __future__ import annotations

from generated.${p}.v1 import ${p}_pb2, ${p}_pb2_grpc
from service.db.database import Database
from service.resource import Resource
from service.${p}.logic import ${P}
from service.${p}.servicer import ${S}Servicer


def _servicer(database: Database) -> ${S}Servicer:
    return ${S}Servicer(${P}(database))


RESOURCE = Resource(
    service=${p}_pb2.DESCRIPTOR.services_by_name["${S}Service"],
    add_to_server=${p}_pb2_grpc.add_${S}ServiceServicer_to_server,
    servicer=_servicer,
)
