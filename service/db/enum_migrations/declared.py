"""The enum types the models declare, and the values the database holds for each."""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.types import TypeDecorator

from service.db.enums import ProtoEnum


@dataclass(frozen=True)
class DeclaredEnum:
    name: str
    schema: str | None
    values: tuple[str, ...]
    renamed: dict[str, str] = field(default_factory=dict)


def _enum_type(type_: object) -> tuple[postgresql.ENUM | sa.Enum, dict[str, str]] | None:
    renamed: dict[str, str] = {}
    if isinstance(type_, ProtoEnum):
        renamed = type_.renamed
    if isinstance(type_, TypeDecorator):
        type_ = type_.impl_instance
    if isinstance(type_, sa.ARRAY):
        return _enum_type(type_.item_type)
    if isinstance(type_, sa.Enum) and type_.native_enum and type_.name:
        return type_, renamed
    return None


def declared_enums(metadata: sa.MetaData) -> dict[tuple[str | None, str], DeclaredEnum]:
    found: dict[tuple[str | None, str], DeclaredEnum] = {}
    for table in metadata.tables.values():
        for column in table.columns:
            declared = _enum_type(column.type)
            if declared is None:
                continue
            enum, renamed = declared
            # The type's own schema, not its table's: a type declared without one is created
            # in the default schema, wherever its tables are (SQLAlchemy and APE agree).
            schema = enum.schema
            assert enum.name is not None
            found[(schema, enum.name)] = DeclaredEnum(enum.name, schema, tuple(enum.enums), renamed)
    return found


def database_values(connection: sa.Connection, name: str, schema: str | None) -> list[str] | None:
    rows = connection.execute(
        sa.text(
            "SELECT e.enumlabel FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid"
            " JOIN pg_namespace n ON n.oid = t.typnamespace"
            " WHERE t.typname = :name AND n.nspname = coalesce(:schema, current_schema())"
            " ORDER BY e.enumsortorder"
        ),
        {"name": name, "schema": schema},
    ).all()
    return [row[0] for row in rows] or None
