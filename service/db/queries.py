"""Statements written with SQLAlchemy Core, compiled by `make generate` into a resource's sql.py.

A resource's `queries.py` builds its statements on its typed models and names each one:

    GET = Query(select(*COLUMNS).where(Table.id == bindparam("id")), Invitation)

    @variants(by_status=(False, True), after_cursor=(False, True))
    def LIST(by_status: bool, after_cursor: bool) -> Query[Invitation]: ...

`make generate` (tools/sql.py) imports it and writes its sql.py: per Query a Statement
(service/db/statements.py), and per `variants` function a function of the same parameters that
picks the Statement compiled for them; storage.py runs those. This module, and SQLAlchemy, are
needed only then: the server never imports them (service/db/statements.py says why).

A Query's rows become a dataclass by name: each field is filled from the column of its name, and
is checked against it when the Query is built: the column must exist, and its Python type (and
None, for a nullable column) must be what the field is annotated with; else a TypeError naming
both. The statement's column order does not matter. The compiled reader is the source of one
function, `Invitation(record[0], record[1], _read_role(record[2]), ...)`, as dataclasses
compiles each `__init__`: fixed indexes and no loop read a row of the example in 0.7 us, against
1.3 for itemgetter and a loop (measured).

Values are written and read by asyncpg's codecs, except proto enums (service/db/enums.py), which
the compiled module writes and reads by their labels. A column or parameter of any other type
that SQLAlchemy would convert itself (it has a bind or result processor for asyncpg) is refused
here, with the reason: the server would not have SQLAlchemy to convert it.
"""

from __future__ import annotations

import ast
import dataclasses
import datetime
import inspect
import itertools
import keyword
import re
import types
import typing
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

from sqlalchemy.dialects.postgresql.asyncpg import PGDialect_asyncpg
from sqlalchemy.sql import Select
from sqlalchemy.sql.dml import UpdateBase
from sqlalchemy.types import TypeEngine

from service.db.enums import ProtoEnum
from service.db.statements import Statement

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

R = TypeVar("R")
AnySelect = Select[*tuple[object, ...]]
_DIALECT = PGDialect_asyncpg()  # type: ignore[no-untyped-call]  # SQLAlchemy leaves it untyped
# The Python types whose values JSON carries as text, by their name in FROM_JSON_TEXT.
_JSON_TEXT = {uuid.UUID: "uuid", datetime.datetime: "datetime", datetime.date: "date"}
_JSON_TEXT[datetime.time] = "time"


def _python_type(type_: TypeEngine[Any]) -> type | None:
    try:
        return type_.python_type
    except NotImplementedError:  # a type that does not say
        return None


def _json_text(type_: TypeEngine[Any]) -> str | None:
    """How JSON carries a value of this type: FROM_JSON_TEXT's key, if as text to parse."""
    python_type = _python_type(type_)
    return None if python_type is None else _JSON_TEXT.get(python_type)


