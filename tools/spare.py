"""A dev server started ahead of time, for `make watch`: restarts in milliseconds, not seconds.

Importing grpc, protobuf, SQLAlchemy, asyncpg and pydantic takes most of a server's start-up
(~450 ms of ~550 ms). tools/watch.py keeps one process of this module waiting with those
imports done; on a change it stops the running server and sends this one a line on stdin, and it
only then imports this repository's code (service/ and generated/, so every edit is seen) and
serves. Third-party packages do not change while you edit; after `make lock`, restart the watch.
"""

from __future__ import annotations

import signal
import sys

import asyncpg  # noqa: F401
import grpc  # noqa: F401
import grpc_health.v1.health  # noqa: F401
import grpc_reflection.v1alpha.reflection  # noqa: F401
import pydantic_settings  # noqa: F401
import sqlalchemy.dialects.postgresql.asyncpg
import sqlalchemy.ext.asyncio  # noqa: F401
from google.protobuf import descriptor_pb2  # noqa: F401


def main() -> int:
    # Ctrl-C in the terminal reaches the whole process group; the watcher ends this process by
    # closing its stdin instead, so the interrupt is ignored until it has become the server.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if not sys.stdin.readline():  # the watcher went away without needing this one
        return 0
    signal.signal(signal.SIGINT, signal.default_int_handler)
    from service.__main__ import main as serve

    return serve(["serve"])


if __name__ == "__main__":
    sys.exit(main())
