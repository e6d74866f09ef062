"""The rules of invitations: one method per use case, one connection each.

Requests arrive here already parsed and validated (convert.py), so this code speaks only domain
types, raises domain errors (service/errors.py) and leaves SQL to storage.py.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from generated.invitations.v1.invitations_enums import InvitationStatus
from service.conventions import Cursor
from service.db.database import Database
from service.errors import FailedPrecondition, NotFound
from service.invitations import storage
from service.invitations.domain import (
    KEEP,
    Invitation,
    InvitationChanges,
    NewInvitation,
    Page,
    invitation_name,
)

if TYPE_CHECKING:
    from service.db.statements import Connection


class Invitations:
    def __init__(self, database: Database) -> None:
        self.database = database

    async def create(self, new: NewInvitation) -> Invitation:
        async with self.database.connection() as connection:
            return await storage.insert_invitation(connection, new)

    async def get(self, id: uuid.UUID) -> Invitation:
        async with self.database.connection() as connection:
            invitation = await storage.get_invitation(connection, id)
        if invitation is None:
            raise NotFound(f"{invitation_name(id)} does not exist")
        return invitation

    async def list(
        self, *, status: InvitationStatus | None, after: Cursor | None, page_size: int
    ) -> Page:
        async with self.database.connection() as connection:
            # One row more than asked for says whether there is a next page.
            rows = await storage.list_invitations(
                connection, status=status, after=after, limit=page_size + 1
            )
        page = rows[:page_size]
        more = len(rows) > page_size
        last = page[-1] if page else None
        return Page(page, Cursor(last.create_time, last.id) if more and last else None)

    async def update(self, id: uuid.UUID, changes: InvitationChanges) -> Invitation:
        """Change fields; a status change (only to REVOKED) is only legal from PENDING."""
        revoking = changes.status is not KEEP
        async with self.database.connection() as connection:
            updated = await storage.update_invitation(
                connection, id, changes, only_from=InvitationStatus.PENDING if revoking else None
            )
            if updated is None:
                await self._explain(connection, id, "revoked")
        assert updated is not None  # _explain raised otherwise
        return updated

    async def delete(self, id: uuid.UUID) -> None:
        async with self.database.connection() as connection:
            deleted = await storage.delete_invitation(connection, id)
        if deleted is None:
            raise NotFound(f"{invitation_name(id)} does not exist")

    async def accept(self, id: uuid.UUID) -> Invitation:
        return await self._answer(id, InvitationStatus.ACCEPTED, "accepted")

    async def decline(self, id: uuid.UUID) -> Invitation:
        return await self._answer(id, InvitationStatus.DECLINED, "declined")

    async def _answer(self, id: uuid.UUID, status: InvitationStatus, verb: str) -> Invitation:
        """PENDING -> status, atomically: of two concurrent answers exactly one wins."""
        async with self.database.connection() as connection:
            answered = await storage.update_invitation(
                connection,
                id,
                InvitationChanges(status=status),
                only_from=InvitationStatus.PENDING,
                only_unexpired=True,
            )
            if answered is None:
                await self._explain(connection, id, verb)
        assert answered is not None  # _explain raised otherwise
        return answered

    @staticmethod
    async def _explain(connection: Connection, id: uuid.UUID, verb: str) -> None:
        """Raise the error that says why a conditional update changed no row."""
        current = await storage.get_invitation(connection, id)
        name = invitation_name(id)
        if current is None:
            raise NotFound(f"{name} does not exist")
        if current.status is not InvitationStatus.PENDING:
            raise FailedPrecondition(
                f"{name} is {current.status.name}; only a PENDING invitation can be {verb}"
            )
        raise FailedPrecondition(f"{name} expired at {current.expire_time}")
