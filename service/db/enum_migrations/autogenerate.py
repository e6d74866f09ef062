"""Autogenerate: compare the models' enum values with the database's, and write the
operations as typed calls in the revision."""

from __future__ import annotations

import functools
from typing import Literal

import alembic_postgresql_enum  # noqa: F401  (registers its comparators on import)
import sqlalchemy as sa
from alembic.autogenerate import comparators, renderers
from alembic.autogenerate.api import AutogenContext
from alembic.operations.ops import UpgradeOps
from alembic_postgresql_enum.configuration import Config, set_configuration

from service.db.enum_migrations.declared import database_values, declared_enums
from service.db.enum_migrations.plan import (
    AddEnumValueOp,
    EnumValueOp,
    RemoveEnumValueOp,
    RenameEnumValueOp,
    ReorderEnumValuesOp,
    plan,
)
from service.db.enums import ProtoEnum


def _compare_enum_values(
    autogen_context: AutogenContext, upgrade_ops: UpgradeOps, schemas: set[str | None]
) -> None:
    connection = autogen_context.connection
    if connection is None or connection.dialect.name != "postgresql":
        return
    metadata = autogen_context.metadata
    if not isinstance(metadata, sa.MetaData):
        return
    for (schema, name), declared in sorted(
        declared_enums(metadata).items(), key=lambda item: (item[0][0] or "", item[0][1])
    ):
        old = database_values(connection, name, schema)
        if old is None or old == list(declared.values):
            continue  # a new type is APE's to create; an unchanged one needs nothing
        upgrade_ops.ops.extend(plan(name, schema, old, list(declared.values), declared.renamed))


def _call(
    autogen_context: AutogenContext, op: EnumValueOp, function: str, *args: str, **keywords: object
) -> str:
    """`enum_values.<function>(...)`: the typed functions below, so mypy checks revisions."""
    autogen_context.imports.add("from service.db import enum_migrations as enum_values")
    parts = [repr(a) for a in (op.type_name, *args)]
    parts += [f"{k}={v!r}" for k, v in keywords.items() if v is not None]
    if op.schema:
        parts.append(f"schema={op.schema!r}")
    return f"enum_values.{function}({', '.join(parts)})"


@renderers.dispatch_for(AddEnumValueOp)
def _render_add(autogen_context: AutogenContext, op: AddEnumValueOp) -> str:
    return _call(autogen_context, op, "add_value", op.value, before=op.before, after=op.after)


@renderers.dispatch_for(RenameEnumValueOp)
def _render_rename(autogen_context: AutogenContext, op: RenameEnumValueOp) -> str:
    return _call(autogen_context, op, "rename_value", op.old, op.new)


@renderers.dispatch_for(RemoveEnumValueOp)
def _render_remove(autogen_context: AutogenContext, op: RemoveEnumValueOp) -> str:
    online = op.online or None  # written only when set: the revision's author adds it by hand
    call = _call(autogen_context, op, "remove_value", op.value, values=op.values, online=online)
    return f"{call}  # rewrites the columns; refuses while rows hold {op.value!r}"


@renderers.dispatch_for(ReorderEnumValuesOp)
def _render_reorder(autogen_context: AutogenContext, op: ReorderEnumValuesOp) -> str:
    online = op.online or None
    call = _call(autogen_context, op, "reorder_values", values=op.values, online=online)
    return f"{call}  # rewrites the columns of this type"


def render_item(type_: str, item: object, autogen_context: AutogenContext) -> str | Literal[False]:
    """Columns of a ProtoEnum are written as the PostgreSQL enum they are, with its values:
    a migration must not change when the proto's enum changes later."""
    if type_ == "type" and isinstance(item, ProtoEnum):
        autogen_context.imports.add("from sqlalchemy.dialects import postgresql")
        labels = ", ".join(repr(v) for v in item.labels)
        # create_type=False: the type has its own create/drop operations (from APE).
        schema = f", schema={item.schema!r}" if item.schema else ""
        return f"postgresql.ENUM({labels}, name={item.type_name!r}{schema}, create_type=False)"
    return False


@functools.cache  # once per process, however many times env.py runs
def install() -> None:
    """Register the comparator, and let APE handle types but not their values (see above)."""
    set_configuration(Config(detect_enum_values_changes=False))
    comparators.dispatch_for("schema")(_compare_enum_values)
