"""Build, start and gracefully stop the grpc.aio server: the whole life of a process.

build   every resource of service/resources.py, registered through the request interceptor,
        listed in health and reflection; with auth on, a method without a scope is a
        start-up error;
start   bind the port (a port in use is a start-up error), serve health as NOT_SERVING,
        wait for the database, start the resources' background work, then SERVING;
run     until SIGTERM or SIGINT, while a monitor keeps health in step with the database;
stop    health NOT_SERVING, resources stop (watch streams end cleanly), no new RPCs,
        in-flight RPCs get the grace period to finish, connections close; the process exits 0.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable, Coroutine, Sequence
from contextlib import suppress
from typing import TYPE_CHECKING, TypeVar, cast

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection, reflection_pb2_grpc

from service import conventions, tracing
from service.auth import Authenticator
from service.config import Settings
from service.db.database import Database
from service.interceptors import RefuseMalformed, RequestInterceptor, intercepted
from service.log import AccessLog
from service.resource import AnyResource, Background, all_scopes

if TYPE_CHECKING:
    from service.metrics import Metrics

logger = logging.getLogger("service.server")
T = TypeVar("T")

HEALTH_CHECK_SECONDS = 1.0
RECHECK_SECONDS = 0.2


def event_loop_runner() -> Callable[[Coroutine[object, object, T]], T]:
    """uvloop's event loop where it is installed (about 10% more RPCs per core), else asyncio's."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run
    return uvloop.run


class StartupError(Exception):
    """The server cannot start (the port is taken, ...); the message says why."""


class BoundedHealth(health.aio.HealthServicer):
    """grpcio-health-checking's servicer, with a cap on open Watch streams: each holds a task
    and memory, and a health check must never be a way to exhaust the process. Its List
    answers UNIMPLEMENTED by itself."""

    def __init__(self, max_watches: int) -> None:
        super().__init__()
        self.max_watches = max_watches
        self.watching = 0

    async def Watch(  # noqa: N802  (the gRPC method's name)
        self,
        request: health_pb2.HealthCheckRequest,
        context: grpc.aio.ServicerContext[
            health_pb2.HealthCheckRequest, health_pb2.HealthCheckResponse
        ],
    ) -> None:
        if self.watching >= self.max_watches:
            await context.abort(
                grpc.StatusCode.RESOURCE_EXHAUSTED,
                f"{self.max_watches} health watches are open already: use Check",
            )
        self.watching += 1
        try:
            await super().Watch(request, context)
        finally:
            self.watching -= 1

    async def List(  # noqa: N802  (the gRPC method's name)
        self, request: object, context: grpc.aio.ServicerContext[object, object]
    ) -> None:
        """grpc.health.v1's List is registered, but the library does not implement it: its
        generated stand-in raised NotImplementedError, which grpc logged as a traceback for
        every call, and health calls need no token."""
        await context.abort(grpc.StatusCode.UNIMPLEMENTED, "health List is not served: use Check")


