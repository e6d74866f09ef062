"""Everything an operator can configure, in one typed class read from the environment.

Each field is an environment variable of the same name in upper case (`DATABASE_URL`, `PORT`,
`LOG_FORMAT`, ...). Nothing is read from files: production passes the environment, and
development needs none of it (`make run` starts a local PostgreSQL when DATABASE_URL is unset).
"""

from __future__ import annotations

import re
import urllib.parse
from typing import Literal

from pydantic import Field, FilePath, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(frozen=True, extra="ignore")

    # URL of the database: postgresql://, postgres:// or postgresql+asyncpg://user:pass@host/db,
    # kept as postgresql+asyncpg:// (normalised_database_url).
    # Unset: development mode, a local PostgreSQL is started (service/db/local.py).
    database_url: str | None = None
    # Connections each server process keeps open to PostgreSQL.
    database_pool_size: int = Field(default=10, ge=1)
    # Check that every pooled connection comes back without session state (a SET, an advisory
    # lock, LISTEN, ...) that the next RPC would inherit: an ERROR log naming it, and the
    # connection closed. A round trip per RPC. Unset: on in development (no DATABASE_URL).
    database_session_check: bool | None = None
    host: str = "127.0.0.1"
    port: int = Field(default=50051, ge=0, le=65535)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # json: one object per line, for production log pipelines; text: readable, for development.
    log_format: Literal["json", "text"] = "text"
    # Server reflection lets grpcurl and other tools discover the API. Unset: on in development
    # (no DATABASE_URL), off otherwise.
    reflection: bool | None = None
    # On SIGTERM/SIGINT, how long in-flight RPCs get to finish before they are cancelled.
    grace_period_seconds: float = Field(default=10.0, ge=0)
    max_receive_message_bytes: int = Field(default=4 * 1024 * 1024, ge=1024)
    # A request to the API larger than this is INVALID_ARGUMENT before it is parsed: parsing a
    # huge repeated field (a million update_mask paths) costs far more than its bytes.
    max_request_bytes: int = Field(default=256 * 1024, ge=1024)
    max_send_message_bytes: int = Field(default=4 * 1024 * 1024, ge=1024)
    # Server-side cap on the database work of one RPC when the client set no deadline.
    default_rpc_timeout_seconds: float = Field(default=30.0, gt=0)
    # API RPCs one server process runs at once, and server streams (Watch...) among them; a call
    # beyond either is RESOURCE_EXHAUSTED at once. Health checks and reflection are not counted,
    # so probes answer whatever clients do to the API.
    # A call counts until its response is sent, so responses clients do not read count too.
    max_concurrent_rpcs: int = Field(default=1000, ge=1)
    max_concurrent_streams: int = Field(default=200, ge=1)
    # Server streams one authenticated caller (a token's subject) holds open at once.
    max_streams_per_caller: int = Field(default=50, ge=1)
    # Calls one HTTP/2 connection carries at once (grpc's max_concurrent_streams): one client's
    # connection cannot take the whole process.
    max_calls_per_connection: int = Field(default=100, ge=1)
    # A connection is asked to close (GOAWAY) after about this long, and closed, ending what it
    # still carries, after the grace: responses a client never reads are freed, and
    # long-lived clients spread again over new replicas. Watch streams end then; clients
    # resubscribe.
    max_connection_age_seconds: float = Field(default=900.0, gt=0)
    max_connection_age_grace_seconds: float = Field(default=60.0, ge=0)
    # Open health Watch streams (probes use Check; Watch is for clients that follow health).
    max_health_watches: int = Field(default=100, ge=1)
    # HTTP/2 keepalive pings: find dead connections behind NATs and load balancers.
    keepalive_time_seconds: float = Field(default=60.0, gt=0)
    keepalive_timeout_seconds: float = Field(default=20.0, gt=0)

    # TLS: a certificate and key to serve TLS; add a client CA to require client certificates
    # signed by it (mutual TLS). Unset: plaintext, for local development.
    tls_cert_file: FilePath | None = None
    tls_key_file: FilePath | None = None
    tls_client_ca_file: FilePath | None = None

    # Authentication: bearer JWTs verified with this public key (PEM). Unset: no authentication.
    auth_jwt_public_key_file: FilePath | None = None
    auth_jwt_algorithms: list[str] = ["RS256", "ES256", "EdDSA"]
    auth_jwt_audience: str | None = None
    auth_jwt_issuer: str | None = None

    # Page tokens are signed (HMAC) with PAGE_TOKEN_KEY, at least 32 characters, the same in
    # every replica; PAGE_TOKEN_PREVIOUS_KEY is still accepted, for rotating the key without
    # breaking the pages clients are reading. Unset: a random key per start of the service, so
    # a token only works on the replica that made it, until it restarts.
    page_token_key: SecretStr | None = Field(default=None, min_length=32)
    page_token_previous_key: SecretStr | None = Field(default=None, min_length=32)

    # Prometheus metrics over HTTP on this port (with `--workers N`, worker i uses port + i).
    # Unset: no metrics endpoint.
    metrics_port: int | None = Field(default=None, ge=0, le=65535)

    @model_validator(mode="after")
    def _tls_pairs(self) -> Settings:
        if (self.tls_cert_file is None) != (self.tls_key_file is None):
            raise ValueError("set both TLS_CERT_FILE and TLS_KEY_FILE, or neither")
        if self.tls_client_ca_file is not None and self.tls_cert_file is None:
            raise ValueError("TLS_CLIENT_CA_FILE (mutual TLS) needs TLS_CERT_FILE and TLS_KEY_FILE")
        return self

    @model_validator(mode="after")
    def _page_token_keys(self) -> Settings:
        if self.page_token_previous_key is not None and self.page_token_key is None:
            raise ValueError("PAGE_TOKEN_PREVIOUS_KEY needs PAGE_TOKEN_KEY")
        return self

    @property
    def page_token_keys(self) -> list[bytes]:
        """The keys page tokens are checked with, the signing one first; empty when unset."""
        keys = (self.page_token_key, self.page_token_previous_key)
        return [key.get_secret_value().encode() for key in keys if key is not None]

    @property
    def session_check_enabled(self) -> bool:
        if self.database_session_check is not None:
            return self.database_session_check
        return self.database_url is None

    @property
    def reflection_enabled(self) -> bool:
        return self.reflection if self.reflection is not None else self.database_url is None

    @field_validator("database_url")
    @classmethod
    def _postgres_only(cls, value: str | None) -> str | None:
        return None if value is None else normalised_database_url(value)

    @property
    def address(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


def normalised_database_url(value: str) -> str:
    """A PostgreSQL URL in the one form the service uses, postgresql+asyncpg://... (SQLAlchemy's
    URL for the asyncpg driver), from any of the schemes hosts hand out; ValueError otherwise.
    service/db/database.asyncpg_dsn gives asyncpg its own spelling of it. Parsed here rather
    than by SQLAlchemy, which the server does not import (service/db/statements.py)."""
    scheme, separator, rest = value.partition("://")
    if not separator or not re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*", scheme):
        raise ValueError("is not a database URL")
    if scheme not in ("postgres", "postgresql", "postgresql+asyncpg"):
        raise ValueError("use a postgresql://, postgres:// or postgresql+asyncpg:// URL")
    try:
        urllib.parse.urlsplit(value).port  # noqa: B018  # ValueError unless a number, or none
    except ValueError:
        raise ValueError("has a port that is not a number") from None
    return "postgresql+asyncpg://" + rest
