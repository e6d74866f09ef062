"""${S} as the code below the servicer sees it: typed values, no gRPC, no SQL."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from generated.${p}.v1.${p}_enums import ${S}State
from service.conventions import Cursor

COLLECTION = "${collection}"


@dataclass(frozen=True, slots=True)
class ${S}:
    id: uuid.UUID
    display_name: str
    state: ${S}State
    create_time: datetime
    update_time: datetime

    @property
    def name(self) -> str:
        return f"{COLLECTION}/{self.id}"


@dataclass(frozen=True, slots=True)
class New${S}:
    display_name: str
    state: ${S}State


@dataclass(frozen=True, slots=True)
class ${S}Changes:
    """The fields an Update${S} sets; None for those outside its update_mask."""

    display_name: str | None = None
    state: ${S}State | None = None


@dataclass(frozen=True, slots=True)
class Page:
    ${p}: list[${S}]
    next: Cursor | None
