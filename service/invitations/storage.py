"""Every SQL statement of the invitations resource, and nothing else.

Statements are SQLAlchemy Core on the typed model's columns, executed on the RPC's connection.
Each write returns the changed row and, in the same statement, publishes it with pg_notify, so
watchers on every replica hear of exactly the writes that commit, with no extra round trip.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    CTE,
    ColumnElement,
    Delete,
    Insert,
    Select,
    Text,
    Update,
    and_,
    delete,
    exc,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from generated.invitations.v1.invitations_enums import InvitationEventKind, InvitationStatus, Role
from service.errors import AlreadyExists
from service.invitations.domain import (
    KEEP,
    Cursor,
    Event,
    Invitation,
    InvitationChanges,
    NewInvitation,
)
from service.invitations.models import Invitation as Table

# The NOTIFY channel every replica listens on (service/invitations/events.py).
CHANNEL = "invitations"
PENDING_EMAIL_INDEX = "uq_invitations_pending_email"

COLUMNS = (
    Table.id,
    Table.email,
    Table.role,
    Table.status,
    Table.create_time,
    Table.update_time,
    Table.expire_time,
)


def _published(statement: Insert | Update | Delete, kind: InvitationEventKind) -> Select[Any]:
    """`statement ... RETURNING *`, with the rows also sent to CHANNEL as JSON events."""
    changed: CTE = statement.returning(*COLUMNS).cte("changed")
    payload = func.json_build_object(
        literal("kind"),
        literal(kind.name),
        literal("invitation"),
        func.row_to_json(changed.table_valued()),
    )
    return select(*changed.c, func.pg_notify(CHANNEL, payload.cast(Text)))


async def _one(connection: AsyncConnection, statement: Select[Any]) -> Invitation | None:
    row = (await connection.execute(statement)).first()
    return None if row is None else Invitation(*row[: len(COLUMNS)])


async def insert_invitation(connection: AsyncConnection, new: NewInvitation) -> Invitation:
    statement = insert(Table).values(
        id=uuid.uuid4(),
        email=new.email,
        role=new.role,
        status=InvitationStatus.PENDING,
        expire_time=new.expire_time,
    )
    try:
        created = await _one(connection, _published(statement, InvitationEventKind.CREATED))
    except exc.IntegrityError as error:
        if PENDING_EMAIL_INDEX in str(error.orig):
            raise AlreadyExists(f"{new.email} already has a pending invitation") from None
        raise
    assert created is not None  # INSERT ... RETURNING returns the row it inserted
    return created


async def get_invitation(connection: AsyncConnection, id: uuid.UUID) -> Invitation | None:
    row = (await connection.execute(select(*COLUMNS).where(Table.id == id))).first()
    return None if row is None else Invitation(*row)


async def list_invitations(
    connection: AsyncConnection,
    *,
    status: InvitationStatus | None,
    after: Cursor | None,
    limit: int,
) -> list[Invitation]:
    """Up to `limit` invitations in (create_time, id) order, after the cursor if one is given."""
    conditions: list[ColumnElement[bool]] = []
    if status is not None:
        conditions.append(Table.status == status)
    if after is not None:
        conditions.append(
            or_(
                Table.create_time > after.create_time,
                and_(Table.create_time == after.create_time, Table.id > after.id),
            )
        )
    statement = (
        select(*COLUMNS).where(*conditions).order_by(Table.create_time, Table.id).limit(limit)
    )
    return [Invitation(*row) for row in await connection.execute(statement)]


async def update_invitation(
    connection: AsyncConnection,
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
    values: dict[str, Any] = {"update_time": func.now()}
    for field in ("email", "role", "status", "expire_time"):
        value = getattr(changes, field)
        if value is not KEEP:
            values[field] = value
    statement = update(Table).where(Table.id == id).values(values)
    if only_from is not None:
        statement = statement.where(Table.status == only_from)
    if only_unexpired:
        statement = statement.where(
            or_(Table.expire_time.is_(None), Table.expire_time > func.now())
        )
    try:
        return await _one(connection, _published(statement, InvitationEventKind.UPDATED))
    except exc.IntegrityError as error:
        if PENDING_EMAIL_INDEX in str(error.orig):
            raise AlreadyExists(f"{changes.email} already has a pending invitation") from None
        raise


async def delete_invitation(connection: AsyncConnection, id: uuid.UUID) -> Invitation | None:
    statement = delete(Table).where(Table.id == id)
    return await _one(connection, _published(statement, InvitationEventKind.DELETED))


def parse_event(payload: str) -> Event:
    """A NOTIFY payload written by _published(), back into a domain event."""
    data = json.loads(payload)
    row = data["invitation"]
    expire_time = row["expire_time"]
    return Event(
        InvitationEventKind[data["kind"]],
        Invitation(
            id=uuid.UUID(row["id"]),
            email=row["email"],
            role=Role[row["role"]],
            status=InvitationStatus[row["status"]],
            create_time=datetime.fromisoformat(row["create_time"]),
            update_time=datetime.fromisoformat(row["update_time"]),
            expire_time=None if expire_time is None else datetime.fromisoformat(expire_time),
        ),
    )
