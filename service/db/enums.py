"""Native PostgreSQL enum columns whose Python type is an enum generated from the proto.

The proto is the one definition: `ProtoEnum(InvitationStatus, "invitation_status")` declares a
PostgreSQL type `invitation_status` whose labels are the generated enum's member names, in
declaration order. The zero value (`*_UNSPECIFIED`, "not set" in proto3) is not a label: it
can never be stored, and binding it raises instead of writing a meaningless row.

A TypeDecorator rather than `sqlalchemy.Enum(enum_class)`: SQLAlchemy's Enum maps every member,
and its `values_callable` pairs values with members by position, so it cannot leave one out.
alembic-postgresql-enum looks through TypeDecorators to the `impl` enum, so migrations still see
the type and its values.

One PostgreSQL type, one declaration: when several tables use a type, they share one ProtoEnum
object (`STATUS = ProtoEnum(...)` in one module, imported by the others), or repeat an identical
declaration. A second declaration of the same schema and type name with other values or other
`renamed` is an error where it is made (ConflictingEnumDeclarationError, naming both places):
otherwise whichever module was imported last would decide what the migrations see.
"""

from __future__ import annotations

import enum
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from service.db.statements import enum_reader, enum_writer

E = TypeVar("E", bound=enum.Enum)


class ConflictingEnumDeclarationError(TypeError):
    """Two ProtoEnums declare one PostgreSQL type differently; the message names both."""


@dataclass(frozen=True)
class _Declaration:
    labels: tuple[str, ...]
    renamed: tuple[tuple[str, str], ...]
    module: str
    line: int

    @property
    def place(self) -> str:
        return f"{self.module}, line {self.line}"

    def differences(self, other: _Declaration) -> str:
        found = []
        if self.labels != other.labels:
            found.append(f"values {list(self.labels)} and {list(other.labels)}")
        if self.renamed != other.renamed:
            found.append(f"renamed {dict(self.renamed)} and {dict(other.renamed)}")
        return "; ".join(found)


# The declaration of each type in this process, by (schema, type name), that later ones must
# match; a declaration run again at its own place (module and line) replaces itself.
_declared: dict[tuple[str | None, str], _Declaration] = {}


def _declare(schema: str | None, name: str, labels: list[str], renamed: dict[str, str]) -> None:
    frame = sys._getframe(1)  # the first frame outside this module: where ProtoEnum(...) is
    while frame.f_back is not None and frame.f_globals.get("__name__") == __name__:
        frame = frame.f_back
    declaration = _Declaration(
        tuple(labels),
        tuple(sorted(renamed.items())),
        str(frame.f_globals.get("__name__", "?")),
        frame.f_lineno,
    )
    key = (schema, name)
    first = _declared.setdefault(key, declaration)
    same_place = (first.module, first.line) == (declaration.module, declaration.line)
    if same_place:  # a reloaded module, or a helper function run again
        _declared[key] = declaration
    elif first.differences(declaration):
        qualified = f"{schema}.{name}" if schema else name
        raise ConflictingEnumDeclarationError(
            f"enum type {qualified} is declared twice, differently: at {first.place} and at "
            f"{declaration.place} ({first.differences(declaration)}). Declare it once and "
            "import that ProtoEnum wherever the type is used."
        )


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
        _declare(schema, name, labels, dict(renamed or {}))
        super().__init__(*labels, name=name, schema=schema)
        self.labels = labels
        self.enum_class = enum_class
        self.type_name = name
        self.schema = schema
        self.renamed = dict(renamed or {})
        self._write = enum_writer(enum_class, name)

    def process_bind_param(self, value: E | str | None, dialect: Dialect) -> str | None:
        return self._write(value)

    @property
    def python_type(self) -> type[E]:
        return self.enum_class

    def process_result_value(self, value: str | None, dialect: Dialect) -> E | None:
        return None if value is None else self.enum_class[value]

    # Both processors are the compiled statements' own (service/db/statements.py), called
    # directly: TypeDecorator's would go through the impl's processor first (SQLAlchemy's Enum,
    # which looks each label up again): 0.77 us a value read against 0.16, measured.
    def bind_processor(self, dialect: Dialect) -> Callable[[E | str | None], str | None]:
        return self._write

    def result_processor(self, dialect: Dialect, coltype: object) -> Callable[[object], E | None]:
        return enum_reader(self.enum_class)

    def __repr__(self) -> str:
        schema = f", schema={self.schema!r}" if self.schema else ""
        return f"ProtoEnum({self.enum_class.__name__}, {self.type_name!r}{schema})"
