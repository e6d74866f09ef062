"""Render a typed Python `enum.Enum` for every enum of a proto file.

protoc gives each proto enum only a wrapper of plain ints. The service wants real Python enums
(SQLAlchemy maps them to native PostgreSQL enum types; mypy checks every member), and it wants
them to come from the proto, so there is one definition. tools/codegen.py calls render_module()
for each compiled proto and writes the result as `<name>_enums.py` beside `<name>_pb2.py`.

Naming, the rule users see in the generated code:
- a top-level enum keeps its name (`Role`); a nested one is prefixed with its messages' names
  (`InvitationEvent.Kind` -> `InvitationEventKind`);
- a member's value is the proto number;
- member names drop the enum's upper-snake prefix (`INVITATION_STATUS_PENDING` ->
  `InvitationStatus.PENDING`, `KIND_CREATED` -> `InvitationEventKind.CREATED`) when every value
  of the enum has it and what remains is a usable identifier; otherwise the enum keeps the proto
  names unchanged. buf and AIP require the prefix because C++ and proto scope values alongside
  their enum; a Python enum is its own scope, and the database labels read better without it.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # only for annotations: keeps `make generate` quick when nothing changed
    from google.protobuf import descriptor_pb2

# Field numbers in descriptor.proto, used to find comments in SourceCodeInfo.
_FILE_MESSAGE, _FILE_ENUM = 4, 5
_MESSAGE_FIELDS = (4, 3)  # DescriptorProto.enum_type, DescriptorProto.nested_type
_ENUM_VALUE = 2
_RESERVED = frozenset({"from_proto", "to_proto", "proto_name", "mro"})


@dataclass(frozen=True)
class _Found:
    class_name: str
    pb_path: str  # attribute path in the _pb2 module: "Role", "InvitationEvent.Kind"
    proto: descriptor_pb2.EnumDescriptorProto
    location: tuple[int, ...]


def module_path(rel_proto: str) -> str:
    """invitations/v1/invitations.proto -> invitations/v1/invitations_enums.py"""
    return rel_proto[: -len(".proto")].replace("-", "_") + "_enums.py"


def upper_snake(name: str) -> str:
    """InvitationStatus -> INVITATION_STATUS, HTTPMethod -> HTTP_METHOD (buf's prefix rule)."""
    name = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name)
    return re.sub(r"(?<=[A-Z])(?=[A-Z][a-z])", "_", name).upper()


def _usable(name: str) -> bool:
    return (
        name.isidentifier()
        and not keyword.iskeyword(name)
        and not name.startswith("_")
        and name not in _RESERVED
    )


def member_names(enum: descriptor_pb2.EnumDescriptorProto) -> list[str]:
    """The Python member names of a proto enum's values, in declaration order."""
    prefix = upper_snake(enum.name) + "_"
    full = [value.name for value in enum.value]
    stripped = [name.removeprefix(prefix) for name in full]
    if all(name.startswith(prefix) for name in full) and all(map(_usable, stripped)):
        return stripped
    unusable = [name for name in full if not _usable(name)]
    if unusable:
        raise ValueError(f"enum {enum.name}: value names {unusable} cannot be Python enum members")
    return full


def _walk(
    messages: Sequence[descriptor_pb2.DescriptorProto],
    enums: Sequence[descriptor_pb2.EnumDescriptorProto],
    outer: tuple[str, ...] = (),
    location: tuple[int, ...] = (),
) -> Iterator[_Found]:
    """Every enum of a file (outer == ()) or of a message, nested ones included."""
    enum_field, message_field = (_FILE_ENUM, _FILE_MESSAGE) if not outer else _MESSAGE_FIELDS
    for index, enum in enumerate(enums):
        path = (*outer, enum.name)
        yield _Found("".join(path), ".".join(path), enum, (*location, enum_field, index))
    for index, message in enumerate(messages):
        yield from _walk(
            message.nested_type,
            message.enum_type,
            (*outer, message.name),
            (*location, message_field, index),
        )


def _docstring(comment: str, indent: str) -> list[str]:
    lines = [line.strip() for line in comment.strip().splitlines()]
    lines = [line.replace("\\", "\\\\").replace('"""', '\\"\\"\\"') for line in lines]
    if len(lines) == 1:
        return [f'{indent}"""{lines[0]}"""']
    body = [f"{indent}{line}" if line else "" for line in lines[1:]]
    return [f'{indent}"""{lines[0]}', *body, f'{indent}"""']


def render_module(file: descriptor_pb2.FileDescriptorProto, package: str) -> str | None:
    """The source of `<name>_enums.py` for one proto file, or None if it declares no enum."""
    found = list(_walk(file.message_type, file.enum_type))
    if not found:
        return None
    names = [f.class_name for f in found]
    clashes = sorted({name for name in names if names.count(name) > 1})
    if clashes:
        raise ValueError(f"{file.name}: enums {clashes} would share a Python class name")
    comments = {
        tuple(location.path): location.leading_comments
        for location in file.source_code_info.location
        if location.leading_comments
    }
    pb_module = file.name[: -len(".proto")].replace("-", "_").replace("/", ".")
    parent, _, leaf = pb_module.rpartition(".")
    import_from = f"{package}.{parent}" if parent else package
    lines = [
        f"# Generated by tools/codegen.py from {file.name}. Do not edit.",
        f'"""Python enums for the proto enums of {file.name}.',
        "",
        "A member's value is its proto number; names drop the enum's prefix where every value",
        "has it (see tools/enums.py). to_proto() and from_proto() convert to and from messages.",
        '"""',
        "",
        "from __future__ import annotations",
        "",
        "import enum",
        "",
        f"from {import_from} import {leaf}_pb2 as _pb2",
    ]
    for item in found:
        proto_name = f"{file.package}.{item.pb_path}" if file.package else item.pb_path
        comment = comments.get(item.location, "").strip()
        doc = (
            f"{comment}\n\nProto enum `{proto_name}`." if comment else f"Proto enum `{proto_name}`."
        )
        value_type = f"_pb2.{item.pb_path}.ValueType"
        lines += ["", "", f"class {item.class_name}(enum.Enum):", *_docstring(doc, "    "), ""]
        # Declares what a member's value is (a proto number), for the type checker alone: so
        # to_proto() returns it as it is, without a cast, a call that took longer than the rest.
        lines += [f"    _value_: {value_type}", ""]
        members = member_names(item.proto)
        for name, value in zip(members, item.proto.value, strict=True):
            lines.append(f"    {name} = {value.number}")
        lines += [
            "",
            "    @classmethod",
            f"    def from_proto(cls, value: {value_type}) -> {item.class_name}:",
            '        """The member for a proto value; ValueError for a number the enum lacks."""',
            "        return cls(value)",
            "",
            f"    def to_proto(self) -> {value_type}:",
            # The value itself, not a call of the NewType: to_proto() runs for every enum of
            # every message sent.
            "        return self._value_",
            "",
            "    @property",
            "    def proto_name(self) -> str:",
            '        """The value\'s name in the proto, e.g. for messages to API users."""',
            f"        return _pb2.{item.pb_path}.Name(self.to_proto())",
        ]
    return "\n".join(lines) + "\n"
