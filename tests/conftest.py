"""Test-session set-up shared by every suite."""

from __future__ import annotations

import pytest

from tools import codegen


def pytest_sessionstart(session: pytest.Session) -> None:
    """Tests import generated/: bring it up to date first (a no-op in milliseconds if it is)."""
    try:
        codegen.generate(codegen.ROOT / "protos", codegen.ROOT / "generated")
    except codegen.CodegenError as error:
        pytest.exit(f"make generate failed:\n{error}", returncode=1)
