"""TLS, mutual TLS and bearer-token authentication, with certificates and keys made here."""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from generated.invitations.v1 import invitations_pb2 as pb
from generated.invitations.v1.invitations_enums import Role
from service.client import channel_credentials
from service.invitations.client import InvitationsClient
from tests.support import ServerProcess

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
        tls_cert_file=str(pki["server.pem"]),
        tls_key_file=str(pki["server.key"]),
        tls_client_ca_file=str(pki["ca.pem"]),
    ).start()
    yield server
    server.stop_cleanly()


async def test_tls_round_trip(database_url: str, pki: dict[str, Path]) -> None:
    server = ServerProcess(
        database_url, tls_cert_file=str(pki["server.pem"]), tls_key_file=str(pki["server.key"])
    ).start()
    try:
        [ca] = read(pki, "ca.pem")
        async with InvitationsClient(server.target, credentials=channel_credentials(ca)) as client:
            created = await client.create(f"{uuid.uuid4().hex}@tls.test", Role.VIEWER)
            assert (await client.get(created.name)).email == created.email
        async with InvitationsClient(server.target, timeout=2) as plaintext:
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await plaintext.get(created.name)
        assert caught.value.code() is Code.UNAVAILABLE
        assert server.logs[0]["transport"] == "TLS"
    finally:
        server.stop_cleanly()


async def test_mutual_tls_round_trip(mtls_server: ServerProcess, pki: dict[str, Path]) -> None:
    credentials = channel_credentials(*read(pki, "ca.pem", "client.pem", "client.key"))
    async with InvitationsClient(mtls_server.target, credentials=credentials) as client:
        created = await client.create(f"{uuid.uuid4().hex}@mtls.test", Role.VIEWER)
        assert (await client.get(created.name)) == created


@pytest.mark.parametrize(
    "client_files",
    [("ca.pem",), ("ca.pem", "stranger.pem", "stranger.key")],
    ids=["none", "other CA"],
)
async def test_mutual_tls_refuses_clients_without_a_trusted_certificate(
    mtls_server: ServerProcess, pki: dict[str, Path], client_files: tuple[str, ...]
) -> None:
    credentials = channel_credentials(*read(pki, *client_files))
    async with InvitationsClient(mtls_server.target, credentials=credentials, timeout=3) as client:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await client.list()
    assert caught.value.code() is Code.UNAVAILABLE


# Authentication ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Keys:
    private: rsa.RSAPrivateKey
    public_file: Path

    def token(self, *, scope: str, expires_in: float = 600, sub: str = "tester") -> str:
        claims = {"sub": sub, "scope": scope, "exp": int(time.time() + expires_in)}
        return jwt.encode(claims, self.private, algorithm="RS256")


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Keys:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_file = tmp_path_factory.mktemp("jwt") / "public.pem"
    public_file.write_bytes(
        private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return Keys(private, public_file)


@pytest.fixture(scope="module")
def auth_server(database_url: str, keys: Keys) -> Iterator[ServerProcess]:
    server = ServerProcess(database_url, auth_jwt_public_key_file=str(keys.public_file)).start()
    yield server
    server.stop_cleanly()


async def call_with(server: ServerProcess, token: str | None) -> Code:
    async with InvitationsClient(server.target, token=token) as client:
        try:
            await client.create(f"{uuid.uuid4().hex}@auth.test", Role.VIEWER)
        except grpc.aio.AioRpcError as error:
            return error.code()
    return Code.OK


async def test_a_valid_token_with_the_scope_is_accepted(
    auth_server: ServerProcess, keys: Keys
) -> None:
    assert await call_with(auth_server, keys.token(scope="invitations.read invitations.write")) is (
        Code.OK
    )


async def test_missing_malformed_expired_and_wrong_tokens_are_refused(
    auth_server: ServerProcess, keys: Keys
) -> None:
    other = Keys(rsa.generate_private_key(public_exponent=65537, key_size=2048), keys.public_file)
    scope = "invitations.write"
    assert await call_with(auth_server, None) is Code.UNAUTHENTICATED
    assert await call_with(auth_server, "not-a-jwt") is Code.UNAUTHENTICATED
    assert await call_with(auth_server, keys.token(scope=scope, expires_in=-60)) is (
        Code.UNAUTHENTICATED
    )
    assert await call_with(auth_server, other.token(scope=scope)) is Code.UNAUTHENTICATED
    assert await call_with(auth_server, keys.token(scope="invitations.read")) is (
        Code.PERMISSION_DENIED
    )


async def test_malformed_authorization_metadata_is_refused(auth_server: ServerProcess) -> None:
    async with InvitationsClient(auth_server.target) as client:
        for header in ("Basic dXNlcjpwYXNz", "Bearer", "token-without-scheme"):
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await client.stub.ListInvitations(
                    pb.ListInvitationsRequest(), metadata=(("authorization", header),)
                )
            assert caught.value.code() is Code.UNAUTHENTICATED


async def test_health_needs_no_token_and_secrets_stay_out_of_the_logs(
    auth_server: ServerProcess, keys: Keys
) -> None:
    token = keys.token(scope="invitations.read")
    async with InvitationsClient(auth_server.target) as client:
        assert await client.health() == "SERVING"
    await call_with(auth_server, token)  # refused: read scope only
    await asyncio.sleep(0.2)  # the access log is written in batches
    logs = "\n".join(str(entry) for entry in auth_server.logs)
    assert token not in logs
    assert token.split(".")[2] not in logs  # not even the signature
