"""The current RPC's deadline, visible to the code below the servicer without passing it around.

The request interceptor sets it from the client's deadline (or the server's default timeout);
Database.connection() (and so transaction()) stops the database work when it passes.
"""

from __future__ import annotations

import asyncio
import contextvars

_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar("deadline", default=None)


def current() -> float | None:
    """The deadline on the event loop's clock, or None for no limit."""
    return _deadline.get()


def start(seconds: float | None) -> contextvars.Token[float | None]:
    """From now on, the deadline is `seconds` away (None: no limit); pass the token to end().

    A pair of calls rather than a context manager: this runs on every RPC, and a generator-based
    context manager costs several microseconds more.
    """
    when = None if seconds is None else asyncio.get_running_loop().time() + seconds
    return _deadline.set(when)


def end(token: contextvars.Token[float | None]) -> None:
    # A server stream finalized outside its RPC's context (its client went away while a write
    # waited) raises ValueError here: that context holds nothing of this RPC to undo.
    # Not contextlib.suppress: that is an object and two calls more, on every RPC.
    try:  # noqa: SIM105
        _deadline.reset(token)
    except ValueError:
        pass
