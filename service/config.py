"""Everything an operator can configure, in one typed class read from the environment.

Each field is an environment variable of the same name in upper case (`DATABASE_URL`, `PORT`,
`LOG_FORMAT`, ...). Nothing is read from files: production passes the environment, and
development needs none of it (`make run` starts a local PostgreSQL when DATABASE_URL is unset).

Read here, not by pydantic-settings: importing pydantic and pydantic-settings took about 0.15 s
of the image's 0.55 s start-up (measured: docs/benchmarks.md, start-up), to parse some thirty
numbers, flags, names and paths. A field's annotation says how its variable is read: text, an
integer, a number, a flag (true/false, 1/0, yes/no, on/off), one of a Literal's values, a JSON
list of strings, a FilePath (a file that exists) or a Secret; `Bounds` says what it must be
within. Every problem is reported by its variable, and never with its value: DATABASE_URL may
hold a password.
"""

from __future__ import annotations

import json
import math
import os
import re
import typing
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, NoReturn


@dataclass(frozen=True)
class Bounds:
    """What a number must be within (ge, gt, le), or how long a text must be (min_length)."""

    ge: float | None = None
    gt: float | None = None
    le: float | None = None
    min_length: int | None = None

    def problem(self, value: object) -> str | None:
        if isinstance(value, Secret | str):
            length = len(value.get_secret_value() if isinstance(value, Secret) else value)
            if self.min_length is not None and length < self.min_length:
                return f"must be at least {self.min_length} characters"
            return None
        assert isinstance(value, int | float)
        if self.ge is not None and value < self.ge:
            return f"must be at least {self.ge:g}"
        if self.gt is not None and value <= self.gt:
            return f"must be more than {self.gt:g}"
        if self.le is not None and value > self.le:
            return f"must be at most {self.le:g}"
        return None


class Secret:
    """A value that no repr, log line or error shows; get_secret_value() reads it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def get_secret_value(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"


class _File:
    """The mark of a FilePath: the path of a file that exists when the settings are read."""


FilePath = Annotated[Path, _File]


class SettingsError(ValueError):
    """The environment's settings are not valid: one line per problem, by its variable."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


_TRUE = {"1", "true", "yes", "on", "t", "y"}
_FALSE = {"0", "false", "no", "off", "f", "n"}


def _flag(text: str) -> bool:
    if text.strip().lower() in _TRUE:
        return True
    if text.strip().lower() in _FALSE:
        return False
    raise ValueError("must be true or false")


