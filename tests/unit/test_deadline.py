"""The RPC's deadline: set and undone around each RPC, even when a stream ends elsewhere."""

from __future__ import annotations

import asyncio
import contextvars

from service import auth, deadline


async def test_a_deadline_is_undone_when_the_rpc_ends() -> None:
    token = deadline.start(5.0)
    limit = deadline.current()
    assert limit is not None
    assert limit - asyncio.get_running_loop().time() > 4.9

    deadline.end(token)

    assert deadline.current() is None


async def test_ending_an_rpc_from_another_context_leaves_that_context_alone() -> None:
    """A server stream whose client vanished mid-write can be finalized outside the RPC's own
    context; undoing the RPC there must neither raise nor touch that context's values."""
    limit = deadline.start(5.0)
    caller = auth.set_caller(auth.Caller("rpc", frozenset()))
    elsewhere = contextvars.Context()

    elsewhere.run(deadline.end, limit)
    elsewhere.run(auth.reset_caller, caller)

    assert elsewhere.run(deadline.current) is None
    assert elsewhere.run(auth.current_caller) is None
    assert deadline.current() is not None  # the RPC's own context is still its own
    deadline.end(limit)
    auth.reset_caller(caller)
    assert deadline.current() is None
    assert auth.current_caller() is None
