"""Settings from the environment: what is accepted, and what a mistake prints."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from pydantic import SecretStr

from service.config import Settings
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
    "url", ["mysql://app:hunter2@db.internal/app", "postgres://app:hunter2@db.internal:port/app"]
)
def test_a_bad_database_url_is_named_without_its_password(url: str) -> None:
    done = serve_with(database_url=url)

    assert done.returncode == 2
    assert "DATABASE_URL: Value error" in done.stderr
    assert "hunter2" not in done.stderr + done.stdout


def test_page_token_keys_sign_first_and_keep_the_previous() -> None:
    settings = Settings(
        page_token_key=SecretStr("n" * 32), page_token_previous_key=SecretStr("o" * 32)
    )

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
