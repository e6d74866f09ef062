"""Between the API's messages and the domain: parse and validate requests, build responses.

The one place that knows both sides. Parsing collects every bad field before it raises
InvalidArgument, so a client learns all its mistakes at once, each under the request's own
field path (`${s}.display_name`, `update_mask.paths[1]`).
"""

from __future__ import annotations

import uuid

from generated.${p}.v1 import ${p}_pb2 as pb
from generated.${p}.v1.${p}_enums import ${S}State
from service import conventions
from service.conventions import Cursor
from service.errors import Violations
from service.${p}.domain import (
    COLLECTION,
    MAX_DISPLAY_NAME_LENGTH,
    MUTABLE_FIELDS,
    New${S},
    Page,
    ${S},
    ${S}Changes,
)

OUTPUT_ONLY_FIELDS = ("name", "create_time", "update_time")


# Responses -------------------------------------------------------------------------------------


def ${s}_to_proto(${s}: ${S}) -> pb.${S}:
    message = pb.${S}(
        name=${s}.name,
        display_name=${s}.display_name,
        state=${s}.state.to_proto(),
    )
    conventions.set_timestamp(message.create_time, ${s}.create_time)
    conventions.set_timestamp(message.update_time, ${s}.update_time)
    return message


def page_to_proto(page: Page) -> pb.List${P}Response:
    return pb.List${P}Response(
        ${p}=[${s}_to_proto(${s}) for ${s} in page.${p}],
        next_page_token=conventions.encode_page_token(page.next) if page.next else "",
    )


# Fields ----------------------------------------------------------------------------------------


def _parse_state(value: int, field: str, violations: Violations) -> ${S}State:
    try:
        return ${S}State(value)
    except ValueError:
        violations.add(field, f"unknown value {value}")
        return ${S}State.UNSPECIFIED


# Requests --------------------------------------------------------------------------------------


def parse_name(name: str, field: str = "name") -> uuid.UUID:
    violations = Violations()
    id = conventions.parse_name(name, COLLECTION, field, violations)
    violations.raise_if_any()
    return id


def parse_create(request: pb.Create${S}Request) -> New${S}:
    violations = Violations()
    if not request.HasField("${s}"):
        violations.add("${s}", "is required")
        violations.raise_if_any()
    message = request.${s}
    display_name = conventions.parse_text(
        message.display_name,
        "${s}.display_name",
        violations,
        max_length=MAX_DISPLAY_NAME_LENGTH,
    )
    state = _parse_state(message.state, "${s}.state", violations)
    violations.raise_if_any()
    if state is ${S}State.UNSPECIFIED:
        state = ${S}State.ACTIVE
    return New${S}(display_name=display_name, state=state)


def parse_list(request: pb.List${P}Request) -> tuple[Cursor | None, int]:
    """(cursor, page size) of a List${P} request."""
    violations = Violations()
    page_size = conventions.parse_page_size(request.page_size, violations)
    cursor = conventions.decode_page_token(request.page_token, violations)
    violations.raise_if_any()
    return cursor, page_size


def parse_update(request: pb.Update${S}Request) -> tuple[uuid.UUID, ${S}Changes]:
    """AIP-134: only the fields named in update_mask change; without a mask, the set ones."""
    violations = Violations()
    message = request.${s}
    id = conventions.parse_name(message.name, COLLECTION, "${s}.name", violations)
    populated = [
        field
        for field, present in (
            ("display_name", bool(message.display_name)),
            ("state", message.state != 0),
        )
        if present
    ]
    paths = conventions.update_paths(
        request.update_mask if request.HasField("update_mask") else None,
        mutable=MUTABLE_FIELDS,
        output_only=OUTPUT_ONLY_FIELDS,
        populated=populated,
        violations=violations,
    )
    display_name = None
    state = None
    if "display_name" in paths:
        display_name = conventions.parse_text(
            message.display_name,
            "${s}.display_name",
            violations,
            max_length=MAX_DISPLAY_NAME_LENGTH,
        )
    if "state" in paths:
        state = _parse_state(message.state, "${s}.state", violations)
        if state is ${S}State.UNSPECIFIED:
            names = ", ".join(state.proto_name for state in ${S}State if state.value)
            violations.add("${s}.state", f"cannot be unset: one of {names}")
    violations.raise_if_any()
    return id, ${S}Changes(display_name=display_name, state=state)
