"""The constraints invitations.proto declares (buf.validate) and what the server enforces
(service/invitations/convert.py) agree: each request of the table goes through both, through
protovalidate and through convert's parse_* functions, and both must accept or refuse the same
fields. The server never evaluates the constraints (docs/api.md says why); they document it.

Where the two differ on purpose, the case says why in `differs`, and the test checks that the
difference is still there (a case that starts agreeing is moved to the agreeing ones). The
reasons: the server normalises an email (NFKC, case folding, trimming) before checking it, which
a pattern on the text as sent cannot do; only the server can tell a page token it signed; and a
few things the server reports or reads depend on more than one field (update_mask).
"""

from __future__ import annotations

import unicodedata
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import protovalidate
import pytest
from google.protobuf import field_mask_pb2, timestamp_pb2
from google.protobuf.message import Message
from hypothesis import given, settings
from hypothesis import strategies as st

from generated.invitations.v1 import invitations_pb2 as pb
from service.conventions import Cursor
from service.errors import InvalidArgument
from service.invitations import convert

VALIDATOR = protovalidate.Validator()
# CreateInvitationRequest's CEL rules sit on its `invitation` field; each says which field of
# it it is about in its id.
CEL_FIELDS = {
    "invitation.email.required": "invitation.email",
    "invitation.role.required": "invitation.role",
}
ID = "0b7e6c1a-3f7d-4d3e-9a51-2c4f8e0d1b6a"
NAME = f"invitations/{ID}"


def constraint_fields(request: Message) -> set[str]:
    """The fields protovalidate refuses, by their paths in the request."""
    fields = set()
    for violation in VALIDATOR.collect_violations(request):
        proto = violation.proto
        path = proto.field
        field = ".".join(e.field_name for e in path.elements) if path is not None else ""
        fields.add(CEL_FIELDS.get(proto.rule_id, field))
    return fields


def server_fields(parse: Callable[[Message], object], request: Message) -> set[str]:
    """The fields convert.py refuses."""
    try:
        parse(request)
    except InvalidArgument as error:
        return {v.field for v in error.violations}
    return set()


def _timestamp(value: datetime) -> timestamp_pb2.Timestamp:
    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(value)
    return stamp


def _create(
    email: str = "a@example.com",
    role: int = 1,
    *,
    status: int = 0,
    name: str = "",
    expire_time: timestamp_pb2.Timestamp | None = None,
) -> pb.CreateInvitationRequest:
    invitation = pb.Invitation(
        name=name,
        email=email,
        role=pb.Role.ValueType(role),
        status=pb.InvitationStatus.ValueType(status),
    )
    if expire_time is not None:
        invitation.expire_time.CopyFrom(expire_time)
    return pb.CreateInvitationRequest(invitation=invitation)


def _create_parse(request: Message) -> object:
    assert isinstance(request, pb.CreateInvitationRequest)
    return convert.parse_create(request)


_NAMED = (
    pb.GetInvitationRequest,
    pb.DeleteInvitationRequest,
    pb.AcceptInvitationRequest,
    pb.DeclineInvitationRequest,
)


def _name_parse(request: Message) -> object:
    assert isinstance(request, _NAMED)
    return convert.parse_name(request.name)


def _list_parse(request: Message) -> object:
    assert isinstance(request, pb.ListInvitationsRequest)
    return convert.parse_list(request)


def _update_parse(request: Message) -> object:
    assert isinstance(request, pb.UpdateInvitationRequest)
    return convert.parse_update(request)


@dataclass(frozen=True)
class Case:
    request: Message
    parse: Callable[[Message], object]
    differs: str = ""  # why the server and the constraints part here, on purpose


NORMALISED = "the server normalises (NFKC, casefold, trim) before it checks; the pattern cannot"
LONG_ONCE_NORMALISED = "NFKC lengthens it past 254 characters: the server checks the length after"
LATER = datetime.now(UTC) + timedelta(days=7)
EARLIER = datetime.now(UTC) - timedelta(days=7)
TOKEN = convert.encode_page_token(Cursor(datetime(2026, 1, 1, tzinfo=UTC), uuid.UUID(ID)), None)

