"""The invitations resource's storage: its statements (queries.py, compiled by `make generate`
into sql.py) run on asyncpg, and their errors made the service's."""

from __future__ import annotations

import json
import uuid
from typing import TYPE_CHECKING

import asyncpg

from generated.invitations.v1.invitations_enums import InvitationEventKind, InvitationStatus
from service.conventions import Cursor
from service.errors import AlreadyExists
from service.invitations.domain import (
    KEEP,
    MUTABLE_FIELDS,
    Event,
    Invitation,
    InvitationChanges,
    NewInvitation,
)
from service.invitations.sql import DELETE, GET, INSERT, list_page, update_row

if TYPE_CHECKING:
    from service.db.statements import Connection

PENDING_EMAIL_INDEX = "uq_invitations_pending_email"  # models.py's unique index


async def insert_invitation(connection: Connection, new: NewInvitation) -> Invitation:
    try:
        created = await INSERT.one(
            connection,
            id=uuid.uuid4(),
            email=new.email,
            role=new.role,
            status=InvitationStatus.PENDING,
            expire_time=new.expire_time,
        )
    except asyncpg.UniqueViolationError as error:
        if error.constraint_name == PENDING_EMAIL_INDEX:
            raise AlreadyExists(f"{new.email} already has a pending invitation") from None
        raise
    assert created is not None  # INSERT ... RETURNING returns the row it inserted
    return created


async def get_invitation(connection: Connection, id: uuid.UUID) -> Invitation | None:
    return await GET.one(connection, id=id)


async def list_invitations(
    connection: Connection,
    *,
    status: InvitationStatus | None,
    after: Cursor | None,
    limit: int,
) -> list[Invitation]:
    """Up to `limit` invitations in (create_time, id) order, after the cursor if one is given."""
    query = list_page(status is not None, after is not None)
    params: dict[str, object] = {"limit": limit, "status": status}
    if after is not None:
        params.update(after_time=after.create_time, after_id=after.id)
    return await query.all(connection, **params)


async def update_invitation(
    connection: Connection,
    id: uuid.UUID,
    changes: InvitationChanges,
    *,
    only_from: InvitationStatus | None = None,
    only_unexpired: bool = False,
) -> Invitation | None:
    """Apply the changes; None if there is no such invitation, or if it is not in `only_from`
    status, or (with only_unexpired) if its expire_time has passed.

    `only_from` makes a state change atomic: of two concurrent Accepts, one matches the row
    while it is still PENDING, and the other finds it no longer is.
    """
    fields = tuple(field for field in MUTABLE_FIELDS if getattr(changes, field) is not KEEP)
    query = update_row(fields, only_from is not None, only_unexpired)
    params = {f"set_{field}": getattr(changes, field) for field in fields}
    try:
        return await query.one(connection, id=id, only_from=only_from, **params)
    except asyncpg.UniqueViolationError as error:
        if error.constraint_name == PENDING_EMAIL_INDEX:
            raise AlreadyExists(f"{changes.email} already has a pending invitation") from None
        raise


async def delete_invitation(connection: Connection, id: uuid.UUID) -> Invitation | None:
    return await DELETE.one(connection, id=id)


def parse_event(payload: str) -> Event:
    """A NOTIFY payload written by _published(), back into a domain event: its row is read as
    GET reads its own, so an event carries every field exactly as a Get returns it."""
    data = json.loads(payload)
    return Event(InvitationEventKind[data["kind"]], GET.from_json(data["invitation"]))
