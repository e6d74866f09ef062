"""The rules of ${p}: one method per use case, one connection each.

Requests arrive here already parsed and validated (convert.py), so this code speaks only domain
types, raises domain errors (service/errors.py) and leaves SQL to storage.py.
"""

from __future__ import annotations

import uuid

from service.conventions import Cursor
from service.db.database import Database
from service.errors import NotFound
from service.${p} import storage
from service.${p}.domain import New${S}, Page, ${S}, ${S}Changes, ${s}_name


def _missing(id: uuid.UUID) -> NotFound:
    return NotFound(f"{${s}_name(id)} does not exist")


class ${P}:
    def __init__(self, database: Database) -> None:
        self.database = database

    async def create(self, new: New${S}) -> ${S}:
        async with self.database.connection() as connection:
            return await storage.insert_${s}(connection, new)

    async def get(self, id: uuid.UUID) -> ${S}:
        async with self.database.connection() as connection:
            found = await storage.get_${s}(connection, id)
        if found is None:
            raise _missing(id)
        return found

    async def list(self, *, after: Cursor | None, page_size: int) -> Page:
        async with self.database.connection() as connection:
            # One row more than asked for says whether there is a next page.
            rows = await storage.list_${p}(connection, after=after, limit=page_size + 1)
        page = rows[:page_size]
        last = page[-1] if page and len(rows) > page_size else None
        return Page(page, Cursor(last.create_time, last.id) if last else None)

    async def update(self, id: uuid.UUID, changes: ${S}Changes) -> ${S}:
        async with self.database.connection() as connection:
            updated = await storage.update_${s}(connection, id, changes)
        if updated is None:
            raise _missing(id)
        return updated

    async def delete(self, id: uuid.UUID) -> None:
        async with self.database.connection() as connection:
            deleted = await storage.delete_${s}(connection, id)
        if deleted is None:
            raise _missing(id)
