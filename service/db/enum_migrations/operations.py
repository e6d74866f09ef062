"""What revisions call (`enum_values.add_value(...)` and the others), and the SQL each runs."""

from __future__ import annotations

import functools
from importlib import resources

import sqlalchemy as sa
from alembic import op
from alembic.operations import Operations

from service.db.enum_migrations.online import convert_online
from service.db.enum_migrations.plan import (
    AddEnumValueOp,
    RemoveEnumValueOp,
    RenameEnumValueOp,
    ReorderEnumValuesOp,
)

LOCK_TIMEOUT = "5s"  # a rewrite waits this long for its table lock, then fails cleanly

# SQLSTATEs rewrite.sql raises for its refusals: class EM is one PostgreSQL does not use.
VALUE_IN_USE = "EM001"  # rows still hold the value to remove
CANNOT_REWRITE = "EM002"  # a dependent the rewrite cannot carry over (the message says which)


class EnumMigrationError(RuntimeError):
    """An enum change that cannot go ahead; the message says why. Nothing was changed."""


class EnumValueInUseError(EnumMigrationError):
    """A value to remove is still held by rows; the message names them."""


def add_value(
    type_name: str,
    value: str,
    *,
    before: str | None = None,
    after: str | None = None,
    schema: str | None = None,
) -> None:
    """ALTER TYPE ... ADD VALUE, in place (no rewrite), before or after an existing value."""
    op.invoke(AddEnumValueOp(type_name, value, before=before, after=after, schema=schema))


def rename_value(type_name: str, old: str, new: str, *, schema: str | None = None) -> None:
    """ALTER TYPE ... RENAME VALUE, in place (no rewrite); rows follow the new name."""
    op.invoke(RenameEnumValueOp(type_name, old, new, schema=schema))


def remove_value(
    type_name: str,
    value: str,
    *,
    values: list[str],
    schema: str | None = None,
    online: bool = False,
    lock_timeout: str | None = None,
) -> None:
    """Remove a value no row holds; `values` are the type's values afterwards. Rewrites, waiting
    at most `lock_timeout` (LOCK_TIMEOUT by default) for each lock; online=True keeps one big
    table readable and writable meanwhile (online.py)."""
    op.invoke(
        RemoveEnumValueOp(
            type_name, value, values=values, schema=schema, online=online, lock_timeout=lock_timeout
        )
    )


def reorder_values(
    type_name: str,
    *,
    values: list[str],
    schema: str | None = None,
    online: bool = False,
    lock_timeout: str | None = None,
) -> None:
    """Give the values a new order (PostgreSQL has no in-place reorder). Rewrites, waiting at
    most `lock_timeout` (LOCK_TIMEOUT by default) for each lock; online=True keeps one big
    table readable and writable meanwhile (online.py)."""
    op.invoke(
        ReorderEnumValuesOp(
            type_name, values=values, schema=schema, online=online, lock_timeout=lock_timeout
        )
    )


# SQL ------------------------------------------------------------------------------------------


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _names(operations: Operations, name: str, schema: str | None) -> str:
    quote = operations.get_bind().dialect.identifier_preparer.quote
    return f"{quote(schema)}.{quote(name)}" if schema else quote(name)


@Operations.implementation_for(AddEnumValueOp)
def _add(operations: Operations, op: AddEnumValueOp) -> None:
    where = ""
    if op.before is not None:
        where = f" BEFORE {_literal(op.before)}"
    elif op.after is not None:
        where = f" AFTER {_literal(op.after)}"
    type_name = _names(operations, op.type_name, op.schema)
    operations.execute(f"ALTER TYPE {type_name} ADD VALUE {_literal(op.value)}{where}")


@Operations.implementation_for(RenameEnumValueOp)
def _rename(operations: Operations, op: RenameEnumValueOp) -> None:
    type_name = _names(operations, op.type_name, op.schema)
    operations.execute(
        f"ALTER TYPE {type_name} RENAME VALUE {_literal(op.old)} TO {_literal(op.new)}"
    )


@Operations.implementation_for(RemoveEnumValueOp)
@Operations.implementation_for(ReorderEnumValuesOp)
def _recreate(operations: Operations, op: RemoveEnumValueOp | ReorderEnumValuesOp) -> None:
    """A removal or a reorder: the type recreated with op.values, online or in one rewrite."""
    if op.online:
        lock_timeout = op.lock_timeout or LOCK_TIMEOUT
        return convert_online(operations, op, execute=_rewrite, lock_timeout=lock_timeout)
    removing = op.value if isinstance(op, RemoveEnumValueOp) else None
    sql = rewrite_sql(
        op.type_name, op.schema, op.values, removing=removing, lock_timeout=op.lock_timeout
    )
    _rewrite(operations, sql)


_REFUSALS: dict[str, type[EnumMigrationError]] = {
    VALUE_IN_USE: EnumValueInUseError,
    CANNOT_REWRITE: EnumMigrationError,
}


def _rewrite(operations: Operations, sql: str) -> None:
    """Run a rewrite block; its refusals (by SQLSTATE) become EnumMigrationErrors with the
    block's message."""
    try:
        operations.execute(sql)
    except sa.exc.DBAPIError as error:
        refusal = _REFUSALS.get(getattr(error.orig, "sqlstate", None) or "")
        if refusal is None:
            raise
        # The driver's own exception, behind SQLAlchemy's adapter, has the bare message.
        cause = error.orig.__cause__ if error.orig is not None else None
        message = getattr(cause, "message", None) or str(error.orig)
        raise refusal(message) from None


@functools.cache
def _rewrite_template() -> str:
    """rewrite.sql: one PL/pgSQL block, its {placeholders} filled by rewrite_sql."""
    return resources.files(__package__).joinpath("rewrite.sql").read_text()


def rewrite_sql(
    type_name: str,
    schema: str | None,
    values: list[str],
    *,
    removing: str | None = None,
    lock_timeout: str | None = None,
) -> str:
    """The DO block that recreates the type with `values` and carries every dependent over to
    it, after checking that no row holds `removing`."""
    literals = [type_name, *(schema or "",), *values, removing or "", lock_timeout or ""]
    if any("$enum_rewrite$" in literal for literal in literals):
        raise EnumMigrationError("a name or value contains '$enum_rewrite$'")
    return _rewrite_template().format(
        schema=_literal(schema) if schema else "NULL",
        name=_literal(type_name),
        removing=_literal(removing) if removing is not None else "NULL",
        values=", ".join(_literal(v) for v in values),
        lock_timeout=_literal(lock_timeout or LOCK_TIMEOUT),
    )
