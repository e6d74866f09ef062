"""The rules of invitations (service/invitations/logic.py), called directly on a real
PostgreSQL, without a server: the errors each rule raises and the states it allows."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from generated.invitations.v1.invitations_enums import InvitationStatus, Role
from service.conventions import Cursor
from service.db.database import Database
from service.errors import FailedPrecondition, NotFound
from service.invitations.domain import InvitationChanges, NewInvitation
from service.invitations.logic import Invitations


@pytest.fixture
async def invitations(database_url: str) -> AsyncIterator[Invitations]:
    database = Database(database_url, pool_size=4)
    yield Invitations(database)
    await database.close()


def new(expire_time: datetime | None = None) -> NewInvitation:
    return NewInvitation(f"logic-{uuid.uuid4().hex[:12]}@example.com", Role.VIEWER, expire_time)


async def test_what_is_created_is_got_back(invitations: Invitations) -> None:
    created = await invitations.create(new())

    assert await invitations.get(created.id) == created
    assert created.status is InvitationStatus.PENDING


async def test_an_unknown_id_is_not_found_by_every_rule(invitations: Invitations) -> None:
    unknown = uuid.uuid4()
    for rule in (
        invitations.get(unknown),
        invitations.delete(unknown),
        invitations.accept(unknown),
        invitations.decline(unknown),
        invitations.update(unknown, InvitationChanges(role=Role.ADMIN)),
    ):
        with pytest.raises(NotFound, match=f"invitations/{unknown} does not exist"):
            await rule


async def test_only_a_pending_invitation_can_be_answered_or_revoked(
    invitations: Invitations,
) -> None:
    accepted = await invitations.accept((await invitations.create(new())).id)
    assert accepted.status is InvitationStatus.ACCEPTED

    with pytest.raises(FailedPrecondition, match="is ACCEPTED; only a PENDING invitation can be"):
        await invitations.decline(accepted.id)
    with pytest.raises(FailedPrecondition, match="only a PENDING invitation can be revoked"):
        await invitations.update(accepted.id, InvitationChanges(status=InvitationStatus.REVOKED))
    # A change of another field is not an answer: it is allowed in any state.
    assert (await invitations.update(accepted.id, InvitationChanges(role=Role.ADMIN))).role is (
        Role.ADMIN
    )


async def test_an_expired_invitation_cannot_be_answered(invitations: Invitations) -> None:
    expired = await invitations.create(new(datetime.now(UTC) - timedelta(seconds=1)))

    with pytest.raises(FailedPrecondition, match="expired at"):
        await invitations.accept(expired.id)


async def test_of_two_concurrent_answers_exactly_one_wins(invitations: Invitations) -> None:
    created = await invitations.create(new())

    outcomes = await asyncio.gather(
        invitations.accept(created.id), invitations.decline(created.id), return_exceptions=True
    )

    assert sorted(type(outcome).__name__ for outcome in outcomes) == [
        "FailedPrecondition",
        "Invitation",
    ]


async def test_a_page_says_where_the_next_starts_only_when_there_is_one(
    invitations: Invitations,
) -> None:
    older, newest = await invitations.create(new()), await invitations.create(new())
    just_before = Cursor(older.create_time - timedelta(microseconds=1), uuid.UUID(int=0))

    first = await invitations.list(status=None, after=just_before, page_size=1)
    assert [i.id for i in first.invitations] == [older.id]
    assert first.next == Cursor(older.create_time, older.id)

    last = await invitations.list(status=None, after=first.next, page_size=1)
    assert [i.id for i in last.invitations] == [newest.id]
    assert last.next is None  # the newest row: no page after it