EMAILS = {
    # accepted by both
    "plain": ("a@example.com", ""),
    "dots and plus": ("First.Last+tag@sub.example.co.uk", ""),
    "upper case": ("A@EXAMPLE.COM", ""),
    "unicode letters": ("名前@例え.jp", ""),
    "accents": ("ü@bücher.de", ""),
    "fullwidth letters": ("\uff46\uff55\uff4c\uff4c@example.com", ""),
    "254 characters": ("a" * 242 + "@example.com", ""),
    "dot before the at": ("a.@b.co", ""),
    # refused by both
    "empty": ("", ""),
    "only spaces": ("   ", ""),
    "no at": ("plainaddress", ""),
    "no dot in the domain": ("a@b", ""),
    "ends with a dot": ("a@b.", ""),
    "nothing before the at": ("@example.com", ""),
    "two ats": ("a@@example.com", ""),
    "a space inside": ("a b@example.com", ""),
    "a space in the domain": ("a@example.c om", ""),
    "NUL": ("a\x00@example.com", ""),
    "a control character that is also a space": ("a\x1c@example.com", ""),
    "zero-width space": ("a\u200b@example.com", ""),
    "bidi override": ("a\u202e@example.com", ""),
    "soft hyphen": ("a\u00adb@example.com", ""),
    "no-break space": ("a\u00a0b@example.com", ""),
    "ideographic space": ("a\u3000b@example.com", ""),
    "line separator": ("a\u2028b@example.com", ""),
    "255 characters": ("a" * 243 + "@example.com", ""),
    # the server accepts once normalised; the pattern, on the text as sent, refuses
    "surrounding spaces": (" a@example.com ", NORMALISED),
    "a trailing newline": ("a@example.com\n", NORMALISED),
    "fullwidth at": ("a\uff20example.com", NORMALISED),
    "fullwidth full stop": ("a@example\uff0ecom", NORMALISED),
    "small commercial at": ("a\ufe6bexample.com", NORMALISED),
    # the constraint accepts; the server, counting after NFKC, refuses
    "ligatures past 254 once expanded": ("\ufb00" * 122 + "@example.com", LONG_ONCE_NORMALISED),
}

