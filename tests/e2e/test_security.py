"""TLS, mutual TLS and bearer-token authentication, with certificates and keys made here.

Through the test probe resource (tests/probe_resource.py), so this holds for any resource.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import NameOID
from google.protobuf.wrappers_pb2 import StringValue
from grpc_health.v1 import health_pb2

from service.client import channel_credentials
from service.resource import all_scopes
from service.resources import RESOURCES
from tests.probe_resource import SERVICE, ProbeClient
from tests.support import PROBE_SERVER, JwtKeys, ServerProcess, poll, unique_mark

Code = grpc.StatusCode


@dataclass(frozen=True)
class Pem:
    cert: bytes
    key: bytes


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def certificate(name: str, issuer: Pem | None = None, *, server: bool = False) -> Pem:
    """An EC certificate for `name`, self-signed (a CA) or signed by `issuer`."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    if issuer is None:
        issuer_name, signing_key = subject, key
    else:
        issuer_cert = x509.load_pem_x509_certificate(issuer.cert)
        loaded = serialization.load_pem_private_key(issuer.key, None)
        assert isinstance(loaded, ec.EllipticCurvePrivateKey)
        issuer_name, signing_key = issuer_cert.subject, loaded
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=issuer is None, path_length=None), critical=True)
    )
    if server:
        names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    cert = builder.sign(signing_key, hashes.SHA256())
    return Pem(cert.public_bytes(serialization.Encoding.PEM), _pem_key(key))


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("pki")
    ca = certificate("test CA")
    server = certificate("server", ca, server=True)
    client = certificate("client", ca)
    stranger_ca = certificate("someone else's CA")
    stranger = certificate("stranger", stranger_ca)
    files = {
        "ca.pem": ca.cert,
        "server.pem": server.cert,
        "server.key": server.key,
        "client.pem": client.cert,
        "client.key": client.key,
        "stranger.pem": stranger.cert,
        "stranger.key": stranger.key,
    }
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return {name: folder / name for name in files}


def read(pki: dict[str, Path], *names: str) -> list[bytes]:
    return [pki[name].read_bytes() for name in names]


@pytest.fixture(scope="module")
def mtls_server(database_url: str, pki: dict[str, Path]) -> Iterator[ServerProcess]:
    server = ServerProcess(
        database_url,
        module=PROBE_SERVER,
        tls_cert_file=str(pki["server.pem"]),
        tls_key_file=str(pki["server.key"]),
        tls_client_ca_file=str(pki["ca.pem"]),
    ).start()
    yield server
    server.stop_cleanly()


async def test_tls_round_trip(database_url: str, pki: dict[str, Path]) -> None:
    server = ServerProcess(
        database_url,
        module=PROBE_SERVER,
        tls_cert_file=str(pki["server.pem"]),
        tls_key_file=str(pki["server.key"]),
    ).start()
    mark = unique_mark()
    try:
        [ca] = read(pki, "ca.pem")
        async with ProbeClient(server.target, credentials=channel_credentials(ca)) as client:
            await client.create_mark(mark)
            assert await client.get_mark(mark) == mark
        async with ProbeClient(server.target, timeout=2) as plaintext:
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await plaintext.get_mark(mark)
        assert caught.value.code() is Code.UNAVAILABLE
        [listening] = [entry for entry in server.logs if entry.get("message") == "listening"]
        assert listening["transport"] == "TLS"
    finally:
        server.stop_cleanly()


@pytest.mark.parametrize(
    ("cert", "key", "reason"),
    [
        ("server.pem", "client.key", "TLS_KEY_FILE is not the key of TLS_CERT_FILE"),
        ("server.key", "server.key", "TLS_CERT_FILE holds no certificate"),
    ],
)
def test_a_wrong_tls_pair_stops_start_up_saying_so(
    database_url: str, pki: dict[str, Path], cert: str, key: str, reason: str
) -> None:
    server = ServerProcess(
        database_url, module=PROBE_SERVER, tls_cert_file=str(pki[cert]), tls_key_file=str(pki[key])
    )

    assert server.process.wait(60) == 1
    [failure] = [entry for entry in server.logs if entry.get("level") == "ERROR"]
    assert reason in failure["message"]
    assert "in use" not in failure["message"]


