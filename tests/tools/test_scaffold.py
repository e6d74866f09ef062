"""`make resource` and `make remove-resource` in a copy of this repository, with the make
targets a user runs, against a real PostgreSQL: no hand edits between the commands."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import ServerProcess
from tools import probe
from tools.codegen import ROOT
from tools.schema import drop_everything


def make(copy: Path, database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": database_url, "TEST_DATABASE_URL": database_url}
    env.pop("MAKEFLAGS", None)
    return subprocess.run(
        ["make", "--no-print-directory", *args],
        cwd=copy,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )


def python(copy: Path, database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args],
        cwd=copy,
        env={**os.environ, "DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def files(root: Path) -> set[str]:
    return {
        str(path.relative_to(root))
        for path in root.rglob("*")
        if path.is_file()
        and not any(part.endswith("_cache") for part in path.parts)
        and "__pycache__" not in path.parts
    }


@pytest.fixture
def copy(tmp_path: Path, scratch_url: str) -> Path:
    """A copy of the repository sharing this environment, on an empty scratch database."""
    asyncio.run(drop_everything(scratch_url))
    copy = probe.copy_repository(tmp_path / "repo")
    (copy / ".venv").symlink_to(ROOT / ".venv")
    return copy


def test_a_scaffolded_resource_migrates_passes_its_checks_and_serves(
    copy: Path, scratch_url: str
) -> None:
    added = make(copy, scratch_url, "resource", "name=book_shelf", "plural=book_shelves")
    assert added.returncode == 0, added.stderr
    assert 'make migration m="add book_shelves"' in added.stdout
    for written in ("queries.py", "storage.py", "sql.py"):  # its SQL, and as the server runs it
        assert f"service/book_shelves/{written}" in added.stdout
        assert (copy / "service" / "book_shelves" / written).is_file()

    assert make(copy, scratch_url, "migrate").returncode == 0
    migration = make(copy, scratch_url, "migration", "m=add book shelves")
    assert migration.returncode == 0, migration.stderr
    [revision] = (copy / "migrations" / "versions").glob("*add_book_shelves.py")
    upgrade, downgrade = revision.read_text().split("def downgrade")
    assert 'name="book_shelf_state"' in upgrade
    assert 'op.create_table(\n        "book_shelves"' in upgrade
    assert 'op.drop_table("book_shelves")' in downgrade
    migrated = make(copy, scratch_url, "migrate")
    assert migrated.returncode == 0, migrated.stderr

    lint = make(copy, scratch_url, "lint")
    assert lint.returncode == 0, lint.stdout + lint.stderr
    typecheck = make(copy, scratch_url, "typecheck")
    assert typecheck.returncode == 0, typecheck.stdout
    tests = python(
        copy, scratch_url, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/book_shelves"
    )
    assert tests.returncode == 0, tests.stdout[-3000:]
    assert " passed" in tests.stdout
    assert "failed" not in tests.stdout
    # Its sql.py is what its queries.py compiles to (as CI checks), and with it the server
    # still imports no SQLAlchemy.
    checked = python(copy, scratch_url, "-m", "tools.sql", "--check")
    assert checked.returncode == 0, checked.stderr
    imported = python(
        copy,
        scratch_url,
        "-c",
        "import sys, service.__main__, service.resources\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'sqlalchemy', 'alembic'}))",
    )
    assert imported.stdout.strip() == "[]", imported.stderr

    # What `make run` serves: the new service among the registered ones, answering JSON calls.
    server = ServerProcess(scratch_url, cwd=copy).start()
    try:
        call = [
            "-m",
            "service.client",
            "--target",
            server.target,
            "call",
            "book_shelves.v1.BookShelfService/CreateBookShelf",
        ]
        created = python(copy, scratch_url, *call, '{"bookShelf": {"displayName": "Poetry"}}')
        assert created.returncode == 0, created.stderr
        shelf = json.loads(created.stdout)
        assert shelf["display_name"] == "Poetry"
        assert shelf["state"] == "BOOK_SHELF_STATE_ACTIVE"
        assert shelf["name"].startswith("bookShelves/")
        bad = python(copy, scratch_url, *call, '{"bookShelf": {}}')
        assert bad.returncode == 1
        assert "INVALID_ARGUMENT" in bad.stderr
        assert "book_shelf.display_name: is required" in bad.stderr
    finally:
        server.stop_cleanly()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["name=BookShelf"], "snake_case"),
        (["name=1shelf"], "snake_case"),
        (["name=class"], "reserved"),
        (["name=sheep", "plural=sheep"], "must differ"),
        ([], "usage: make resource"),
    ],
)
def test_a_name_that_exists_or_is_not_an_identifier_is_refused(
    copy: Path, scratch_url: str, args: list[str], message: str
) -> None:
    before = files(copy)

    refused = make(copy, scratch_url, "resource", *args)

    assert refused.returncode == 2
    assert message in refused.stdout + refused.stderr
    assert files(copy) == before


def test_remove_then_add_again_restores_the_same_files(copy: Path, scratch_url: str) -> None:
    before = files(copy)
    assert make(copy, scratch_url, "resource", "name=shelf_item").returncode == 0
    written = {path: (copy / path).read_text() for path in files(copy) - before}
    again = make(copy, scratch_url, "resource", "name=shelf_item")
    assert again.returncode == 2
    assert "shelf_items exists already: protos/shelf_items, service/shelf_items" in again.stderr
    assert {path: (copy / path).read_text() for path in written} == written
    registry = (copy / "service" / "resources.py").read_text()
    assert "service.shelf_items.resource import RESOURCE as SHELF_ITEMS" in registry

    removed = make(copy, scratch_url, "remove-resource", "name=shelf_item")

    assert removed.returncode == 0, removed.stderr
    assert 'make migration m="remove shelf_items"' in removed.stdout
    for folder in ("protos", "service", "tests", "generated"):
        assert not (copy / folder / "shelf_items").exists()
    assert (copy / "service" / "resources.py").read_text() == (
        ROOT / "service" / "resources.py"
    ).read_text()
    assert make(copy, scratch_url, "resource", "name=shelf_item").returncode == 0
    assert {path: (copy / path).read_text() for path in written} == written


@pytest.mark.timeout(1500)  # the whole remaining suite runs inside: minutes, not seconds
def test_without_the_example_the_remaining_suite_passes(tmp_path: Path) -> None:
    """The promise of `make remove-resource`: the template's own checks do not need
    invitations. In a copy, on its own local PostgreSQL (no DATABASE_URL: as a new user)."""
    copy = probe.copy_repository(tmp_path / "repo")
    (copy / ".venv").symlink_to(ROOT / ".venv")
    # As a new user: no database settings, and not measured by this run's coverage.
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "TEST_DATABASE_URL") and not k.startswith("COVERAGE_")
    }
    env.pop("MAKEFLAGS", None)

    def run(*command: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            command, cwd=copy, env=env, capture_output=True, text=True, check=False, timeout=1500
        )
        assert done.returncode == 0, f"{command}: {done.stdout[-4000:]}{done.stderr[-4000:]}"
        return done

    removed = run("make", "--no-print-directory", "remove-resource", "name=invitation")
    assert "Still importing it" not in removed.stdout
    for folder in ("protos", "service", "tests", "generated"):
        assert not (copy / folder / "invitations").exists()

    run("make", "--no-print-directory", "migration", "m=remove invitations")
    [revision] = (copy / "migrations" / "versions").glob("*remove_invitations.py")
    upgrade, downgrade = revision.read_text().split("def downgrade")
    assert 'op.drop_table("invitations")' in upgrade
    assert 'name="invitation_status"' in upgrade
    assert 'op.create_table(\n        "invitations"' in downgrade
    run("make", "--no-print-directory", "migrate")
    run("git", "init", "--quiet")  # as the user's own repository (tests read `git ls-files`)
    run("git", "add", "--all")
    run("make", "--no-print-directory", "lint")
    run("make", "--no-print-directory", "typecheck")
    # Everything else in the suite, this test aside (it would run itself again).
    suite = run(
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "--deselect",
        "tests/tools/test_scaffold.py::test_without_the_example_the_remaining_suite_passes",
    )
    assert " passed" in suite.stdout
    assert " failed" not in suite.stdout
    assert " error" not in suite.stdout
