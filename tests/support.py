"""Running the real server as a process, the way `make run` and the image do, and calling it as
clients do, hostile ones included."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import asyncpg
import grpc
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from google.protobuf.descriptor import Descriptor
from google.protobuf.message import Message
from grpc_health.v1 import health_pb2
from hypothesis import strategies as st

from service.client import field_violations
from service.db.database import asyncpg_dsn
from tools.codegen import ROOT
from tools.probe import free_port

# Every server process a test started; tests/conftest.py closes them after each test.
RUNNING: list[ServerProcess] = []
# The entry point that also serves the probe resource (tests/serve.py, tests/probe_resource.py).
PROBE_SERVER = "tests.serve"


class ServerProcess:
    """`python -m <module>` (the service, by default) on a free port, with JSON logs captured
    line by line; with_metrics: its metrics endpoint on a free port too (metrics_port)."""

    def __init__(
        self,
        database_url: str,
        *,
        module: str = "service",
        cwd: Path = ROOT,
        args: tuple[str, ...] = (),
        with_metrics: bool = False,
        **settings: str,
    ) -> None:
        if with_metrics:
            settings["metrics_port"] = str(free_port())
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "PORT": "0",
            "LOG_FORMAT": "json",
            "LOG_LEVEL": "INFO",
            # Every test's RPCs are checked for session state left on pooled connections
            # (conftest.py fails the test that leaves any).
            "DATABASE_SESSION_CHECK": "true",
            **{key.upper(): value for key, value in settings.items()},
        }
        self.settings = {key.upper(): value for key, value in settings.items()}
        self.database_url = database_url
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
        self._logged = threading.Condition()  # notified on every line added to self.logs
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
            with self._logged:
                self.logs.append(entry)
                self._logged.notify_all()
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

    def wait_for_log(
        self, condition: Callable[[list[dict[str, Any]]], bool], within: float, what: str
    ) -> None:
        """Wait until `condition(self.logs)` holds, checking as each line is read."""
        with self._logged:
            assert self._logged.wait_for(lambda: condition(self.logs), within), (
                f"{what}: not within {within} s"
            )

    def start(self) -> ServerProcess:
        self.port = int(self.wait_for("listening")["port"])
        self.wait_for("serving")
        return self

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def metrics_port(self) -> int:
        return int(self.settings["METRICS_PORT"])

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
        # not a wait: the pause between two checks of the condition, which is the wait
        await asyncio.sleep(0.02)


def poll_here(
    condition: Callable[[], bool], within: float = 10.0, what: str = "the condition"
) -> None:
    """poll(), for a test without an event loop: `condition` is asked in this thread."""

    async def holds() -> bool:
        return condition()

    asyncio.run(poll(holds, within, what))


async def until_database_clock_passes(database_url: str, moment: datetime) -> None:
    """Wait until PostgreSQL's now() is past `moment`: the clock the service compares
    expire_time with."""
    connection = await asyncpg.connect(asyncpg_dsn(database_url))
    try:

        async def passed() -> bool:
            return bool(await connection.fetchval("SELECT now() > $1", moment))

        await poll(passed, 10.0, f"the database's clock passing {moment}")
    finally:
        await connection.close()


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
        # pg_stat_activity is read once per transaction and kept: without clearing it, this
        # open transaction would see the sessions of its first look forever.
        await self.connection.execute("SELECT pg_stat_clear_snapshot()")
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


def logged_through(server: ServerProcess, request_id: str, within: float = 10.0) -> None:
    """Wait for the access-log line of the RPC sent with `request_id` (x-request-id): every
    line the server wrote before it has been read into server.logs too."""
    server.wait_for_log(
        lambda logs: any(entry.get("request_id") == request_id for entry in reversed(logs)),
        within,
        f"a log line of request {request_id}",
    )


def tracebacks(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The log entries that carry an exception, or report one (grpc's own are ERRORs too)."""
    return [
        entry
        for entry in entries
        if "exception" in entry
        or entry.get("level") in {"ERROR", "CRITICAL"}
        or "Traceback" in str(entry.get("message", ""))
    ]


