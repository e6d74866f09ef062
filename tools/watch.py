"""`make watch`: regenerate on every proto save and restart the dev server.

- a change to a `.proto` under protos/ regenerates generated/ (in this process, through
  tools/codegen.py, so each cycle costs tens of milliseconds, not a Python start-up) and then
  restarts the dev server;
- a change to a `.py` under service/ restarts the dev server;
- generated/ is not watched, so a regeneration never triggers another cycle;
- a protoc error, or any exception, is printed and the watcher carries on with the server it has.

Each cycle prints one line: what changed, how long it took, and ok or the error.
The dev server is `python -m service` once service/__main__.py exists, or `--server CMD`.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shlex
import signal
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Sequence
from pathlib import Path

import watchfiles

from tools import codegen

ROOT = codegen.ROOT
STOP_GRACE_SECONDS = 5.0
# watchfiles yields a batch once nothing has changed for this long. The default (50 ms) adds
# that much to every cycle; 15 ms still groups an editor's write-and-rename into one batch.
STEP_MS = 15
READY_MS = 200


def _log(message: str) -> None:
    print(f"[watch {time.strftime('%H:%M:%S')}] {message}", flush=True)


class DevServer:
    """The dev server as a child process: started, stopped gracefully, restarted.

    With `spare`, a next process is always waiting with its imports done (tools/spare.py), and
    a restart only has to stop the old one and wake the spare.
    """

    def __init__(
        self, command: Sequence[str], env: dict[str, str] | None = None, *, spare: bool = False
    ) -> None:
        self.command = list(command)
        self.env = env
        self.use_spare = spare
        self.process: subprocess.Popen[bytes] | None = None
        self.spare: subprocess.Popen[bytes] | None = None

    def _spawn(self) -> subprocess.Popen[bytes]:
        stdin = subprocess.PIPE if self.use_spare else None
        return subprocess.Popen(self.command, cwd=ROOT, env=self.env, stdin=stdin)

    def start(self) -> None:
        process = self.spare or self._spawn()
        if self.use_spare and process.stdin is not None:
            process.stdin.write(b"go\n")
            process.stdin.flush()
        self.process = process
        self.spare = self._spawn() if self.use_spare else None

    @staticmethod
    def _stop(process: subprocess.Popen[bytes] | None) -> None:
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(STOP_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def stop(self) -> None:
        process, self.process = self.process, None
        self._stop(process)

    def close(self) -> None:
        """Stop the server and the waiting spare."""
        self.stop()
        spare, self.spare = self.spare, None
        if spare is not None and spare.stdin is not None:
            spare.stdin.close()  # it exits when stdin closes
            self._stop(spare)

    def restart(self) -> None:
        self.stop()
        self.start()


class ChangeFilter(watchfiles.DefaultFilter):
    """Protos under the proto root and Python files under the service folder; nothing else."""

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
            self.service_dir and path.endswith(".py") and path.startswith(self.service_dir + os.sep)
        )


def _describe(paths: Sequence[Path]) -> str:
    names = []
    for path in paths[:3]:
        try:
            names.append(path.relative_to(ROOT).as_posix())
        except ValueError:
            names.append(path.as_posix())
    more = f" and {len(paths) - 3} more" if len(paths) > 3 else ""
    return ", ".join(names) + more


def run_cycle(
    what: str, regenerate: bool, protos_dir: Path, out_dir: Path, server: DevServer | None
) -> None:
    """One batch of changes: regenerate if a proto changed, then restart the server if the
    generated code or the service changed."""
    started = time.perf_counter()
    restart = not regenerate
    detail = ""
    try:
        if regenerate:
            result = codegen.generate(protos_dir, out_dir)
            detail = f"{len(result.written)} written, {len(result.removed)} removed"
            restart = result.changed or (server is not None and server.process is None)
            if result.warnings:
                print(result.warnings, file=sys.stderr, flush=True)
        if server is not None and restart:
            server.restart()
            detail = f"{detail}, server restarted" if detail else "server restarted"
    except codegen.CodegenError as error:
        elapsed = (time.perf_counter() - started) * 1000
        _log(f"{what}: protoc error after {elapsed:.0f} ms, server left running:\n{error}")
        return
    except Exception:  # the watcher must outlive anything a cycle can raise
        elapsed = (time.perf_counter() - started) * 1000
        _log(f"{what}: failed after {elapsed:.0f} ms:\n{traceback.format_exc()}")
        return
    elapsed = (time.perf_counter() - started) * 1000
    _log(f"{what}: {detail} in {elapsed:.0f} ms, ok")


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
        server = DevServer(command, env, spare=spare) if command and not args.no_server else None
        return _watch(args, protos_dir, out_dir, server)


def _watch(
    args: argparse.Namespace, protos_dir: Path, out_dir: Path, server: DevServer | None
) -> int:
    service_dir = args.service.resolve() if server and args.service.is_dir() else None

    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())

    run_cycle("start", True, protos_dir, out_dir, server)
    watched = [protos_dir, *([service_dir] if service_dir else [])]
    mode = "" if server else " (no dev server: regenerating only)"
    ready = False
    try:
        for changes in watchfiles.watch(
            *watched,
            watch_filter=ChangeFilter(protos_dir, service_dir),
            step=STEP_MS,
            stop_event=stop,
            raise_interrupt=False,
            # An empty batch every READY_MS: the first one says the watches are in place.
            yield_on_timeout=True,
            rust_timeout=READY_MS,
        ):
            if not ready:
                ready = True
                _log(f"watching {_describe(watched)}{mode}")
            if changes:
                changed = sorted({Path(path) for _, path in changes})
                regenerate = any(path.suffix == ".proto" for path in changed)
                run_cycle(_describe(changed), regenerate, protos_dir, out_dir, server)
    finally:
        if server is not None:
            server.close()
    _log("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
