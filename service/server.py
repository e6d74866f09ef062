"""Build, start and gracefully stop the grpc.aio server: the whole life of a process.

start   bind the port (a port in use is a start-up error), serve health as NOT_SERVING,
        wait for the database, start listening for invitation events, then SERVING;
run     until SIGTERM or SIGINT, while a monitor keeps health in step with the database;
stop    health NOT_SERVING, watch streams end cleanly, no new RPCs, in-flight RPCs get
        the grace period to finish, connections close; the process exits 0.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable, Coroutine
from contextlib import suppress
from typing import Any, TypeVar

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from generated.invitations.v1 import invitations_pb2, invitations_pb2_grpc
from service.config import Settings
from service.db.database import Database
from service.interceptors import RequestInterceptor, intercepted
from service.invitations.events import EventHub
from service.invitations.logic import Invitations
from service.invitations.servicer import InvitationServicer
from service.log import AccessLog

logger = logging.getLogger("service.server")
T = TypeVar("T")

SERVICE_NAMES = (invitations_pb2.DESCRIPTOR.services_by_name["InvitationService"].full_name,)
HEALTH_CHECK_SECONDS = 2.0


def event_loop_runner() -> Callable[[Coroutine[Any, Any, T]], T]:
    """uvloop's event loop where it is installed (about 10% more RPCs per core), else asyncio's."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run
    return uvloop.run


class StartupError(Exception):
    """The server cannot start (the port is taken, ...); the message says why."""


class Server:
    def __init__(self, settings: Settings, database_url: str) -> None:
        self.settings = settings
        self.database = Database(database_url, pool_size=settings.database_pool_size)
        self.events = EventHub(self.database.dsn)
        self.health = health.aio.HealthServicer()
        self.stopping = asyncio.Event()
        self.port = 0
        self._monitor: asyncio.Task[None] | None = None
        self.access_log = AccessLog.from_logging()
        self.interceptor = RequestInterceptor(settings.default_rpc_timeout_seconds, self.access_log)
        self.grpc = grpc.aio.server(
            options=[
                # grpc sets SO_REUSEPORT by default: a second server on a taken port would start
                # silently and share the traffic. Off, binding a taken port fails loudly.
                ("grpc.so_reuseport", 0),
                ("grpc.max_receive_message_length", settings.max_receive_message_bytes),
                ("grpc.max_send_message_length", settings.max_send_message_bytes),
            ],
        )
        invitations_pb2_grpc.add_InvitationServiceServicer_to_server(
            InvitationServicer(Invitations(self.database), self.events),
            intercepted(self.grpc, self.interceptor),  # type: ignore[arg-type]  # a stand-in
        )
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.grpc)
        if settings.reflection:
            names = (*SERVICE_NAMES, health.SERVICE_NAME, reflection.SERVICE_NAME)
            reflection.enable_server_reflection(names, self.grpc)

    async def _set_health(self, serving: bool) -> None:
        status = (
            health_pb2.HealthCheckResponse.SERVING
            if serving
            else health_pb2.HealthCheckResponse.NOT_SERVING
        )
        for name in ("", *SERVICE_NAMES):
            await self.health.set(name, status)

    async def start(self) -> None:
        try:
            self.port = self.grpc.add_insecure_port(self.settings.address)
        except RuntimeError as error:
            raise StartupError(
                f"cannot listen on {self.settings.address}: the port is in use or the address "
                f"is not this machine's ({error})"
            ) from None
        await self._set_health(False)
        await self.grpc.start()
        logger.info(
            "listening", extra={"fields": {"address": self.settings.host, "port": self.port}}
        )
        while not await self.database.ping():
            if self.stopping.is_set():
                return
            logger.warning("waiting for the database")
            await asyncio.sleep(0.5)
        await self.events.start()
        await self._set_health(True)
        self._monitor = asyncio.create_task(self._watch_database(), name="health-monitor")
        logger.info("serving", extra={"fields": {"port": self.port}})

    async def _watch_database(self) -> None:
        """Keep health in step with the database: NOT_SERVING while it does not answer."""
        serving = True
        while True:
            await asyncio.sleep(HEALTH_CHECK_SECONDS)
            now = await self.database.ping()
            if now != serving:
                serving = now
                logger.warning("database %s", "is back" if now else "does not answer")
                await self._set_health(now)

    async def stop(self) -> None:
        grace = self.settings.grace_period_seconds
        logger.info("shutting down", extra={"fields": {"grace_seconds": grace}})
        if self._monitor is not None:
            self._monitor.cancel()
            with suppress(asyncio.CancelledError):
                await self._monitor
        await self.health.enter_graceful_shutdown()
        await self.events.close()  # ends WatchInvitations streams, so they do not use the grace
        # No new RPCs from here; the ones under way get the grace period...
        stopping = asyncio.create_task(self.grpc.stop(grace))
        # ...but once ours are done, nothing is worth waiting for: health Watch and reflection
        # streams never end by themselves, and would hold the process for the whole grace.
        waited_until = asyncio.get_running_loop().time() + grace
        # Polling, for the grace period only: an Event would cost every RPC a set and a clear.
        while self.interceptor.in_flight and asyncio.get_running_loop().time() < waited_until:  # noqa: ASYNC110
            await asyncio.sleep(0.01)
        await self.grpc.stop(None)
        await stopping
        self.access_log.flush()
        await self.database.close()
        logger.info("stopped")

    async def run(self) -> None:
        """Start, serve until SIGTERM or SIGINT, stop gracefully."""
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, self.stopping.set)
        try:
            await self.start()
            await self.stopping.wait()
        finally:
            await self.stop()
