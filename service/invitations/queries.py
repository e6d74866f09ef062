"""Every SQL statement of the invitations resource, written with SQLAlchemy Core on the typed
model; `make generate` compiles them into sql.py, which storage.py runs (service/db/queries.py
says how, and service/db/statements.py why).

Each write returns the changed row and, in the same statement, publishes it with pg_notify, so
watchers on every replica hear of exactly the writes that commit, and a write is one round trip
and atomic without an explicit transaction.
"""

from __future__ import annotations

import dataclasses
import uuid
from datetime import datetime

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

from generated.invitations.v1.invitations_enums import InvitationEventKind
from service.db.queries import AnySelect, Query, subsets, variants
from service.invitations.domain import CHANNEL, MUTABLE_FIELDS, Invitation
from service.invitations.models import Invitation as Table

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


@variants(by_status=(False, True), after_cursor=(False, True))
def list_page(by_status: bool, after_cursor: bool) -> Query[Invitation]:
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


@variants(fields=subsets(MUTABLE_FIELDS), only_from=(False, True), only_unexpired=(False, True))
def update_row(fields: tuple[str, ...], only_from: bool, only_unexpired: bool) -> Query[Invitation]:
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
