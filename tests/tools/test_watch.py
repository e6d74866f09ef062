"""`make watch` (tools/watch.py) as a real process reacting to real file edits."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import pytest

from tests.tools.conftest import ROOT, Project

INVITATIONS = "invitations/v1/invitations.proto"


class Watcher:
    def __init__(self, project: Project) -> None:
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tools.watch",
                "--no-server",
                "--protos=protos",
                "--out=generated",
            ],
            cwd=project.root,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
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
    watcher = Watcher(project)
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
