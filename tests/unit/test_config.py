"""Settings from the environment: what is accepted, and what a mistake prints."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from service.config import Secret, Settings, SettingsError
from tools.codegen import ROOT


@pytest.mark.parametrize(
    "url",
    [
        "postgres://app:secret@db.internal:5432/app",
        "postgresql://app:secret@db.internal:5432/app",
        "postgresql+asyncpg://app:secret@db.internal:5432/app",
    ],
)
def test_every_postgresql_scheme_is_accepted(url: str) -> None:
    settings = Settings(database_url=url)

    assert settings.database_url == "postgresql+asyncpg://app:secret@db.internal:5432/app"


def serve_with(**settings: str) -> subprocess.CompletedProcess[str]:
    """`python -m service serve` with these settings in its environment, which it refuses."""
    env = {**os.environ, **{key.upper(): value for key, value in settings.items()}}
    return subprocess.run(
        [sys.executable, "-m", "service", "serve"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("mysql://app:hunter2@db.internal/app", "use a postgresql://"),
        ("postgres://app:hunter2@db.internal:port/app", "has a port that is not a number"),
    ],
)
def test_a_bad_database_url_is_named_without_its_password(url: str, problem: str) -> None:
    done = serve_with(database_url=url)

    assert done.returncode == 2
    assert f"DATABASE_URL: {problem}" in done.stderr
    assert "hunter2" not in done.stderr + done.stdout


def test_page_token_keys_sign_first_and_keep_the_previous() -> None:
    settings = Settings(page_token_key=Secret("n" * 32), page_token_previous_key=Secret("o" * 32))

    assert settings.page_token_keys == [b"n" * 32, b"o" * 32]
    assert "nnnn" not in repr(settings)
    assert Settings().page_token_keys == []


def test_a_short_page_token_key_is_refused_without_printing_it() -> None:
    done = serve_with(page_token_key="hunter2-too-short")

    assert done.returncode == 2
    assert "PAGE_TOKEN_KEY" in done.stderr
    assert "hunter2" not in done.stderr + done.stdout


@pytest.mark.parametrize(
    ("environment", "checked"),
    [
        ({}, True),  # development: a local database
        ({"DATABASE_URL": "postgresql://db/app"}, False),  # production: no extra round trip
        ({"DATABASE_URL": "postgresql://db/app", "DATABASE_SESSION_CHECK": "true"}, True),
        ({"DATABASE_SESSION_CHECK": "false"}, False),
    ],
)
def test_the_session_check_is_on_in_development_and_where_asked(
    environment: dict[str, str], checked: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("DATABASE_URL", "DATABASE_SESSION_CHECK"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    assert Settings().session_check_enabled is checked


@pytest.mark.parametrize(
    ("environment", "problem"),
    [
        ({"PORT": "fifty"}, "PORT: must be a whole number"),
        ({"PORT": "70000"}, "PORT: must be at most 65535"),
        ({"DATABASE_POOL_SIZE": "0"}, "DATABASE_POOL_SIZE: must be at least 1"),
        ({"DEFAULT_RPC_TIMEOUT_SECONDS": "-5"}, "DEFAULT_RPC_TIMEOUT_SECONDS: must be more than 0"),
        ({"GRACE_PERIOD_SECONDS": "inf"}, "GRACE_PERIOD_SECONDS: must be a finite number"),
        ({"LOG_FORMAT": "xml"}, "LOG_FORMAT: must be one of json, text"),
        ({"REFLECTION": "perhaps"}, "REFLECTION: must be true or false"),
        ({"AUTH_JWT_ALGORITHMS": "HS999"}, "AUTH_JWT_ALGORITHMS: must be a JSON list of strings"),
        ({"TLS_CERT_FILE": "/no/such/cert.pem"}, "TLS_CERT_FILE: names no file that exists"),
        ({"PAGE_TOKEN_KEY": "hunter2"}, "PAGE_TOKEN_KEY: must be at least 32 characters"),
        ({"PAGE_TOKEN_PREVIOUS_KEY": "o" * 32}, "PAGE_TOKEN_PREVIOUS_KEY needs PAGE_TOKEN_KEY"),
    ],
)
def test_each_mistake_is_named_by_its_variable_without_its_value(
    environment: dict[str, str], problem: str
) -> None:
    with pytest.raises(SettingsError) as raised:
        Settings(environment)

    assert any(line.startswith(problem) for line in raised.value.problems), raised.value.problems
    assert not any(value in str(raised.value) for value in environment.values())


def test_every_mistake_is_reported_at_once() -> None:
    with pytest.raises(SettingsError) as raised:
        Settings({"PORT": "-1", "LOG_LEVEL": "LOUD", "MAX_HEALTH_WATCHES": "many"})

    assert [problem.split(":")[0] for problem in raised.value.problems] == [
        "PORT",
        "LOG_LEVEL",
        "MAX_HEALTH_WATCHES",
    ]


def test_variables_are_read_as_their_types() -> None:
    settings = Settings(
        {
            "PORT": "8443",
            "REFLECTION": "Yes",
            "DATABASE_SESSION_CHECK": "0",
            "KEEPALIVE_TIME_SECONDS": "2.5",
            "AUTH_JWT_ALGORITHMS": '["ES256"]',
            "LOG_LEVEL": "DEBUG",
            "PAGE_TOKEN_KEY": "k" * 32,
            "METRICS_PORT": "9100",
            "UNRELATED_VARIABLE": "ignored",
        }
    )

    assert settings.port == 8443
    assert settings.reflection is True
    assert settings.database_session_check is False
    assert settings.keepalive_time_seconds == 2.5
    assert settings.auth_jwt_algorithms == ("ES256",)
    assert settings.log_level == "DEBUG"
    assert settings.page_token_keys == [b"k" * 32]
    assert settings.metrics_port == 9100
    assert "kkkk" not in repr(settings)
    with pytest.raises(AttributeError):
        settings.port = 1
