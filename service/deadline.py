"""The current RPC's deadline, visible to the code below the servicer without passing it around.

The request interceptor sets it from the client's deadline (or the server's default timeout);
Database.transaction() stops the database work when it passes.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Iterator
from contextlib import contextmanager

_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar("deadline", default=None)


def current() -> float | None:
    """The deadline on the event loop's clock, or None for no limit."""
    return _deadline.get()


@contextmanager
def within(seconds: float | None) -> Iterator[None]:
    """Run the block with a deadline `seconds` from now (None: no limit)."""
    when = None if seconds is None else asyncio.get_running_loop().time() + seconds
    token = _deadline.set(when)
    try:
        yield
    finally:
        _deadline.reset(token)
