"""`make watch`: regenerate on every proto save and restart the dev server.

- a change to a `.proto` under protos/ regenerates generated/ (in this process, through
  tools/codegen.py, so each cycle costs tens of milliseconds, not a Python start-up) and then
  restarts the dev server;
- a change to a `.py` under service/ restarts the dev server, whose spare first compiles each
  resource's queries.py into its sql.py if they changed (tools/sql.py; sql.py is not watched);
- generated/ is not watched, so a regeneration never triggers another cycle;
- a protoc error, or any exception, is printed and the watcher carries on with the server it has.

Each cycle prints one line: what changed, how long it took, and how it ended. `ok` means the
new server answers the gRPC health check (service "") with SERVING on HOST:PORT, asked from
here; the time includes that wait. Otherwise the line says what happened instead:

- `kept the running server: the new code fails to import: <error> (<file>, line <n>)`: the
  next server imports your code while the running one still serves (tools/spare.py), and the
  running one is stopped only once that worked. A syntax error, a bad import, or any error
  raised while a module of service/ or generated/ is imported leaves the last good server
  answering; the next save tries again;
- `server failed to start (exit N): <its last line on stderr>`: the code imported, so the
  running server was stopped, and the new one exited before it served: an error raised only
  while the server starts (building a servicer, the port held by another process, ...). No
  server runs then; its log is above, and the next save starts it again. Keeping the old one
  here is not possible: it must leave the port before the new one can bind it;
- `server not SERVING after N s (health: ...)`: it runs but does not serve (the database does
  not answer, ...); it is left running, and its log says why.

Between cycles, a server that exits on its own is reported at once, with its exit code.

After a regeneration, once the restart is done, buf lint and the breaking-change check against
the released API (tools/api.py, as `make lint` runs them) run in a thread of their own: a report
only, `[watch ...] API: ...` with buf's findings a fraction of a second later, or `API: clean
again` once they are gone. It never holds up a cycle or the server; saves made while it runs
are checked together once it ends.

A restart, after the cached bytecode of the changed files is deleted (forget_bytecode says
why): a spare imports the code, the running server gets SIGTERM, and the spare serves as soon
as the old server has left the port, a few milliseconds later; the old server's remaining
shutdown (~250 ms) overlaps the new start. The servers' stderr passes through this process,
which keeps each one's last line to say why it ended.

The dev server is `python -m service` once service/__main__.py exists (through tools/spare.py),
or `--server CMD`: a CMD is started from nothing on every restart, with no import check. The
health check is plaintext gRPC, so the dev server must not be given TLS, and PORT must be fixed.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import os
import select
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import IO

import watchfiles

from service import healthcheck
from tools import api, codegen, sql

ROOT = codegen.ROOT
STOP_GRACE_SECONDS = 5.0
# watchfiles yields a batch once nothing has changed for this long. The default (50 ms) adds
# that much to every cycle; 15 ms still groups an editor's write-and-rename into one batch.
STEP_MS = 15
READY_MS = 200
# Bounds of a cycle. The first start, and a spare still importing its packages right after the
# previous restart, can take seconds on a busy machine; a restarted server serves in ~100 ms.
IMPORT_SECONDS = 30.0
SERVING_SECONDS = 10.0
FIRST_SERVING_SECONDS = 30.0
POLL_SECONDS = 0.005
# Spares kept waiting. A spare's imports take ~0.5-1 s, about two cycles of saves made in quick
# succession: with two, the one a save takes has had both to finish (~75 MB each).
SPARES = 2
DEFAULT_PORT = "50051"  # service/config.py's default


def _log(message: str) -> None:
    print(f"[watch {time.strftime('%H:%M:%S')}] {message}", flush=True)


class ServerStartError(Exception):
    """A cycle did not end with a new server SERVING; the message says what happened instead."""


class DevProcess:
    """One process of the dev server: its stderr relayed to ours line by line (the last line
    kept, to name what went wrong), and for a spare, the pipe it replies on."""

    def __init__(self, command: Sequence[str], env: dict[str, str] | None, spare: bool) -> None:
        self.status: IO[bytes] | None = None
        if spare:
            read_end, write_end = os.pipe()
            self.status = open(read_end, "rb", buffering=0)  # noqa: SIM115 (closed in close())
            try:
                self.popen = subprocess.Popen(
                    [*command, "--status-fd", str(write_end)],
                    cwd=ROOT,
                    env=env,
                    stdin=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    pass_fds=(write_end,),
                )
            finally:
                os.close(write_end)  # the spare's end: a closed pipe then means it exited
        else:
            self.popen = subprocess.Popen(command, cwd=ROOT, env=env, stderr=subprocess.PIPE)
        self.last_line = ""
        self.terminated_at: float | None = None
        self._relay = threading.Thread(target=self._relay_stderr, daemon=True)
        self._relay.start()

    def _relay_stderr(self) -> None:
        assert self.popen.stderr is not None
        for line in self.popen.stderr:
            with contextlib.suppress(OSError):  # without a terminal, still drain the pipe
                sys.stderr.buffer.write(line)
                sys.stderr.buffer.flush()
            if line.strip():
                self.last_line = line.decode(errors="replace").strip()

    def send(self, command: str) -> bool:
        """Give a spare its next command; False if it has already exited."""
        assert self.popen.stdin is not None
        try:
            self.popen.stdin.write(f"{command}\n".encode())
            self.popen.stdin.flush()
        except OSError:  # a closed pipe: the process is gone
            return False
        return True

    def reply(self, seconds: float, cancel: threading.Event) -> str | None:
        """A spare's next reply: a line, "" if it exited without one, None if none came in time."""
        assert self.status is not None
        deadline = time.monotonic() + seconds
        while not cancel.is_set():
            if select.select([self.status], [], [], 0.05)[0]:
                return self.status.readline().decode(errors="replace").strip()
            if time.monotonic() > deadline:
                return None
        return None

    def exit_status(self) -> str:
        """`exit N` or `killed by SIGx`, once it has exited; last_line is then complete."""
        code = self.popen.wait()
        self._relay.join(1.0)  # its last lines may still be on their way
        return f"killed by {signal.Signals(-code).name}" if code < 0 else f"exit {code}"

    def failure(self) -> str:
        """`(exit N): <the last line it wrote>`: why it ended, once it has exited."""
        status = self.exit_status()
        return f"({status}): {self.last_line}" if self.last_line else f"({status})"

    def terminate(self) -> None:
        """Ask it to stop (SIGTERM: a server stops gracefully), once."""
        if self.terminated_at is None and self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            self.terminated_at = time.monotonic()

    def overdue(self) -> bool:
        """Asked to stop longer than the grace ago and still running."""
        asked = self.terminated_at
        late = asked is not None and time.monotonic() - asked > STOP_GRACE_SECONDS
        return late and self.popen.poll() is None

    def stop(self, *, exiting: bool = False) -> None:
        """SIGTERM, then SIGKILL if it has not stopped within the grace. `exiting`: it is
        exiting by itself (it said why): give it the grace to finish before any signal."""
        if exiting:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(STOP_GRACE_SECONDS)
        self.terminate()
        if self.terminated_at is not None:
            left = self.terminated_at + STOP_GRACE_SECONDS - time.monotonic()
            try:
                self.popen.wait(max(left, 0.0))
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()
        self.close()

    def close(self) -> None:
        if self.popen.stdin is not None:
            with contextlib.suppress(OSError):
                self.popen.stdin.close()  # a spare exits when its stdin closes
        if self.status is not None:
            self.status.close()
        if self.popen.poll() is not None:
            self._relay.join(1.0)  # its last lines


