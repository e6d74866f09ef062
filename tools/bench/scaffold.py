"""From `make resource` to the new resource's passing checks, with no hand edits between.

In a copy of this repository (sharing its .venv, with the type checker's cache copied so the
copy is as warm as a developer's checkout), on an empty scratch database of the local
PostgreSQL, each step is timed as the user runs it:

    make resource name=book_shelf plural=book_shelves
    make migrate && make migration m="add book shelves" && make migrate
    make lint && make typecheck
    pytest tests/book_shelves           (what `make test` runs for the new resource)

Printed per step, and the total, for each run.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tools import probe
from tools.codegen import ROOT

RUNS = int(os.environ.get("BENCH_SCAFFOLD_RUNS", "2"))


def _step(copy: Path, env: dict[str, str], *command: str) -> float:
    started = time.perf_counter()
    done = subprocess.run(command, cwd=copy, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(
            f"`{' '.join(command)}` failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}"
        )
    return elapsed


def _run(url: str, number: int) -> None:
    from tools.schema import drop_everything

    asyncio.run(drop_everything(url))
    with tempfile.TemporaryDirectory(prefix="bench-scaffold-") as folder:
        copy = probe.copy_repository(Path(folder) / "repo")
        (copy / ".venv").symlink_to(ROOT / ".venv")
        if (ROOT / ".mypy_cache").is_dir():
            shutil.copytree(ROOT / ".mypy_cache", copy / ".mypy_cache")
        env = {**os.environ, "DATABASE_URL": url, "TEST_DATABASE_URL": url}
        env.pop("MAKEFLAGS", None)
        make = ("make", "--no-print-directory")
        steps: dict[str, list[tuple[str, ...]]] = {
            "make resource": [(*make, "resource", "name=book_shelf", "plural=book_shelves")],
            "make migration + migrate": [
                (*make, "migrate"),
                (*make, "migration", "m=add book shelves"),
                (*make, "migrate"),
            ],
            "make lint": [(*make, "lint")],
            "make typecheck": [(*make, "typecheck")],
            "its tests": [
                (
                    sys.executable,
                    "-m",
                    "pytest",
                    "-q",
                    "-p",
                    "no:cacheprovider",
                    "tests/book_shelves",
                )
            ],
        }
        total = 0.0
        figures = []
        for name, commands in steps.items():
            elapsed = sum(_step(copy, env, *command) for command in commands)
            total += elapsed
            figures.append(f"{name} {elapsed:5.1f} s")
        print(f"  run {number}: total {total:5.1f} s   " + " | ".join(figures), flush=True)


def main() -> None:
    from service.db.local import local_postgres

    print("scaffold: make resource -> migration -> lint, mypy --strict, its tests (no hand edits)")
    with local_postgres("bench_scaffold") as url:
        for number in range(1, RUNS + 1):
            _run(url, number)