CASES: dict[str, Case] = {
    **{
        f"email: {label}": Case(_create(email=email), _create_parse, why)
        for label, (email, why) in EMAILS.items()
    },
    **{f"role {role}": Case(_create(role=role), _create_parse) for role in (-1, 0, 1, 2, 3, 4, 99)},
    "create: status is ignored, any value": Case(_create(status=99), _create_parse),
    "create: name is ignored, any value": Case(_create(name="junk"), _create_parse),
    "create: expire_time in the future": Case(
        _create(expire_time=_timestamp(LATER)), _create_parse
    ),
    "create: expire_time in the past": Case(
        _create(expire_time=_timestamp(EARLIER)), _create_parse
    ),
    "create: expire_time past the year 9999": Case(
        _create(expire_time=timestamp_pb2.Timestamp(seconds=10**13)), _create_parse
    ),
    "create: an empty invitation": Case(
        pb.CreateInvitationRequest(invitation=pb.Invitation()), _create_parse
    ),
    "create: no invitation": Case(
        pb.CreateInvitationRequest(),
        _create_parse,
        "both refuse; the server also names the missing invitation's email and role, the "
        "constraints only the invitation (its rules run on a present message)",
    ),
    # Names: Get, Delete, Accept and Decline share the pattern and convert.parse_name.
    **{
        f"{kind.__name__}: {label}": Case(kind(name=name), _name_parse)
        for kind in _NAMED
        for label, name in {
            "canonical": NAME,
            "nil id": "invitations/00000000-0000-0000-0000-000000000000",
            "empty": "",
            "collection only": "invitations/",
            "another collection": f"others/{ID}",
            "upper case id": f"invitations/{ID.upper()}",
            "id without hyphens": f"invitations/{ID.replace('-', '')}",
            "id in braces": f"invitations/{{{ID}}}",
            "urn id": f"invitations/urn:uuid:{ID}",
            "trailing newline": f"{NAME}\n",
            "trailing slash": f"{NAME}/",
            "not hex": "invitations/" + ID.replace("a", "g"),
            "leading space": f" {NAME}",
        }.items()
    },
    **{
        f"page_size {size}": Case(pb.ListInvitationsRequest(page_size=size), _list_parse)
        for size in (-(2**31), -1, 0, 1, 50, 1000, 1001, 2**31 - 1)
    },
    **{
        f"status {status}": Case(
            pb.ListInvitationsRequest(status=pb.InvitationStatus.ValueType(status)), _list_parse
        )
        for status in (-1, 0, 1, 2, 3, 4, 5, 99)
    },
    "page_token: none": Case(pb.ListInvitationsRequest(), _list_parse),
    "page_token: one the server signed": Case(
        pb.ListInvitationsRequest(page_token=TOKEN), _list_parse
    ),
    "page_token: 201 characters": Case(
        pb.ListInvitationsRequest(page_token="x" * 201), _list_parse
    ),
    "page_token: short, not signed": Case(
        pb.ListInvitationsRequest(page_token="abc"),
        _list_parse,
        "only the server can tell a token it signed; the constraint bounds its length",
    ),
    "page_token: signed for another filter": Case(
        pb.ListInvitationsRequest(page_token=TOKEN, status=pb.INVITATION_STATUS_PENDING),
        _list_parse,
        "a token works only with the filter it came from: a rule over two fields and a key",
    ),
    # Update: what is checked depends on update_mask, which no constraint can express.
    "update: the masked email, valid": Case(
        pb.UpdateInvitationRequest(
            invitation=pb.Invitation(name=NAME, email="b@example.com"),
            update_mask=field_mask_pb2.FieldMask(paths=["email"]),
        ),
        _update_parse,
    ),
    "update: an unknown role, not in the mask": Case(
        pb.UpdateInvitationRequest(
            invitation=pb.Invitation(name=NAME, email="b@example.com", role=pb.Role.ValueType(99)),
            update_mask=field_mask_pb2.FieldMask(paths=["email"]),
        ),
        _update_parse,
        "the server reads only the masked fields; the constraints check every field",
    ),
    "update: no name": Case(
        pb.UpdateInvitationRequest(
            invitation=pb.Invitation(email="b@example.com"),
            update_mask=field_mask_pb2.FieldMask(paths=["email"]),
        ),
        _update_parse,
        "Invitation.name is output only on Create and required on Update: one message, so "
        "no constraint on it",
    ),
}


@pytest.mark.parametrize("label", CASES)
def test_the_constraints_and_the_server_refuse_the_same_fields(label: str) -> None:
    case = CASES[label]

    declared, enforced = constraint_fields(case.request), server_fields(case.parse, case.request)

    if case.differs:
        assert declared != enforced, f"now agree ({declared}): move it to the agreeing cases"
    else:
        assert declared == enforced


def test_the_table_covers_acceptance_and_refusal() -> None:
    agreeing = [case for case in CASES.values() if not case.differs]
    accepted = [case for case in agreeing if not constraint_fields(case.request)]
    assert len(accepted) >= 20
    assert len(agreeing) - len(accepted) >= 40


# Text of every kind, built around the shape of an address.
_PART = st.text(
    st.one_of(
        st.sampled_from("abcXYZ09.+-_@ \t\n"),
        st.characters(codec="utf-8", exclude_categories=["Cs"]),
    ),
    min_size=0,
    max_size=12,
)


def _as_stored(email: str) -> str:
    return unicodedata.normalize("NFKC", email).casefold().strip()


@settings(max_examples=300, deadline=None)
@given(_PART, _PART, _PART)
def test_emails_the_server_does_not_rewrite_get_the_same_answer(
    local: str, domain: str, tld: str
) -> None:
    """Every email whose normalised form differs from what was sent only in case (so the
    pattern sees what the server checks) is accepted or refused by both alike."""
    email = f"{local}@{domain}.{tld}"
    stored = _as_stored(email)
    if stored != email.casefold() or len(stored) != len(email):
        return  # normalisation changes it: the differences the table lists
    request = _create(email=email)

    declared = "invitation.email" in constraint_fields(request)
    enforced = "invitation.email" in server_fields(_create_parse, request)

    assert declared == enforced, (email, stored)
