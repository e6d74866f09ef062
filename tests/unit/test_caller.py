"""The RPC's caller (service/auth.py): set and undone around each RPC, even when a stream ends
elsewhere."""

from __future__ import annotations

import contextvars

from service import auth


async def test_ending_an_rpc_from_another_context_leaves_that_context_alone() -> None:
    """A server stream whose client vanished mid-write can be finalized outside the RPC's own
    context; undoing the RPC there must neither raise nor touch that context's values."""
    caller = auth.set_caller(auth.Caller("rpc", frozenset()))
    elsewhere = contextvars.Context()

    elsewhere.run(auth.reset_caller, caller)

    assert elsewhere.run(auth.current_caller) is None
    assert auth.current_caller() is not None  # the RPC's own context is still its own
    auth.reset_caller(caller)
    assert auth.current_caller() is None
