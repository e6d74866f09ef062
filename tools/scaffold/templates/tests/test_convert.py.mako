"""Request parsing and response building of ${p}, without a server."""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime

import pytest
from google.protobuf import field_mask_pb2

from generated.${p}.v1 import ${p}_pb2 as pb
from generated.${p}.v1.${p}_enums import ${S}State
from service.conventions import Cursor, decode_page_token, encode_page_token
from service.errors import InvalidArgument, Violations
from service.${p} import convert
from service.${p}.domain import ${S}


def test_a_${s}_round_trips_through_its_message() -> None:
    now = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
    ${s} = ${S}(uuid.uuid4(), "Name", ${S}State.ARCHIVED, now, now)

    message = convert.${s}_to_proto(${s})

    assert message.name == f"${collection}/{${s}.id}"
    assert message.create_time.ToDatetime(UTC) == now
    assert ${S}State.from_proto(message.state) is ${S}State.ARCHIVED


def test_create_defaults_the_state_to_active() -> None:
    new = convert.parse_create(pb.Create${S}Request(${s}=pb.${S}(display_name="x")))

    assert new.state is ${S}State.ACTIVE


def test_every_bad_field_is_reported_at_once() -> None:
    request = pb.Update${S}Request(
        ${s}=pb.${S}(name="nope", state=${S}State.UNSPECIFIED.to_proto()),
        update_mask=field_mask_pb2.FieldMask(paths=["state", "name"]),
    )

    with pytest.raises(InvalidArgument) as caught:
        convert.parse_update(request)

    assert [v.field for v in caught.value.violations] == [
        "${s}.name",
        "update_mask.paths[1]",
        "${s}.state",
    ]


def test_page_tokens_round_trip_and_refuse_forgeries() -> None:
    cursor = Cursor(datetime(2026, 5, 6, 7, 8, 9, 123456, tzinfo=UTC), uuid.uuid4())
    token = encode_page_token(cursor)
    violations = Violations()

    assert decode_page_token(token, violations) == cursor
    raw = bytearray(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    raw[8] ^= 1  # the cursor edited, its signature not
    edited = base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=")
    for forged in ("x", edited, "a" * 1000):
        assert decode_page_token(forged, violations) is None
    assert [v.field for v in violations.found] == ["page_token"] * 3
