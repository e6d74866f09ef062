"""Every SQL statement of the ${p} resource, and nothing else.

Statements are SQLAlchemy Core on the typed model's columns, compiled once into Queries that run
on asyncpg (service/db/statements.py says why). Writes return the row they changed
(`RETURNING`), so each is one round trip and atomic without an explicit transaction.
"""

from __future__ import annotations

import dataclasses
import functools
import uuid
from typing import TYPE_CHECKING

from sqlalchemy import Integer, and_, bindparam, delete, func, insert, or_, select, update

from service.conventions import Cursor
from service.db.statements import Query
from service.${p}.domain import MUTABLE_FIELDS, New${S}, ${S}, ${S}Changes
from service.${p}.models import ${S} as Table

if TYPE_CHECKING:
    from service.db.statements import Connection

# Every statement returns the columns named by the domain's fields, and each Query makes its
# rows ${S}s by name: when it is built, it checks each field against its column's type.
COLUMNS = tuple(Table.__table__.c[field.name] for field in dataclasses.fields(${S}))


GET = Query(select(*COLUMNS).where(Table.id == bindparam("id")), ${S})
INSERT = Query(
    insert(Table)
    .values(id=bindparam("id"), display_name=bindparam("display_name"), state=bindparam("state"))
    .returning(*COLUMNS),
    ${S},
)
DELETE = Query(delete(Table).where(Table.id == bindparam("id")).returning(*COLUMNS), ${S})
_PAGE = select(*COLUMNS).order_by(Table.create_time, Table.id).limit(bindparam("limit", Integer))
FIRST_PAGE = Query(_PAGE, ${S})
NEXT_PAGE = Query(
    _PAGE.where(
        or_(
            Table.create_time > bindparam("after_time"),
            and_(Table.create_time == bindparam("after_time"), Table.id > bindparam("after_id")),
        )
    ),
    ${S},
)


@functools.cache
def _update_query(fields: tuple[str, ...]) -> Query[${S}]:
    values: dict[str, object] = {"update_time": func.now()}
    values.update({field: bindparam(field) for field in fields})
    statement = update(Table).where(Table.id == bindparam("id")).values(values)
    return Query(statement.returning(*COLUMNS), ${S})


async def insert_${s}(connection: Connection, new: New${S}) -> ${S}:
    created = await INSERT.one(
        connection, id=uuid.uuid4(), display_name=new.display_name, state=new.state
    )
    assert created is not None  # INSERT ... RETURNING returns the row it inserted
    return created


async def get_${s}(connection: Connection, id: uuid.UUID) -> ${S} | None:
    return await GET.one(connection, id=id)


async def list_${p}(connection: Connection, *, after: Cursor | None, limit: int) -> list[${S}]:
    """Up to `limit` rows in (create_time, id) order, after the cursor if given."""
    if after is None:
        return await FIRST_PAGE.all(connection, limit=limit)
    return await NEXT_PAGE.all(
        connection, limit=limit, after_time=after.create_time, after_id=after.id
    )


async def update_${s}(
    connection: Connection, id: uuid.UUID, changes: ${S}Changes
) -> ${S} | None:
    """Apply the changes that are not None; None if there is no such row."""
    values = {
        field: value
        for field in MUTABLE_FIELDS
        if (value := getattr(changes, field)) is not None
    }
    return await _update_query(tuple(values)).one(connection, id=id, **values)


async def delete_${s}(connection: Connection, id: uuid.UUID) -> ${S} | None:
    return await DELETE.one(connection, id=id)
