"""One PostgreSQL enum type, one declaration: a second, different ProtoEnum for the same type
fails where it is made, naming both places; sharing one, or repeating it exactly, is fine."""

from __future__ import annotations

import importlib
import itertools
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from service.db.enums import ConflictingEnumDeclarationError

_types = itertools.count()


@pytest.fixture
def modules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A folder on sys.path for model modules; they are forgotten after the test."""
    monkeypatch.syspath_prepend(str(tmp_path))
    before = set(sys.modules)
    yield tmp_path
    for name in set(sys.modules) - before:
        del sys.modules[name]


def write(folder: Path, module: str, source: str) -> None:
    (folder / f"{module}.py").write_text(textwrap.dedent(source))


def declaration(type_name: str, values: str, renamed: str = "None", schema: str = "None") -> str:
    return f"""\
        import enum

        from service.db.enums import ProtoEnum

        Status = enum.Enum("Status", {values})
        STATUS = ProtoEnum(Status, {type_name!r}, renamed={renamed}, schema={schema})
        """


def test_two_different_declarations_of_one_type_fail_naming_both(modules: Path) -> None:
    name = f"status_{next(_types)}"
    write(modules, "first_models", declaration(name, '{"UNSPECIFIED": 0, "A": 1, "B": 2}'))
    write(
        modules,
        "second_models",
        declaration(name, '{"UNSPECIFIED": 0, "A": 1, "BEE": 2}', renamed='{"B": "BEE"}'),
    )
    importlib.import_module("first_models")

    with pytest.raises(ConflictingEnumDeclarationError) as raised:
        importlib.import_module("second_models")

    assert str(raised.value) == (
        f"enum type {name} is declared twice, differently: at first_models, line 6 and at "
        "second_models, line 6 (values ['A', 'B'] and ['A', 'BEE']; renamed {} and "
        "{'B': 'BEE'}). Declare it once and import that ProtoEnum wherever the type is used."
    )


def test_only_a_different_renamed_is_a_conflict_too(modules: Path) -> None:
    name = f"status_{next(_types)}"
    values = '{"UNSPECIFIED": 0, "A": 1}'
    write(modules, "first_models", declaration(name, values, renamed='{"X": "A"}'))
    write(modules, "second_models", declaration(name, values))
    importlib.import_module("first_models")

    with pytest.raises(ConflictingEnumDeclarationError, match=r"renamed \{'X': 'A'\} and \{\}"):
        importlib.import_module("second_models")


def test_a_shared_object_an_identical_declaration_or_another_schema_are_fine(
    modules: Path,
) -> None:
    name = f"status_{next(_types)}"
    values = '{"UNSPECIFIED": 0, "A": 1, "B": 2}'
    write(modules, "first_models", declaration(name, values))
    write(modules, "same_again", declaration(name, values))
    write(modules, "elsewhere", declaration(name, '{"UNSPECIFIED": 0, "Z": 1}', schema="'other'"))
    write(
        modules,
        "sharing",
        """\
        import sqlalchemy as sa

        from first_models import STATUS

        metadata = sa.MetaData()
        things = sa.Table("things", metadata, sa.Column("status", STATUS))
        others = sa.Table("others", metadata, sa.Column("status", STATUS))
        """,
    )

    for module in ("first_models", "same_again", "elsewhere", "sharing"):
        importlib.import_module(module)


def test_a_module_run_again_replaces_its_own_declaration(modules: Path) -> None:
    name = f"status_{next(_types)}"
    write(modules, "first_models", declaration(name, '{"UNSPECIFIED": 0, "A": 1}'))
    write(modules, "second_models", declaration(name, '{"UNSPECIFIED": 0, "A": 1, "B": 2}'))
    first = importlib.import_module("first_models")
    write(modules, "first_models", declaration(name, '{"UNSPECIFIED": 0, "A": 1, "B": 2}'))
    importlib.invalidate_caches()
    importlib.reload(first)  # an edited module, reloaded: now like second_models

    importlib.import_module("second_models")
