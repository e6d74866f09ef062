"""Queries compiled into Statements (service/db/queries.py -> service/db/statements.py), as
`make generate` writes them: rows become a dataclass by name whatever the statement's column
order, each value comes through its column's type, and a column the statement does not return,
or of another type than its field, is an error naming it when the Query is built. Queries over
models of this test's own (so the template keeps it without the example resource), fed rows as
asyncpg gives them: values in the statement's column order."""

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
from service.db.queries import Query, Variants, render, subsets, variants


class Color(enum.Enum):  # as generated from a proto enum: 0 is "not set"
    COLOR_UNSPECIFIED = 0
    RED = 1
    BLUE = 2


class _Base(DeclarativeBase):  # not the service's Base: nothing here reaches its migrations
    pass


class Table(_Base):
    __tablename__ = "things"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    email: Mapped[str]
    color: Mapped[Color] = mapped_column(ProtoEnum(Color, "statements_test_color"))
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


# By name: a dataclass whose fields are named after the columns ---------------------------------


@dataclasses.dataclass
class Thing:
    id: uuid.UUID
    email: str
    color: Color
    seen: datetime | None


def test_a_dataclass_is_made_by_name_whatever_the_statement_s_order() -> None:
    forward = Query(select(Table.id, Table.email, Table.color, Table.seen), Thing).statement()
    backward = Query(select(Table.seen, Table.color, Table.email, Table.id), Thing).statement()

    expected = Thing(ID, "a@example.com", Color.BLUE, None)
    assert forward.row((ID, "a@example.com", "BLUE", None)) == expected
    assert backward.row((None, "BLUE", "a@example.com", ID)) == expected


@pytest.mark.parametrize("seen", [datetime(2026, 11, 28, 15, 52, 16, 665000, tzinfo=UTC), None])
def test_a_row_postgresql_wrote_as_json_reads_as_the_statement_reads_its_own(
    seen: datetime | None,
) -> None:
    statement = Query(select(Table.seen, Table.color, Table.email, Table.id), Thing).statement()
    # As row_to_json writes it: a UUID and a timestamp as text, an enum by its label.
    payload = json.dumps(
        {
            "id": str(ID),
            "email": "a@example.com",
            "color": "BLUE",
            "seen": None if seen is None else "2026-11-28T15:52:16.665+00:00",
        }
    )

    expected = Thing(ID, "a@example.com", Color.BLUE, seen)
    assert statement.from_json(json.loads(payload)) == expected
    assert statement.row((seen, "BLUE", "a@example.com", ID)) == expected


def test_a_column_missing_from_the_json_is_named() -> None:
    statement = Query(select(Table.id, Table.email, Table.color, Table.seen), Thing).statement()

    with pytest.raises(KeyError, match="color"):
        statement.from_json({"id": str(ID), "email": "a@example.com", "seen": None})


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
    statement = Query(select(Shaded.id, Shaded.shade), ShadedThing).statement()

    assert statement.row((ID, "DARK")) == ShadedThing(ID, Shade.DARK)
    assert statement.row((ID, None)) == ShadedThing(ID, None)
    with pytest.raises(KeyError):  # a label the enum does not have: the schema is not ours
        statement.row((ID, "PURPLE"))


def test_a_proto_enum_parameter_is_written_as_its_label_and_the_zero_value_is_refused() -> None:
    query = Query(
        select(Shaded.id, Shaded.shade).where(Shaded.shade == bindparam("shade")), ShadedThing
    ).statement()

    assert query.arguments({"shade": Shade.DARK}) == ["DARK"]
    assert query.arguments({"shade": "LIGHT"}) == ["LIGHT"]  # a label, as migrations pass one
    assert query.arguments({"shade": None}) == [None]
    with pytest.raises(ValueError, match="means 'not set' and cannot be stored"):
        query.arguments({"shade": Shade.SHADE_UNSPECIFIED})
    with pytest.raises(ValueError, match="'PURPLE' is not a value of statements_test_shade"):
        query.arguments({"shade": "PURPLE"})
    with pytest.raises(ValueError, match="3 is not a value of statements_test_shade"):
        query.arguments({"shade": 3})


@dataclasses.dataclass
class Named:
    id: uuid.UUID
    name: str


class Converted(_Base):
    __tablename__ = "converted"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    name: Mapped[Color] = mapped_column(Enum(Color, name="statements_test_converted"))


def test_a_type_sqlalchemy_would_convert_itself_is_refused_when_the_query_is_built() -> None:
    # The server has no SQLAlchemy to convert it: SQLAlchemy's own Enum maps names to members.
    with pytest.raises(TypeError, match=r"parameter 'name' is of type Enum.*asyncpg reads"):
        Query(
            select(Converted.id)
            .where(Converted.name == bindparam("name"))
            .add_columns(Converted.name),
            Named,
        )
    with pytest.raises(TypeError, match=r"a dataclass, not"):
        Query(select(Converted.id), tuple)


# Variants: one Statement per combination of arguments, picked by them ------------------------


def test_subsets_keep_the_order_of_the_names() -> None:
    assert subsets(("a", "b")) == [(), ("b",), ("a",), ("a", "b")]


@variants(by_email=(False, True), limit=(1, 2))
def _things(by_email: bool, limit: int) -> Query[Thing]:
    statement = select(Table.id, Table.email, Table.color, Table.seen).limit(limit)
    if by_email:
        statement = statement.where(Table.email == bindparam("email"))
    return Query(statement, Thing)


def test_a_variants_function_compiles_to_one_that_picks_the_statement_of_its_arguments() -> None:
    namespace: dict[str, object] = {}
    exec(compile(render({"things": _things}), "<compiled>", "exec"), namespace)
    things = namespace["things"]
    assert callable(things)

    for by_email in (False, True):
        for limit in (1, 2):
            compiled = things(by_email, limit)
            assert compiled.sql == _things(by_email, limit).sql
    assert "WHERE" in things(True, 2).sql
    assert "WHERE" not in things(False, 2).sql
    with pytest.raises(KeyError):  # a value the function was not compiled for
        things(True, 3)


def test_variants_name_every_parameter_in_order_with_literal_values() -> None:
    with pytest.raises(TypeError, match="give the values of each parameter, in order"):
        variants(limit=(1,), by_email=(True,))(_things.function)
    with pytest.raises(TypeError, match="is not a literal"):
        variants(by_email=(object(),), limit=(1,))(_things.function)
    assert isinstance(_things, Variants)