# The generic client's command line (`python -m service.client`) ------------------------------


def client_command(server: ServerProcess, *args: str, module: str = "service.client") -> list[str]:
    """The client (or a resource's own command line, `module`) aimed at the server."""
    return [sys.executable, "-m", module, "--target", server.target, *args]


def run_client(
    server: ServerProcess,
    *args: str,
    stdin: str | None = None,
    env: dict[str, str] | None = None,
    module: str = "service.client",
) -> subprocess.CompletedProcess[str]:
    """The client command run to its end; SERVICE_TOKEN only if `env` sets it."""
    without_token = {k: v for k, v in os.environ.items() if k != "SERVICE_TOKEN"}
    return subprocess.run(
        client_command(server, *args, module=module),
        cwd=ROOT,
        input=stdin,
        env={**without_token, **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def assert_a_mistake_the_client_saw(result: subprocess.CompletedProcess[str], named: str) -> None:
    """Refused before any call: exit code 2 and one error line naming `named`, no traceback."""
    assert result.returncode == 2
    assert result.stderr.startswith("error: ")
    assert named in result.stderr
    assert "Traceback" not in result.stderr


@contextlib.asynccontextmanager
async def client_process(
    server: ServerProcess, *args: str, module: str = "service.client"
) -> AsyncIterator[asyncio.subprocess.Process]:
    """The client command running (a stream, say), its stdout and stderr piped; killed at the
    end of the block if it has not exited."""
    process = await asyncio.create_subprocess_exec(
        *client_command(server, *args, module=module),
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        yield process
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def interrupt_client(process: asyncio.subprocess.Process) -> None:
    """Ctrl-C (SIGINT): the client must exit with 130 and no traceback."""
    process.send_signal(signal.SIGINT)
    assert await asyncio.wait_for(process.wait(), 10) == 130
    assert process.stderr is not None
    assert "Traceback" not in (await process.stderr.read()).decode()


# Hostile input -------------------------------------------------------------------------------

Code = grpc.StatusCode
# What a client's request may be answered with: a code the service chose. INTERNAL and UNKNOWN
# say that the service failed; they must never answer anything a client sends.
DELIBERATE = frozenset(
    {Code.OK, Code.INVALID_ARGUMENT, Code.ALREADY_EXISTS, Code.NOT_FOUND, Code.FAILED_PRECONDITION}
)

# Characters that trouble text handling, besides what st.text() draws from every category:
# NUL and the C0 and C1 controls; zero-width, soft-hyphen and bidi-control characters;
# noncharacters; line and paragraph separators; private use; a tag character; characters that
# NFKC or case folding turn into several; and lone surrogates, which are not UTF-8 at all.
HOSTILE_CHARACTERS = (
    *map(chr, range(0x20)),
    *map(chr, range(0x7F, 0xA0)),
    *("\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad"),
    *("\u200e", "\u200f", "\u061c", *map(chr, [*range(0x202A, 0x202F), *range(0x2066, 0x206A)])),
    *("\ufdd0", "\ufdef", "\ufffe", "\uffff", "\U0001fffe", "\U0010ffff"),
    *("\u2028", "\u2029", "\ue000", "\U000f0000", "\U000e0001"),
    *("\ufdfa", "\ufb03", "\u0130", "\u00df", "\uff21", "\u0301", "\ufffd"),
    *("\ud800", "\udbff", "\udc00", "\udfff"),
)


def hostile_text(min_size: int = 0, max_size: int | None = 40) -> st.SearchStrategy[str]:
    """Text of every Unicode category (st.characters()), half of its characters
    HOSTILE_CHARACTERS. A list joined: st.text() would merge the two alphabets into one range
    of code points and all but never draw the hostile ones."""
    characters = st.sampled_from(HOSTILE_CHARACTERS) | st.characters()
    return st.lists(characters, min_size=min_size, max_size=max_size).map("".join)


# Byte sequences that are not UTF-8: a stray continuation byte, bytes UTF-8 never uses, an
# overlong "/", a lone surrogate, a code point past U+10FFFF, a five-byte form, cut-short ones.
NOT_UTF8 = (
    *(b"\x80", b"\xbf", b"\xc0", b"\xc1", b"\xf5", b"\xfe", b"\xff", b"\xc0\xaf"),
    *(b"\xe0\x80\xaf", b"\xed\xa0\x80", b"\xed\xbf\xbf", b"\xf4\x90\x80\x80"),
    *(b"\xf8\x88\x80\x80\x80", b"\xc3", b"\xe2\x82", b"\xf0\x9f\x98"),
)


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode()
    except UnicodeDecodeError:
        return False
    return True


# Valid text around bytes that are not: still not UTF-8 (valid text never starts with a
# continuation byte, nor ends inside a sequence).
not_utf8 = st.builds(
    lambda before, bad, after: before.encode() + bad + after.encode(),
    st.text(max_size=8),
    st.sampled_from(NOT_UTF8) | st.binary(min_size=1, max_size=8).filter(lambda b: not _is_utf8(b)),
    st.text(max_size=8),
)


def utf8(text: str) -> bytes:
    """Text as a client sends it, lone surrogates included (as their three bytes, which are not
    UTF-8): grpc clients in other languages can send what Python's protobuf refuses to."""
    return text.encode("utf-8", "surrogatepass")


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


def with_text(request: Message, numbers: Sequence[int], text: bytes) -> bytes:
    """The request's bytes with the string field at `numbers` (field numbers, outermost first:
    (1, 2) is invitation.email) set to `text`, whatever its bytes: protobuf merges a message
    field that occurs twice, so the field is appended."""
    field = text
    for number in reversed(numbers):
        field = wire_field(number, field)
    return bytes(request.SerializeToString()) + field


def is_field_path(message: Descriptor, path: str) -> bool:
    """Whether `path` names a field of the message, as field violations do: `invitation.email`,
    `update_mask.paths[1]` (an index only on a repeated field)."""
    current: Descriptor | None = message
    for part in path.split("."):
        name, bracket, index = part.partition("[")
        field = current.fields_by_name.get(name) if current is not None else None
        if field is None:
            return False
        if bracket and not (field.is_repeated and index.endswith("]") and index[:-1].isdigit()):
            return False
        current = field.message_type
    return True


@dataclass(frozen=True)
class Answer:
    """What a client observes of a call: the status code, its message, the field violations,
    and the response's bytes (the first message of a stream) when it succeeded."""

    code: grpc.StatusCode
    details: str
    violations: list[tuple[str, str]]
    response: bytes | None = None

    @property
    def fields(self) -> list[str]:
        return [field for field, _ in self.violations]


def send(
    channel: grpc.Channel,
    method: str,
    body: bytes,
    *,
    token: str | None = None,
    request_id: str | None = None,
    streaming: bool = False,
    timeout: float = 10.0,
) -> Answer:
    """Call `method` with request bytes sent as they are (and a bearer token)."""
    metadata: tuple[tuple[str, str | bytes], ...] = ()
    if token is not None:
        metadata += (("authorization", f"Bearer {token}"),)
    if request_id is not None:
        metadata += (("x-request-id", request_id),)
    try:
        if streaming:
            stream: grpc.UnaryStreamMultiCallable[bytes, bytes] = channel.unary_stream(method)
            responses = stream(body, timeout=timeout, metadata=metadata)
            try:
                response = next(iter(responses), None)
            finally:
                responses.cancel()
        else:
            unary: grpc.UnaryUnaryMultiCallable[bytes, bytes] = channel.unary_unary(method)
            response = unary(body, timeout=timeout, metadata=metadata)
    except grpc.RpcError as error:
        return Answer(error.code(), error.details() or "", field_violations(error))
    return Answer(Code.OK, "", [], response)


def scrape(port: int) -> str:
    """The metrics endpoint's page."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        return str(response.read().decode())


def sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus text format (labels in any order)."""
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', line.split(" ")[0]))
        if found == labels:
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"no {name}{labels} in:\n{text}")
