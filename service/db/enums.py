"""Native PostgreSQL enum columns whose Python type is an enum generated from the proto.

The proto is the one definition: `ProtoEnum(InvitationStatus, "invitation_status")` declares a
PostgreSQL type `invitation_status` whose labels are the generated enum's member names, in
declaration order. The zero value (`*_UNSPECIFIED`, "not set" in proto3) is not a label: it
can never be stored, and binding it raises instead of writing a meaningless row.

A TypeDecorator rather than `sqlalchemy.Enum(enum_class)`: SQLAlchemy's Enum maps every member,
and its `values_callable` pairs values with members by position, so it cannot leave one out.
alembic-postgresql-enum looks through TypeDecorators to the `impl` enum, so migrations still see
the type and its values.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any, TypeVar

from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

E = TypeVar("E", bound=enum.Enum)


class ProtoEnum(TypeDecorator[E]):
    impl = postgresql.ENUM
    cache_ok = True

    def __init__(
        self,
        enum_class: type[E],
        name: str,
        *,
        renamed: Mapping[str, str] | None = None,
        schema: str | None = None,
    ) -> None:
        """`renamed` maps old labels to new ones, for values renamed in the proto, so the next
        migration renames them in place (service/db/enum_migrations/) instead of dropping
        and re-adding them. Once that migration has run everywhere, the entries can go.

        `schema` is where the type lives, whatever the schema of the tables that use it;
        without it, the database's default schema (usually `public`)."""
        labels = [member.name for member in enum_class if member.value != 0]
        super().__init__(*labels, name=name, schema=schema)
        self.labels = labels
        self.enum_class = enum_class
        self.type_name = name
        self.schema = schema
        self.renamed = dict(renamed or {})

    def process_bind_param(self, value: E | str | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        if isinstance(value, str):  # a label, as tools like alembic-postgresql-enum pass
            if value not in self.labels:
                raise ValueError(f"{value!r} is not a value of {self.type_name}")
            return value
        if value.value == 0:
            raise ValueError(f"{value!r} means 'not set' and cannot be stored")
        return value.name

    def process_result_value(self, value: Any, dialect: Dialect) -> E | None:
        return None if value is None else self.enum_class[value]

    def __repr__(self) -> str:
        schema = f", schema={self.schema!r}" if self.schema else ""
        return f"ProtoEnum({self.enum_class.__name__}, {self.type_name!r}{schema})"