def _check_tls(key: bytes, cert: bytes, client_ca: bytes | None) -> None:
    """Name what is wrong with the TLS files: grpc only says it failed to bind the port."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    try:
        certificate = x509.load_pem_x509_certificate(cert)
    except ValueError:
        raise StartupError("TLS_CERT_FILE holds no certificate (PEM)") from None
    try:
        private_key = serialization.load_pem_private_key(key, password=None)
    except (ValueError, TypeError):
        raise StartupError("TLS_KEY_FILE holds no unencrypted private key (PEM)") from None
    spki = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    if private_key.public_key().public_bytes(*spki) != certificate.public_key().public_bytes(*spki):
        raise StartupError("TLS_KEY_FILE is not the key of TLS_CERT_FILE")
    if client_ca is not None:
        try:
            x509.load_pem_x509_certificates(client_ca)
        except ValueError:
            raise StartupError("TLS_CLIENT_CA_FILE holds no certificate (PEM)") from None


class Server:
    def __init__(
        self,
        settings: Settings,
        database_url: str,
        *,
        reuse_port: bool = False,
        metrics_port: int | None = None,
        resources: Sequence[AnyResource] | None = None,
    ) -> None:
        """`reuse_port` is for `serve --workers N` only: the parent checked the port is free.
        `resources`: what to serve; service/resources.py's list unless given."""
        if resources is None:
            from service.resources import RESOURCES

            resources = RESOURCES
        self.service_names = tuple(resource.name for resource in resources)
        if len(set(self.service_names)) < len(self.service_names):
            raise StartupError(f"a service is listed twice: {', '.join(self.service_names)}")
        self.settings = settings
        if settings.page_token_keys:
            conventions.use_page_token_keys(settings.page_token_keys)
        elif settings.database_url is not None:
            logger.warning(
                "PAGE_TOKEN_KEY is not set: page tokens are signed with a random key of this "
                "process, so other replicas, and this one after a restart, refuse them"
            )
        self.database = Database(
            database_url,
            pool_size=settings.database_pool_size,
            session_check=settings.session_check_enabled,
        )
        self.health = BoundedHealth(settings.max_health_watches)
        self.stopping = asyncio.Event()
        self.port = 0
        self._monitor: asyncio.Task[None] | None = None
        self.access_log = AccessLog.from_logging()
        self.metrics: Metrics | None = None
        if metrics_port is not None:
            # prometheus_client only when metrics are on: 25 ms of every start.
            from service.metrics import Metrics

            self.metrics = Metrics()
        self.metrics_port = metrics_port
        try:
            scopes = all_scopes(resources)
        except ValueError as error:  # a scope declared for a method the service lacks
            raise StartupError(str(error)) from None
        authenticator = None
        if settings.auth_jwt_public_key_file is not None:
            unscoped = sorted(method for method, scope in scopes.items() if scope is None)
            if unscoped:
                raise StartupError(
                    f"auth is on and {', '.join(unscoped)} declare(s) no scope: give each one in "
                    "its Resource's scopes (service/resource.py says how)"
                )
            authenticator = Authenticator(
                settings.auth_jwt_public_key_file,
                algorithms=settings.auth_jwt_algorithms,
                required_scopes={method: str(scope) for method, scope in scopes.items()},
                audience=settings.auth_jwt_audience,
                issuer=settings.auth_jwt_issuer,
            )
        self.interceptor = RequestInterceptor(
            settings.default_rpc_timeout_seconds,
            self.access_log,
            metrics=self.metrics,
            authenticator=authenticator,
            max_in_flight=settings.max_concurrent_rpcs,
            max_streams=settings.max_concurrent_streams,
            max_streams_per_caller=settings.max_streams_per_caller,
            max_request_bytes=settings.max_request_bytes,
        )
        self.grpc = grpc.aio.server(
            interceptors=tracing.server_interceptors(),
            # No limit of grpc's own: it would count health checks too, so that clients filling
            # it (open streams, calls never read) would fail the probes. The interceptor limits
            # the API's RPCs, BoundedHealth the health Watch streams.
            maximum_concurrent_rpcs=None,
            options=[
                # grpc sets SO_REUSEPORT by default: a second server on a taken port would start
                # silently and share the traffic. Off, binding a taken port fails loudly.
                ("grpc.so_reuseport", 1 if reuse_port else 0),
                ("grpc.max_receive_message_length", settings.max_receive_message_bytes),
                ("grpc.max_send_message_length", settings.max_send_message_bytes),
                ("grpc.keepalive_time_ms", int(settings.keepalive_time_seconds * 1000)),
                ("grpc.keepalive_timeout_ms", int(settings.keepalive_timeout_seconds * 1000)),
                ("grpc.http2.min_ping_interval_without_data_ms", 10_000),
                ("grpc.keepalive_permit_without_calls", 1),
                ("grpc.max_concurrent_streams", settings.max_calls_per_connection),
                ("grpc.max_connection_age_ms", int(settings.max_connection_age_seconds * 1000)),
                (
                    "grpc.max_connection_age_grace_ms",
                    int(settings.max_connection_age_grace_seconds * 1000),
                ),
            ],
        )
        # Every resource's methods go through the interceptor: registered here, never by hand.
        registrar = cast("grpc.aio.Server", intercepted(self.grpc, self.interceptor))
        self.background: list[Background] = []
        for resource in resources:
            servicer = resource.servicer(self.database)
            resource.add_to_server(servicer, registrar)
            if isinstance(servicer, Background):
                self.background.append(servicer)
        # Health and reflection pass by the interceptor, but refuse bad bytes as ours do.
        plain = cast("grpc.aio.Server", intercepted(self.grpc, RefuseMalformed()))
        health_pb2_grpc.add_HealthServicer_to_server(self.health, plain)
        if settings.reflection_enabled:
            names = (*self.service_names, health.SERVICE_NAME, reflection.SERVICE_NAME)
            # What reflection.enable_server_reflection does for an aio server (it tells one
            # apart by its class, so it cannot be handed the stand-in). The stubs leave the
            # generated function untyped.
            add_reflection = reflection_pb2_grpc.add_ServerReflectionServicer_to_server
            add_reflection(reflection.aio.ReflectionServicer(names), plain)  # type: ignore[no-untyped-call]  # untyped in the stubs

    async def _set_health(self, serving: bool) -> None:
        status = (
            health_pb2.HealthCheckResponse.SERVING
            if serving
            else health_pb2.HealthCheckResponse.NOT_SERVING
        )
        for name in ("", *self.service_names):
            await self.health.set(name, status)

    def _bind(self) -> int:
        settings = self.settings
        if settings.tls_cert_file is None or settings.tls_key_file is None:
            return self.grpc.add_insecure_port(settings.address)
        client_ca = settings.tls_client_ca_file
        key, cert = settings.tls_key_file.read_bytes(), settings.tls_cert_file.read_bytes()
        _check_tls(key, cert, client_ca.read_bytes() if client_ca else None)
        credentials = grpc.ssl_server_credentials(
            [(key, cert)],
            root_certificates=client_ca.read_bytes() if client_ca else None,
            require_client_auth=client_ca is not None,
        )
        return self.grpc.add_secure_port(settings.address, credentials)

    async def start(self) -> None:
        try:
            self.port = self._bind()
        except RuntimeError as error:
            raise StartupError(
                f"cannot listen on {self.settings.address}: the port is in use or the address "
                f"is not this machine's ({error})"
            ) from None
        await self._set_health(False)
        if self.metrics is not None and self.metrics_port is not None:
            self.metrics.track(
                in_flight=lambda: self.interceptor.in_flight,
                idle=lambda: self.database.connections()[0],
                in_use=lambda: self.database.connections()[1],
            )
            try:
                await self.metrics.serve(self.metrics_port, self.settings.host)
            except OSError as error:
                raise StartupError(
                    f"cannot serve metrics on port {self.metrics_port}: {error.strerror}"
                ) from None
        await self.grpc.start()
        tls = "mutual TLS" if self.settings.tls_client_ca_file else "TLS"
        fields: dict[str, object] = {
            "address": self.settings.host,
            "port": self.port,
            "transport": tls if self.settings.tls_cert_file else "plaintext",
        }
        if self.metrics_port is not None:
            fields["metrics_port"] = self.metrics_port
        logger.info("listening", extra={"fields": fields})
        while not await self.database.ping():
            if self.stopping.is_set():
                return
            logger.warning("waiting for the database")
            await asyncio.sleep(0.5)
        for work in self.background:
            await work.start()
        await self._set_health(True)
        self._monitor = asyncio.create_task(self._watch_database(), name="health-monitor")
        logger.info("serving", extra={"fields": {"port": self.port}})

    async def _watch_database(self) -> None:
        """Keep health in step with the database: NOT_SERVING while it does not answer, and
        SERVING again soon after it does (it is asked more often while it is down)."""
        serving = True
        while True:
            await asyncio.sleep(HEALTH_CHECK_SECONDS if serving else RECHECK_SECONDS)
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
        for work in self.background:  # ends watch streams, so they do not use the grace
            await work.stop()
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
        if self.metrics is not None:  # served through the grace period, closed now
            await self.metrics.close()
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
