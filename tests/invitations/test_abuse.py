"""Hostile requests to the invitations API, over a socket, to a server with authentication on:
every answer is a status code the service chose (never INTERNAL or UNKNOWN), and an
INVALID_ARGUMENT names the fields at fault.

Random requests for every RPC (strings in every field, enum numbers the proto does not define,
timestamps at the edges of their range, update masks with made-up paths); emails and names of
every Unicode category, and strings that are not UTF-8; page tokens made up, and genuine ones
damaged. What holds for every resource (tokens, bytes that do not parse, strings that are not
UTF-8 in any field) is tested in tests/e2e/test_abuse.py.
"""

from __future__ import annotations

import base64
import unicodedata
import uuid
from collections.abc import Iterator

import grpc
import pytest
from google.protobuf import field_mask_pb2, timestamp_pb2
from google.protobuf.descriptor import Descriptor
from google.protobuf.message import Message
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from generated.invitations.v1 import invitations_pb2 as pb
from tests.support import (
    DELIBERATE,
    HOSTILE_CHARACTERS,
    Answer,
    JwtKeys,
    ServerProcess,
    hostile_text,
    is_field_path,
    not_utf8,
    send,
    utf8,
    wire_field,
    with_text,
)

Code = grpc.StatusCode
SERVICE = f"/{pb.DESCRIPTOR.services_by_name['InvitationService'].full_name}"
EXAMPLES = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


class Api:
    """The invitations service of the authenticated server, sent requests' bytes as they are."""

    def __init__(self, channel: grpc.Channel, token: str) -> None:
        self.channel = channel
        self.token = token

    def __call__(
        self,
        method: str,
        request: Message | bytes,
        *,
        streaming: bool = False,
        timeout: float = 10.0,
    ) -> Answer:
        body = request if isinstance(request, bytes) else request.SerializeToString()
        path = f"{SERVICE}/{method}"
        return send(
            self.channel, path, body, token=self.token, streaming=streaming, timeout=timeout
        )

    def create(self, email: str) -> pb.Invitation:
        invitation = pb.Invitation(email=email, role=pb.ROLE_VIEWER)
        answer = self("CreateInvitation", pb.CreateInvitationRequest(invitation=invitation))
        assert answer.code is Code.OK, answer
        assert answer.response is not None
        return pb.Invitation.FromString(answer.response)


@pytest.fixture(scope="module")
def api(auth_server: ServerProcess, keys: JwtKeys) -> Iterator[Api]:
    with grpc.insecure_channel(auth_server.target) as channel:
        yield Api(channel, keys.token(scope="invitations.read invitations.write"))


def deliberate(answer: Answer, request: Descriptor) -> None:
    """A code the service chose, and an INVALID_ARGUMENT names fields of the request."""
    assert answer.code in DELIBERATE, answer
    if answer.code is Code.INVALID_ARGUMENT:
        assert answer.fields, answer
        assert all(is_field_path(request, field) for field in answer.fields), answer


def has_surrogates(text: str) -> bool:
    return any(0xD800 <= ord(char) <= 0xDFFF for char in text)


def unicode(text: str) -> str:
    """The text without its lone surrogates: what protobuf lets a message hold."""
    return "".join(char for char in text if not 0xD800 <= ord(char) <= 0xDFFF)


def unique_email() -> str:
    return f"abuse-{uuid.uuid4().hex[:12]}@example.com"


# Random requests for every RPC -----------------------------------------------------------------

int32 = st.integers(-(2**31), 2**31 - 1)
text = st.one_of(
    hostile_text().map(unicode),
    st.sampled_from(["invitations/", "invitations/00000000-0000-0000-0000-000000000000", "a@b.co"]),
    st.builds(lambda s: f"invitations/{s}", hostile_text().map(unicode)),
    st.builds(lambda s: f"{s}@example.com", hostile_text(min_size=1, max_size=300).map(unicode)),
)
timestamps = st.builds(
    timestamp_pb2.Timestamp,
    seconds=st.integers(-(2**40), 2**40),
    nanos=st.integers(-(10**9), 2 * 10**9),
)


@st.composite
def invitations(draw: st.DrawFn) -> pb.Invitation:
    invitation = pb.Invitation(
        name=draw(text),
        email=draw(text),
        role=pb.Role.ValueType(draw(st.one_of(st.integers(0, 4), int32))),
        status=pb.InvitationStatus.ValueType(draw(st.one_of(st.integers(0, 5), int32))),
    )
    for field in ("expire_time", "create_time", "update_time"):
        stamp = draw(st.none() | timestamps)
        if stamp is not None:
            getattr(invitation, field).CopyFrom(stamp)
    return invitation


masks = st.none() | st.builds(
    lambda paths: field_mask_pb2.FieldMask(paths=paths),
    st.lists(st.sampled_from(["email", "role", "status", "expire_time", "name", "*"]) | text),
)


