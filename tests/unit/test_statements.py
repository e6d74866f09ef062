"""Rows become objects (service/db/statements.py), read by column through a Row or made by name
into a dataclass: the statement's column order does not matter, each value comes through its
column's type, and a column the statement does not return, or of another type than its field,
is an error naming it. A compiled Query over a model of this test's own (so the template keeps
it without the example resource), fed rows as asyncpg gives them: values in the statement's
column order."""

from __future__ import annotations

import dataclasses
import enum
import json
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import DateTime, Enum, bindparam, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from service.db.enums import ProtoEnum
from service.db.statements import Query, Row


class Color(enum.Enum):
    RED = 1
    BLUE = 2


class _Base(DeclarativeBase):  # not the service's Base: nothing here reaches its migrations
    pass


class Table(_Base):
    __tablename__ = "things"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    email: Mapped[str]
    color: Mapped[Color] = mapped_column(Enum(Color, name="color"))
    seen: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Shade(enum.Enum):  # as generated from a proto enum: 0 is "not set"
    SHADE_UNSPECIFIED = 0
    LIGHT = 1
    DARK = 2


class Shaded(_Base):
    __tablename__ = "shaded"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    shade: Mapped[Shade | None] = mapped_column(ProtoEnum(Shade, "statements_test_shade"))


ID = uuid.uuid4()


def _read(row: Row) -> tuple[uuid.UUID, str, Color]:
    return row[Table.id], row[Table.email], row[Table.color]


def test_values_are_read_by_column_whatever_the_statement_s_order() -> None:
    forward = Query(select(Table.id, Table.email, Table.color), _read)
    backward = Query(select(Table.color, Table.email, Table.id), _read)

    assert forward.row((ID, "a@example.com", "BLUE")) == (ID, "a@example.com", Color.BLUE)
    assert backward.row(("BLUE", "a@example.com", ID)) == (ID, "a@example.com", Color.BLUE)


def test_a_column_the_statement_does_not_return_is_named() -> None:
    query = Query(select(Table.id, Table.email).where(Table.id == bindparam("id")), _read)

    with pytest.raises(KeyError, match="color"):
        query.row((ID, "a@example.com"))


def _read_all(row: Row) -> tuple[uuid.UUID, str, Color, datetime | None]:
    return row[Table.id], row[Table.email], row[Table.color], row[Table.seen]


@pytest.mark.parametrize("seen", [datetime(2026, 11, 28, 15, 52, 16, 665000, tzinfo=UTC), None])
def test_a_row_postgresql_wrote_as_json_reads_as_the_query_reads_its_own(
    seen: datetime | None,
) -> None:
    query = Query(select(Table.seen, Table.color, Table.email, Table.id), _read_all)
    # As row_to_json writes it: a UUID and a timestamp as text, an enum by its label.
    payload = json.dumps(
        {
            "id": str(ID),
            "email": "a@example.com",
            "color": "BLUE",
            "seen": None if seen is None else "2026-11-28T15:52:16.665+00:00",
        }
    )

    expected = (ID, "a@example.com", Color.BLUE, seen)
    assert query.from_json(json.loads(payload)) == expected
    assert query.row((seen, "BLUE", "a@example.com", ID)) == expected


def test_a_column_missing_from_the_json_is_named() -> None:
    query = Query(select(Table.id, Table.color), _read)

    with pytest.raises(KeyError, match="color"):
        query.from_json({"id": str(ID)})


# By name: a dataclass whose fields are named after the columns ---------------------------------


@dataclasses.dataclass
class Thing:
    id: uuid.UUID
    email: str
    color: Color
    seen: datetime | None


def test_a_dataclass_is_made_by_name_whatever_the_statement_s_order() -> None:
    forward = Query(select(Table.id, Table.email, Table.color, Table.seen), Thing)
    backward = Query(select(Table.seen, Table.color, Table.email, Table.id), Thing)

    expected = Thing(ID, "a@example.com", Color.BLUE, None)
    assert forward.row((ID, "a@example.com", "BLUE", None)) == expected
    assert backward.row((None, "BLUE", "a@example.com", ID)) == expected


def test_a_dataclass_reads_json_as_the_query_reads_its_own_rows() -> None:
    query = Query(select(Table.seen, Table.color, Table.email, Table.id), Thing)
    payload = {"id": str(ID), "email": "a@example.com", "color": "RED", "seen": None}

    assert query.from_json(payload) == Thing(ID, "a@example.com", Color.RED, None)


def test_a_field_without_its_column_is_an_error_when_the_query_is_built() -> None:
    with pytest.raises(TypeError, match=r"Thing\.seen: the statement returns no column"):
        Query(select(Table.id, Table.email, Table.color), Thing)


@dataclasses.dataclass
class WrongType:
    id: uuid.UUID
    email: int


@dataclasses.dataclass
class NotOptional:
    id: uuid.UUID
    seen: datetime


def test_a_field_of_another_type_than_its_column_is_an_error_when_the_query_is_built() -> None:
    with pytest.raises(TypeError, match=r"WrongType\.email is <class 'int'>.*holds str"):
        Query(select(Table.id, Table.email), WrongType)
    with pytest.raises(TypeError, match=r"NotOptional\.seen .* can be NULL"):
        Query(select(Table.id, Table.seen), NotOptional)


@dataclasses.dataclass
class KeywordOnly:
    id: uuid.UUID
    email: str = dataclasses.field(kw_only=True)


def test_a_field_a_row_cannot_fill_by_position_is_an_error_when_the_query_is_built() -> None:
    with pytest.raises(TypeError, match=r"KeywordOnly\.email: not a positional"):
        Query(select(Table.id, Table.email), KeywordOnly)


@dataclasses.dataclass
class ShadedThing:
    id: uuid.UUID
    shade: Shade | None


def test_a_proto_enum_column_reads_its_labels_as_members_and_null_as_none() -> None:
    query = Query(select(Shaded.id, Shaded.shade), ShadedThing)

    assert query.row((ID, "DARK")) == ShadedThing(ID, Shade.DARK)
    assert query.row((ID, None)) == ShadedThing(ID, None)
    with pytest.raises(KeyError):  # a label the enum does not have: the schema is not ours
        query.row((ID, "PURPLE"))


def test_a_proto_enum_parameter_is_written_as_its_label_and_the_zero_value_is_refused() -> None:
    query = Query(
        select(Shaded.id).where(Shaded.shade == bindparam("shade")), lambda row: row[Shaded.id]
    )

    assert query.arguments({"shade": Shade.DARK}) == ["DARK"]
    assert query.arguments({"shade": "LIGHT"}) == ["LIGHT"]  # a label, as migrations pass one
    assert query.arguments({"shade": None}) == [None]
    with pytest.raises(ValueError, match="means 'not set' and cannot be stored"):
        query.arguments({"shade": Shade.SHADE_UNSPECIFIED})
    with pytest.raises(ValueError, match="'PURPLE' is not a value of statements_test_shade"):
        query.arguments({"shade": "PURPLE"})
