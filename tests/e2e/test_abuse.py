"""Hostile input over a socket, to a real server with authentication on: whatever a client
sends, the answer is a status code the service chose (never INTERNAL or UNKNOWN), an
INVALID_ARGUMENT names the field at fault, and the server logs no traceback.

Tokens go to the probe resource (tests/probe_resource.py); request bytes and strings go to every
method served (the probe's, every resource's, health's and reflection's), so this holds for any
resource, and with the example one removed. The example resource's own fields (emails, page
tokens) are tested in tests/invitations/test_abuse.py.
"""

from __future__ import annotations

import asyncio
import base64
import json
import random
import time
import uuid
from collections.abc import Callable, Iterator
from functools import cache

import grpc
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from google.protobuf import descriptor_pool, message_factory
from google.protobuf.descriptor import (
    Descriptor,
    FieldDescriptor,
    MethodDescriptor,
    ServiceDescriptor,
)
from google.protobuf.message import Message
from google.protobuf.wrappers_pb2 import StringValue
from grpc_health.v1 import health
from grpc_reflection.v1alpha import reflection_pb2
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jwt.algorithms import get_default_algorithms

from service.resource import all_scopes
from service.resources import RESOURCES
from tests.probe_resource import RESOURCE as PROBE
from tests.probe_resource import ProbeClient
from tests.support import (
    DELIBERATE,
    Answer,
    JwtKeys,
    ServerProcess,
    hostile_text,
    is_field_path,
    logged_through,
    not_utf8,
    send,
    tracebacks,
    utf8,
    wire_field,
    with_text,
)

Code = grpc.StatusCode
EXAMPLES = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
ECHO = f"/{PROBE.name}/Echo"
HEALTH = descriptor_pool.Default().FindServiceByName(health.SERVICE_NAME)
REFLECTION = "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo"
# Every method served, but reflection's (a stream of requests: tested on its own below).
SERVICES: list[ServiceDescriptor] = [PROBE.service, *(r.service for r in RESOURCES), HEALTH]
METHODS = [method for service in SERVICES for method in service.methods]
SCOPES = " ".join(sorted({s for s in all_scopes([PROBE, *RESOURCES]).values() if s}))
# Every method answers these, whatever it is: a probe method that is declared and never
# implemented is UNIMPLEMENTED, a fact about this server.
ANY_METHOD = DELIBERATE | {Code.UNIMPLEMENTED}


def path(method: MethodDescriptor) -> str:
    return f"/{method.containing_service.full_name}/{method.name}"


def empty(descriptor: Descriptor) -> Message:
    return message_factory.GetMessageClass(descriptor)()


@pytest.fixture(scope="module")
def channel(auth_server: ServerProcess) -> Iterator[grpc.Channel]:
    with grpc.insecure_channel(auth_server.target) as channel:
        yield channel


@pytest.fixture(scope="module")
def token(keys: JwtKeys) -> str:
    """A valid token with every scope: what a request holds is all that is wrong with it."""
    return keys.token(scope=SCOPES)


@pytest.fixture(autouse=True)
def _no_traceback_in_the_log(auth_server: ServerProcess, channel: grpc.Channel) -> Iterator[None]:
    """Whatever a test sent, the server logged no exception: a client's bad input is not a bug."""
    start = len(auth_server.logs)
    yield
    marker = f"abuse-{uuid.uuid4().hex}"
    send(channel, ECHO, b"", request_id=marker)  # refused (no token), and access-logged
    logged_through(auth_server, marker)
    assert not tracebacks(auth_server.logs[start:])


# Tokens ----------------------------------------------------------------------------------------

ALGORITHMS = get_default_algorithms()
CLAIMS = {"sub": "mallory", "scope": SCOPES}
PRINTABLE = st.characters(min_codepoint=0x20, max_codepoint=0x7E)  # what metadata may hold


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def segment(value: object) -> str:
    return b64(json.dumps(value).encode())


