"""`make watch` (tools/watch.py) as a real process reacting to real file edits."""

from __future__ import annotations

import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from service import healthcheck
from tests.support import poll_here
from tests.tools.conftest import ROOT, SAMPLE, Project
from tools import probe

STARTED_OK = re.compile(r"server started in \d+ ms, ok$")
RESTARTED_OK = re.compile(r"server restarted in \d+ ms, ok$")


class Watcher:
    """`python -m tools.watch` with its output read line by line."""

    def __init__(self, cwd: Path, *args: str, **env: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tools.watch", *args],
            cwd=cwd,
            env={**os.environ, "PYTHONPATH": str(ROOT), **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))

    def wait_for(self, text: str, timeout: float = 20.0) -> list[str]:
        """Lines printed until one containing `text`."""
        seen: list[str] = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                seen.append(self.lines.get(timeout=0.1))
            except queue.Empty:
                continue
            if text in seen[-1]:
                return seen
        raise AssertionError(f"no line with {text!r} within {timeout} s; saw {seen}")

    def cycle(self, what: str, timeout: float = 30.0) -> str:
        """The watcher's line for the next cycle of `what` ("start", a file's path)."""
        deadline = time.monotonic() + timeout
        while True:
            line = self.wait_for(f"] {what}: ", deadline - time.monotonic())[-1]
            if line.startswith("[watch "):  # not a line of the server's log
                return line


@pytest.fixture
def watcher(project: Project) -> Iterator[Watcher]:
    watcher = Watcher(project.root, "--no-server", "--protos=protos", "--out=generated")
    try:
        yield watcher
    finally:
        if watcher.process.poll() is None:
            watcher.process.kill()
            watcher.process.wait()


def add_field(project: Project, field: str, number: int, *, broken: bool = False) -> None:
    path = project.protos / SAMPLE
    semicolon = "" if broken else ";"
    text = path.read_text().replace(
        "message Sample {", f"message Sample {{\n  string {field} = {number}{semicolon}", 1
    )
    path.write_text(text)


def test_regenerates_on_edit_and_survives_a_broken_proto(
    project: Project, watcher: Watcher
) -> None:
    watcher.wait_for("watching")
    stub = project.out / "samples/v1/samples_pb2.pyi"
    assert stub.exists()

    add_field(project, "nickname", 20)
    lines = watcher.wait_for("ok")
    assert "samples.proto: 2 written" in lines[-1]
    assert "nickname" in stub.read_text()

    add_field(project, "broken", 21, broken=True)
    lines = watcher.wait_for("protoc error")
    error_text = "\n".join(lines) + "\n" + watcher.wait_for("Expected")[-1]
    assert f"protos/{SAMPLE}:" in error_text
    assert "broken" not in stub.read_text()
    assert watcher.process.poll() is None

    path = project.protos / SAMPLE
    path.write_text(path.read_text().replace("string broken = 21", "string fixed = 21;"))
    watcher.wait_for("ok")
    assert "fixed" in stub.read_text()

    watcher.process.send_signal(signal.SIGINT)
    assert watcher.process.wait(10) == 0
    watcher.wait_for("stopped")


def test_ignores_files_that_are_not_protos(project: Project, watcher: Watcher) -> None:
    watcher.wait_for("watching")
    (project.protos / "notes.txt").write_text("not a proto")
    (project.out / "samples/v1/extra.txt").write_text("in generated/")
    add_field(project, "nickname", 20)

    lines = watcher.wait_for("ok")

    assert len(lines) == 1  # one cycle, for the proto only
    assert "samples.proto" in lines[0]


