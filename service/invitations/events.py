"""Changes to invitations as a stream, from every replica: PostgreSQL LISTEN/NOTIFY.

Every write publishes its row on the `invitations` channel in the statement that makes it
(storage.py), so a notification is delivered if and only if the write commits, to every server
process on the database. Each process keeps one connection open for them, LISTENs on it only
while a WatchInvitations stream is open, and fans the events out to its streams. Nobody
watching, a write wakes no process: a notification to a listening connection cost a Create
about 5% more server CPU (measured), whether or not a stream was there to hear it.

A stream that cannot keep up (its queue fills), or that may have missed events (the listening
connection was lost), is ended with Unavailable: the client resubscribes and re-reads, rather
than trusting a stream with a silent gap.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import TYPE_CHECKING, TypeAlias

import asyncpg

from service.errors import Unavailable
from service.invitations import storage
from service.invitations.domain import CHANNEL, Event

logger = logging.getLogger(__name__)
QUEUE_SIZE = 1000
RECONNECT_SECONDS = 1.0
SWITCH_SECONDS = 5.0  # the longest a LISTEN or UNLISTEN may take before a watch is refused


class _Closed:
    """Put in a subscriber's queue to end its stream, with the reason."""

    def __init__(self, error: Exception | None) -> None:
        self.error = error


if TYPE_CHECKING:
    from asyncpg.pool import PoolConnectionProxy

    Listening: TypeAlias = asyncpg.Connection[asyncpg.Record] | PoolConnectionProxy[asyncpg.Record]


def _set(event: asyncio.Event, connection: Listening) -> None:
    event.set()


class EventHub:
    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self._subscribers: set[asyncio.Queue[Event | _Closed]] = set()
        self._connection: asyncpg.Connection | None = None
        self._task: asyncio.Task[None] | None = None
        self._connected = asyncio.Event()
        self._closing = False
        # LISTEN and UNLISTEN, one at a time; _listening says which ran last on _connection.
        self._switching = asyncio.Lock()
        self._listening = False
        self._unlisten: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Connect (retrying in the background if the database is not up yet); the first watch
        LISTENs."""
        self._task = asyncio.create_task(self._keep_listening(), name="invitation-events")
        with suppress(TimeoutError):
            await asyncio.wait_for(self._connected.wait(), timeout=5)

    async def _keep_listening(self) -> None:
        while not self._closing:
            lost = asyncio.Event()
            try:
                # Named, so pg_stat_activity tells which process each listener belongs to.
                name = f"{CHANNEL} events, pid {os.getpid()}"
                connection = await asyncpg.connect(
                    self.dsn, server_settings={"application_name": name}
                )
                connection.add_termination_listener(functools.partial(_set, lost))
            except (OSError, asyncpg.PostgresError) as error:
                logger.warning("cannot connect for invitation events yet: %s", error)
                await asyncio.sleep(RECONNECT_SECONDS)
                continue
            self._connection = connection
            self._listening = False
            self._connected.set()
            await lost.wait()
            self._connected.clear()
            self._connection = None
            if not self._closing:
                logger.warning("lost the invitation events connection; reconnecting")
                self._end_all(Unavailable("the event stream was interrupted; resubscribe"))

    def _on_notify(self, connection: Listening, pid: int, channel: str, payload: object) -> None:
        if not self._subscribers:  # nobody watches: not worth parsing (30 us a write, measured)
            return
        try:
            event = storage.parse_event(str(payload))
        except (ValueError, KeyError):
            logger.exception("ignoring a malformed %s notification", channel)
            return
        for queue in list(self._subscribers):
            try:
                queue.put_nowait(event)
            except asyncio.QueueFull:
                self._subscribers.discard(queue)
                self._end(queue, Unavailable("this stream fell behind; resubscribe"))

    @staticmethod
    def _end(queue: asyncio.Queue[Event | _Closed], error: Exception | None) -> None:
        with suppress(asyncio.QueueEmpty):  # make room: the end matters more than the backlog
            while queue.full():
                queue.get_nowait()
        queue.put_nowait(_Closed(error))

    def _end_all(self, error: Exception | None) -> None:
        subscribers, self._subscribers = self._subscribers, set()
        for queue in subscribers:
            self._end(queue, error)

    @asynccontextmanager
    async def subscribe(self) -> AsyncIterator[AsyncIterator[Event]]:
        """Events from now on, until the hub closes (the stream ends) or fails (it raises)."""
        queue: asyncio.Queue[Event | _Closed] = asyncio.Queue(QUEUE_SIZE)
        async with self._switching:
            connection = self._connection
            if connection is None or not self._connected.is_set():
                raise Unavailable("invitation events are not available right now; retry")
            if not self._listening:
                try:
                    async with asyncio.timeout(SWITCH_SECONDS):
                        await connection.add_listener(CHANNEL, self._on_notify)
                except (TimeoutError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
                    raise Unavailable(
                        "invitation events are not available right now; retry"
                    ) from None
                self._listening = True
            # Once LISTEN has run, every write that commits is heard, and so is on this queue.
            self._subscribers.add(queue)

        async def events() -> AsyncIterator[Event]:
            while True:
                item = await queue.get()
                if isinstance(item, _Closed):
                    if item.error is not None:
                        raise item.error
                    return
                yield item

        try:
            yield events()
        finally:
            self._subscribers.discard(queue)
            if not self._subscribers and self._unlisten is None:
                # In a task of its own: this may run in a stream being cancelled.
                self._unlisten = asyncio.create_task(self._stop_listening())

    async def _stop_listening(self) -> None:
        """UNLISTEN, unless a stream has subscribed since the last one left."""
        try:
            async with self._switching:
                connection = self._connection
                if self._subscribers or not self._listening or connection is None:
                    return
                self._listening = False
                # A lost connection listens no more anyway, and is being replaced.
                with suppress(TimeoutError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
                    async with asyncio.timeout(SWITCH_SECONDS):
                        await connection.remove_listener(CHANNEL, self._on_notify)
        finally:
            self._unlisten = None

    async def close(self) -> None:
        """End every stream cleanly and stop listening."""
        self._closing = True
        self._end_all(None)
        if self._unlisten is not None:
            self._unlisten.cancel()
        if self._connection is not None:
            with suppress(Exception):
                await self._connection.close(timeout=2)
        if self._task is not None:
            self._task.cancel()
            with suppress(asyncio.CancelledError):
                await self._task
