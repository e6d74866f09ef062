"""The invitations table, as a typed SQLAlchemy model."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import DateTime, Index, String, func, text
from sqlalchemy.orm import Mapped, mapped_column

from generated.invitations.v1.invitations_enums import InvitationStatus, Role
from service.db.base import Base
from service.db.enums import ProtoEnum

# The PostgreSQL enum types, straight from the proto's enums.
ROLE = ProtoEnum(Role, "invitation_role")
STATUS = ProtoEnum(InvitationStatus, "invitation_status")


class Invitation(Base):
    __tablename__ = "invitations"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    role: Mapped[Role] = mapped_column(ROLE)
    status: Mapped[InvitationStatus] = mapped_column(STATUS)
    create_time: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    update_time: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    expire_time: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        # At most one pending invitation per email: a second Create gets ALREADY_EXISTS.
        Index(
            "uq_invitations_pending_email",
            "email",
            unique=True,
            postgresql_where=text("status = 'PENDING'"),
        ),
        # ListInvitations pages in (create_time, id) order, optionally for one status.
        Index("ix_invitations_create_time_id", "create_time", "id"),
        Index("ix_invitations_status_create_time_id", "status", "create_time", "id"),
    )
