"""A dev server started ahead of time, for `make watch`: restarts in milliseconds, not seconds.

Importing grpc, protobuf, asyncpg, PyJWT and prometheus_client, and SQLAlchemy (it compiles the
queries, and migrates the local database), takes most of a dev server's start-up; this
repository's own code then imports in ~60 ms. tools/watch.py keeps one process of this module
waiting with those imports done, and drives it with one line at a time on stdin:

import  compile the queries (tools/sql.py) and import this repository's code now (service/ and
        generated/, so every edit is seen), while the running server still serves; reply
        `imported` on the status pipe, or `failed <the error in one line>` and exit 1 (the
        traceback goes to stderr);
serve   become the server (`python -m service serve`);
EOF     the watcher no longer needs this process: exit 0.

Third-party packages do not change while you edit; after `make lock`, restart the watch.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import signal
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

ROOT = Path(__file__).resolve().parent.parent


def import_packages() -> None:
    """The third-party packages the dev server imports, and SQLAlchemy, which compiles the
    queries: what the spare has done before it waits."""
    import asyncpg  # noqa: F401
    import grpc  # noqa: F401
    import grpc_health.v1.health  # noqa: F401
    import grpc_reflection.v1alpha.reflection  # noqa: F401
    import jwt  # noqa: F401
    import prometheus_client  # noqa: F401
    import sqlalchemy.dialects.postgresql.asyncpg
    import sqlalchemy.ext.asyncio  # noqa: F401
    from google.protobuf import descriptor_pb2  # noqa: F401

    with contextlib.suppress(ImportError):  # optional: service/server.py runs without it
        import uvloop  # noqa: F401


def import_service() -> Callable[[list[str]], int]:
    """The server's entry point, with every module it serves imported: the server module
    imports the resources only when it builds, so they are imported here to be checked too.
    First each resource's queries.py is compiled into its sql.py if it changed (tools/sql.py),
    here, where SQLAlchemy is already imported: an error in it keeps the running server too."""
    from tools import sql

    sql.generate()
    from service.__main__ import main as serve

    importlib.import_module("service.resources")
    return serve


def summary(error: BaseException) -> str:
    """The error in one line, with the repository file and line where it happened."""
    if isinstance(error, SyntaxError):
        where = (error.filename, error.lineno)
        text = f"{type(error).__name__}: {error.msg}"
    else:
        ours = [f for f in traceback.extract_tb(error.__traceback__) if _in_repository(f.filename)]
        where = (ours[-1].filename, ours[-1].lineno) if ours else (None, None)
        message = str(error).strip().splitlines()
        text = f"{type(error).__name__}: {message[0]}" if message else type(error).__name__
    filename, line = where
    if filename is None or not _in_repository(filename):
        return text
    return f"{text} ({Path(filename).resolve().relative_to(ROOT).as_posix()}, line {line})"


def _in_repository(filename: str) -> bool:
    path = Path(filename).resolve()
    return path.is_relative_to(ROOT) and ".venv" not in path.relative_to(ROOT).parts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--status-fd", type=int, required=True, help="pipe for the replies")
    # Ctrl-C in the terminal reaches the whole process group; the watcher ends this process by
    # closing its stdin instead, so the interrupt is ignored until it has become the server
    # (from before the imports, which it would interrupt with a traceback).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    args = parser.parse_args(argv)
    import_packages()
    with open(args.status_fd, "w", buffering=1, closefd=True) as status:
        serve = None
        for command in sys.stdin:
            if serve is None:  # `import`, or `serve` without one before it
                serve = _import(status)
                if serve is None:
                    return 1
            if command.strip() == "serve":
                break
        else:
            return 0  # the watcher went away without needing this one
    signal.signal(signal.SIGINT, signal.default_int_handler)
    return serve(["serve"])


def _import(status: TextIO) -> Callable[[list[str]], int] | None:
    try:
        serve = import_service()
    except Exception as error:  # any error the new code raises while it is imported
        traceback.print_exc()
        status.write(f"failed {summary(error)}\n")
        return None
    status.write("imported\n")
    return serve


if __name__ == "__main__":
    sys.exit(main())
