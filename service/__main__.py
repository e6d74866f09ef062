"""`python -m service [serve]`: run the server.

With DATABASE_URL set (production), it serves that database. Without it (development), it
starts the local PostgreSQL (service/db/local.py), creates the tables if they are missing, and
serves that; `make run` does exactly this.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from pydantic import ValidationError

from service import log
from service.config import Settings
from service.server import Server, StartupError, event_loop_runner

logger = logging.getLogger("service")


@contextmanager
def database_url(settings: Settings) -> Iterator[str]:
    if settings.database_url is not None:
        yield settings.async_database_url
        return
    from service.db.local import LocalDatabaseError, development_database

    try:
        with development_database() as url:
            logger.info("DATABASE_URL is not set: using the local development database")
            yield url
    except LocalDatabaseError as error:
        raise StartupError(str(error)) from None


async def _serve(settings: Settings, url: str) -> None:
    await Server(settings, url).run()  # built inside the event loop, as grpc.aio requires


def serve(settings: Settings) -> int:
    try:
        with database_url(settings) as url:
            event_loop_runner()(_serve(settings, url))
    except StartupError as error:
        logger.error("cannot start: %s", error)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m service", description=__doc__.split("\n")[0])
    parser.add_argument("command", nargs="?", default="serve", choices=["serve"])
    parser.parse_args(argv)
    try:
        settings = Settings()
    except ValidationError as error:
        print(f"invalid settings in the environment:\n{error}", file=sys.stderr)
        return 2
    log.configure(settings.log_level, settings.log_format)
    return serve(settings)


if __name__ == "__main__":
    sys.exit(main())