class DevServer:
    """The dev server as a child process, and a restart that says whether it serves.

    With `spare`, the next processes are kept waiting with their third-party imports done
    (tools/spare.py). A restart has one import the code, stops the running server only if that
    worked, has it serve once the old one has left the port, and waits for SERVING. The spare
    that replaces it is started as the restart begins, to give its imports the most time.
    """

    def __init__(
        self,
        command: Sequence[str],
        env: dict[str, str] | None = None,
        *,
        spare: bool = False,
        cancel: threading.Event | None = None,
    ) -> None:
        self.command = list(command)
        self.env = env
        self.use_spare = spare
        self.cancel = cancel or threading.Event()
        self.process: DevProcess | None = None
        self.spares: list[DevProcess] = []
        self.retired: list[DevProcess] = []  # old servers, stopping, no longer on the port
        settings = env if env is not None else os.environ
        host = settings.get("HOST", "127.0.0.1")
        self.port = int(settings.get("PORT", DEFAULT_PORT))
        if host in ("", "0.0.0.0", "::"):  # every interface: this machine's is one of them
            host = "127.0.0.1"
        self.host = host
        self.target = f"[{host}]:{self.port}" if ":" in host else f"{host}:{self.port}"

    def _spawn(self) -> DevProcess:
        return DevProcess(self.command, self.env, self.use_spare)

    def restart(self) -> str:
        """Start the server, stopping the running one; "server started" or "server restarted"
        once it serves, else ServerStartError."""
        running = self.process is not None
        if self.use_spare:
            new = self._next_spare()
            while len(self.spares) < (SPARES if running else 1):  # one at first: a quick start
                self.spares.append(self._spawn())
            self._import(new, running)
            self._retire()
            # With our server stopped, whatever listens on the port is not the one we start
            # (which will fail to bind it): its answers must not count as ours.
            taken = self._listening()
            if not new.send("serve"):
                raise ServerStartError(f"server failed to start {new.failure()}")
        else:
            self._retire()
            taken = self._listening()
            new = self._spawn()
        self.process = new
        self._await_serving(new, taken, SERVING_SECONDS if running else FIRST_SERVING_SECONDS)
        return "server restarted" if running else "server started"

    def _next_spare(self) -> DevProcess:
        while self.spares:
            spare = self.spares.pop(0)
            if spare.popen.poll() is None:
                return spare
            spare.close()  # it ended before it was given anything: not the code's doing
        return self._spawn()

    def _import(self, new: DevProcess, running: bool) -> None:
        """Have the spare import the code; if that fails, ServerStartError and no stop."""
        reply = new.reply(IMPORT_SECONDS, self.cancel) if new.send("import") else ""
        if reply == "imported":
            return
        if reply is None:
            reason = f"the code did not finish importing within {IMPORT_SECONDS:.0f} s"
            new.stop()
        elif reply.startswith("failed "):
            reason = f"the {'new ' if running else ''}code fails to import: {reply[7:]}"
            new.stop(exiting=True)
        else:
            new.stop(exiting=True)
            reason = f"its process exited before it imported the code {new.failure()}"
        if self.cancel.is_set():
            raise ServerStartError("interrupted")
        outcome = "kept the running server" if running else "server not started"
        raise ServerStartError(f"{outcome}: {reason}")

    def _retire(self) -> None:
        """Stop the running server, and return as soon as it has left the port: a server
        closes its port within milliseconds of SIGTERM, then takes ~250 ms more to close its
        database pool and exit, which overlaps the new server's start."""
        old, self.process = self.process, None
        if old is None:
            return
        old.terminate()
        while old.popen.poll() is None and self._listening() and not old.overdue():
            time.sleep(POLL_SECONDS)
        if old.overdue():
            old.stop()  # killed: it did not leave the port within the grace
        else:
            self.retired.append(old)

    def _reap(self, *, wait: bool) -> None:
        """Collect the retired servers that have exited (all of them, with `wait`); kill one
        still running past the grace."""
        for old in list(self.retired):
            if wait or old.popen.poll() is not None or old.overdue():
                old.stop()
                self.retired.remove(old)

    def _listening(self) -> bool:
        """Whether something accepts connections on the port: a tenth of the cost of a health
        check, so it is asked first, until the new server has bound the port."""
        with contextlib.suppress(OSError), socket.create_connection((self.host, self.port), 0.2):
            return True
        return False

    def _await_serving(self, new: DevProcess, port_taken: bool, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        status = "UNAVAILABLE"
        listening = False
        while True:
            if new.popen.poll() is not None:
                self.process = None
                new.close()
                raise ServerStartError(f"server failed to start {new.failure()}")
            listening = listening or (not port_taken and self._listening())
            if listening:
                status = healthcheck.check(self.target, timeout=0.5)
                if status == "SERVING":
                    return
            if time.monotonic() > deadline:
                taken = f", port {self.port} held by another process" if port_taken else ""
                raise ServerStartError(
                    f"server not SERVING after {seconds:.0f} s (health: {status}{taken}); "
                    "left running, its log above says why"
                )
            if self.cancel.wait(POLL_SECONDS):
                raise ServerStartError("interrupted")

    def exited(self) -> str | None:
        """If the running server has exited since it served: how, once. (And the retired
        servers that have exited are collected.)"""
        self._reap(wait=False)
        process = self.process
        if process is None or process.popen.poll() is None:
            return None
        self.process = None
        process.close()
        said = f". Its last line: {process.last_line}" if process.last_line else ""
        return f"server exited ({process.exit_status()}); the next save starts it again{said}"

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None:
            process.stop()

    def close(self) -> None:
        """Stop the server, the retired ones and the waiting spares."""
        self.stop()
        self._reap(wait=True)
        spares, self.spares = self.spares, []
        for spare in spares:
            spare.stop()


class ChangeFilter(watchfiles.DefaultFilter):
    """Protos under the proto root and Python files under the service folder, but the sql.py
    files compiled from queries.py (tools/sql.py); nothing else."""

    def __init__(self, protos_dir: Path, service_dir: Path | None) -> None:
        super().__init__()
        self.protos_dir = str(protos_dir)
        self.service_dir = str(service_dir) if service_dir else None

    def __call__(self, change: watchfiles.Change, path: str) -> bool:
        if not super().__call__(change, path):
            return False
        if path.endswith(".proto"):
            return path.startswith(self.protos_dir + os.sep)
        return bool(
            self.service_dir
            and path.endswith(".py")
            and path.startswith(self.service_dir + os.sep)
            and not sql.is_output(Path(path))  # written by the restart that it would trigger
        )


class ApiReport:
    """buf lint and breaking, after a regeneration, in a thread: a report that never blocks."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._lock = threading.Lock()
        self._pending = False
        self._running = False
        self._dirty = False
        self.done = threading.Event()  # set after each report (for tests)

    def request(self) -> None:
        """Check the protos as they are now, once the check under way (if any) has ended."""
        with self._lock:
            self._pending = True
            if self._running:
                return
            self._running = True
        threading.Thread(target=self._run, name="api-report", daemon=True).start()

    def _run(self) -> None:
        while True:
            with self._lock:
                if not self._pending:
                    self._running = False
                    return
                self._pending = False
            started = time.perf_counter()
            try:
                report = api.check(self.root, format_too=False)
            except Exception as error:  # a report: nothing it raises may reach the watcher
                report = api.Report(False, f"the check could not run: {error}")
            elapsed = (time.perf_counter() - started) * 1000
            if not report.ok:
                _log(f"API: buf found, in {elapsed:.0f} ms (make lint fails):\n{report.text}")
            elif self._dirty:
                _log(f"API: clean again (buf lint and breaking, {elapsed:.0f} ms)")
            self._dirty = not report.ok
            self.done.set()


def _describe(paths: Sequence[Path]) -> str:
    names = []
    for path in paths[:3]:
        try:
            names.append(path.relative_to(ROOT).as_posix())
        except ValueError:
            names.append(path.as_posix())
    more = f" and {len(paths) - 3} more" if len(paths) > 3 else ""
    return ", ".join(names) + more


def forget_bytecode(sources: Iterable[Path]) -> None:
    """Delete the cached bytecode of these Python files. Python trusts a .pyc while its source
    keeps the same size and the same mtime in whole seconds: two saves of the same length within
    a second (a digit changed, a field renamed to one as long) would restart into the first."""
    for source in sources:
        if source.suffix == ".py":
            with contextlib.suppress(OSError):
                Path(importlib.util.cache_from_source(str(source))).unlink()


def run_cycle(
    what: str,
    regenerate: bool,
    protos_dir: Path,
    out_dir: Path,
    server: DevServer | None,
    *,
    changed: Sequence[Path] = (),
    api_report: ApiReport | None = None,
) -> None:
    """One batch of changes: regenerate if a proto changed, then restart the server if the
    generated code or the service changed; then, if it regenerated, the API report."""
    started = time.perf_counter()
    restart = not regenerate
    done: list[str] = []
    written: list[Path] = []
    report = None
    try:
        if regenerate:
            result = codegen.generate(protos_dir, out_dir)
            report = api_report  # the protos compile: buf has something to say about them
            done.append(f"{len(result.written)} written, {len(result.removed)} removed")
            written = [out_dir / path for path in result.written]
            restart = result.changed or (server is not None and server.process is None)
            if result.warnings:
                print(result.warnings, file=sys.stderr, flush=True)
        if server is not None and restart:
            forget_bytecode([*changed, *written])
            done.append(server.restart())
    except codegen.CodegenError as error:
        elapsed = (time.perf_counter() - started) * 1000
        _log(f"{what}: protoc error after {elapsed:.0f} ms, server left running:\n{error}")
        return
    except ServerStartError as failure:
        elapsed = (time.perf_counter() - started) * 1000
        _log(f"{what}: {', '.join([*done, str(failure)])} (after {elapsed:.0f} ms)")
    except Exception:  # the watcher must outlive anything a cycle can raise
        elapsed = (time.perf_counter() - started) * 1000
        _log(f"{what}: failed after {elapsed:.0f} ms:\n{traceback.format_exc()}")
    else:
        elapsed = (time.perf_counter() - started) * 1000
        _log(f"{what}: {', '.join(done)} in {elapsed:.0f} ms, ok")
    if report is not None:
        report.request()  # after the restart, and in the background


def default_server_command() -> list[str] | None:
    """A spare-process launcher for `python -m service`, once the service exists."""
    if (ROOT / "service" / "__main__.py").exists():
        return [sys.executable, "-m", "tools.spare"]
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--protos", type=Path, default=ROOT / "protos")
    parser.add_argument("--out", type=Path, default=ROOT / "generated")
    parser.add_argument("--service", type=Path, default=ROOT / "service")
    parser.add_argument("--server", help="dev server command (default: python -m service)")
    parser.add_argument("--no-server", action="store_true", help="only regenerate")
    args = parser.parse_args(argv)

    protos_dir, out_dir = args.protos.resolve(), args.out.resolve()
    command = shlex.split(args.server) if args.server else default_server_command()
    if command and not args.no_server and os.environ.get("PORT", DEFAULT_PORT) in ("", "0"):
        print("make watch needs a fixed PORT: it asks the server's health there", file=sys.stderr)
        return 2
    stop = threading.Event()
    with contextlib.ExitStack() as stack:
        env = None
        if command and not args.no_server and "DATABASE_URL" not in os.environ:
            # Hold the local PostgreSQL here, for the whole session: a restarted server then
            # connects to it at once instead of starting and stopping it every time.
            from service.db.local import development_database

            url = stack.enter_context(development_database())
            # Still development: keep reflection on, as `make run` has it.
            env = {"REFLECTION": "true", **os.environ, "DATABASE_URL": url}
        spare = not args.server  # the spare protocol is tools/spare.py's, not any command's
        server = None
        if command and not args.no_server:
            server = DevServer(command, env, spare=spare, cancel=stop)
        return _watch(args, protos_dir, out_dir, server, stop)


def _watch(
    args: argparse.Namespace,
    protos_dir: Path,
    out_dir: Path,
    server: DevServer | None,
    stop: threading.Event,
) -> int:
    service_dir = args.service.resolve() if server and args.service.is_dir() else None

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())

    watched = [protos_dir, *([service_dir] if service_dir else [])]
    root = protos_dir.parent
    checked = protos_dir == root / api.PROTOS and (root / "buf.yaml").is_file()
    api_report = ApiReport(root) if checked else None
    mode = "" if server else " (no dev server: regenerating only)"
    started = False
    try:
        for changes in watchfiles.watch(
            *watched,
            watch_filter=ChangeFilter(protos_dir, service_dir),
            step=STEP_MS,
            stop_event=stop,
            raise_interrupt=False,
            # A batch, maybe empty, every READY_MS: the first one says the watches are in place.
            yield_on_timeout=True,
            rust_timeout=READY_MS,
        ):
            if not started:
                # Started once the watches are in place, so that no edit made while the server
                # starts is missed; this first cycle covers whatever changed before it.
                started = True
                run_cycle("start", True, protos_dir, out_dir, server, api_report=api_report)
                _log(f"watching {_describe(watched)}{mode}")
                continue
            exited = server.exited() if server is not None else None
            if exited and not stop.is_set():  # on Ctrl-C the server stops with us
                _log(exited)
            if changes:
                changed = sorted({Path(path) for _, path in changes})
                regenerate = any(path.suffix == ".proto" for path in changed)
                run_cycle(
                    _describe(changed),
                    regenerate,
                    protos_dir,
                    out_dir,
                    server,
                    changed=changed,
                    api_report=api_report,
                )
    finally:
        if server is not None:
            server.close()
    _log("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
