"""Every SQL statement of the invitations resource, and nothing else.

Statements are SQLAlchemy Core on the typed model's columns, compiled once into Queries that run
on asyncpg (service/db/statements.py says why). Each write returns the changed row and, in the
same statement, publishes it with pg_notify, so watchers on every replica hear of exactly the
writes that commit, and a write is one round trip and atomic without an explicit transaction.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import uuid
from datetime import datetime
from typing import TYPE_CHECKING

import asyncpg
from sqlalchemy import (
    CTE,
    BindParameter,
    ColumnElement,
    Delete,
    Insert,
    Integer,
    Text,
    Update,
    and_,
    bindparam,
    delete,
    func,
    insert,
    literal_column,
    or_,
    select,
    update,
)

from generated.invitations.v1.invitations_enums import InvitationEventKind, InvitationStatus
from service.conventions import Cursor
from service.db.statements import AnySelect, Query
from service.errors import AlreadyExists
from service.invitations.domain import (
    KEEP,
    MUTABLE_FIELDS,
    Event,
    Invitation,
    InvitationChanges,
    NewInvitation,
)
from service.invitations.models import Invitation as Table

if TYPE_CHECKING:
    from service.db.statements import Connection

# The NOTIFY channel every replica listens on (service/invitations/events.py).
CHANNEL = "invitations"
PENDING_EMAIL_INDEX = "uq_invitations_pending_email"

# Every statement returns the columns named by the domain's fields, and each Query makes its
# rows Invitations by name: when it is built, it checks each field against its column's type.
COLUMNS = tuple(Table.__table__.c[field.name] for field in dataclasses.fields(Invitation))


def _published(statement: Insert | Update | Delete, kind: InvitationEventKind) -> AnySelect:
    """`statement ... RETURNING *`, with the rows also sent to CHANNEL as JSON events."""
    changed: CTE = statement.returning(*COLUMNS).cte("changed")
    # Constants are rendered into the SQL, so each statement has only its data as parameters.
    payload = func.json_build_object(
        literal_column("'kind'"),
        literal_column(f"'{kind.name}'"),
        literal_column("'invitation'"),
        func.row_to_json(changed.table_valued()),
    )
    return select(*changed.c, func.pg_notify(literal_column(f"'{CHANNEL}'"), payload.cast(Text)))


GET = Query(select(*COLUMNS).where(Table.id == bindparam("id")), Invitation)
INSERT = Query(
    _published(
        insert(Table).values({name: bindparam(name) for name in ("id", *MUTABLE_FIELDS)}),
        InvitationEventKind.CREATED,
    ),
    Invitation,
)
DELETE = Query(
    _published(delete(Table).where(Table.id == bindparam("id")), InvitationEventKind.DELETED),
    Invitation,
)


@functools.cache
def _list_query(by_status: bool, after_cursor: bool) -> Query[Invitation]:
    conditions: list[ColumnElement[bool]] = []
    if by_status:
        conditions.append(Table.status == bindparam("status"))
    if after_cursor:
        after_time: BindParameter[datetime] = bindparam("after_time")
        after_id: BindParameter[uuid.UUID] = bindparam("after_id")
        conditions.append(
            or_(
                Table.create_time > after_time,
                and_(Table.create_time == after_time, Table.id > after_id),
            )
        )
    statement = (
        select(*COLUMNS)
        .where(*conditions)
        .order_by(Table.create_time, Table.id)
        .limit(bindparam("limit", type_=Integer))
    )
    return Query(statement, Invitation)


@functools.cache
def _update_query(
    fields: tuple[str, ...], only_from: bool, only_unexpired: bool
) -> Query[Invitation]:
    values: dict[str, object] = {"update_time": func.now()}
    values.update({field: bindparam(f"set_{field}") for field in fields})
    statement = update(Table).where(Table.id == bindparam("id")).values(values)
    if only_from:
        statement = statement.where(Table.status == bindparam("only_from"))
    if only_unexpired:
        statement = statement.where(
            or_(Table.expire_time.is_(None), Table.expire_time > func.now())
        )
    return Query(_published(statement, InvitationEventKind.UPDATED), Invitation)


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
    query = _list_query(status is not None, after is not None)
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
    query = _update_query(fields, only_from is not None, only_unexpired)
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


def raw_statements() -> tuple[str, str]:
    """The SQL of a Get and of a Create, for `make bench` to run through asyncpg alone:
    (select by $1 id, insert of $1 id, $2 email, $3 role, $4 status, $5 expire_time)."""
    return GET.sql, INSERT.sql
