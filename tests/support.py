"""Running the real server as a process, the way `make run` and the image do."""

from __future__ import annotations

import contextlib
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from tools.codegen import ROOT

# Every server process a test started; tests/conftest.py closes them after each test.
RUNNING: list[ServerProcess] = []


class ServerProcess:
    """`python -m service` on a free port, with JSON logs captured line by line."""

    def __init__(
        self, database_url: str, *, cwd: Path = ROOT, args: tuple[str, ...] = (), **settings: str
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
            [sys.executable, "-m", "service", "serve", *args],
            cwd=cwd,
            env=env,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,  # its own process group: close() can end workers too
        )
        RUNNING.append(self)
        self.logs: list[dict[str, Any]] = []
        self._lines: queue.Queue[dict[str, Any]] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.port = 0

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

    def stop_cleanly(self) -> None:
        """SIGTERM, and the process must shut down gracefully with exit code 0."""
        code = self.stop()
        assert code == 0, f"exit code {code}; last logs: {self.logs[-8:]}"
        assert self.logs[-1].get("message") == "stopped", self.logs[-8:]

    def stop(self, signum: int = signal.SIGTERM, timeout: float = 30.0) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signum)
        try:
            return self.process.wait(timeout)
        finally:
            if self.process.poll() is None:
                self.process.kill()
