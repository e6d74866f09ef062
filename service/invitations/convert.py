"""Between the API's messages and the domain: parse and validate requests, build responses.

The one place that knows both sides. Parsing collects every bad field before it raises
InvalidArgument, so a client learns all its mistakes at once; the field paths are the request's
own (`invitation.email`, `update_mask.paths[1]`).
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from datetime import UTC, datetime

from generated.invitations.v1 import invitations_pb2 as pb
from generated.invitations.v1.invitations_enums import InvitationStatus, Role
from service import conventions
from service.conventions import Cursor
from service.errors import Violations
from service.invitations.domain import (
    COLLECTION,
    KEEP,
    MUTABLE_FIELDS,
    Event,
    Invitation,
    InvitationChanges,
    Keep,
    NewInvitation,
)

MAX_EMAIL_LENGTH = 254
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")
OUTPUT_ONLY_FIELDS = ("name", "create_time", "update_time")


# Responses -------------------------------------------------------------------------------------


def invitation_to_proto(invitation: Invitation) -> pb.Invitation:
    message = pb.Invitation(
        name=invitation.name,
        email=invitation.email,
        role=invitation.role.to_proto(),
        status=invitation.status.to_proto(),
    )
    conventions.set_timestamp(message.create_time, invitation.create_time)
    conventions.set_timestamp(message.update_time, invitation.update_time)
    if invitation.expire_time is not None:
        conventions.set_timestamp(message.expire_time, invitation.expire_time)
    return message


def event_to_proto(event: Event) -> pb.InvitationEvent:
    return pb.InvitationEvent(
        kind=event.kind.to_proto(), invitation=invitation_to_proto(event.invitation)
    )


# Fields ----------------------------------------------------------------------------------------


def _parse_id(name: str, field: str, violations: Violations) -> uuid.UUID:
    return conventions.parse_name(name, COLLECTION, field, violations)


def parse_name(name: str, field: str = "name") -> uuid.UUID:
    violations = Violations()
    id = _parse_id(name, field, violations)
    violations.raise_if_any()
    return id


def _parse_email(email: str, field: str, violations: Violations) -> str:
    found = len(violations.found)
    # Required, bounded, and free of control and invisible characters (PostgreSQL refuses NUL;
    # a zero-width space or a bidi override would make a second pending invitation look like
    # another address). NFKC and casefold make one address of its compatibility spellings
    # (fullwidth letters, ligatures) and cases, so uniqueness holds across them.
    # Normalised first, so the length is checked on what is stored.
    email = unicodedata.normalize("NFKC", email).casefold()
    email = conventions.parse_text(email, field, violations, max_length=MAX_EMAIL_LENGTH)
    if len(violations.found) == found and not _EMAIL.fullmatch(email):
        violations.add(field, f"is not an email address: {email[:80]!r}")
    return email


def _parse_role(value: int, field: str, violations: Violations) -> Role:
    try:
        role = Role(value)
    except ValueError:
        violations.add(field, f"unknown value {value}")
        return Role.UNSPECIFIED
    if role is Role.UNSPECIFIED:
        violations.add(field, "is required: one of " + ", ".join(_names(Role)))
    return role


def _parse_expire_time(
    message: pb.Invitation, field: str, violations: Violations, now: datetime
) -> datetime | None:
    if not message.HasField("expire_time"):
        return None
    try:
        expire_time = message.expire_time.ToDatetime(tzinfo=UTC)
    except (ValueError, OverflowError):
        violations.add(field, "is not a valid timestamp")
        return None
    if expire_time <= now:
        violations.add(field, "must be in the future")
    return expire_time


def _names(enum_class: type[Role] | type[InvitationStatus]) -> list[str]:
    return [member.proto_name for member in enum_class if member.value != 0]


# Requests --------------------------------------------------------------------------------------


def parse_create(request: pb.CreateInvitationRequest) -> NewInvitation:
    violations = Violations()
    if not request.HasField("invitation"):
        violations.add("invitation", "is required")
    invitation = request.invitation
    new = NewInvitation(
        email=_parse_email(invitation.email, "invitation.email", violations),
        role=_parse_role(invitation.role, "invitation.role", violations),
        expire_time=_parse_expire_time(
            invitation, "invitation.expire_time", violations, datetime.now(UTC)
        ),
    )
    violations.raise_if_any()
    return new


def parse_list(
    request: pb.ListInvitationsRequest,
) -> tuple[InvitationStatus | None, Cursor | None, int]:
    """(status filter, cursor, page size) of a ListInvitations request."""
    violations = Violations()
    status: InvitationStatus | None = None
    try:
        status = InvitationStatus(request.status)
    except ValueError:
        violations.add("status", f"unknown value {request.status}")
    if status is InvitationStatus.UNSPECIFIED:
        status = None
    page_size = conventions.parse_page_size(request.page_size, violations)
    cursor = None
    if request.page_token:
        cursor = conventions.decode_page_token(request.page_token, violations, _token_query(status))
    violations.raise_if_any()
    return status, cursor, page_size


def parse_update(request: pb.UpdateInvitationRequest) -> tuple[uuid.UUID, InvitationChanges]:
    """AIP-134: only the fields named in update_mask change; without a mask, the populated ones.

    `*` names every mutable field. `status` may only be set to REVOKED.
    """
    violations = Violations()
    invitation = request.invitation
    id = _parse_id(invitation.name, "invitation.name", violations)
    populated = [
        field
        for field, present in (
            ("email", bool(invitation.email)),
            ("role", invitation.role != 0),
            ("expire_time", invitation.HasField("expire_time")),
            ("status", invitation.status != 0),
        )
        if present
    ]
    paths = conventions.update_paths(
        request.update_mask if request.HasField("update_mask") else None,
        mutable=MUTABLE_FIELDS,
        output_only=OUTPUT_ONLY_FIELDS,
        populated=populated,
        violations=violations,
    )

    email: str | Keep = KEEP
    role: Role | Keep = KEEP
    status: InvitationStatus | Keep = KEEP
    expire_time: datetime | Keep | None = KEEP
    if "email" in paths:
        email = _parse_email(invitation.email, "invitation.email", violations)
    if "role" in paths:
        role = _parse_role(invitation.role, "invitation.role", violations)
    if "expire_time" in paths:
        now = datetime.now(UTC)
        expire_time = _parse_expire_time(invitation, "invitation.expire_time", violations, now)
    if "status" in paths:
        if invitation.status != InvitationStatus.REVOKED.value:
            violations.add(
                "invitation.status",
                "can only be changed to INVITATION_STATUS_REVOKED "
                "(use AcceptInvitation or DeclineInvitation to answer)",
            )
        status = InvitationStatus.REVOKED
    violations.raise_if_any()
    return id, InvitationChanges(email=email, role=role, status=status, expire_time=expire_time)


# Page tokens: service/conventions.py signs them, over the status filter too, so a token only
# works with the filter it came from.


def _token_query(status: InvitationStatus | None) -> str:
    return f"status={status.name if status else ''}"


def encode_page_token(cursor: Cursor, status: InvitationStatus | None) -> str:
    return conventions.encode_page_token(cursor, _token_query(status))
