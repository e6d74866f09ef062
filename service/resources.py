"""The resources this service serves: one line each, and the server names none of them.

`make resource name=...` adds a line here and `make remove-resource name=...` takes it out.
"""

from __future__ import annotations

from service.invitations.resource import RESOURCE as INVITATIONS
from service.resource import AnyResource

RESOURCES: list[AnyResource] = [
    INVITATIONS,
]
