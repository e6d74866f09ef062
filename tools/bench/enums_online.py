"""Removing an enum value from a big table, the default way and the online way (online=True),
while a reader and a writer keep using the table.

A table of ROWS rows (bigint primary key, a NOT NULL enum column with a default, no index on
it: the online way refuses one) in a scratch database of the local PostgreSQL. For each way, a
revision calling `enum_values.remove_value(..., online=...)` runs through `alembic upgrade`
(this repository's env.py, one transaction per revision), while two connections loop:
a reader (SELECT of one row by primary key) and a writer (UPDATE of one row's enum column),
each on random rows. "Blocked" is the longest any one of their statements took while the
migration ran; the first line is the same loop with no migration, for scale.
"""

from __future__ import annotations

import asyncio
import os
import random
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import sqlalchemy as sa
from alembic import command

from service.db import migrations
from service.db.database import asyncpg_dsn

ROWS = int(os.environ.get("BENCH_ENUM_ROWS", "1000000"))
IDLE_SECONDS = 2.0  # the loops alone, before any migration

REVISION = '''"""remove D"""
from service.db import enum_migrations as enum_values

revision = "remove_d"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    enum_values.remove_value("big_status", "D", values=["A", "B", "C"], online={online})


def downgrade() -> None:
    enum_values.add_value("big_status", "D", after="C")
'''


@dataclass
class Loop:
    """Statements one connection ran while the clock was on: their count, longest, errors."""

    count: int = 0
    longest: float = 0.0
    longest_at: float = 0.0  # when the longest started, from the start of the clock
    clock: float = 0.0
    errors: set[str] = field(default_factory=set)


async def _setup(dsn: str) -> None:
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(
            "DROP TABLE IF EXISTS big_things, alembic_version;"
            " DROP TYPE IF EXISTS big_status, big_status__new CASCADE;"
            " CREATE TYPE big_status AS ENUM ('A', 'B', 'C', 'D');"
            " CREATE TABLE big_things (id bigint PRIMARY KEY,"
            "  status big_status NOT NULL DEFAULT 'A', note text NOT NULL);"
            " INSERT INTO big_things SELECT n, (ARRAY['A','B','C']::big_status[])[1 + n % 3],"
            f"  'row ' || n FROM generate_series(1, {ROWS}) AS n;"
        )
        await connection.execute("VACUUM ANALYZE big_things")
    finally:
        await connection.close()


async def _loop(dsn: str, statement: str, writes: bool, stop: asyncio.Event, into: Loop) -> None:
    connection = await asyncpg.connect(dsn)
    try:
        while not stop.is_set():
            key = random.randint(1, ROWS)
            arguments: tuple[object, ...] = (key, random.choice("ABC")) if writes else (key,)
            started = time.perf_counter()
            try:
                await connection.execute(statement, *arguments)
            except asyncpg.PostgresError as error:
                into.errors.add(type(error).__name__)
            took = time.perf_counter() - started
            if took > into.longest:
                into.longest, into.longest_at = took, started - into.clock
            into.count += 1
    finally:
        await connection.close()


async def _under_load(
    dsn: str, work: Callable[[], Awaitable[None]] | None
) -> tuple[float, Loop, Loop]:
    """Seconds `work()` took (or IDLE_SECONDS), and what the reader and writer saw meanwhile."""
    reader, writer, stop = Loop(), Loop(), asyncio.Event()
    loops = [
        asyncio.create_task(
            _loop(dsn, "SELECT status::text FROM big_things WHERE id = $1", False, stop, reader)
        ),
        asyncio.create_task(
            _loop(
                dsn,
                "UPDATE big_things SET status = $2::text::big_status WHERE id = $1",
                True,
                stop,
                writer,
            )
        ),
    ]
    await asyncio.sleep(0.3)  # both connected and running
    reader.count = writer.count = 0
    reader.longest = writer.longest = 0.0
    started = reader.clock = writer.clock = time.perf_counter()
    if work is None:
        await asyncio.sleep(IDLE_SECONDS)
    else:
        await work()
    elapsed = time.perf_counter() - started
    stop.set()
    await asyncio.gather(*loops)
    return elapsed, reader, writer


def _upgrade(url: str, online: bool) -> None:
    """`alembic upgrade head` of one revision that removes D, the default or the online way."""
    with tempfile.TemporaryDirectory() as versions:
        Path(versions, "remove_d.py").write_text(REVISION.format(online=online))
        config = migrations.alembic_config(url, Path(versions))
        config.attributes["metadata"] = sa.MetaData()
        command.upgrade(config, "head")


async def _way(url: str, online: bool) -> tuple[float, Loop, Loop, str]:
    dsn = asyncpg_dsn(url)
    await _setup(dsn)

    async def upgrade() -> None:
        await asyncio.to_thread(_upgrade, url, online)

    elapsed, reader, writer = await _under_load(dsn, upgrade)
    connection = await asyncpg.connect(dsn)
    try:
        rows = await connection.fetch(
            "SELECT status::text, count(*) FROM big_things GROUP BY 1 ORDER BY 1"
        )
    finally:
        await connection.close()
    after = ", ".join(f"{row[0]}: {row[1]:,}" for row in rows)
    return elapsed, reader, writer, after


def _ms(loop: Loop) -> str:
    return f"{loop.longest * 1000:,.0f} ms at {loop.longest_at:.1f} s"


async def _measure(url: str) -> None:
    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:
        version = await connection.fetchval("SHOW server_version")
    finally:
        await connection.close()
    print(f"removing an enum value from {ROWS:,} rows under load (PostgreSQL {version})")
    print(f"  {'way':<18} {'total':>12} {'reader blocked':>20} {'writer blocked':>20}  statements")
    await _setup(asyncpg_dsn(url))
    elapsed, reader, writer = await _under_load(asyncpg_dsn(url), None)
    print(
        f"  {'no migration':<18} {'-':>12} {_ms(reader):>20} {_ms(writer):>20}"
        f"  {reader.count:,} reads, {writer.count:,} writes in {elapsed:.1f} s"
    )
    for online in (False, True):
        elapsed, reader, writer, after = await _way(url, online)
        errors = sorted(reader.errors | writer.errors)
        label = "online=True" if online else "default"
        print(
            f"  {label:<18} {elapsed * 1000:>9,.0f} ms {_ms(reader):>20}"
            f" {_ms(writer):>20}  {reader.count:,} reads, {writer.count:,} writes"
            + (f", errors: {', '.join(errors)}" if errors else "")
        )
        print(f"  {'':<18} rows afterwards: {after}")


def main() -> None:
    from service.db.local import local_postgres

    with local_postgres("service_bench_enums") as url:
        asyncio.run(_measure(url))
