"""A bare grpc.aio echo server, the yardstick of `make bench`: `python -m tools.bench.echo`.

The same grpc.aio, event loop and server options as the service, one unary method that returns
its request bytes, and nothing else: what any RPC costs before it does any work. With
`--interceptor` it runs the service's request interceptor too, to measure what that costs; with
`--database URL` each call also runs `SELECT 1` through the service's connection pool: the floor
of an RPC that makes one database round trip.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from pathlib import Path

import grpc

from service import log
from service.auth import Authenticator
from service.db.database import Database
from service.interceptors import RequestInterceptor, intercepted
from service.log import AccessLog
from service.metrics import Metrics
from service.server import event_loop_runner

METHOD = "/bench.Echo/Echo"


async def serve(
    interceptor: bool,
    database_url: str | None,
    metrics: bool = False,
    auth: Path | None = None,
    port: int = 0,
) -> None:
    database = Database(database_url, pool_size=10) if database_url else None

    async def echo(request: bytes, context: grpc.aio.ServicerContext[bytes, bytes]) -> bytes:
        if database is not None:  # the floor of any RPC that makes one database round trip
            async with database.connection() as connection:
                await connection.fetchval("SELECT 1")
        return request

    server = grpc.aio.server(options=[("grpc.so_reuseport", 0)])
    # Bytes in, bytes out: no (de)serializer.
    handler: grpc.RpcMethodHandler[bytes, bytes] = grpc.unary_unary_rpc_method_handler(echo)
    registrar = server
    if interceptor:  # as the service registers its servicers, with the access log on stderr
        log.configure("INFO", "json")
        authenticator = None
        if auth is not None:
            scopes = {"/bench.Echo/Echo": "bench"}
            authenticator = Authenticator(auth, algorithms=["RS256"], required_scopes=scopes)
        wrap = RequestInterceptor(
            default_timeout=30,
            access_log=AccessLog.from_logging(),
            metrics=Metrics() if metrics else None,
            authenticator=authenticator,
        )
        registrar = intercepted(server, wrap)  # type: ignore[assignment]  # a stand-in
    registrar.add_registered_method_handlers("bench.Echo", {"Echo": handler})
    port = server.add_insecure_port(f"127.0.0.1:{port}")
    await server.start()
    print(port, flush=True)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    await server.stop(None)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--interceptor", action="store_true")
    parser.add_argument("--database", metavar="URL", help="also run SELECT 1 on this database")
    parser.add_argument("--metrics", action="store_true", help="with --interceptor: metrics on")
    parser.add_argument("--auth", type=Path, metavar="PEM", help="with --interceptor: JWT auth")
    parser.add_argument("--cpu", type=int, help="pin this process to one CPU")
    parser.add_argument("--port", type=int, default=0, help="listen here (0: a free port)")
    args = parser.parse_args()
    if args.cpu is not None:
        os.sched_setaffinity(0, {args.cpu})
    event_loop_runner()(serve(args.interceptor, args.database, args.metrics, args.auth, args.port))
    return 0


if __name__ == "__main__":
    sys.exit(main())
