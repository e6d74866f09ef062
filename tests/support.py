"""Running the real server as a process, the way `make run` and the image do."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import grpc
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from grpc_health.v1 import health_pb2

from service.db.database import asyncpg_dsn
from tools.codegen import ROOT

# Every server process a test started; tests/conftest.py closes them after each test.
RUNNING: list[ServerProcess] = []
# The entry point that also serves the probe resource (tests/serve.py, tests/probe_resource.py).
PROBE_SERVER = "tests.serve"


class ServerProcess:
    """`python -m <module>` (the service, by default) on a free port, with JSON logs captured
    line by line."""

    def __init__(
        self,
        database_url: str,
        *,
        module: str = "service",
        cwd: Path = ROOT,
        args: tuple[str, ...] = (),
        **settings: str,
    ) -> None:
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "PORT": "0",
            "LOG_FORMAT": "json",
            "LOG_LEVEL": "INFO",
            **{key.upper(): value for key, value in settings.items()},
        }
        self.process = subprocess.Popen(
            [sys.executable, "-m", module, "serve", *args],
            cwd=cwd,
            env=env,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,  # its own process group: close() can end workers too
        )
        RUNNING.append(self)
        self.logs: list[dict[str, Any]] = []
        self._lines: queue.Queue[dict[str, Any]] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.port = 0
        self.terminated = False

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            try:
                entry = json.loads(line)
            except ValueError:
                entry = {"message": line.rstrip("\n"), "level": "RAW"}
            self.logs.append(entry)
            self._lines.put(entry)

    def wait_for(self, message: str, timeout: float = 30.0) -> dict[str, Any]:
        """The next log entry whose message is `message`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                entry = self._lines.get(timeout=0.1)
            except queue.Empty:
                if self.process.poll() is not None:
                    code = self.process.returncode
                    raise AssertionError(f"server exited ({code}): {self.logs}") from None
                continue
            if entry.get("message") == message:
                return entry
        raise AssertionError(f"no {message!r} log within {timeout} s: {self.logs}")

    def start(self) -> ServerProcess:
        self.port = int(self.wait_for("listening")["port"])
        self.wait_for("serving")
        return self

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"

    def close(self) -> None:
        """Kill whatever is left of it (after a failed test): the process and its workers."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def terminate(self) -> None:
        """SIGTERM, as an orchestrator sends it: the start of a graceful shutdown. Sent once: a
        second one, racing the exit of a process that has stopped, would kill it instead."""
        if not self.terminated:
            self.terminated = True
            self.process.send_signal(signal.SIGTERM)

    def stop_cleanly(self) -> None:
        """SIGTERM (unless terminate() sent it), and the process must shut down gracefully
        with exit code 0."""
        code = self.stop()
        assert code == 0, f"exit code {code}; last logs: {self.logs[-8:]}"
        assert self.logs[-1].get("message") == "stopped", self.logs[-8:]

    def stop(self, timeout: float = 30.0) -> int:
        """SIGTERM (unless terminate() sent it), and the exit code; every log line is read."""
        if self.process.poll() is None:
            self.terminate()
        try:
            code = self.process.wait(timeout)
        finally:
            if self.process.poll() is None:
                self.process.kill()
        self._reader.join(10)  # the last lines may still be in the pipe
        return code


async def poll(
    condition: Callable[[], Awaitable[bool]], within: float = 10.0, what: str = "the condition"
) -> None:
    """Wait until `condition()` is true, asking every 20 ms; fail after `within` seconds."""
    deadline = time.monotonic() + within
    while not await condition():
        assert time.monotonic() < deadline, f"{what}: not within {within} s"
        await asyncio.sleep(0.02)


async def until_refusing_new_rpcs(target: str, within: float = 10.0) -> None:
    """Wait until the server at `target` refuses new RPCs (UNAVAILABLE): its grace period, in
    which only the RPCs under way may finish, has begun."""

    async def refused() -> bool:
        async with grpc.aio.insecure_channel(target) as channel:
            check = channel.unary_unary(
                "/grpc.health.v1.Health/Check",
                request_serializer=health_pb2.HealthCheckRequest.SerializeToString,
                response_deserializer=health_pb2.HealthCheckResponse.FromString,
            )
            try:
                await check(health_pb2.HealthCheckRequest(), timeout=1)
            except grpc.aio.AioRpcError as error:
                return error.code() is grpc.StatusCode.UNAVAILABLE
            return False

    await poll(refused, within, f"{target} refusing new RPCs")


class MarkHold:
    """The probe resource's marks, inserted by a transaction of the test's that stays open:
    a CreateMark of one of them waits on its row until release() rolls it back, and then
    succeeds. So an RPC can be kept in flight, and seen waiting, for as long as a test needs."""

    def __init__(self, connection: asyncpg.Connection) -> None:
        self.connection = connection
        self.transaction = connection.transaction()
        self.released = False

    @classmethod
    @contextlib.asynccontextmanager
    async def holding(cls, database_url: str, *values: str) -> AsyncIterator[MarkHold]:
        connection = await asyncpg.connect(asyncpg_dsn(database_url))
        try:
            hold = cls(connection)
            await hold.transaction.start()
            await connection.execute(
                "INSERT INTO probe.marks (value) SELECT unnest($1::text[])", list(values)
            )
            yield hold
            await hold.release()
        finally:
            await connection.close()

    async def waiting(self) -> int:
        """How many database sessions wait on this transaction now."""
        count = await self.connection.fetchval(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE pg_backend_pid() = ANY(pg_blocking_pids(pid))"
        )
        return int(count)

    async def until_waiting(self, count: int = 1, within: float = 10.0) -> None:
        async def enough() -> bool:
            return await self.waiting() >= count

        await poll(enough, within, f"{count} session(s) waiting on the held marks")

    async def release(self) -> None:
        if not self.released:
            self.released = True
            await self.transaction.rollback()


async def marks(database_url: str) -> set[str]:
    """Every mark stored in the probe resource's table."""
    connection = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        rows = await connection.fetch("SELECT value FROM probe.marks")
    finally:
        await connection.close()
    return {row["value"] for row in rows}


