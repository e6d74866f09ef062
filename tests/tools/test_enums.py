"""The Python enums generated from proto enums (tools/enums.py)."""

from __future__ import annotations

import enum
import importlib
import inspect
import json
import types
from collections.abc import Callable
from typing import Protocol

import pytest
from google.protobuf import descriptor, descriptor_pb2

from tests.tools.conftest import ROOT, Project
from tools import enums


class ProtoEnumMember(Protocol):
    """What every generated enum member offers."""

    name: str

    def to_proto(self) -> int: ...

    @property
    def proto_name(self) -> str: ...


def repository_enum_modules() -> list[types.ModuleType]:
    """The enum modules of the repository's own generated/, whatever protos/ holds."""
    paths = sorted((ROOT / "generated").rglob("*_enums.py"))
    return [
        importlib.import_module(".".join(p.relative_to(ROOT).with_suffix("").parts)) for p in paths
    ]


def proto_enums(module: types.ModuleType) -> dict[str, descriptor.EnumDescriptor]:
    """Every proto enum of the _pb2 module beside an _enums module, by its Python class name."""
    pb2 = importlib.import_module(module.__name__.removesuffix("_enums") + "_pb2")
    found: dict[str, descriptor.EnumDescriptor] = {}

    def visit(messages: list[descriptor.Descriptor], outer: str) -> None:
        for message in messages:
            for nested in message.enum_types:
                found[outer + message.name + nested.name] = nested
            visit(list(message.nested_types), outer + message.name)

    found.update(pb2.DESCRIPTOR.enum_types_by_name)
    visit(list(pb2.DESCRIPTOR.message_types_by_name.values()), "")
    return found


def assert_round_trips(module: types.ModuleType) -> int:
    """Every value of every proto enum survives to_proto/from_proto; returns how many enums.

    Also run inside scratch projects (see test_the_sample_enums_round_trip), hence a function.
    """
    by_class = proto_enums(module)
    classes = {
        name: cls
        for name, cls in vars(module).items()
        if inspect.isclass(cls) and issubclass(cls, enum.Enum) and cls.__module__ == module.__name__
    }
    assert set(classes) == set(by_class), module.__name__
    for name, proto in by_class.items():
        cls = classes[name]
        where = f"{module.__name__}.{name}"
        assert [v.number for v in proto.values] == [m.value for m in cls], where
        from_proto: Callable[[int], ProtoEnumMember] = cls.from_proto  # type: ignore[attr-defined]  # generated per class
        for value in proto.values:
            member = from_proto(value.number)
            assert member.to_proto() == value.number, where
            assert member.proto_name == value.name, where
            prefix = enums.upper_snake(proto.name) + "_"
            assert value.name in {member.name, prefix + member.name}, where
    return len(by_class)


def test_the_sample_enums_round_trip(project: Project) -> None:
    """Top-level and nested enums of the sample proto."""
    project.generate()

    result = project.run_python(
        "from generated.samples.v1 import samples_enums\n"
        "from tests.tools.test_enums import assert_round_trips\n"
        "print(assert_round_trips(samples_enums))\n"
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["3"]  # Color, SampleState, SampleEventKind


def test_the_repositorys_own_enums_round_trip() -> None:
    """The same check over generated/ as protos/ makes it today, for every resource in it."""
    modules = repository_enum_modules()
    if not modules:
        pytest.skip("protos/ declares no enum: nothing of the repository's own to check")
    for module in modules:
        # codegen writes an _enums module only for a proto that declares an enum.
        assert assert_round_trips(module) > 0, module.__name__


def test_a_sample_enum_reads_as_the_proto_declares_it(project: Project) -> None:
    project.generate()

    result = project.run_python(
        "import json\n"
        "from generated.samples.v1 import samples_pb2 as pb\n"
        "from generated.samples.v1.samples_enums import SampleEventKind, SampleState\n"
        "try:\n"
        "    SampleState.from_proto(pb.SampleState.ValueType(99))\n"
        "except ValueError as error:\n"
        "    refused = str(error)\n"
        "print(json.dumps({\n"
        "    'members': [m.name for m in SampleState],\n"
        "    'from_proto': SampleState.from_proto(pb.SAMPLE_STATE_PUBLISHED).name,\n"
        "    'nested': SampleEventKind.DELETED.to_proto() == pb.SampleEvent.KIND_DELETED,\n"
        "    'doc': SampleState.__doc__,\n"
        "    'refused': refused,\n"
        "}))\n"
    )

    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout)
    assert seen["members"] == ["UNSPECIFIED", "DRAFT", "PUBLISHED", "ARCHIVED"]
    assert seen["from_proto"] == "PUBLISHED"
    assert seen["nested"] is True
    assert "Where a sample is in its life." in seen["doc"]
    assert "99 is not a valid SampleState" in seen["refused"]


