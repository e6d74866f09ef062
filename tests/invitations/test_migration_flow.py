"""The enum workflow a user follows, in a copy of this repository, with the same commands the
make targets run: edit the proto, generate, write the migration, migrate, use the new value
through the API, and find that downgrading refuses while a row holds it."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import ServerProcess
from tools import probe
from tools.schema import drop_everything

PROTO = "protos/invitations/v1/invitations.proto"


def run(copy: Path, database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """`python -m <args>` in the copy, as its Makefile would run it."""
    return subprocess.run(
        [sys.executable, "-m", *args],
        cwd=copy,
        env={**os.environ, "DATABASE_URL": database_url, "LOG_LEVEL": "WARNING"},
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture
def copy(tmp_path: Path, scratch_url: str) -> Path:
    asyncio.run(drop_everything(scratch_url))
    return probe.copy_repository(tmp_path / "repo")


def test_add_a_value_in_the_proto_then_migrate_use_and_downgrade(
    copy: Path, scratch_url: str
) -> None:
    assert run(copy, scratch_url, "service", "migrate", "up").returncode == 0
    proto = copy / PROTO
    proto.write_text(
        proto.read_text().replace("  ROLE_ADMIN = 3;\n", "  ROLE_ADMIN = 3;\n  ROLE_OWNER = 4;\n")
    )

    assert run(copy, scratch_url, "tools.codegen").returncode == 0  # make generate
    made = run(
        copy, scratch_url, "service", "migrate", "new", "-m", "add owner role"
    )  # make migration
    assert made.returncode == 0, made.stderr
    [revision] = [p for p in (copy / "migrations/versions").glob("*add_owner_role.py")]
    source = revision.read_text()
    upgrade, downgrade = source.split("def downgrade")
    assert 'add_value("invitation_role", "OWNER", after="ADMIN")' in upgrade
    assert "remove_value(" in downgrade
    assert '"OWNER"' in downgrade
    assert run(copy, scratch_url, "service", "migrate", "up").returncode == 0  # make migrate

    server = ServerProcess(scratch_url, cwd=copy).start()
    try:
        client = [sys.executable, "-m", "service.invitations.client", "--target", server.target]
        created = subprocess.run(
            [*client, "create", "owner@example.com", "--role", "OWNER"],
            cwd=copy,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        server.stop_cleanly()
    assert '"ROLE_OWNER"' in created

    refused = run(copy, scratch_url, "service", "migrate", "down")  # make downgrade
    assert refused.returncode == 1
    assert "1 rows of public.invitations.role" in refused.stderr
    assert "nothing was changed" in refused.stderr
    [[count]] = asyncio.run(
        _fetch(scratch_url, "SELECT count(*) FROM invitations WHERE role = 'OWNER'")
    )
    assert count == 1

    asyncio.run(_fetch(scratch_url, "DELETE FROM invitations WHERE role = 'OWNER'"))
    assert run(copy, scratch_url, "service", "migrate", "down").returncode == 0
    labels = asyncio.run(
        _fetch(
            scratch_url,
            "SELECT e.enumlabel FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid"
            " WHERE t.typname = 'invitation_role' ORDER BY e.enumsortorder",
        )
    )
    assert [row[0] for row in labels] == ["VIEWER", "EDITOR", "ADMIN"]


async def _fetch(url: str, sql: str) -> list[tuple[object, ...]]:
    import asyncpg

    from service.db.database import asyncpg_dsn

    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:
        return [tuple(row) for row in await connection.fetch(sql)]
    finally:
        await connection.close()
