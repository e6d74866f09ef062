"""Compiled SQL statements, run on asyncpg directly: what the server runs, with no SQLAlchemy.

Each resource writes its statements with SQLAlchemy Core on its typed models, in its
`queries.py`; `make generate` compiles them (service/db/queries.py, tools/sql.py) into the
resource's `sql.py`, a module of Statements: the SQL text, the order of its parameters, how each
parameter is written and how a row becomes a domain object. So the SQL is still checked against
the schema when it is compiled, and the server never imports SQLAlchemy: that was about 40% of
its start-up (measured, docs/benchmarks.md). Nor would it use SQLAlchemy's execution layer:
per call, building a statement, looking up its compiled form and adapting result metadata cost
about 1 ms of CPU here (profiled), seven times what asyncpg needs for the same round trip.

What a value needs besides asyncpg's own codecs is a proto enum, stored as its label: written by
`enum_writer`, read by `enum_reader`. Both are shared with the column type (service/db/enums.py),
so a compiled statement and SQLAlchemy read and write a label alike.
"""

from __future__ import annotations

import datetime
import enum
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Generic, TypeAlias, TypeVar

import asyncpg

R = TypeVar("R")
E = TypeVar("E", bound=enum.Enum)
if TYPE_CHECKING:
    # What pool.acquire() hands out, typed by asyncpg-stubs (generic only in the stubs).
    Connection: TypeAlias = (
        asyncpg.Connection[asyncpg.Record] | asyncpg.pool.PoolConnectionProxy[asyncpg.Record]
    )

# A result row: asyncpg's Record, or any sequence of values (a JSON event's, a test's tuple). Its
# values are typed by their columns, which the compiled reader knows (it was checked against
# them); to the type checker they are Any.
Record: TypeAlias = "asyncpg.Record | Sequence[Any]"
# How a parameter's value is written, when asyncpg's codecs do not do it alone.
Write: TypeAlias = Callable[[Any], object]

# The values that JSON carries as text and asyncpg reads as Python objects, by the name a
# Statement's `columns` give each kind; other values (text, numbers, booleans, enum
# labels, JSON) arrive as asyncpg reads them.
FROM_JSON_TEXT: dict[str, Callable[[str], object]] = {
    "uuid": uuid.UUID,
    "datetime": datetime.datetime.fromisoformat,
    "date": datetime.date.fromisoformat,
    "time": datetime.time.fromisoformat,
}


def enum_writer(enum_class: type[E], type_name: str) -> Callable[[E | str | None], str | None]:
    """What writes a value of a proto enum column: a member as its label, a label (as tools such
    as alembic-postgresql-enum pass them) as itself, None as NULL; anything else, the zero
    value (`*_UNSPECIFIED`, 'not set') included, is a ValueError saying why.

    A dict lookup (0.5 us a value, against 0.9 for `.value` and `.name`, which are Python
    properties: measured); whatever it does not hold goes on to the check that refuses it."""
    labels: dict[object, str | None] = {
        member: member.name for member in enum_class if member.value != 0
    }
    labels.update((label, label) for label in list(labels.values()))
    labels[None] = None

    def refuse(value: object) -> str | None:
        if isinstance(value, enum_class) and value.value == 0:
            raise ValueError(f"{value!r} means 'not set' and cannot be stored")
        raise ValueError(f"{value!r} is not a value of {type_name}")

    def write(value: E | str | None) -> str | None:
        try:
            return labels[value]
        except (KeyError, TypeError):  # TypeError: not hashable
            return refuse(value)

    return write


def enum_reader(enum_class: type[E]) -> Callable[[object], Any]:
    """What reads a value of a proto enum column: its label as the member, NULL as None. The
    lookup of a dict alone (its __getitem__, no Python frame): a page of 50 rows reads 100."""
    members: dict[object, E | None] = {member.name: member for member in enum_class}
    members[None] = None
    return members.__getitem__


class Statement(Generic[R]):
    """A SELECT, or an INSERT / UPDATE / DELETE ... RETURNING, compiled: its SQL, its parameters
    by name in the order of $1, $2, ... (each with how its value is written, if asyncpg does not
    write it alone), and `read`, which makes a row an R. `columns` names the columns in the order
    of a row, each with what makes its JSON text what asyncpg reads (FROM_JSON_TEXT's keys).

    Statements are written by `make generate` into a resource's sql.py; tests build them from
    SQLAlchemy directly (service/db/queries.py: `Query.statement()`)."""

    __slots__ = ("_columns", "_params", "_read", "sql")

    def __init__(
        self,
        sql: str,
        params: Sequence[tuple[str, Write | None]],
        read: Callable[[Record], R],
        columns: Sequence[tuple[str, str | None]],
    ) -> None:
        self.sql = sql
        self._params = tuple(params)
        self._read = read
        self._columns = tuple(
            (key, None if kind is None else FROM_JSON_TEXT[kind]) for key, kind in columns
        )

    def arguments(self, params: Mapping[str, object]) -> list[object]:
        return [write(params[name]) if write else params[name] for name, write in self._params]

    def row(self, record: Record) -> R:
        return self._read(record)

    def from_json(self, values: Mapping[str, object]) -> R:
        """The R of a row of this statement's columns that PostgreSQL wrote as JSON
        (`row_to_json`, as a NOTIFY payload carries it), read as the statement reads its own
        rows: a value JSON carries as text (a UUID, a timestamp) is first made what asyncpg
        would have read. A column missing from `values` is a KeyError."""
        record = []
        for key, parse in self._columns:
            value = values[key]
            record.append(parse(value) if parse is not None and isinstance(value, str) else value)
        return self._read(record)

    async def one(self, connection: Connection, **params: object) -> R | None:
        record = await connection.fetchrow(self.sql, *self.arguments(params))
        return None if record is None else self._read(record)

    async def all(self, connection: Connection, **params: object) -> list[R]:
        records = await connection.fetch(self.sql, *self.arguments(params))
        read = self._read
        return [read(record) for record in records]
