"""`make generate`'s SQL step (tools/sql.py): each resource's queries.py compiled into the
committed sql.py the server runs, only when something changed, and the server without
SQLAlchemy. A resource of this test's own, in a scratch copy, so the template keeps it without
the example resource."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.tools.conftest import ROOT

DOMAIN = '''"""Things."""

import dataclasses
import uuid


@dataclasses.dataclass(frozen=True)
class Thing:
    id: uuid.UUID
    name: str
'''

QUERIES = '''"""The things' statements."""

import uuid

from sqlalchemy import bindparam, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from service.db.queries import Query, variants
from service.sqltest.domain import Thing


class _Base(DeclarativeBase):
    pass


class Table(_Base):
    __tablename__ = "sqltest_things"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    name: Mapped[str]


GET = Query(select(Table.id, Table.name).where(Table.id == bindparam("id")), Thing)


@variants(by_name=(False, True))
def find(by_name: bool) -> Query[Thing]:
    statement = select(Table.id, Table.name)
    if by_name:
        statement = statement.where(Table.name == bindparam("name"))
    return Query(statement, Thing)
'''


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the repository's service/ and generated/, with a resource `sqltest` added."""
    for folder in ("service", "generated"):
        shutil.copytree(
            ROOT / folder, tmp_path / folder, ignore=shutil.ignore_patterns("__pycache__")
        )
    (tmp_path / "tools").mkdir()
    for name in ("__init__.py", "sql.py"):
        shutil.copy(ROOT / "tools" / name, tmp_path / "tools" / name)
    shutil.copy(ROOT / "pyproject.toml", tmp_path)  # ruff's settings, for the formatting
    resource = tmp_path / "service" / "sqltest"
    resource.mkdir()
    (resource / "__init__.py").write_text('"""Things."""\n')
    (resource / "resource.py").write_text('"""Not served: the SQL step looks for the file."""\n')
    (resource / "domain.py").write_text(DOMAIN)
    (resource / "queries.py").write_text(QUERIES)
    return tmp_path


def run(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Python in `root`, as on a developer's machine: CI=true makes every run a --check."""
    env = {key: value for key, value in os.environ.items() if key != "CI"}
    return subprocess.run(
        [sys.executable, *args],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_a_resource_s_queries_compile_into_its_sql_py_which_runs_without_sqlalchemy(
    project: Path,
) -> None:
    output = project / "service" / "sqltest" / "sql.py"

    done = run(project, "-m", "tools.sql")

    assert done.returncode == 0, done.stderr
    assert "service/sqltest/sql.py" in done.stdout
    text = output.read_text()
    assert "WHERE sqltest_things.id = $1::UUID" in text
    assert "def find(by_name: bool) -> Statement[Thing]:" in text
    check = (
        "import sys, uuid\n"
        "from service.sqltest.sql import GET, find\n"
        "thing = GET.row((uuid.UUID(int=1), 'a'))\n"
        "print(thing.name, find(True).sql.count('$1'), find(False).sql.count('$1'))\n"
        "print(sorted(m for m in sys.modules if m.startswith('sqlalchemy')))\n"
    )
    ran = run(project, "-c", check)
    assert ran.stdout.splitlines() == ["a 1 0", "[]"], ran.stderr


def test_nothing_is_compiled_or_imported_when_nothing_changed(project: Path) -> None:
    assert run(project, "-m", "tools.sql").returncode == 0
    output = project / "service" / "sqltest" / "sql.py"
    written = output.stat().st_mtime_ns

    again = run(
        project,
        "-c",
        "import sys\nfrom tools import sql\nprint(sql.generate())\n"
        "print('sqlalchemy' in sys.modules)\n",
    )

    assert again.stdout.splitlines() == ["[]", "False"], again.stderr
    assert output.stat().st_mtime_ns == written


def compiled_then_edited(project: Path) -> tuple[Path, str]:
    """sqltest's sql.py, compiled, and its text, before its queries.py's GET changes."""
    assert run(project, "-m", "tools.sql").returncode == 0
    output = project / "service" / "sqltest" / "sql.py"
    before = output.read_text()
    queries = project / "service" / "sqltest" / "queries.py"
    queries.write_text(QUERIES.replace("(Table.id == bindparam", "(Table.name == bindparam"))
    return output, before


def test_a_stale_sql_py_is_named_by_check_and_rewritten_by_generate(project: Path) -> None:
    output, before = compiled_then_edited(project)

    check = run(project, "-m", "tools.sql", "--check")

    assert check.returncode == 1
    assert "service/sqltest/sql.py" in check.stderr
    assert "make generate" in check.stderr
    assert output.read_text() == before  # --check writes nothing
    assert run(project, "-m", "tools.sql").returncode == 0
    assert "WHERE sqltest_things.name = $1::VARCHAR" in output.read_text()
    assert run(project, "-m", "tools.sql", "--check").returncode == 0


def test_in_ci_a_stale_sql_py_fails_instead_of_being_rewritten(project: Path) -> None:
    output, before = compiled_then_edited(project)

    ci = subprocess.run(
        [sys.executable, "-m", "tools.sql"],
        cwd=project,
        env={**os.environ, "CI": "true"},
        capture_output=True,
        text=True,
        check=False,
    )

    assert ci.returncode == 1
    assert "service/sqltest/sql.py" in ci.stderr
    assert "commit it" in ci.stderr
    assert output.read_text() == before


def test_a_field_that_does_not_fit_its_column_fails_the_compile_and_keeps_sql_py(
    project: Path,
) -> None:
    assert run(project, "-m", "tools.sql").returncode == 0
    output = project / "service" / "sqltest" / "sql.py"
    before = output.read_text()
    domain = project / "service" / "sqltest" / "domain.py"
    domain.write_text(DOMAIN.replace("name: str", "name: int"))

    done = run(project, "-m", "tools.sql")

    assert done.returncode != 0
    assert "Thing.name is <class 'int'>, and its column holds str" in done.stderr
    assert output.read_text() == before


def test_the_committed_sql_files_are_what_their_queries_compile_to() -> None:
    done = run(ROOT, "-m", "tools.sql", "--check")

    assert done.returncode == 0, done.stderr


def test_the_server_imports_neither_sqlalchemy_nor_pydantic() -> None:
    # They were about 40% and 15% of a start-up (docs/benchmarks.md).
    heavy = "{'sqlalchemy', 'alembic', 'pydantic', 'pydantic_settings'}"
    code = (
        "import sys\nimport service.__main__, service.resources\n"
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & {heavy}))\n"
    )
    done = run(ROOT, "-c", code)

    assert done.stdout.strip() == "[]", done.stderr