def _python_types(annotation: object) -> tuple[object, ...]:
    """The types an annotation admits: `datetime | None` -> (datetime, NoneType)."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return typing.get_args(annotation)
    return (annotation,)


def _check_field(cls: type, field: str, annotation: object, column: Any) -> None:
    """TypeError unless the column's values fit the field's annotation."""
    admitted = _python_types(annotation)
    python_type = _python_type(column.type)
    if python_type is None:  # nothing to check it against
        return
    fits = any(isinstance(t, type) and issubclass(python_type, t) for t in admitted)
    if fits and getattr(column, "nullable", False) and type(None) not in admitted:
        raise TypeError(
            f"{cls.__name__}.{field} is {annotation}, and its column can be NULL: "
            f"annotate it `{annotation} | None`"
        )
    if not fits:
        raise TypeError(
            f"{cls.__name__}.{field} is {annotation}, and its column holds "
            f"{python_type.__name__} ({column.type})"
        )


def _enum_of(type_: TypeEngine[Any], processor: object, what: str) -> ProtoEnum[Any] | None:
    """The ProtoEnum a value goes through, None if asyncpg handles it alone; TypeError if
    SQLAlchemy would convert it in a way a compiled statement cannot."""
    if isinstance(type_, ProtoEnum):
        return type_
    if processor is not None:
        raise TypeError(
            f"{what} is of type {type_!r}, which SQLAlchemy converts itself for asyncpg: a "
            "compiled statement cannot, so use a type asyncpg reads and writes (or a ProtoEnum)"
        )
    return None


@dataclasses.dataclass(frozen=True)
class _Field:
    index: int
    enum: ProtoEnum[Any] | None


class Query(Generic[R]):
    """A SELECT, or an INSERT / UPDATE / DELETE ... RETURNING, whose rows become the dataclass
    R by name; compiled for asyncpg when it is built, and checked (see the module)."""

    def __init__(self, statement: AnySelect | UpdateBase, make: type[R]) -> None:
        if not statement.exported_columns:
            raise ValueError("a Query returns rows: give an INSERT, UPDATE or DELETE .returning()")
        if not (isinstance(make, type) and dataclasses.is_dataclass(make)):
            raise TypeError(f"a Query's rows become a dataclass, not {make!r}")
        compiled = statement.compile(dialect=_DIALECT)
        self.sql = str(compiled)
        self.cls = make
        self.params: list[tuple[str, ProtoEnum[Any] | None]] = []
        for name in compiled.positiontup or ():
            type_ = compiled.binds[name].type
            processor = type_.bind_processor(_DIALECT)
            self.params.append((name, _enum_of(type_, processor, f"parameter {name!r}")))
        columns = {
            column.key: (index, column)
            for index, column in enumerate(statement.exported_columns)
            if column.key is not None
        }
        # Each column by its place in a row, with how JSON carries it (FROM_JSON_TEXT's key).
        self.columns: list[tuple[str, str | None]] = [
            (key, _json_text(column.type))
            for key, (_, column) in sorted(columns.items(), key=lambda item: item[1][0])
        ]
        self.fields = _fields(make, columns)

    def statement(self) -> Statement[R]:
        """This Query compiled as `make generate` writes it, here and now (for tests)."""
        namespace: dict[str, Any] = {}
        source = render({"QUERY": self})
        exec(compile(source, f"<statement of {self.cls.__name__}>", "exec"), namespace)
        return cast("Statement[R]", namespace["QUERY"])


def _fields(cls: type, columns: Mapping[str, tuple[int, Any]]) -> list[_Field]:
    """Where each of the dataclass's fields comes from, after each was checked."""
    hints = typing.get_type_hints(cls)
    fields = []
    for field in dataclasses.fields(cast("type[DataclassInstance]", cls)):
        if not field.init or field.kw_only:  # each row is made by position: cls(*values)
            raise TypeError(f"{cls.__name__}.{field.name}: not a positional __init__ field")
        if field.name not in columns:
            raise TypeError(
                f"{cls.__name__}.{field.name}: the statement returns no column of that name"
            )
        index, column = columns[field.name]
        _check_field(cls, field.name, hints[field.name], column)
        processor = column.type.result_processor(_DIALECT, None)
        fields.append(_Field(index, _enum_of(column.type, processor, f"column {field.name}")))
    return fields


class Variants(Generic[R]):
    """A function of a few parameters, each with its finite set of values, that builds a Query:
    compiled once for every combination, and picked by the arguments at run time."""

    def __init__(self, function: Callable[..., Query[R]], domains: Mapping[str, Iterable[object]]):
        self.function = function
        self.signature = inspect.signature(function)
        if list(self.signature.parameters) != list(domains):
            raise TypeError(
                f"{function.__name__}: give the values of each parameter, in order: "
                f"{list(self.signature.parameters)}"
            )
        self.domains = {name: list(values) for name, values in domains.items()}
        for name, values in self.domains.items():
            for value in values:
                if not _is_literal(value):
                    raise TypeError(f"{function.__name__}: {name}={value!r} is not a literal")

    def __call__(self, *args: object) -> Query[R]:
        return self.function(*args)

    def items(self) -> Iterator[tuple[tuple[object, ...], Query[R]]]:
        for key in itertools.product(*self.domains.values()):
            yield key, self.function(*key)


def _is_literal(value: object) -> bool:
    """Whether the value's repr() is Python source for an equal value (a key in sql.py)."""
    try:
        return bool(ast.literal_eval(repr(value)) == value)
    except (ValueError, SyntaxError):
        return False


def variants(
    **domains: Iterable[object],
) -> Callable[[Callable[..., Query[R]]], Variants[R]]:
    """Compile a function's Query for every combination of these parameters' values."""
    return lambda function: Variants(function, domains)


def subsets(names: Sequence[str]) -> list[tuple[str, ...]]:
    """Every subset of `names`, each in their order: (a, b) -> (), (a,), (b,), (a, b)."""
    return [
        tuple(name for name, chosen in zip(names, mask, strict=True) if chosen)
        for mask in itertools.product((False, True), repeat=len(names))
    ]


# The compiled module ---------------------------------------------------------------------------


def _identifier(text: str) -> str:
    """`InvitationStatus` -> `invitation_status`; `my-type` -> `my_type`."""
    name = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", re.sub(r"\W", "_", text)).lower()
    return name + "_" if keyword.iskeyword(name) else name


