"""A scratch project for the codegen tests: its own protos/ and generated/, real tools."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from tools import codegen

ROOT = codegen.ROOT


@dataclass(frozen=True)
class Project:
    root: Path

    @property
    def protos(self) -> Path:
        return self.root / "protos"

    @property
    def out(self) -> Path:
        return self.root / "generated"

    def write_proto(self, rel: str, text: str) -> Path:
        path = self.protos / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return path

    def generate(self) -> codegen.Result:
        return codegen.generate(self.protos, self.out)

    def snapshot(self) -> dict[str, tuple[bytes, int]]:
        """Every generated file with its bytes and mtime, caches aside."""
        return {
            p.relative_to(self.out).as_posix(): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in sorted(self.out.rglob("*"))
            if p.is_file() and "__pycache__" not in p.parts
        }


@pytest.fixture
def project(tmp_path: Path) -> Project:
    """A copy of this repository's protos/ and an empty generated/."""
    shutil.copytree(ROOT / "protos", tmp_path / "protos")
    return Project(tmp_path)
