"""The ${p} table, as a typed SQLAlchemy model.

Alembic compares the migrations against it: `make migration` writes what changed.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import DateTime, Index, String, func
from sqlalchemy.orm import Mapped, mapped_column

from generated.${p}.v1.${p}_enums import ${S}State
from service.db.base import Base
from service.db.enums import ProtoEnum
from service.${p}.domain import MAX_DISPLAY_NAME_LENGTH

# A native PostgreSQL enum type, straight from the proto's enum.
STATE = ProtoEnum(${S}State, "${s}_state")


class ${S}(Base):
    __tablename__ = "${p}"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    display_name: Mapped[str] = mapped_column(String(MAX_DISPLAY_NAME_LENGTH))
    state: Mapped[${S}State] = mapped_column(STATE)
    create_time: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    update_time: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )

    __table_args__ = (
        # List${P} pages in (create_time, id) order.
        Index("ix_${p}_create_time_id", "create_time", "id"),
    )
