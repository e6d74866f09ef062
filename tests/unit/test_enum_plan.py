"""The pure planning step of enum migrations (service/db/enum_migrations/plan.py), checked on
any two lists of values: what PostgreSQL would do with each operation, simulated on a list."""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st

from service.db.enum_migrations import (
    AddEnumValueOp,
    EnumValueOp,
    RemoveEnumValueOp,
    RenameEnumValueOp,
    ReorderEnumValuesOp,
    plan,
)

# Few letters, so that old and new lists overlap, and renames hit values that exist.
labels = st.sampled_from("ABCDEF")
value_lists = st.lists(labels, unique=True, max_size=6)
renames = st.dictionaries(labels, labels, max_size=4)


def apply(values: list[str], op: EnumValueOp) -> list[str]:
    """`values` after `op`, refusing what PostgreSQL would refuse."""
    if isinstance(op, AddEnumValueOp):
        assert op.value not in values, f"ADD VALUE of existing {op.value!r} to {values}"
        assert op.before is None or op.after is None
        if op.before is not None:
            assert op.before in values, f"ADD VALUE BEFORE missing {op.before!r} in {values}"
            index = values.index(op.before)
        elif op.after is not None:
            assert op.after in values, f"ADD VALUE AFTER missing {op.after!r} in {values}"
            index = values.index(op.after) + 1
        else:
            index = len(values)  # no position: PostgreSQL appends
        return [*values[:index], op.value, *values[index:]]
    if isinstance(op, RenameEnumValueOp):
        assert op.old in values, f"RENAME VALUE of missing {op.old!r} in {values}"
        assert op.new not in values, f"RENAME VALUE to existing {op.new!r} in {values}"
        return [op.new if v == op.old else v for v in values]
    if isinstance(op, RemoveEnumValueOp):
        assert op.value in values, (op.value, values)
        assert op.values == [v for v in values if v != op.value], (op.values, values)
        return list(op.values)
    assert isinstance(op, ReorderEnumValuesOp)
    assert sorted(op.values) == sorted(values), (op.values, values)
    return list(op.values)


def run(values: list[str], ops: list[EnumValueOp]) -> list[str]:
    for op in ops:
        values = apply(values, op)
    return values


@given(old=value_lists, new=value_lists, renamed=renames)
@example(old=["A", "B"], new=["A", "C", "B"], renamed={})  # in the middle
@example(old=["A", "B"], new=["B", "A"], renamed={})  # reorder
@example(old=["A", "B"], new=["A", "C"], renamed={"B": "C"})  # rename
@example(old=["A"], new=[], renamed={})  # the last value
@example(old=[], new=["A"], renamed={})  # into an empty type
def test_the_operations_turn_old_into_new_and_their_reverses_turn_it_back(
    old: list[str], new: list[str], renamed: dict[str, str]
) -> None:
    ops = plan("status", None, list(old), list(new), renamed)

    assert run(list(old), ops) == new
    assert run(list(new), [op.reverse() for op in reversed(ops)]) == old


@given(values=value_lists, renamed=renames)
def test_nothing_to_do_when_nothing_changed(values: list[str], renamed: dict[str, str]) -> None:
    assert plan("status", None, list(values), list(values), renamed) == []


@given(old=value_lists, new=value_lists)
def test_a_declared_rename_is_a_rename(old: list[str], new: list[str]) -> None:
    gone = [v for v in old if v not in new]
    arrived = [v for v in new if v not in old]
    renamed = dict(zip(gone, arrived, strict=False))

    ops = plan("status", None, list(old), list(new), renamed)

    renames = [(op.old, op.new) for op in ops if isinstance(op, RenameEnumValueOp)]
    assert renames == list(renamed.items())
    assert not any(isinstance(op, RemoveEnumValueOp) and op.value in renamed for op in ops)
