"""The ${p} resource's storage.

It runs the statements of queries.py, compiled by `make generate` into sql.py, on asyncpg. No
SQLAlchemy here: the server never imports it (service/db/statements.py says why).
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from service.conventions import Cursor
from service.${p}.domain import MUTABLE_FIELDS, New${S}, ${S}, ${S}Changes
from service.${p}.sql import DELETE, FIRST_PAGE, GET, INSERT, NEXT_PAGE, update_row

if TYPE_CHECKING:
    from service.db.statements import Connection


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
    return await update_row(tuple(values)).one(connection, id=id, **values)


async def delete_${s}(connection: Connection, id: uuid.UUID) -> ${S} | None:
    return await DELETE.one(connection, id=id)