@st.composite
def updates(draw: st.DrawFn) -> pb.UpdateInvitationRequest:
    request = pb.UpdateInvitationRequest(invitation=draw(invitations()))
    mask = draw(masks)
    if mask is not None:
        request.update_mask.CopyFrom(mask)
    return request


@EXAMPLES
@given(request=st.builds(pb.CreateInvitationRequest, invitation=invitations()))
def test_create(api: Api, request: pb.CreateInvitationRequest) -> None:
    deliberate(api("CreateInvitation", request), request.DESCRIPTOR)


@EXAMPLES
@given(
    request=st.builds(
        pb.ListInvitationsRequest,
        page_size=int32,
        page_token=text | st.binary(max_size=60).map(lambda b: b.hex()),
        status=st.one_of(st.integers(0, 5), int32).map(pb.InvitationStatus.ValueType),
    )
)
def test_list(api: Api, request: pb.ListInvitationsRequest) -> None:
    deliberate(api("ListInvitations", request), request.DESCRIPTOR)


@EXAMPLES
@given(request=updates())
def test_update(api: Api, request: pb.UpdateInvitationRequest) -> None:
    deliberate(api("UpdateInvitation", request), request.DESCRIPTOR)


def test_update_of_a_real_invitation(api: Api) -> None:
    """The same generated updates, aimed at an invitation that exists."""
    created = api.create(unique_email())

    @EXAMPLES
    @given(updates())
    def aimed(request: pb.UpdateInvitationRequest) -> None:
        request.invitation.name = created.name
        deliberate(api("UpdateInvitation", request), request.DESCRIPTOR)

    aimed()


def test_watch_with_a_deadline(api: Api) -> None:
    answer = api("WatchInvitations", pb.WatchInvitationsRequest(), streaming=True, timeout=0.5)
    assert answer.code is Code.DEADLINE_EXCEEDED, answer


# Names and emails of every kind ----------------------------------------------------------------

names = st.one_of(
    hostile_text().map(utf8),
    hostile_text().map(lambda s: utf8(f"invitations/{s}")),
    st.uuids().map(lambda id: f"invitations/{id}".encode()),  # well-formed, and unknown
    not_utf8.map(lambda b: b"invitations/" + b),
)


@EXAMPLES
@given(name=names)
def test_names_of_every_kind_are_not_found_or_invalid(api: Api, name: bytes) -> None:
    for method in ("GetInvitation", "DeleteInvitation", "AcceptInvitation", "DeclineInvitation"):
        answer = api(method, wire_field(1, name))
        if answer.code is Code.INVALID_ARGUMENT:
            assert answer.fields == ["name"], (method, answer)
        else:
            assert answer.code is Code.NOT_FOUND, (method, answer)


# Text the email rules do not refuse on sight: no controls, format characters or spaces, so that
# letters, marks, symbols, noncharacters and private use of every script reach the database.
printable = st.text(st.characters(exclude_categories=("Cc", "Cf", "Cs", "Z")), min_size=1)
hostile_emails = st.one_of(
    hostile_text(max_size=60),
    st.builds(
        lambda local, domain: f"{local}@{domain}.com",
        hostile_text(min_size=1, max_size=60),
        hostile_text(min_size=1, max_size=20),
    ),
    st.builds(lambda local: f"{local}@example.com", hostile_text(min_size=240, max_size=300)),
)
plain_emails = st.builds(lambda local, domain: f"{local}@{domain}.com", printable, printable)
# Half of each, as one_of would draw a quarter of plain ones.
emails = st.booleans().flatmap(lambda plain: plain_emails if plain else hostile_emails)


def check_email(api: Api, email: str, answer: Answer) -> None:
    """An email is refused naming invitation.email, taken by another invitation, or stored as
    an address: printable, bounded, and read back as it was stored."""
    if has_surrogates(email):
        assert answer.code is Code.INVALID_ARGUMENT, answer
    if answer.code is Code.INVALID_ARGUMENT:
        assert answer.fields == ["invitation.email"], answer
        return
    assert answer.code in {Code.OK, Code.ALREADY_EXISTS}, answer
    if answer.code is Code.OK:
        assert answer.response is not None
        stored = pb.Invitation.FromString(answer.response)
        assert 0 < len(stored.email) <= 254, stored.email
        assert not {unicodedata.category(c) for c in stored.email} & {"Cc", "Cf"}, stored.email
        got = api("GetInvitation", pb.GetInvitationRequest(name=stored.name))
        assert got.response is not None, got
        assert pb.Invitation.FromString(got.response).email == stored.email


@EXAMPLES
@given(email=emails)
def test_emails_of_every_kind_on_create(api: Api, email: str) -> None:
    with_role = pb.CreateInvitationRequest(invitation=pb.Invitation(role=pb.ROLE_VIEWER))
    answer = api("CreateInvitation", with_text(with_role, (1, 2), utf8(email)))
    event(answer.code.name)  # --hypothesis-show-statistics: how many got as far as storage
    check_email(api, email, answer)


