"""Conversions between messages and the domain (service/invitations/convert.py)."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from generated.invitations.v1 import invitations_pb2 as pb
from generated.invitations.v1.invitations_enums import InvitationStatus, Role
from service import conventions
from service.conventions import Cursor
from service.errors import InvalidArgument
from service.invitations import convert
from service.invitations.domain import Invitation

NOW = datetime(2026, 11, 28, 12, 0, 0, 123456, tzinfo=UTC)


@pytest.mark.parametrize(
    ("role", "status"),
    list(itertools.product([r for r in Role if r.value], [s for s in InvitationStatus if s.value])),
)
def test_every_role_and_status_round_trips_through_the_message(
    role: Role, status: InvitationStatus
) -> None:
    invitation = Invitation(uuid.uuid4(), "a@example.com", role, status, NOW, NOW, None)

    message = convert.invitation_to_proto(invitation)

    assert Role.from_proto(message.role) is role
    assert InvitationStatus.from_proto(message.status) is status
    assert message.create_time.ToDatetime(UTC) == NOW
    assert not message.HasField("expire_time")
    assert convert.parse_name(message.name) == invitation.id


@pytest.mark.parametrize("status", [None, *InvitationStatus])
def test_page_tokens_round_trip_exactly(status: InvitationStatus | None) -> None:
    cursor = Cursor(NOW + timedelta(microseconds=1), uuid.uuid4())
    filter_status = None if status in (None, InvitationStatus.UNSPECIFIED) else status
    token = convert.encode_page_token(cursor, filter_status)
    request = pb.ListInvitationsRequest(
        page_token=token, status=(status or InvitationStatus.UNSPECIFIED).to_proto()
    )

    parsed_status, parsed_cursor, page_size = convert.parse_list(request)

    assert parsed_cursor == cursor
    assert parsed_status == filter_status
    assert page_size == conventions.DEFAULT_PAGE_SIZE


def test_page_size_is_capped() -> None:
    assert (
        convert.parse_list(pb.ListInvitationsRequest(page_size=10**6))[2]
        == conventions.MAX_PAGE_SIZE
    )


def test_create_lists_every_violation_at_once() -> None:
    request = pb.CreateInvitationRequest()

    with pytest.raises(InvalidArgument) as caught:
        convert.parse_create(request)

    fields = [v.field for v in caught.value.violations]
    assert fields == ["invitation", "invitation.email", "invitation.role"]