async def test_mutual_tls_round_trip(mtls_server: ServerProcess, pki: dict[str, Path]) -> None:
    credentials = channel_credentials(*read(pki, "ca.pem", "client.pem", "client.key"))
    mark = unique_mark()
    async with ProbeClient(mtls_server.target, credentials=credentials) as client:
        await client.create_mark(mark)
        assert await client.get_mark(mark) == mark


@pytest.mark.parametrize(
    "client_files",
    [("ca.pem",), ("ca.pem", "stranger.pem", "stranger.key")],
    ids=["none", "other CA"],
)
async def test_mutual_tls_refuses_clients_without_a_trusted_certificate(
    mtls_server: ServerProcess, pki: dict[str, Path], client_files: tuple[str, ...]
) -> None:
    credentials = channel_credentials(*read(pki, *client_files))
    async with ProbeClient(mtls_server.target, credentials=credentials, timeout=3) as client:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await client.echo("hello")
    assert caught.value.code() is Code.UNAVAILABLE


# Authentication ------------------------------------------------------------------------------


async def call_with(server: ServerProcess, token: str | None) -> Code:
    async with ProbeClient(server.target, token=token) as client:
        try:
            await client.create_mark(unique_mark())
        except grpc.aio.AioRpcError as error:
            return error.code()
    return Code.OK


async def test_a_valid_token_with_the_scope_is_accepted(
    auth_server: ServerProcess, keys: JwtKeys
) -> None:
    assert await call_with(auth_server, keys.token(scope="probe.read probe.write")) is Code.OK


async def test_missing_malformed_expired_and_wrong_tokens_are_refused(
    auth_server: ServerProcess, keys: JwtKeys
) -> None:
    other = JwtKeys(
        rsa.generate_private_key(public_exponent=65537, key_size=2048), keys.public_file
    )
    scope = "probe.write"
    assert await call_with(auth_server, None) is Code.UNAUTHENTICATED
    assert await call_with(auth_server, "not-a-jwt") is Code.UNAUTHENTICATED
    assert await call_with(auth_server, keys.token(scope=scope, expires_in=-60)) is (
        Code.UNAUTHENTICATED
    )
    assert await call_with(auth_server, other.token(scope=scope)) is Code.UNAUTHENTICATED
    assert await call_with(auth_server, keys.token(scope="probe.read")) is Code.PERMISSION_DENIED


async def test_a_token_naming_another_key_type_is_unauthenticated_not_internal(
    auth_server: ServerProcess,
) -> None:
    """The server's key is RSA; tokens whose header names an EC, EdDSA or HMAC algorithm, or
    none at all, must be refused as credentials, not crash the key check."""
    claims = {"sub": "mallory", "scope": "probe.write", "exp": int(time.time() + 600)}
    tokens = [
        jwt.encode(claims, ec.generate_private_key(ec.SECP256R1()), algorithm="ES256"),
        jwt.encode(claims, ed25519.Ed25519PrivateKey.generate(), algorithm="EdDSA"),
        jwt.encode(claims, "a shared secret of thirty-two bytes!", algorithm="HS256"),
        jwt.encode(claims, "", algorithm="none"),
    ]
    for token in tokens:
        assert await call_with(auth_server, token) is Code.UNAUTHENTICATED, (
            jwt.get_unverified_header(token)
        )
    assert not [entry for entry in auth_server.logs if entry.get("level") == "ERROR"]


async def test_malformed_authorization_metadata_is_refused(auth_server: ServerProcess) -> None:
    async with ProbeClient(auth_server.target) as client:
        for header in ("Basic dXNlcjpwYXNz", "Bearer", "token-without-scheme"):
            client.metadata = (("authorization", header),)
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await client.get_mark(unique_mark())
            assert caught.value.code() is Code.UNAUTHENTICATED, header


