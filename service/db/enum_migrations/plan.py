"""The pure step: which operations turn one list of enum values into another, each with its
reverse. No database here, so it can be tested on its own."""

from __future__ import annotations

from alembic.operations import MigrateOperation


class EnumValueOp(MigrateOperation):
    """Base: one change to one enum type; `undo` is the operation that reverses it.

    `to_diff_tuple()` is what `alembic check` prints for a pending change, `describe()` the
    sentence `python -m service migrate check` prints."""

    def __init__(self, type_name: str, *, schema: str | None = None) -> None:
        self.type_name = type_name
        self.schema = schema
        self.undo: EnumValueOp | None = None

    @property
    def qualified_name(self) -> str:
        return f"{self.schema}.{self.type_name}" if self.schema else self.type_name

    def reverse(self) -> EnumValueOp:
        if self.undo is None:
            raise NotImplementedError(f"{type(self).__name__} was not built with its reverse")
        return self.undo

    def to_diff_tuple(self) -> tuple[object, ...]:
        raise NotImplementedError(type(self).__name__)

    def describe(self) -> str:
        raise NotImplementedError(type(self).__name__)


class AddEnumValueOp(EnumValueOp):
    def __init__(
        self,
        type_name: str,
        value: str,
        *,
        before: str | None = None,
        after: str | None = None,
        schema: str | None = None,
    ) -> None:
        super().__init__(type_name, schema=schema)
        self.value, self.before, self.after = value, before, after

    @property
    def position(self) -> str:
        if self.before is not None:
            return f"before {self.before!r}"
        return f"after {self.after!r}" if self.after is not None else "as the only value"

    def to_diff_tuple(self) -> tuple[object, ...]:
        return ("add_enum_value", self.qualified_name, self.value, self.position)

    def describe(self) -> str:
        return f"add value {self.value!r} to enum {self.qualified_name}, {self.position}"


class RenameEnumValueOp(EnumValueOp):
    def __init__(self, type_name: str, old: str, new: str, *, schema: str | None = None) -> None:
        super().__init__(type_name, schema=schema)
        self.old, self.new = old, new

    def reverse(self) -> EnumValueOp:
        return RenameEnumValueOp(self.type_name, self.new, self.old, schema=self.schema)

    def to_diff_tuple(self) -> tuple[object, ...]:
        return ("rename_enum_value", self.qualified_name, self.old, self.new)

    def describe(self) -> str:
        return f"rename value {self.old!r} of enum {self.qualified_name} to {self.new!r}"


class RemoveEnumValueOp(EnumValueOp):
    """Remove `value`; `values` are the type's values afterwards, in order. `online`: see
    online.py."""

    def __init__(
        self,
        type_name: str,
        value: str,
        *,
        values: list[str],
        schema: str | None = None,
        online: bool = False,
        lock_timeout: str | None = None,
    ) -> None:
        super().__init__(type_name, schema=schema)
        self.value, self.values, self.online = value, list(values), online
        self.lock_timeout = lock_timeout  # None: operations.LOCK_TIMEOUT

    def to_diff_tuple(self) -> tuple[object, ...]:
        return ("remove_enum_value", self.qualified_name, self.value)

    def describe(self) -> str:
        return f"remove value {self.value!r} from enum {self.qualified_name}"


class ReorderEnumValuesOp(EnumValueOp):
    def __init__(
        self,
        type_name: str,
        *,
        values: list[str],
        schema: str | None = None,
        online: bool = False,
        lock_timeout: str | None = None,
    ) -> None:
        super().__init__(type_name, schema=schema)
        self.values, self.online = list(values), online
        self.lock_timeout = lock_timeout  # None: operations.LOCK_TIMEOUT

    def to_diff_tuple(self) -> tuple[object, ...]:
        return ("reorder_enum_values", self.qualified_name, list(self.values))

    def describe(self) -> str:
        order = ", ".join(repr(v) for v in self.values)
        return f"reorder the values of enum {self.qualified_name} to {order}"


# Planning -------------------------------------------------------------------------------------


def plan(
    type_name: str, schema: str | None, old: list[str], new: list[str], renamed: dict[str, str]
) -> list[EnumValueOp]:
    """The operations that turn `old` into `new`, each with its reverse: renames first, then
    removals, a reorder if the surviving values changed order, then additions in place."""
    ops: list[EnumValueOp] = []
    current = list(old)
    for was, now in renamed.items():
        if was in current and now in new and now not in current:
            ops.append(RenameEnumValueOp(type_name, was, now, schema=schema))
            current[current.index(was)] = now
    for value in [v for v in current if v not in new]:
        before = list(current)
        current.remove(value)
        remove = RemoveEnumValueOp(type_name, value, values=current, schema=schema)
        remove.undo = _add_op(type_name, schema, before, value)
        ops.append(remove)
    wanted = [v for v in new if v in current]
    if wanted != current:
        reorder = ReorderEnumValuesOp(type_name, values=wanted, schema=schema)
        reorder.undo = ReorderEnumValuesOp(type_name, values=current, schema=schema)
        ops.append(reorder)
        current = wanted
    for value in [v for v in new if v not in current]:
        target = [v for v in new if v in current or v == value]
        add = _add_op(type_name, schema, target, value)
        add.undo = RemoveEnumValueOp(type_name, value, values=list(current), schema=schema)
        ops.append(add)
        current = target
    return ops


def _add_op(type_name: str, schema: str | None, values: list[str], value: str) -> AddEnumValueOp:
    """ADD VALUE that puts `value` where it stands in `values`."""
    index = values.index(value)
    if index + 1 < len(values):
        return AddEnumValueOp(type_name, value, before=values[index + 1], schema=schema)
    after = values[index - 1] if index else None
    return AddEnumValueOp(type_name, value, after=after, schema=schema)