def unique_mark() -> str:
    """A value for the probe resource that no other test uses."""
    return f"mark-{uuid.uuid4().hex[:12]}"


@dataclass(frozen=True)
class JwtKeys:
    """The key pair of an authenticated server: it verifies bearer tokens with `public_file`
    (AUTH_JWT_PUBLIC_KEY_FILE), and tests sign theirs with `private` (RS256)."""

    private: rsa.RSAPrivateKey
    public_file: Path

    @classmethod
    def generate(cls, folder: Path) -> JwtKeys:
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        public_file = folder / "public.pem"
        public_file.write_bytes(
            private.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )
        return cls(private, public_file)

    def token(self, *, scope: str, expires_in: float = 600, sub: str = "tester") -> str:
        return self.sign({"sub": sub, "scope": scope, "exp": int(time.time() + expires_in)})

    def sign(self, claims: dict[str, object]) -> str:
        """A token of these claims, as they are, validly signed."""
        return jwt.encode(claims, self.private, algorithm="RS256")


def wire_field(number: int, payload: bytes) -> bytes:
    """A length-delimited field (string, bytes or message) as protobuf encodes it: tag, length,
    payload. For requests protobuf refuses to build, such as a string that is not UTF-8."""
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _varint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def logged_through(server: ServerProcess, request_id: str, within: float = 10.0) -> None:
    """Wait for the access-log line of the RPC sent with `request_id` (x-request-id): every
    line the server wrote before it has been read into server.logs too."""
    deadline = time.monotonic() + within
    while not any(entry.get("request_id") == request_id for entry in reversed(server.logs)):
        assert time.monotonic() < deadline, f"no log line of request {request_id}"
        time.sleep(0.02)


def tracebacks(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The log entries that carry an exception, or report one (grpc's own are ERRORs too)."""
    return [
        entry
        for entry in entries
        if "exception" in entry
        or entry.get("level") in {"ERROR", "CRITICAL"}
        or "Traceback" in str(entry.get("message", ""))
    ]