async def test_health_needs_no_token_and_secrets_stay_out_of_the_logs(
    auth_server: ServerProcess, keys: JwtKeys
) -> None:
    token = keys.token(scope="probe.read")
    async with ProbeClient(auth_server.target) as client:
        check = client.channel.unary_unary(
            "/grpc.health.v1.Health/Check",
            request_serializer=health_pb2.HealthCheckRequest.SerializeToString,
            response_deserializer=health_pb2.HealthCheckResponse.FromString,
        )
        response = await check(health_pb2.HealthCheckRequest(), timeout=5)
    assert response.status == health_pb2.HealthCheckResponse.SERVING

    def refusals() -> int:
        return sum(entry.get("code") == "PERMISSION_DENIED" for entry in auth_server.logs)

    before = refusals()
    assert await call_with(auth_server, token) is Code.PERMISSION_DENIED  # read scope only

    async def logged() -> bool:  # the access log is written in batches
        return refusals() > before

    await poll(logged, within=5, what="the refused call's access-log line")
    logs = "\n".join(str(entry) for entry in auth_server.logs)
    assert token not in logs
    assert token.split(".")[2] not in logs  # not even the signature


# Every method of a resource needs its scope ------------------------------------------------------

# The scope each probe method needs: its AIP verb's, or the one its Resource declares (Echo).
PROBE_SCOPES = {
    "CreateMark": "probe.write",
    "GetMark": "probe.read",
    "WatchMarks": "probe.read",
    "Echo": "probe.read",
    "DeleteMark": "probe.write",
}


async def call_method(server: ServerProcess, method: str, token: str) -> tuple[Code, str]:
    """A probe method's status code and message, called with a fresh value. A stream that
    passed the checks waits for a mark until its deadline: DEADLINE_EXCEEDED."""
    takes_a_value = SERVICE.methods_by_name[method].input_type is StringValue.DESCRIPTOR
    request = StringValue(value=unique_mark()) if takes_a_value else None
    async with ProbeClient(server.target, token=token, timeout=1) as client:
        try:
            await client.call(method, request)
        except grpc.aio.AioRpcError as error:
            return error.code(), str(error.details())
    return Code.OK, ""


def test_every_probe_method_has_a_scope_listed_here() -> None:
    assert set(PROBE_SCOPES) == {method.name for method in SERVICE.methods}


async def test_a_token_without_the_resources_scopes_is_denied_every_method(
    auth_server: ServerProcess, keys: JwtKeys
) -> None:
    """Scopes are per resource: every other resource's scopes open none of the probe's."""
    others = {scope for scope in all_scopes(RESOURCES).values() if scope is not None}
    token = keys.token(scope=" ".join(sorted(others | {"admin"})))
    for method in PROBE_SCOPES:
        code, details = await call_method(auth_server, method, token)
        assert code is Code.PERMISSION_DENIED, (method, details)
        assert f"/{SERVICE.full_name}/{method}" in details


@pytest.mark.parametrize("method", sorted(PROBE_SCOPES))
async def test_each_method_needs_its_own_scope(
    auth_server: ServerProcess, keys: JwtKeys, method: str
) -> None:
    needed = PROBE_SCOPES[method]
    [other] = {"probe.read", "probe.write"} - {needed}
    refused, details = await call_method(auth_server, method, keys.token(scope=other))
    assert refused is Code.PERMISSION_DENIED, details
    admitted, details = await call_method(auth_server, method, keys.token(scope=needed))
    assert admitted not in {Code.PERMISSION_DENIED, Code.UNAUTHENTICATED}, details


async def test_a_method_without_a_scope_stops_start_up_with_auth_on(
    database_url: str, keys: JwtKeys
) -> None:
    server = ServerProcess(
        database_url,
        module=PROBE_SERVER,
        probe_resource="without-echo-scope",
        auth_jwt_public_key_file=str(keys.public_file),
    )
    assert server.process.wait(30) == 1
    refusals = [e["message"] for e in server.logs if "cannot start" in e.get("message", "")]
    assert refusals, server.logs
    assert f"/{SERVICE.full_name}/Echo" in refusals[0], refusals