def enum_proto(name: str, *values: str) -> descriptor_pb2.EnumDescriptorProto:
    proto = descriptor_pb2.EnumDescriptorProto(name=name)
    for number, value in enumerate(values):
        proto.value.add(name=value, number=number)
    return proto


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("InvitationStatus", "INVITATION_STATUS"),
        ("Role", "ROLE"),
        ("HTTPMethod", "HTTP_METHOD"),
        ("V2Kind", "V2_KIND"),
        ("already_snake", "ALREADY_SNAKE"),
    ],
)
def test_upper_snake_follows_the_buf_prefix_rule(name: str, expected: str) -> None:
    assert enums.upper_snake(name) == expected


def test_the_prefix_is_dropped_when_every_value_has_it() -> None:
    proto = enum_proto("Color", "COLOR_UNSPECIFIED", "COLOR_DARK_RED")
    assert enums.member_names(proto) == ["UNSPECIFIED", "DARK_RED"]


@pytest.mark.parametrize(
    "values",
    [
        ("COLOR_UNSPECIFIED", "RED"),  # one value lacks the prefix
        ("COLOR_UNSPECIFIED", "COLOR_1ST"),  # a remainder would start with a digit
        ("COLOR_UNSPECIFIED", "COLOR_to_proto"),  # a remainder would shadow a method
    ],
)
def test_otherwise_the_whole_enum_keeps_its_proto_names(values: tuple[str, ...]) -> None:
    assert enums.member_names(enum_proto("Color", *values)) == list(values)


def test_value_names_python_cannot_hold_are_a_clear_error() -> None:
    with pytest.raises(ValueError, match=r"enum Flag: value names \['None'\]"):
        enums.member_names(enum_proto("Flag", "FLAG_UNSPECIFIED", "None"))


def test_nested_enums_are_named_after_their_messages(project: Project) -> None:
    project.write_proto(
        "shop/v1/shop.proto",
        """syntax = "proto3";
package shop.v1;
message Order {
  message Line {
    enum State { STATE_UNSPECIFIED = 0; STATE_OPEN = 1; }
  }
  // How it ships.
  enum Kind { KIND_UNSPECIFIED = 0; KIND_EXPRESS = 1; }
}
""",
    )
    project.generate()

    source = (project.out / "shop/v1/shop_enums.py").read_text()
    assert "class OrderLineState(enum.Enum):" in source
    assert "def to_proto(self) -> _pb2.Order.Line.State.ValueType:" in source
    assert '"""How it ships.\n\n    Proto enum `shop.v1.Order.Kind`.\n    """' in source
    assert "    EXPRESS = 1\n" in source


def test_a_proto_without_enums_gets_no_enum_module(project: Project) -> None:
    project.write_proto(
        "shop/v1/plain.proto", 'syntax = "proto3";\npackage shop.v1;\nmessage A {}\n'
    )
    project.generate()

    assert (project.out / "shop/v1/plain_pb2.py").exists()
    assert not (project.out / "shop/v1/plain_enums.py").exists()