def test_restarts_the_dev_server_with_the_new_api(tmp_path: Path, database_url: str) -> None:
    """`make watch` in a copy of the repository: a proto edit reaches the running server."""
    copy = probe.copy_repository(tmp_path / "repo")
    # A resource of its own (the example may have been removed), as `make resource` writes it.
    subprocess.run(
        [sys.executable, "-m", "tools.scaffold", "add", "watched_item"],
        cwd=copy,
        check=True,
        capture_output=True,
    )
    port = probe.free_port()
    target = f"127.0.0.1:{port}"
    watcher = Watcher(copy, PORT=str(port), DATABASE_URL=database_url, REFLECTION="true")
    try:
        watcher.wait_for("watching protos, service")
        poll_here(lambda: probe.serving_with(target, "display_name"), 30, "serving display_name")
        proto = copy / "protos" / "watched_items" / "v1" / "watched_items.proto"
        proto.write_text(
            proto.read_text().replace(
                "message WatchedItem {", "message WatchedItem {\n  string nickname = 20;"
            )
        )
        watcher.wait_for("server restarted")
        poll_here(lambda: probe.serving_with(target, "nickname"), 30, "serving nickname")

        errors = copy / "service" / "errors.py"
        errors.write_text(errors.read_text() + "\n")
        assert "service/errors.py: server restarted" in watcher.wait_for("server restarted")[-1]
        poll_here(lambda: probe.serving_with(target, "nickname"), 30, "serving nickname")

        # A statement edited in queries.py: compiled into sql.py before the restart, and the
        # sql.py it writes does not start another cycle.
        queries = copy / "service" / "watched_items" / "queries.py"
        queries.write_text(
            queries.read_text().replace(
                "_PAGE = select(*COLUMNS)", "_PAGE = select(*COLUMNS).distinct()"
            )
        )
        line = watcher.wait_for("server restarted")[-1]
        assert "service/watched_items/queries.py: server restarted" in line, line
        assert "SELECT DISTINCT" in (copy / "service" / "watched_items" / "sql.py").read_text()
        errors.write_text(errors.read_text() + "\n")
        line = watcher.wait_for("server restarted")[-1]  # the next cycle is this save's
        assert "service/errors.py: server restarted" in line, line
        poll_here(lambda: probe.serving_with(target, "nickname"), 30, "serving nickname")
    finally:
        watcher.process.send_signal(signal.SIGINT)
        assert watcher.process.wait(30) == 0
    assert not probe.serving_with(target, "nickname")  # the server went with the watcher


class DevLoop:
    """`make watch` with its dev server in a copy of the repository, on a free port."""

    def __init__(self, tmp_path: Path, database_url: str) -> None:
        self.copy = probe.copy_repository(tmp_path / "repo")
        self.port = probe.free_port()
        self.target = f"127.0.0.1:{self.port}"
        self.database_url = database_url
        self.watcher: Watcher | None = None

    def start(self, **env: str) -> Watcher:
        self.watcher = Watcher(
            self.copy,
            PORT=str(self.port),
            DATABASE_URL=self.database_url,
            REFLECTION="true",
            **env,
        )
        return self.watcher

    def health(self) -> str:
        return healthcheck.check(self.target, timeout=1.0)

    def edit(self, path: str, old: str, new: str) -> None:
        file = self.copy / path
        text = file.read_text()
        assert old in text, f"{old!r} is not in {path}"
        file.write_text(text.replace(old, new, 1))

    def close(self) -> None:
        if self.watcher is None:
            return
        process = self.watcher.process
        process.send_signal(signal.SIGINT)
        try:
            assert process.wait(30) == 0
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
        assert self.health() == "UNAVAILABLE"  # the server went with the watcher


@pytest.fixture
def dev(tmp_path: Path, database_url: str) -> Iterator[DevLoop]:
    loop = DevLoop(tmp_path, database_url)
    try:
        yield loop
    finally:
        loop.close()


def test_says_ok_only_once_the_server_answers_serving(dev: DevLoop) -> None:
    watcher = dev.start()

    line = watcher.cycle("start")
    health = dev.health()  # asked as soon as the line is read

    assert STARTED_OK.search(line), line
    assert health == "SERVING"

    dev.edit("service/errors.py", '"""Domain errors', '"""The domain errors')
    line = watcher.cycle("service/errors.py")
    health = dev.health()

    assert RESTARTED_OK.search(line), line
    assert health == "SERVING"


def test_reports_a_server_that_crashes_on_start_as_failed(dev: DevLoop) -> None:
    watcher = dev.start()
    assert watcher.cycle("start").endswith(", ok")

    server = "service/server.py"
    start = "    async def start(self) -> None:\n"
    crash = '        raise RuntimeError("no serving today")\n'
    dev.edit(server, start, start + crash)
    line = watcher.cycle(server)

    assert "server failed to start (exit 1): RuntimeError: no serving today" in line, line
    assert not line.endswith("ok")
    assert dev.health() == "UNAVAILABLE"  # the code imported, so the old server was stopped

    dev.edit(server, crash, "")
    line = watcher.cycle(server)

    assert STARTED_OK.search(line), line
    assert dev.health() == "SERVING"