@cache
def attacker_key(alg: str) -> object | None:
    """A key of the attacker's own, of the kind the algorithm signs with (None: no kind known)."""
    curves: dict[str, ec.EllipticCurve] = {
        "ES256": ec.SECP256R1(),
        "ES256K": ec.SECP256K1(),
        "ES384": ec.SECP384R1(),
        "ES512": ec.SECP521R1(),
        "ES521": ec.SECP521R1(),
    }
    if alg.startswith(("RS", "PS")):
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if alg == "EdDSA":
        return ed25519.Ed25519PrivateKey.generate()
    if alg in curves:
        return ec.generate_private_key(curves[alg])
    return None


def forged(header: object, server_public_key: bytes, *, signature: bytes | None = None) -> str:
    """A token with every scope, this header, and a signature the attacker can make: with a key
    of their own, or for HMAC with the server's public key, which is no secret (the
    algorithm-confusion attack). `signature` replaces it."""
    signing_input = f"{segment(header)}.{segment({**CLAIMS, 'exp': int(time.time()) + 600})}"
    if signature is None:
        alg = header.get("alg") if isinstance(header, dict) else None
        algorithm = ALGORITHMS.get(alg) if isinstance(alg, str) else None
        key = server_public_key if str(alg).startswith("HS") else attacker_key(str(alg))
        signature = b""
        if algorithm is not None and key is not None:
            signature = algorithm.sign(signing_input.encode(), key)
    return f"{signing_input}.{b64(signature)}"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=6,
)
alg_names = st.sampled_from(
    [*sorted(ALGORITHMS), "none", "None", "NONE", "", "garbage", "rs256", " RS256", "RS256\x00"]
)
headers = st.fixed_dictionaries(
    {},
    optional={
        "alg": alg_names | json_values,
        "typ": st.sampled_from(["JWT", "jwt", ""]) | json_values,
        "kid": st.text(max_size=40) | st.integers(0, 4000).map(lambda n: "k" * n) | json_values,
        "crit": st.lists(st.sampled_from(["b64", "alg", "exp", ""]), max_size=3) | json_values,
        "b64": st.booleans() | json_values,
        "jku": st.just("https://attacker.example/keys.json"),
    },
)
DEEP = b64(b"[" * 1100 + b"]" * 1100)
segments = st.one_of(
    st.binary(max_size=48).map(b64),  # random bytes: no JSON
    json_values.map(segment),  # JSON, but no object
    st.text(st.sampled_from("AZaz09-_=+/!~ *"), max_size=40),  # not base64url, or padded wrong
    st.just(DEEP),  # deeper than the JSON parser goes
)


def hostile_tokens(server_public_key: bytes) -> st.SearchStrategy[str]:
    signatures = st.none() | st.binary(max_size=300)
    return st.one_of(
        st.builds(lambda h, s: forged(h, server_public_key, signature=s), headers, signatures),
        # Within grpc's limit on metadata (see the test of a token beyond it).
        st.lists(segments, min_size=1, max_size=5).map(".".join).filter(lambda t: len(t) < 6000),
        st.text(PRINTABLE, min_size=1, max_size=300),
        st.binary(min_size=1, max_size=300).map(lambda b: base64.b64encode(b).decode()),
    )


def echo_with(channel: grpc.Channel, token: str) -> Answer:
    return send(channel, ECHO, StringValue(value="hello").SerializeToString(), token=token)


def test_a_genuine_token_is_accepted(channel: grpc.Channel, token: str) -> None:
    """The calls below are refused for their token alone."""
    answer = echo_with(channel, token)
    assert answer.code is Code.OK, answer
    assert answer.response is not None
    assert StringValue.FromString(answer.response).value == "hello"


@pytest.mark.parametrize("alg", sorted(ALGORITHMS))
def test_every_algorithm_pyjwt_knows_is_refused_signed_with_the_attackers_key(
    channel: grpc.Channel, keys: JwtKeys, alg: str
) -> None:
    token = forged({"alg": alg, "typ": "JWT"}, keys.public_file.read_bytes())
    assert echo_with(channel, token).code is Code.UNAUTHENTICATED


