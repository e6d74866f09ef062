"""`make watch` (tools/watch.py) as a real process reacting to real file edits."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.tools.conftest import ROOT, Project
from tools import probe

INVITATIONS = "invitations/v1/invitations.proto"


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
    path = project.protos / INVITATIONS
    semicolon = "" if broken else ";"
    text = path.read_text().replace(
        "message Invitation {", f"message Invitation {{\n  string {field} = {number}{semicolon}", 1
    )
    path.write_text(text)


def test_regenerates_on_edit_and_survives_a_broken_proto(
    project: Project, watcher: Watcher
) -> None:
    watcher.wait_for("watching")
    stub = project.out / "invitations/v1/invitations_pb2.pyi"
    assert stub.exists()

    add_field(project, "nickname", 20)
    lines = watcher.wait_for("ok")
    assert "invitations.proto: 2 written" in lines[-1]
    assert "nickname" in stub.read_text()

    add_field(project, "broken", 21, broken=True)
    lines = watcher.wait_for("protoc error")
    error_text = "\n".join(lines) + "\n" + watcher.wait_for("Expected")[-1]
    assert f"protos/{INVITATIONS}:" in error_text
    assert "broken" not in stub.read_text()
    assert watcher.process.poll() is None

    path = project.protos / INVITATIONS
    path.write_text(path.read_text().replace("string broken = 21", "string fixed = 21;"))
    watcher.wait_for("ok")
    assert "fixed" in stub.read_text()

    watcher.process.send_signal(signal.SIGINT)
    assert watcher.process.wait(10) == 0
    watcher.wait_for("stopped")


def test_ignores_files_that_are_not_protos(project: Project, watcher: Watcher) -> None:
    watcher.wait_for("watching")
    (project.protos / "notes.txt").write_text("not a proto")
    (project.out / "invitations/v1/extra.txt").write_text("in generated/")
    add_field(project, "nickname", 20)

    lines = watcher.wait_for("ok")

    assert len(lines) == 1  # one cycle, for the proto only
    assert "invitations.proto" in lines[0]


def test_restarts_the_dev_server_with_the_new_api(tmp_path: Path, database_url: str) -> None:
    """`make watch` in a copy of the repository: a proto edit reaches the running server."""
    copy = probe.copy_repository(tmp_path / "repo")
    port = probe.free_port()
    target = f"127.0.0.1:{port}"
    watcher = Watcher(copy, PORT=str(port), DATABASE_URL=database_url, REFLECTION="true")
    try:
        watcher.wait_for("watching protos, service")
        wait_until(lambda: probe.serving_with(target, "expire_time"))
        proto = copy / "protos" / INVITATIONS
        proto.write_text(
            proto.read_text().replace(
                "message Invitation {", "message Invitation {\n  string nickname = 20;"
            )
        )
        watcher.wait_for("server restarted")
        wait_until(lambda: probe.serving_with(target, "nickname"))

        errors = copy / "service" / "errors.py"
        errors.write_text(errors.read_text() + "\n")
        assert "service/errors.py: server restarted" in watcher.wait_for("server restarted")[-1]
        wait_until(lambda: probe.serving_with(target, "nickname"))
    finally:
        watcher.process.send_signal(signal.SIGINT)
        assert watcher.process.wait(30) == 0
    assert not probe.serving_with(target, "nickname")  # the server went with the watcher


def wait_until(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)
