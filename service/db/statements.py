"""SQLAlchemy Core statements, compiled once and run on asyncpg directly.

Storage builds its statements with SQLAlchemy Core on the typed models, so the SQL is checked
against the schema and parameters and rows go through the columns' SQLAlchemy types (the
proto-generated enums included). What it does not use is SQLAlchemy's execution layer: per call,
building the statement, looking up its compiled form and adapting result metadata cost about
1 ms of CPU here (profiled), seven times what asyncpg needs for the same round trip. A Query is
compiled when it is first built, and then each call is one prepared asyncpg statement.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Generic, TypeAlias, TypeVar

import asyncpg
from sqlalchemy.dialects.postgresql.asyncpg import PGDialect_asyncpg
from sqlalchemy.sql import Select
from sqlalchemy.sql.dml import UpdateBase

R = TypeVar("R")
AnySelect = Select[*tuple[Any, ...]]
_DIALECT = PGDialect_asyncpg()  # type: ignore[no-untyped-call]  # SQLAlchemy leaves it untyped
if TYPE_CHECKING:
    # What pool.acquire() hands out, typed by asyncpg-stubs (generic only in the stubs).
    Connection: TypeAlias = asyncpg.Connection[Any] | asyncpg.pool.PoolConnectionProxy[Any]


class Query(Generic[R]):
    """A SELECT, or an INSERT / UPDATE / DELETE ... RETURNING, whose rows become R through
    `make` (called with the row's values in the order of the statement's columns)."""

    def __init__(
        self, statement: AnySelect | UpdateBase, make: Callable[[Sequence[Any]], R]
    ) -> None:
        if not statement.exported_columns:
            raise ValueError("a Query returns rows: give an INSERT, UPDATE or DELETE .returning()")
        compiled = statement.compile(dialect=_DIALECT)
        self.sql = str(compiled)
        self._binds = [
            (name, compiled.binds[name].type.bind_processor(_DIALECT))
            for name in compiled.positiontup or ()
        ]
        self._results = [
            column.type.result_processor(_DIALECT, None) for column in statement.exported_columns
        ]
        self._make = make

    def arguments(self, params: Mapping[str, Any]) -> list[Any]:
        return [p(params[name]) if p else params[name] for name, p in self._binds]

    def row(self, record: Sequence[Any]) -> R:
        return self._make([p(v) if p else v for p, v in zip(self._results, record, strict=True)])

    async def one(self, connection: Connection, **params: Any) -> R | None:
        record = await connection.fetchrow(self.sql, *self.arguments(params))
        return None if record is None else self.row(record)

    async def all(self, connection: Connection, **params: Any) -> list[R]:
        records = await connection.fetch(self.sql, *self.arguments(params))
        return [self.row(record) for record in records]