HEADERLESS = f"{segment(CLAIMS)}.{b64(b'signature')}"
CASES: dict[str, Callable[[bytes], str]] = {
    "alg none": lambda pem: forged({"alg": "none"}, pem),
    "alg empty": lambda pem: forged({"alg": ""}, pem),
    "alg garbage": lambda pem: forged({"alg": "garbage"}, pem),
    "alg a number": lambda pem: forged({"alg": 256}, pem),
    "alg a list": lambda pem: forged({"alg": ["RS256"]}, pem),
    "alg an object": lambda pem: forged({"alg": {"name": "RS256"}}, pem),
    "alg null": lambda pem: forged({"alg": None}, pem),
    "no alg": lambda pem: forged({"typ": "JWT"}, pem),
    "huge kid": lambda pem: forged({"alg": "RS256", "kid": "k" * 4000}, pem),
    "kid a number": lambda pem: forged({"alg": "RS256", "kid": 7}, pem),
    "header not JSON": lambda pem: f"{b64(b'not json')}.{HEADERLESS}",
    "header a list": lambda pem: f"{segment(['RS256'])}.{HEADERLESS}",
    "header nested too deep": lambda pem: f"{DEEP}.{HEADERLESS}",
    "bad base64": lambda pem: "!!!!.????.****",
    "base64 padded wrong": lambda pem: forged({"alg": "RS256"}, pem).replace(".", "=.", 1),
    "1 segment": lambda pem: b64(b"x"),
    "2 segments": lambda pem: HEADERLESS,
    "4 segments": lambda pem: forged({"alg": "RS256"}, pem) + ".e30",
    "5 segments": lambda pem: forged({"alg": "RS256"}, pem) + ".e30.e30",
    "empty segments": lambda pem: "....",
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_malformed_tokens_are_unauthenticated(
    channel: grpc.Channel, keys: JwtKeys, case: str
) -> None:
    token = CASES[case](keys.public_file.read_bytes())
    assert echo_with(channel, token).code is Code.UNAUTHENTICATED, token[:200]


@EXAMPLES
@given(data=st.data())
def test_hostile_tokens_are_unauthenticated(
    channel: grpc.Channel, keys: JwtKeys, data: st.DataObject
) -> None:
    token = data.draw(hostile_tokens(keys.public_file.read_bytes()), label="token")
    answer = echo_with(channel, token)
    assert answer.code is Code.UNAUTHENTICATED, (token[:300], answer)


def test_a_token_beyond_grpcs_metadata_limit_is_refused_by_grpc(
    channel: grpc.Channel, keys: JwtKeys
) -> None:
    """grpc refuses metadata of more than 16 KiB (and some of more than 8 KiB) before the
    service sees it: RESOURCE_EXHAUSTED."""
    token = forged({"alg": "RS256", "kid": "k" * 100_000}, keys.public_file.read_bytes())
    assert echo_with(channel, token).code is Code.RESOURCE_EXHAUSTED


def test_a_signed_token_with_an_exp_beyond_any_float_is_accepted(
    channel: grpc.Channel, keys: JwtKeys
) -> None:
    """The issuer's business: valid, though it never expires (it was INTERNAL once)."""
    answer = echo_with(channel, keys.sign({**CLAIMS, "exp": 10**400}))
    assert answer.code is Code.OK, answer


# Strings and request bytes ---------------------------------------------------------------------


def string_fields(message: Descriptor, depth: int = 0) -> list[tuple[str, tuple[int, ...]]]:
    """(path, field numbers) of every string field, in messages three deep. Each field occurs
    once in a request built with with_text(), so a repeated one's index is 0."""
    found: list[tuple[str, tuple[int, ...]]] = []
    for field in message.fields:
        name = f"{field.name}[0]" if field.is_repeated else field.name
        nested = field.message_type
        if field.type == FieldDescriptor.TYPE_STRING:
            found.append((name, (field.number,)))
        elif nested is not None and depth < 2 and not nested.GetOptions().map_entry:
            found += [
                (f"{name}.{inner}", (field.number, *numbers))
                for inner, numbers in string_fields(nested, depth + 1)
            ]
    return found


# (method, field path, field numbers) of every string field of every request served.
TEXT_FIELDS = [
    (method, name, numbers)
    for method in METHODS
    for name, numbers in string_fields(method.input_type)
]


def has_surrogates(text: str) -> bool:
    return any(0xD800 <= ord(char) <= 0xDFFF for char in text)


@EXAMPLES
@given(field=st.sampled_from(TEXT_FIELDS), text=not_utf8)
def test_a_string_that_is_not_utf8_is_invalid_argument_naming_its_field(
    channel: grpc.Channel,
    token: str,
    field: tuple[MethodDescriptor, str, tuple[int, ...]],
    text: bytes,
) -> None:
    method, name, numbers = field
    body = with_text(empty(method.input_type), numbers, text)
    answer = send(channel, path(method), body, token=token, streaming=method.server_streaming)
    assert answer.code is Code.INVALID_ARGUMENT, (path(method), answer)
    assert answer.fields == [name], (path(method), answer)


@EXAMPLES
@given(
    field=st.sampled_from([f for f in TEXT_FIELDS if not f[0].server_streaming]),
    text=hostile_text(),
)
def test_text_of_every_kind_in_every_field_gets_a_deliberate_answer(
    channel: grpc.Channel,
    token: str,
    field: tuple[MethodDescriptor, str, tuple[int, ...]],
    text: str,
) -> None:
    method, name, numbers = field
    body = with_text(empty(method.input_type), numbers, utf8(text))
    answer = send(channel, path(method), body, token=token)
    if has_surrogates(text):
        assert (answer.code, answer.fields) == (Code.INVALID_ARGUMENT, [name]), answer
    assert answer.code in ANY_METHOD, (path(method), answer)
    if answer.code is Code.INVALID_ARGUMENT:
        assert answer.fields, answer
        assert all(is_field_path(method.input_type, f) for f in answer.fields), answer


@EXAMPLES
@given(text=hostile_text(max_size=200))
def test_text_of_every_kind_travels_intact(channel: grpc.Channel, token: str, text: str) -> None:
    answer = send(channel, ECHO, wire_field(1, utf8(text)), token=token)
    if has_surrogates(text):
        assert (answer.code, answer.fields) == (Code.INVALID_ARGUMENT, ["value"]), answer
    else:
        assert answer.code is Code.OK, answer
        assert answer.response is not None
        assert StringValue.FromString(answer.response).value == text


FILLERS: dict[int, object] = {
    FieldDescriptor.CPPTYPE_STRING: "sample-1",
    FieldDescriptor.CPPTYPE_BOOL: True,
    FieldDescriptor.CPPTYPE_ENUM: 1,
    FieldDescriptor.CPPTYPE_DOUBLE: 1.5,
    FieldDescriptor.CPPTYPE_FLOAT: 1.5,
}


def filled(descriptor: Descriptor, depth: int = 0) -> Message:
    """A request with every field set (messages two deep): valid bytes to spoil."""
    message = empty(descriptor)
    for field in descriptor.fields:
        if field.message_type is not None:
            if depth < 2 and not field.message_type.GetOptions().map_entry:
                nested = filled(field.message_type, depth + 1)
                target = getattr(message, field.name)
                if field.is_repeated:
                    target.add().CopyFrom(nested)
                else:
                    target.CopyFrom(nested)
            continue
        value = FILLERS.get(field.cpp_type, 5)
        if field.type == FieldDescriptor.TYPE_BYTES:
            value = b"sample"
        if field.is_repeated:
            getattr(message, field.name).append(value)
        elif field.containing_oneof is None or not message.HasField(field.containing_oneof.name):
            setattr(message, field.name, value)
    return message


def malformed_bodies(seeds: list[bytes], count: int, seed: int = 20261128) -> list[bytes]:
    """Random bytes, and valid requests with bytes flipped, cut short or run on."""
    rng = random.Random(seed)
    bodies = []
    for n in range(count):
        kind = n % 4
        if kind == 0:
            bodies.append(rng.randbytes(rng.randrange(0, 64)))
        else:
            body = bytearray(rng.choice(seeds))
            if kind == 1 and body:
                for _ in range(rng.randrange(1, 4)):
                    body[rng.randrange(len(body))] = rng.randrange(256)
            elif kind == 2:
                body = body[: rng.randrange(len(body) + 1)]
            else:
                body += rng.randbytes(rng.randrange(1, 16))
            bodies.append(bytes(body))
    return bodies


def test_ten_thousand_malformed_requests_get_no_internal_or_unknown(
    auth_server: ServerProcess, token: str
) -> None:
    """Generated bad bytes sent to every unary method served, health's included: a deliberate
    status code for each."""
    methods = [method for method in METHODS if not method.server_streaming]
    seeds = [filled(method.input_type).SerializeToString() for method in methods]
    bodies = malformed_bodies(seeds, 10_000)
    metadata = (("authorization", f"Bearer {token}"),)

    async def fire() -> dict[grpc.StatusCode, int]:
        codes: dict[grpc.StatusCode, int] = {}
        async with grpc.aio.insecure_channel(auth_server.target) as channel:
            calls = [
                channel.unary_unary(
                    path(method), request_serializer=bytes, response_deserializer=bytes
                )
                for method in methods
            ]
            semaphore = asyncio.Semaphore(64)

            async def one(n: int, body: bytes) -> None:
                async with semaphore:
                    try:
                        await calls[n % len(calls)](body, timeout=10, metadata=metadata)
                        code = grpc.StatusCode.OK
                    except grpc.aio.AioRpcError as error:
                        code = error.code()
                codes[code] = codes.get(code, 0) + 1

            await asyncio.gather(*(one(n, body) for n, body in enumerate(bodies)))
        return codes

    codes = asyncio.run(fire())
    assert sum(codes.values()) == 10_000
    # A deliberate code for each; UNAVAILABLE too, should the database falter under the load
    # of a busy machine: that is the answer a database fault gets, whatever the request.
    assert set(codes) <= ANY_METHOD | {Code.UNAVAILABLE}, codes
    assert grpc.StatusCode.INVALID_ARGUMENT in codes, codes  # the bad ones were read as such


def reflect(channel: grpc.Channel, *requests: bytes) -> tuple[list[bytes], Answer]:
    """Reflection's responses to a stream of requests, and how the stream ended."""
    stream: grpc.StreamStreamMultiCallable[bytes, bytes] = channel.stream_stream(REFLECTION)
    responses: list[bytes] = []
    try:
        responses.extend(stream(iter(requests), timeout=10))
    except grpc.RpcError as error:
        return responses, Answer(error.code(), error.details() or "", [])
    return responses, Answer(Code.OK, "", [])


def test_reflection_answers_bytes_that_do_not_parse_with_invalid_argument(
    channel: grpc.Channel,
) -> None:
    list_services = reflection_pb2.ServerReflectionRequest(list_services="").SerializeToString()
    symbol = reflection_pb2.ServerReflectionRequest.DESCRIPTOR.fields_by_name[
        "file_containing_symbol"
    ].number

    responses, ended = reflect(channel, list_services)
    assert (len(responses), ended.code) == (1, Code.OK)
    responses, ended = reflect(channel, list_services, b"\xff\xff\xff")
    assert (len(responses), ended.code) == (1, Code.INVALID_ARGUMENT), ended
    responses, ended = reflect(channel, wire_field(symbol, b"probe.\xed\xa0\x80"))
    assert (responses, ended.code) == ([], Code.INVALID_ARGUMENT), ended
    assert "file_containing_symbol" in ended.details


async def test_a_request_over_max_request_bytes_is_refused_unparsed(
    server: ServerProcess,
) -> None:
    # 300 KiB, over the 256 KiB default: a million empty strings in a repeated field would cost
    # the parser far more than that, so size is checked first.
    huge = StringValue(value="x" * 300 * 1024)
    async with ProbeClient(server.target) as client:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await client.call("Echo", huge)
        assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT
        assert "this server takes 262144" in (caught.value.details() or "")
        assert await client.echo("x" * 200 * 1024) == "x" * 200 * 1024
