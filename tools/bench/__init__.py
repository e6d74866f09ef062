"""`make bench`: benchmarks that print figures. They never pass or fail; CI does not run them.

The echo figures (a bare grpc.aio server, the request interceptor, one database round trip)
need no resource. The figures of the example resource's RPCs need it served: once
`make remove-resource name=invitation` has taken it out, they are skipped, and say so.
"""

from __future__ import annotations

INVITATIONS = "invitations.v1.InvitationService"


def serves_invitations() -> bool:
    """Whether service/resources.py still lists the example resource."""
    from service.resources import RESOURCES

    return any(resource.name == INVITATIONS for resource in RESOURCES)


def skipped(what: str) -> None:
    print(f"  skipped {what}: service/resources.py does not serve {INVITATIONS}")
