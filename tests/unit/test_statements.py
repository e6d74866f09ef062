"""Rows are read by column (service/db/statements.py Row): the statement's column order does not
matter, each value comes through its column's type, and a column the statement does not return
is an error naming it. A compiled Query over the invitations model, fed rows as asyncpg gives
them (values in the statement's column order); tests/invitations runs the same on PostgreSQL."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import bindparam, select

from generated.invitations.v1.invitations_enums import Role
from service.db.statements import Query, Row
from service.invitations.models import Invitation as Table

ID = uuid.uuid4()


def _read(row: Row) -> tuple[uuid.UUID, str, Role]:
    return row[Table.id], row[Table.email], row[Table.role]


def test_values_are_read_by_column_whatever_the_statement_s_order() -> None:
    forward = Query(select(Table.id, Table.email, Table.role), _read)
    backward = Query(select(Table.role, Table.email, Table.id), _read)

    assert forward.row((ID, "a@example.com", "ADMIN")) == (ID, "a@example.com", Role.ADMIN)
    assert backward.row(("ADMIN", "a@example.com", ID)) == (ID, "a@example.com", Role.ADMIN)


def test_a_column_the_statement_does_not_return_is_named() -> None:
    query = Query(select(Table.id, Table.email).where(Table.id == bindparam("id")), _read)

    with pytest.raises(KeyError, match="role"):
        query.row((ID, "a@example.com"))