def test_reports_a_port_held_by_another_process(dev: DevLoop) -> None:
    with socket.create_server(("127.0.0.1", dev.port)):  # as `make run` in another terminal
        watcher = dev.start()
        line = watcher.cycle("start")

    assert re.search(r"server failed to start \(exit 1\): .*cannot listen on", line), line
    dev.edit("service/errors.py", '"""Domain errors', '"""The domain errors')
    line = watcher.cycle("service/errors.py")

    assert STARTED_OK.search(line), line
    assert dev.health() == "SERVING"


def test_keeps_the_running_server_when_the_new_code_fails_to_import(dev: DevLoop) -> None:
    watcher = dev.start()
    assert watcher.cycle("start").endswith(", ok")
    answers: list[str] = []
    asking = threading.Event()

    def ask_health() -> None:
        while asking.is_set():
            answers.append(dev.health())

    errors = "service/errors.py"
    original = (dev.copy / errors).read_text()
    asking.set()
    thread = threading.Thread(target=ask_health)
    thread.start()
    try:
        (dev.copy / errors).write_text(original + "\ndef broken(:\n")
        line = watcher.cycle(errors)
    finally:
        asking.clear()
        thread.join()

    assert "kept the running server: the new code fails to import: SyntaxError:" in line, line
    assert f"({errors}, line {original.count(chr(10)) + 2})" in line
    assert answers
    assert set(answers) == {"SERVING"}  # the old server answered all along

    (dev.copy / errors).write_text(original)
    line = watcher.cycle(errors)

    assert RESTARTED_OK.search(line), line
    assert dev.health() == "SERVING"

    # The list of resources, which the server imports only when it starts, is checked as well.
    registry = "service/resources.py"
    dev.edit(
        registry,
        "from __future__ import annotations\n",
        "from __future__ import annotations\n\nimport no_such_module\n",
    )
    line = watcher.cycle(registry)

    assert "kept the running server: the new code fails to import: " in line, line
    assert "ModuleNotFoundError: No module named 'no_such_module' (service/resources.py" in line
    assert dev.health() == "SERVING"

    dev.edit(registry, "\nimport no_such_module\n", "")
    assert watcher.cycle(registry).endswith(", ok")
    assert dev.health() == "SERVING"


def test_reports_a_server_that_exits_on_its_own(dev: DevLoop) -> None:
    # Code that ends the server's process with exit code 3 once a flag file appears.
    flag = dev.copy / "service" / "exit-now"
    exit_when_asked = (
        "\n\nimport os, pathlib, threading, time\n"
        "def _exit_when_asked() -> None:\n"
        f"    while not pathlib.Path({str(flag)!r}).exists():\n"
        # not a wait of the test's: the server's own loop, which ends it once told to
        "        time.sleep(0.01)\n"
        "    os._exit(3)\n"
        "threading.Thread(target=_exit_when_asked, daemon=True).start()\n"
    )
    errors = dev.copy / "service" / "errors.py"
    original = errors.read_text()
    errors.write_text(original + exit_when_asked)
    watcher = dev.start()
    assert watcher.cycle("start").endswith(", ok")

    flag.touch()
    line = watcher.wait_for("server exited")[-1]

    assert "server exited (exit 3); the next save starts it again" in line, line
    assert dev.health() == "UNAVAILABLE"

    flag.unlink()
    errors.write_text(original)
    line = watcher.cycle("service/errors.py")

    assert STARTED_OK.search(line), line
    assert dev.health() == "SERVING"


def test_serves_a_save_of_the_same_size_made_within_the_same_second(dev: DevLoop) -> None:
    """Python reuses a cached .pyc while its source has the same size and mtime in seconds."""
    errors = dev.copy / "service" / "errors.py"
    original = errors.read_text()
    mtime = errors.stat().st_mtime_ns

    def save(version: str) -> None:
        line = f"print('errors.py, version {version}', file=sys.stderr)"
        errors.write_text(f"{original}\nimport sys\n{line}\n")
        os.utime(errors, ns=(mtime, mtime))

    save("A")
    watcher = dev.start(PYTHONDONTWRITEBYTECODE="")  # caches written, as on most machines
    assert watcher.wait_for("errors.py, version")[-1] == "errors.py, version A"
    assert watcher.cycle("start").endswith(", ok")

    save("B")

    assert watcher.wait_for("errors.py, version")[-1] == "errors.py, version B"
    assert RESTARTED_OK.search(watcher.cycle("service/errors.py"))
