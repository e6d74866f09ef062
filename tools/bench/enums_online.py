"""Removing an enum value from a big table, the default way and the online way (online=True),
while a reader and a writer keep using the table.

A table of ROWS rows (bigint primary key, a NOT NULL enum column with a default, no index on
it: the online way refuses one) in a scratch database of the local PostgreSQL. For each way, a
revision calling `enum_values.remove_value(..., online=...)` runs through `alembic upgrade`
(this repository's env.py, one transaction per revision), while two connections loop:
a reader (SELECT of one row by primary key) and a writer (UPDATE of one row's enum column),
each on random rows. "Total" is `alembic upgrade` in its own process, imports excluded;
"blocked" is the longest any one of the reader's or writer's statements took while that process
ran, and "at" when it started, from the start of the upgrade; the first line is the same
loops with no migration, for scale.
"""

from __future__ import annotations

import asyncio
import os
import random
import sys
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
    """The statements one connection ran: when each started (time.time()) and how long it took."""

    statements: list[tuple[float, float]] = field(default_factory=list)
    errors: set[str] = field(default_factory=set)

    def during(self, start: float, end: float) -> tuple[int, float, float]:
        """How many statements ran in [start, end], the longest, and when it started (from
        `start`)."""
        inside = [(took, at) for at, took in self.statements if at < end and at + took > start]
        longest, at = max(inside, default=(0.0, start))
        return len(inside), longest, at - start


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
        await connection.execute("CHECKPOINT")  # its writes flushed before the clock starts
    finally:
        await connection.close()


async def _loop(dsn: str, statement: str, writes: bool, stop: asyncio.Event, into: Loop) -> None:
    connection = await asyncpg.connect(dsn)
    try:
        while not stop.is_set():
            key = random.randint(1, ROWS)
            arguments: tuple[object, ...] = (key, random.choice("ABC")) if writes else (key,)
            started, wall = time.perf_counter(), time.time()
            try:
                await connection.execute(statement, *arguments)
            except asyncpg.PostgresError as error:
                into.errors.add(type(error).__name__)
            into.statements.append((wall, time.perf_counter() - started))
    finally:
        await connection.close()


async def _under_load(dsn: str, work: Callable[[], Awaitable[tuple[float, float]]]) -> Row:
    """Run `work()` (it returns when its clock started, time.time(), and its seconds) while a
    reader and a writer loop; what they saw in that time."""
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
    try:
        started, elapsed = await work()
    finally:
        stop.set()
        await asyncio.gather(*loops)
    return Row(
        elapsed,
        reader.during(started, started + elapsed),
        writer.during(started, started + elapsed),
        sorted(reader.errors | writer.errors),
    )


@dataclass
class Row:
    seconds: float
    reader: tuple[int, float, float]  # statements, longest, when it started
    writer: tuple[int, float, float]
    errors: list[str]


async def _idle() -> tuple[float, float]:
    started = time.time()
    await asyncio.sleep(IDLE_SECONDS)
    return started, IDLE_SECONDS


def _upgrade(url: str, online: bool) -> None:
    """`alembic upgrade head` of one revision that removes D, the default or the online way;
    prints when it started and the seconds it took."""
    import importlib

    from service.db.base import load_models

    for module in ("sqlalchemy.ext.asyncio", "asyncpg", "alembic_postgresql_enum"):
        importlib.import_module(module)  # what env.py imports: before the clock
    load_models()
    with tempfile.TemporaryDirectory() as versions:
        Path(versions, "remove_d.py").write_text(REVISION.format(online=online))
        config = migrations.alembic_config(url, Path(versions))
        config.attributes["metadata"] = sa.MetaData()
        wall, started = time.time(), time.perf_counter()
        command.upgrade(config, "head")
        print(wall, time.perf_counter() - started)


async def _way(url: str, online: bool) -> tuple[Row, str]:
    dsn = asyncpg_dsn(url)
    await _setup(dsn)

    async def upgrade() -> tuple[float, float]:
        # Its own process: the reader and writer must not wait for this one's Python.
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            f"from tools.bench.enums_online import _upgrade; _upgrade({url!r}, {online})",
            cwd=migrations.ROOT,
            stdout=asyncio.subprocess.PIPE,
        )
        out, _ = await process.communicate()
        if process.returncode:
            raise RuntimeError(f"the upgrade failed ({process.returncode})")
        started, elapsed = out.decode().split()[-2:]
        return float(started), float(elapsed)

    row = await _under_load(dsn, upgrade)
    connection = await asyncpg.connect(dsn)
    try:
        rows = await connection.fetch(
            "SELECT status::text, count(*) FROM big_things GROUP BY 1 ORDER BY 1"
        )
    finally:
        await connection.close()
    return row, ", ".join(f"{r[0]}: {r[1]:,}" for r in rows)


def _blocked(seen: tuple[int, float, float]) -> str:
    return f"{seen[1] * 1000:,.0f} ms at {seen[2]:.1f} s"


def _print(label: str, total: str, row: Row) -> None:
    print(
        f"  {label:<14} {total:>10} {_blocked(row.reader):>20} {_blocked(row.writer):>20}"
        f"  {row.reader[0]:,} / {row.writer[0]:,}"
        + (f", errors: {', '.join(row.errors)}" if row.errors else "")
    )


async def _measure(url: str) -> None:
    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:
        version = await connection.fetchval("SHOW server_version")
    finally:
        await connection.close()
    print(f"removing an enum value from {ROWS:,} rows under load (PostgreSQL {version})")
    print(
        f"  {'way':<14} {'total':>10} {'reader blocked':>20} {'writer blocked':>20}  reads / writes"
    )
    await _setup(asyncpg_dsn(url))
    _print("no migration", f"({IDLE_SECONDS:.0f} s)", await _under_load(asyncpg_dsn(url), _idle))
    for online in (False, True):
        row, after = await _way(url, online)
        _print("online=True" if online else "default", f"{row.seconds * 1000:,.0f} ms", row)
        print(f"  {'':<14} rows afterwards: {after}")


def main() -> None:
    from service.db.local import local_postgres

    with local_postgres("service_bench_enums") as url:
        asyncio.run(_measure(url))