def test_emails_of_every_kind_on_update(api: Api) -> None:
    created = api.create(unique_email())
    request = pb.UpdateInvitationRequest(
        invitation=pb.Invitation(name=created.name),
        update_mask=field_mask_pb2.FieldMask(paths=["email"]),
    )

    @EXAMPLES
    @given(emails)
    def changed(email: str) -> None:
        check_email(api, email, api("UpdateInvitation", with_text(request, (1, 2), utf8(email))))

    changed()


def test_every_hostile_character_in_an_email(api: Api) -> None:
    """Each character of the list, once, whatever hypothesis draws: controls and invisible
    format characters are refused, and any other is stored as sent or refused as no address."""
    for char in HOSTILE_CHARACTERS:
        email = f"abuse{char}{uuid.uuid4().hex[:8]}@example.com"
        with_role = pb.CreateInvitationRequest(invitation=pb.Invitation(role=pb.ROLE_VIEWER))
        answer = api("CreateInvitation", with_text(with_role, (1, 2), utf8(email)))
        check_email(api, email, answer)
        if has_surrogates(char) or unicodedata.category(char) in {"Cc", "Cf"}:
            assert answer.code is Code.INVALID_ARGUMENT, (hex(ord(char)), answer)


def test_a_mask_path_that_is_not_utf8_is_named_by_its_index(api: Api) -> None:
    created = api.create(unique_email())
    request = pb.UpdateInvitationRequest(
        invitation=pb.Invitation(name=created.name, role=pb.ROLE_EDITOR),
        update_mask=field_mask_pb2.FieldMask(paths=["role", "email"]),
    )
    answer = api("UpdateInvitation", with_text(request, (2, 1), b"expire\xff_time"))
    assert (answer.code, answer.fields) == (Code.INVALID_ARGUMENT, ["update_mask.paths[2]"])


# Page tokens -------------------------------------------------------------------------------------
# Black-box: a genuine token is whatever ListInvitations returns, damaged as bytes in transit are.


def page(api: Api, token: bytes) -> Answer:
    return api("ListInvitations", with_text(pb.ListInvitationsRequest(page_size=1), (2,), token))


def listed(answer: Answer) -> pb.ListInvitationsResponse:
    assert answer.code is Code.OK, answer
    assert answer.response is not None
    return pb.ListInvitationsResponse.FromString(answer.response)


@pytest.fixture(scope="module")
def genuine(api: Api) -> bytes:
    """A next_page_token of ListInvitations, with a page after it."""
    for _ in range(3):
        api.create(unique_email())
    token = listed(api("ListInvitations", pb.ListInvitationsRequest(page_size=1))).next_page_token
    assert token
    return token.encode()


def test_the_genuine_page_token_is_accepted(api: Api, genuine: bytes) -> None:
    assert listed(page(api, genuine)).invitations


def flipped(token: bytes, at: int, mask: int) -> bytes:
    return token[:at] + bytes([token[at] ^ mask]) + token[at + 1 :]


def damaged(token: bytes) -> st.SearchStrategy[bytes]:
    """The token with one byte flipped, cut short, run on, or something else in its place."""
    return st.one_of(
        st.builds(flipped, st.just(token), st.integers(0, len(token) - 1), st.integers(1, 255)),
        st.integers(1, len(token) - 1).map(lambda length: token[:length]),
        st.binary(min_size=1, max_size=20).map(lambda tail: token + tail),
        hostile_text(min_size=1).map(utf8),
        st.binary(min_size=1, max_size=80).map(base64.urlsafe_b64encode),
        not_utf8,
    )


@settings(parent=EXAMPLES, max_examples=150)
@given(data=st.data())
def test_a_damaged_page_token_is_invalid_argument(
    api: Api, genuine: bytes, data: st.DataObject
) -> None:
    """Refused, naming page_token, or, if accepted, read as the genuine token it was made from:
    the same page. A damaged token never moves the cursor."""
    token = data.draw(damaged(genuine), label="token")
    answer = page(api, token)
    event(answer.code.name)
    if answer.code is Code.OK:
        assert listed(answer) == listed(page(api, genuine)), token
    else:
        assert (answer.code, answer.fields) == (Code.INVALID_ARGUMENT, ["page_token"]), answer


@pytest.mark.parametrize("spelling", ["padded", "with a dot inside", "with a newline inside"])
def test_only_the_genuine_spelling_of_a_page_token_is_accepted(
    api: Api, genuine: bytes, spelling: str
) -> None:
    token = {
        "padded": genuine + b"==",
        "with a dot inside": genuine[:4] + b"." + genuine[4:],
        "with a newline inside": genuine[:4] + b"\n" + genuine[4:],
    }[spelling]
    answer = page(api, token)
    assert (answer.code, answer.fields) == (Code.INVALID_ARGUMENT, ["page_token"]), answer
