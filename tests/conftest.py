"""Test-session set-up shared by every suite: generated code, a real PostgreSQL, and a real
server process serving the test probe resource."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from tools import codegen

if TYPE_CHECKING:
    from tests.support import JwtKeys, ServerProcess


def pytest_sessionstart(session: pytest.Session) -> None:
    """Tests import generated/: bring it up to date first (a no-op in milliseconds if it is)."""
    try:
        codegen.generate(codegen.ROOT / "protos", codegen.ROOT / "generated")
    except codegen.CodegenError as error:
        pytest.exit(f"make generate failed:\n{error}", returncode=1)


@pytest.fixture(autouse=True)
def _no_server_outlives_its_test(request: pytest.FixtureRequest) -> Iterator[None]:
    """Kill server processes a failed test left running (session-scoped ones excepted), and fail
    a test during which a server logged session state left on a pooled connection."""
    from service.db.database import SESSION_LEFT
    from tests.support import RUNNING

    before = list(RUNNING)
    logged = {id(server): len(server.logs) for server in RUNNING}
    yield
    leaks = [
        entry
        for server in RUNNING
        for entry in server.logs[logged.get(id(server), 0) :]
        if entry.get("message") == SESSION_LEFT
    ]
    for server in [s for s in RUNNING if s not in before]:
        server.close()
        RUNNING.remove(server)
    if leaks and request.node.get_closest_marker("leaves_session_state") is None:
        pytest.fail(f"an RPC left session state on a pooled connection: {leaks}")


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """A real PostgreSQL database for this test run, emptied and given the schema at the start.

    TEST_DATABASE_URL points the suite at a server of your own; otherwise the local development
    PostgreSQL (service/db/local.py) serves a database of its own, `service_test`.
    """
    from tools.schema import rebuild

    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        rebuild(url)
        yield url
        return
    from service.db.local import local_postgres

    with local_postgres("service_test") as url:
        rebuild(url)
        yield url


@pytest.fixture(scope="session")
def scratch_url(database_url: str) -> str:
    """A second database on the test server, for tests that build and tear down schemas."""
    import asyncpg

    from service.db.database import asyncpg_dsn

    dsn = asyncpg_dsn(database_url)

    async def create() -> None:
        connection = await asyncpg.connect(dsn)
        try:
            if not await connection.fetchval(
                "SELECT 1 FROM pg_database WHERE datname = 'enum_migrations_test'"
            ):
                await connection.execute("CREATE DATABASE enum_migrations_test")
        finally:
            await connection.close()

    asyncio.run(create())
    head, _, tail = database_url.partition("?")
    base = head.rsplit("/", 1)[0]
    return f"{base}/enum_migrations_test" + (f"?{tail}" if tail else "")


@pytest.fixture(scope="session")
def server(database_url: str) -> Iterator[ServerProcess]:
    """The real server as a process on a free port, with reflection on, shared by the session:
    every resource of service/resources.py, and the test-only probe resource beside them
    (tests/serve.py), so the infrastructure tests need no resource of the service's own."""
    from tests.support import PROBE_SERVER, ServerProcess

    server = ServerProcess(database_url, module=PROBE_SERVER, reflection="true").start()
    yield server
    server.stop_cleanly()


@pytest.fixture(scope="session")
def keys(tmp_path_factory: pytest.TempPathFactory) -> JwtKeys:
    """The key pair of auth_server: tokens signed with it are the server's to accept."""
    from tests.support import JwtKeys

    return JwtKeys.generate(tmp_path_factory.mktemp("jwt"))


@pytest.fixture(scope="session")
def auth_server(database_url: str, keys: JwtKeys) -> Iterator[ServerProcess]:
    """The same probe server, with authentication on (bearer JWTs verified with `keys`) and
    reflection on, shared by the session."""
    from tests.support import PROBE_SERVER, ServerProcess

    server = ServerProcess(
        database_url,
        module=PROBE_SERVER,
        reflection="true",
        auth_jwt_public_key_file=str(keys.public_file),
    ).start()
    yield server
    server.stop_cleanly()