class _Module:
    """The source of a compiled module, built up Query by Query."""

    def __init__(self) -> None:
        self.imports: dict[str, str] = {}  # name -> its module
        self.helpers: dict[str, str] = {}  # name -> its definition
        self.readers: dict[str, str] = {}  # a reader's source -> its name
        self.column_sets: dict[str, str] = {}  # a Statement's columns -> their name

    def name_of(self, obj: type) -> str:
        name = obj.__qualname__.split(".")[0]
        if self.imports.setdefault(name, obj.__module__) != obj.__module__:
            raise TypeError(f"two classes named {name}: rename one ({obj.__module__})")
        return obj.__qualname__

    def writer(self, enum: ProtoEnum[Any]) -> str:
        name = f"_write_{_identifier(enum.type_name)}"
        definition = f"enum_writer({self.name_of(enum.enum_class)}, {enum.type_name!r})"
        if self.helpers.setdefault(name, definition) != definition:
            raise TypeError(f"two enum types named {enum.type_name}: rename one")
        return name

    def reader(self, query: Query[Any]) -> str:
        arguments = []
        for field in query.fields:
            value = f"record[{field.index}]"
            if field.enum is not None:
                enum_name = self.name_of(field.enum.enum_class)
                read = f"_read_{_identifier(enum_name)}"
                self.helpers[read] = f"enum_reader({enum_name})"
                value = f"{read}({value})"
            arguments.append(value)
        cls = self.name_of(query.cls)
        body = f"    return {cls}({', '.join(arguments)})\n"
        signature = f"(record: Record) -> {cls}:\n"
        key = signature + body
        if key not in self.readers:
            base = f"_{_identifier(query.cls.__name__)}"
            count = sum(1 for name in self.readers.values() if name.startswith(base))
            self.readers[key] = base if count == 0 else f"{base}_{count + 1}"
        return self.readers[key]

    def statement(self, query: Query[Any], indent: str) -> str:
        params = ", ".join(
            f"({name!r}, {self.writer(enum) if enum else None})" for name, enum in query.params
        )
        reader = self.reader(query)
        columns = ", ".join(f"({key!r}, {kind!r})" for key, kind in query.columns)
        if columns not in self.column_sets:
            taken = sum(1 for name in self.column_sets.values() if name.startswith(reader))
            self.column_sets[columns] = f"{reader}_columns" + (f"_{taken + 1}" if taken else "")
        columns_name = self.column_sets[columns]
        inner = indent + "    "
        sql = "\n".join(f"{inner}{line!r}" for line in _lines(query.sql))
        return (
            f"Statement(\n{sql},\n{inner}({params}{',' if len(query.params) == 1 else ''}),\n"
            f"{inner}{reader},\n{inner}{columns_name},\n{indent})"
        )


def _lines(sql: str) -> list[str]:
    """The SQL as string literals to concatenate, one per line of it (newlines kept)."""
    lines = sql.split("\n")
    return [line + "\n" for line in lines[:-1]] + [lines[-1]]


def _annotation(annotation: object) -> str:
    """A parameter's annotation as source: as written, when the module defers annotations."""
    if annotation is inspect.Parameter.empty:
        raise TypeError("annotate each parameter of a variants function: sql.py repeats them")
    return annotation if isinstance(annotation, str) else inspect.formatannotation(annotation)


def render(queries: Mapping[str, Query[Any] | Variants[Any]], doc: str = "") -> str:
    """The source of a module that defines each of `queries` under its name, compiled."""
    module = _Module()
    definitions = []
    for name, query in queries.items():
        if isinstance(query, Query):
            statement = module.statement(query, "")
            definitions.append(f"{name}: Statement[{module.name_of(query.cls)}] = {statement}\n")
            continue
        entries = []
        returns = None
        for key, variant in query.items():
            if returns not in (None, variant.cls):
                raise TypeError(f"{name}: every variant's rows must be one class")
            returns = variant.cls
            entries.append(f"    {key!r}: {module.statement(variant, '    ')},\n")
        assert returns is not None, f"{name}: a variants function with no values"
        result = f"Statement[{module.name_of(returns)}]"
        parameters = ", ".join(
            f"{parameter.name}: {_annotation(parameter.annotation)}"
            for parameter in query.signature.parameters.values()
        )
        arguments = ", ".join(query.signature.parameters)
        definitions.append(
            f"_{name.upper()}: dict[tuple[object, ...], {result}] = {{\n{''.join(entries)}}}\n\n\n"
            f"def {name}({parameters}) -> {result}:\n"
            f"    return _{name.upper()}[{arguments}{',' if len(query.domains) == 1 else ''}]\n"
        )
    used = [
        name
        for name in ("enum_reader", "enum_writer")
        if f"{name}(" in "".join(module.helpers.values())
    ]
    for name in ("Statement", *used):
        module.imports[name] = "service.db.statements"
    by_module: dict[str, list[str]] = {}
    for name, where in sorted(module.imports.items()):
        by_module.setdefault(where, []).append(name)
    imports = "".join(
        f"from {where} import {', '.join(names)}\n" for where, names in sorted(by_module.items())
    )
    helpers = "".join(f"{name} = {value}\n" for name, value in module.helpers.items())
    helpers += "".join(f"{name} = ({columns},)\n" for columns, name in module.column_sets.items())
    readers = "".join(f"\n\ndef {name}{key}" for key, name in module.readers.items())
    quoted = f'"""{doc}"""\n\n' if doc else ""
    return (
        f"{quoted}from __future__ import annotations\n\n"
        "from typing import TYPE_CHECKING\n\n"
        f"{imports}\n"
        "if TYPE_CHECKING:\n    from service.db.statements import Record\n\n"
        f"{helpers}{readers}\n\n\n" + "\n\n".join(definitions)
    )