def _integer(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ValueError("must be a whole number") from None


def _number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError("must be a number") from None
    if not math.isfinite(value):
        raise ValueError("must be a finite number")
    return value


def _strings(text: str) -> tuple[str, ...]:
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValueError('must be a JSON list of strings, like ["RS256", "ES256"]')
    return tuple(value)


def _file(text: str) -> Path:
    path = Path(text)
    if not path.is_file():
        raise ValueError("names no file that exists")
    return path


@dataclass(frozen=True)
class _Field:
    name: str
    read: Callable[[str], object]  # the variable's text -> the value, or ValueError
    python_type: type | None  # what a value given as an argument must be (None: any)
    optional: bool
    bounds: Bounds | None


def _choice(choices: tuple[object, ...]) -> Callable[[str], object]:
    def choice(text: str) -> object:
        if text not in choices:
            raise ValueError(f"must be one of {', '.join(map(str, choices))}")
        return text

    return choice


# How a variable of each type is read, and the type its values have.
_READERS: dict[object, tuple[Callable[[str], object], type]] = {
    bool: (_flag, bool),
    int: (_integer, int),
    float: (_number, float),
    str: (str, str),
    Secret: (Secret, Secret),
    FilePath: (_file, Path),
    tuple[str, ...]: (_strings, tuple),
}


def _reader(annotation: object) -> tuple[Callable[[str], object], type | None]:
    """How a variable of this (non-optional) type is read, and the type of its values."""
    if typing.get_origin(annotation) is Literal:
        return _choice(typing.get_args(annotation)), None
    if annotation not in _READERS:
        raise TypeError(f"a setting of type {annotation} cannot be read from the environment")
    return _READERS[annotation]


def _fields(cls: type) -> list[_Field]:
    fields = []
    for name, annotation in typing.get_type_hints(cls, include_extras=True).items():
        bounds, hint = None, annotation
        if typing.get_origin(hint) is Annotated and _File not in typing.get_args(hint):
            hint, *marks = typing.get_args(hint)
            bounds = next((mark for mark in marks if isinstance(mark, Bounds)), None)
        arguments = typing.get_args(hint)
        optional = type(None) in arguments and typing.get_origin(hint) is not Annotated
        if optional:
            (hint,) = (argument for argument in arguments if argument is not type(None))
        read, python_type = _reader(hint)
        fields.append(_Field(name, read, python_type, optional, bounds))
    return fields


class Settings:
    """The settings: `Settings()` reads the environment, and a keyword argument (tests) stands
    for its variable. SettingsError lists every problem, each by its variable."""

    # URL of the database: postgresql://, postgres:// or postgresql+asyncpg://user:pass@host/db,
    # kept as postgresql+asyncpg:// (normalised_database_url).
    # Unset: development mode, a local PostgreSQL is started (service/db/local.py).
    database_url: str | None = None
    # Connections each server process keeps open to PostgreSQL.
    database_pool_size: Annotated[int, Bounds(ge=1)] = 10
    # Check that every pooled connection comes back without session state (a SET, an advisory
    # lock, LISTEN, ...) that the next RPC would inherit: an ERROR log naming it, and the
    # connection closed. A round trip per RPC. Unset: on in development (no DATABASE_URL).
    database_session_check: bool | None = None
    host: str = "127.0.0.1"
    port: Annotated[int, Bounds(ge=0, le=65535)] = 50051
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # json: one object per line, for production log pipelines; text: readable, for development.
    log_format: Literal["json", "text"] = "text"
    # Server reflection lets grpcurl and other tools discover the API. Unset: on in development
    # (no DATABASE_URL), off otherwise.
    reflection: bool | None = None
    # On SIGTERM/SIGINT, how long in-flight RPCs get to finish before they are cancelled.
    grace_period_seconds: Annotated[float, Bounds(ge=0)] = 10.0
    max_receive_message_bytes: Annotated[int, Bounds(ge=1024)] = 4 * 1024 * 1024
    # A request to the API larger than this is INVALID_ARGUMENT before it is parsed: parsing a
    # huge repeated field (a million update_mask paths) costs far more than its bytes.
    max_request_bytes: Annotated[int, Bounds(ge=1024)] = 256 * 1024
    max_send_message_bytes: Annotated[int, Bounds(ge=1024)] = 4 * 1024 * 1024
    # Server-side cap on the database work of one RPC when the client set no deadline.
    default_rpc_timeout_seconds: Annotated[float, Bounds(gt=0)] = 30.0
    # API RPCs one server process runs at once, and server streams (Watch...) among them; a call
    # beyond either is RESOURCE_EXHAUSTED at once. Health checks and reflection are not counted,
    # so probes answer whatever clients do to the API.
    # A call counts until its response is sent, so responses clients do not read count too.
    max_concurrent_rpcs: Annotated[int, Bounds(ge=1)] = 1000
    max_concurrent_streams: Annotated[int, Bounds(ge=1)] = 200
    # Server streams one authenticated caller (a token's subject) holds open at once.
    max_streams_per_caller: Annotated[int, Bounds(ge=1)] = 50
    # Calls one HTTP/2 connection carries at once (grpc's max_concurrent_streams): one client's
    # connection cannot take the whole process.
    max_calls_per_connection: Annotated[int, Bounds(ge=1)] = 100
    # A connection is asked to close (GOAWAY) after about this long, and closed, ending what it
    # still carries, after the grace: responses a client never reads are freed, and
    # long-lived clients spread again over new replicas. Watch streams end then; clients
    # resubscribe.
    max_connection_age_seconds: Annotated[float, Bounds(gt=0)] = 900.0
    max_connection_age_grace_seconds: Annotated[float, Bounds(ge=0)] = 60.0
    # Open health Watch streams (probes use Check; Watch is for clients that follow health).
    max_health_watches: Annotated[int, Bounds(ge=1)] = 100
    # HTTP/2 keepalive pings: find dead connections behind NATs and load balancers.
    keepalive_time_seconds: Annotated[float, Bounds(gt=0)] = 60.0
    keepalive_timeout_seconds: Annotated[float, Bounds(gt=0)] = 20.0

    # TLS: a certificate and key to serve TLS; add a client CA to require client certificates
    # signed by it (mutual TLS). Unset: plaintext, for local development.
    tls_cert_file: FilePath | None = None
    tls_key_file: FilePath | None = None
    tls_client_ca_file: FilePath | None = None

    # Authentication: bearer JWTs verified with this public key (PEM). Unset: no authentication.
    auth_jwt_public_key_file: FilePath | None = None
    auth_jwt_algorithms: tuple[str, ...] = ("RS256", "ES256", "EdDSA")
    auth_jwt_audience: str | None = None
    auth_jwt_issuer: str | None = None

    # Page tokens are signed (HMAC) with PAGE_TOKEN_KEY, at least 32 characters, the same in
    # every replica; PAGE_TOKEN_PREVIOUS_KEY is still accepted, for rotating the key without
    # breaking the pages clients are reading. Unset: a random key per start of the service, so
    # a token only works on the replica that made it, until it restarts.
    page_token_key: Annotated[Secret | None, Bounds(min_length=32)] = None
    page_token_previous_key: Annotated[Secret | None, Bounds(min_length=32)] = None

    # Prometheus metrics over HTTP on this port (with `--workers N`, worker i uses port + i).
    # Unset: no metrics endpoint.
    metrics_port: Annotated[int | None, Bounds(ge=0, le=65535)] = None

    def __init__(self, environ: Mapping[str, str] | None = None, **values: Any) -> None:
        if unknown := set(values) - {field.name for field in _FIELDS}:
            raise TypeError(f"no such settings: {', '.join(sorted(unknown))}")
        environ = os.environ if environ is None else environ
        problems: list[str] = []
        for field in _FIELDS:
            variable = field.name.upper()
            try:
                value = self._value(field, values, environ)
            except ValueError as error:
                problems.append(f"{variable}: {error}")
                continue
            if field.bounds is not None and value is not None:
                problem = field.bounds.problem(value)
                if problem is not None:
                    problems.append(f"{variable}: {problem}")
            object.__setattr__(self, field.name, value)
        if not problems:  # the pairs are checked once each of their fields was read
            problems = self._pairs()
        if problems:
            raise SettingsError(problems)

    @staticmethod
    def _value(field: _Field, values: Mapping[str, object], environ: Mapping[str, str]) -> object:
        if field.name in values:
            value = values[field.name]
            if value is None and field.optional:
                return None
            if isinstance(value, str) and field.python_type is not str:
                return field.read(value)
            if field.python_type is not None and not isinstance(value, field.python_type):
                raise ValueError(
                    f"must be {field.python_type.__name__}, not {type(value).__name__}"
                )
        elif field.name.upper() in environ:
            value = field.read(environ[field.name.upper()])
        else:
            value = getattr(Settings, field.name)
        if field.name == "database_url" and value is not None:
            return normalised_database_url(str(value))
        return value

    def _pairs(self) -> list[str]:
        """What is wrong with settings that go together."""
        problems = []
        if (self.tls_cert_file is None) != (self.tls_key_file is None):
            problems.append("TLS_CERT_FILE, TLS_KEY_FILE: set both, or neither")
        if self.tls_client_ca_file is not None and self.tls_cert_file is None:
            problems.append("TLS_CLIENT_CA_FILE (mutual TLS) needs TLS_CERT_FILE and TLS_KEY_FILE")
        if self.page_token_previous_key is not None and self.page_token_key is None:
            problems.append("PAGE_TOKEN_PREVIOUS_KEY needs PAGE_TOKEN_KEY")
        return problems

    def __setattr__(self, name: str, value: object) -> NoReturn:
        raise AttributeError("settings are read once, at start-up, and never change")

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{field.name}={getattr(self, field.name)!r}"
            for field in _FIELDS
            if field.name != "database_url"
        )
        return f"Settings({shown})"

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


_FIELDS = _fields(Settings)
