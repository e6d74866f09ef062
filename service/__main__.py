"""`python -m service [serve]`: run the server; `python -m service migrate [up|down|new|check]`.

With DATABASE_URL set (production), both use that database, and serving never migrates: run
`migrate` as its own step first. Without it (development), they start the local PostgreSQL
(service/db/local.py); `serve` (what `make run` does) migrates it to the latest revision first.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

from service import log
from service.config import Settings, SettingsError
from service.resource import AnyResource
from service.server import Server, StartupError, event_loop_runner

logger = logging.getLogger("service")
SUPERVISE_SECONDS = 0.2  # how often `serve --workers` looks for dead workers
RESPAWN_SECONDS = 1.0  # a worker is replaced no sooner than this after its own start
ORPHAN_CHECK_SECONDS = 0.5  # how often a worker checks that its parent still runs


@contextmanager
def database_url(settings: Settings, *, migrate: bool = True) -> Iterator[str]:
    if settings.database_url is not None:
        yield settings.database_url
        return
    from service.db.local import LocalDatabaseError, development_database

    try:
        with development_database(migrate=migrate) as url:
            logger.info("DATABASE_URL is not set: using the local development database")
            yield url
    except LocalDatabaseError as error:
        raise StartupError(str(error)) from None


# What to serve; None: service/resources.py's list (tests/serve.py adds a test resource).
Resources = Sequence[AnyResource]


async def _serve(
    settings: Settings, url: str, worker: int | None, resources: Resources | None
) -> None:
    metrics_port = settings.metrics_port
    if metrics_port is not None and worker is not None:
        metrics_port += worker  # one metrics endpoint per worker process
    # Built inside the event loop, as grpc.aio requires.
    server = Server(
        settings,
        url,
        reuse_port=worker is not None,
        metrics_port=metrics_port,
        resources=resources,
    )
    if worker is None:
        await server.run()
        return
    orphaned = asyncio.create_task(_stop_when_orphaned(server))
    try:
        await server.run()
    finally:
        orphaned.cancel()


async def _stop_when_orphaned(server: Server) -> None:
    """A worker of `serve --workers` stops gracefully once its parent is gone (killed with -9,
    say), rather than hold the port with no one to stop it."""
    parent = os.getppid()
    while os.getppid() == parent:  # noqa: ASYNC110  (no event says a parent died: poll)
        await asyncio.sleep(ORPHAN_CHECK_SECONDS)
    logger.warning("the parent process is gone: stopping")
    server.stopping.set()


def serve(settings: Settings, worker: int | None = None, resources: Resources | None = None) -> int:
    try:
        with database_url(settings) as url:
            event_loop_runner()(_serve(settings, url, worker, resources))
    except StartupError as error:
        logger.error("cannot start: %s", error)
        return 1
    return 0


def _entry_module() -> str | None:
    """The module this process runs as (`python -m <module>`), None when started otherwise."""
    spec = getattr(sys.modules["__main__"], "__spec__", None)
    return None if spec is None else str(spec.name).removesuffix(".__main__")


def serve_workers(settings: Settings, workers: int, resources: Resources | None = None) -> int:
    """`serve --workers N`: N server processes sharing one port through SO_REUSEPORT, the
    kernel spreading connections between them (one Python process uses one core).

    SO_REUSEPORT would also let them share the port with an unrelated server, silently; so the
    port is first bound here without it, which fails if anything holds it. Each worker runs the
    module this process was started as, so an entry point that serves resources of its own
    (tests/serve.py) has workers that serve them too.
    """
    if settings.port == 0:
        logger.error("cannot start: --workers needs a fixed PORT")
        return 1
    module = _entry_module() or ("service" if resources is None else None)
    if module is None:
        logger.error("cannot start: --workers re-runs its entry module: start it with python -m")
        return 1
    family = socket.AF_INET6 if ":" in settings.host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((settings.host, settings.port))
        except OSError as error:
            logger.error("cannot start: %s is in use (%s)", settings.address, error.strerror)
            return 1
    try:
        with database_url(settings) as url:
            env = {**os.environ, "DATABASE_URL": url}
            if settings.database_url is None:
                env.setdefault("REFLECTION", "true")  # still development
            if settings.page_token_key is None:  # one key for all workers: any may get a page
                env["PAGE_TOKEN_KEY"] = secrets.token_urlsafe(32)

            def spawn(n: int) -> subprocess.Popen[bytes]:
                command = [sys.executable, "-m", module, "serve", "--worker", str(n)]
                return subprocess.Popen(command, env=env)

            children = [spawn(n) for n in range(workers)]
            logger.info("workers started", extra={"fields": {"workers": workers}})
            stopping: list[int] = []

            def forward(signum: int, frame: object) -> None:
                stopping.append(signum)
                for child in children:
                    if child.poll() is None:
                        child.send_signal(signum)

            for signum in (signal.SIGTERM, signal.SIGINT):
                signal.signal(signum, forward)
            _supervise(children, spawn, stopping)
            codes = [child.wait() for child in children]
    except StartupError as error:
        logger.error("cannot start: %s", error)
        return 1
    logger.info("workers stopped", extra={"fields": {"exit_codes": codes}})
    return 0 if all(code == 0 for code in codes) else 1


def _supervise(
    children: list[subprocess.Popen[bytes]],
    spawn: Callable[[int], subprocess.Popen[bytes]],
    stopping: list[int],
) -> None:
    """Until a signal asks the workers to stop: a worker that died (killed, crashed) is
    logged and replaced, so the port keeps its capacity. One that dies again within
    RESPAWN_SECONDS of its start is replaced no sooner than that: a crash loop stays slow."""
    started = [time.monotonic()] * len(children)
    while not stopping:
        time.sleep(SUPERVISE_SECONDS)
        for n, child in enumerate(children):
            code = child.poll()
            if code is None or stopping or time.monotonic() - started[n] < RESPAWN_SECONDS:
                continue
            logger.warning(
                "worker died; starting another",
                extra={"fields": {"worker": n, "pid": child.pid, "exit_code": code}},
            )
            children[n] = spawn(n)
            started[n] = time.monotonic()


def migrate(settings: Settings, action: str, message: str | None) -> int:
    """Alembic, on DATABASE_URL or the local development database."""
    from service.db import migrations

    try:
        with database_url(settings, migrate=False) as url:
            if action == "up":
                migrations.upgrade(url)
            elif action == "down":
                migrations.downgrade(url)
            elif action == "new":
                if settings.database_url is None:
                    migrations.upgrade(url)  # the local database is disposable: bring it to head
                migrations.revision(url, message or "change")
            else:
                migrations.check(url)
    except migrations.EnumMigrationError as error:
        logger.error("migration refused: %s", error)
        return 1
    except migrations.AutogenerateDiffsDetected as error:
        changes = "".join(f"\n  {line}" for line in migrations.pending(error))
        logger.error(
            "the models and the migrations disagree; a new revision (make migration) would:%s",
            changes,
        )
        return 1
    return 0


def main(argv: list[str] | None = None, resources: Resources | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m service", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command")
    serving = commands.add_parser("serve", help="run the server (the default)")
    serving.add_argument("--workers", type=int, default=1, help="server processes on one port")
    serving.add_argument("--worker", type=int, help=argparse.SUPPRESS)  # one of --workers
    migrating = commands.add_parser("migrate", help="apply or write database migrations")
    migrating.add_argument(
        "action",
        nargs="?",
        default="up",
        choices=["up", "down", "new", "check"],
        help="up: to the latest revision (default); down: one revision back; "
        "new: autogenerate a revision; check: fail if models and migrations disagree",
    )
    migrating.add_argument("-m", "--message", help="the new revision's message")
    args = parser.parse_args(argv)
    try:
        settings = Settings()
    except SettingsError as error:
        # Each problem by its variable, without the value: DATABASE_URL may hold a password.
        problems = [f"  {problem}" for problem in error.problems]
        print("invalid settings in the environment:", *problems, sep="\n", file=sys.stderr)
        return 2
    log.configure(settings.log_level, settings.log_format)
    if args.command == "migrate":
        return migrate(settings, args.action, args.message)
    workers = getattr(args, "workers", 1)
    if workers > 1:
        return serve_workers(settings, workers, resources)
    return serve(settings, getattr(args, "worker", None), resources)


if __name__ == "__main__":
    sys.exit(main())
