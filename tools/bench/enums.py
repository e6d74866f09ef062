"""Enum migrations on a big table: how long each operation takes, and whether it rewrites it.

A table of ROWS rows with an enum column and an index on it, in a scratch database of the local
PostgreSQL. Each operation runs through the same Alembic operation code a revision calls
(service/db/enum_migrations/), in its own transaction. "Rewrite" compares the table's
pg_class.relfilenode before and after.
"""

from __future__ import annotations

import asyncio
import os
import time

from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import create_async_engine

from service.db.enum_migrations import (
    AddEnumValueOp,
    EnumValueOp,
    RemoveEnumValueOp,
    RenameEnumValueOp,
)

ROWS = int(os.environ.get("BENCH_ENUM_ROWS", "1000000"))


def _setup(connection: Connection) -> None:
    connection.execute(text("DROP TABLE IF EXISTS big_things"))
    connection.execute(text("DROP TYPE IF EXISTS big_status"))
    connection.execute(text("CREATE TYPE big_status AS ENUM ('A', 'B', 'C')"))
    connection.execute(text("CREATE TABLE big_things (id bigint PRIMARY KEY, status big_status)"))
    connection.execute(
        text(
            "INSERT INTO big_things SELECT n, (ARRAY['A','B','C']::big_status[])[1 + n % 3]"
            f" FROM generate_series(1, {ROWS}) AS n"
        )
    )
    connection.execute(text("CREATE INDEX ix_big_things_status ON big_things (status)"))
    connection.execute(text("ANALYZE big_things"))


def _relfilenode(connection: Connection) -> int:
    return int(
        connection.execute(
            text("SELECT relfilenode FROM pg_class WHERE relname = 'big_things'")
        ).scalar_one()
    )


async def _measure(url: str) -> list[tuple[str, float, bool]]:
    engine = create_async_engine(url)
    results = []
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_setup)
        steps: list[tuple[str, EnumValueOp]] = [
            ("append a value", AddEnumValueOp("big_status", "D", after="C")),
            ("rename a value", RenameEnumValueOp("big_status", "D", "DEE")),
            (
                "remove an unused value",
                RemoveEnumValueOp("big_status", "DEE", values=["A", "B", "C"]),
            ),
        ]
        for label, operation in steps:
            async with engine.begin() as connection:

                def run(sync: Connection, operation: EnumValueOp = operation) -> tuple[float, bool]:
                    before = _relfilenode(sync)
                    started = time.perf_counter()
                    Operations(MigrationContext.configure(sync)).invoke(operation)
                    elapsed = time.perf_counter() - started
                    return elapsed, _relfilenode(sync) != before

                elapsed, rewrote = await connection.run_sync(run)
            results.append((label, elapsed, rewrote))
    finally:
        await engine.dispose()
    return results


def main() -> None:
    from service.db.local import local_postgres

    print(f"enum migrations on a table of {ROWS:,} rows")
    with local_postgres("service_bench_enums") as url:
        for label, seconds, rewrote in asyncio.run(_measure(url)):
            print(f"  {label:<24} {seconds * 1000:9.1f} ms   rewrite: {'yes' if rewrote else 'no'}")
