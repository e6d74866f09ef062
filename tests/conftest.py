"""Test-session set-up shared by every suite: generated code, and a real PostgreSQL."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator

import pytest

from tools import codegen


def pytest_sessionstart(session: pytest.Session) -> None:
    """Tests import generated/: bring it up to date first (a no-op in milliseconds if it is)."""
    try:
        codegen.generate(codegen.ROOT / "protos", codegen.ROOT / "generated")
    except codegen.CodegenError as error:
        pytest.exit(f"make generate failed:\n{error}", returncode=1)


def _reset_schema(url: str) -> None:
    """An empty database, then every migration: the schema production gets."""
    from service.db import migrations
    from service.db.schema import drop_everything

    asyncio.run(drop_everything(url))
    migrations.upgrade(url)


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """A real PostgreSQL database for this test run, emptied and given the schema at the start.

    TEST_DATABASE_URL points the suite at a server of your own; otherwise the local development
    PostgreSQL (service/db/local.py) serves a database of its own, `service_test`.
    """
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        _reset_schema(url)
        yield url
        return
    from service.db.local import local_postgres

    with local_postgres("service_test") as url:
        _reset_schema(url)
        yield url
