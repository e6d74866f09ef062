"""`make rename`: a copy of this repository's tracked files, renamed for real and read back."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.deploy.manifests import base_resources, documents, kubernetes, label, validate
from tools.rename import EXAMPLE, ROOT, Spellings, project_name

CURRENT = project_name()
# Two names the project does not have yet (it may already be called one of these).
NEW, AGAIN = [n for n in ("billing-service", "payments-api", "orders-api") if n != CURRENT][:2]


def git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=root, check=True, capture_output=True, text=True
    ).stdout


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    """This repository's tracked files, tracked again in a repository of their own."""
    root = tmp_path / "repo"
    for relative in filter(None, git(ROOT, "ls-files", "-z").split("\0")):
        if (ROOT / relative).is_file():
            (root / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / relative, root / relative)
    git(root, "init", "--quiet")
    git(root, "add", "--all")
    return root


def rename(root: Path, name: str) -> subprocess.CompletedProcess[str]:
    """`make rename name=...` in root, with that checkout's own tool."""
    return subprocess.run(
        [sys.executable, "-m", "tools.rename", name],
        check=False,
        cwd=root,
        capture_output=True,
        text=True,
        timeout=60,
    )


def tracked(root: Path) -> dict[str, bytes]:
    return {
        relative: (root / relative).read_bytes()
        for relative in filter(None, git(root, "ls-files", "-z").split("\0"))
    }


# Where an old name is deliberately kept: the rename's own files, and lines showing
# `make rename name=...`, whose names are examples.
KEPT = {"tools/rename.py", "tests/tools/test_rename.py"}


def naming(root: Path, name: str) -> set[str]:
    """The tracked files that still hold `name`, in either spelling, outside what is KEPT."""
    pattern = Spellings.of(name).in_text()
    return {
        relative
        for relative, data in tracked(root).items()
        if relative not in KEPT
        and any(
            pattern.search(line) and not EXAMPLE.search(line)
            for line in data.decode(errors="replace").splitlines()
        )
    }


def listed_as_changed(output: str) -> set[str]:
    return {line.strip() for line in output.splitlines() if line.startswith("  ")}


def test_renames_every_file_that_named_the_project(copy: Path) -> None:
    before = naming(copy, CURRENT)

    result = rename(copy, NEW)

    assert result.returncode == 0, result.stderr
    assert f"renamed {CURRENT} -> {NEW} in" in result.stdout
    changed = set(git(copy, "diff", "--name-only").split())
    assert listed_as_changed(result.stdout) == changed
    assert naming(copy, CURRENT) == set()  # nothing keeps the old name
    assert changed == before  # and nothing else was touched
    assert {"pyproject.toml", "compose.yaml", "README.md"} <= changed
    assert project_name(copy) == NEW
    assert "deploy/kubernetes/base/deployment.yaml" in changed


def test_the_image_tag_follows_pyproject(copy: Path) -> None:
    assert rename(copy, NEW).returncode == 0

    image = subprocess.run(
        [sys.executable, "-c", "from tools.image import IMAGE; print(IMAGE)"],
        cwd=copy,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()

    assert image == f"{NEW}:dev"


def test_renamed_manifests_are_still_valid_and_name_the_project(copy: Path) -> None:
    assert rename(copy, NEW).returncode == 0

    resources = base_resources(copy)
    for resource in resources:
        validate(resource)
    assert {label(r) for r in resources} >= {f"Deployment/{NEW}", f"Job/{NEW}-migrate"}
    production = documents(kubernetes(copy) / "overlays" / "production" / "kustomization.yaml")
    assert production[0]["namespace"] == NEW
    [deployment] = [r for r in resources if r["kind"] == "Deployment"]
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    secrets = {e["valueFrom"]["secretKeyRef"]["name"] for e in container["env"] if "valueFrom" in e}
    assert secrets == {f"{NEW}-database", f"{NEW}-page-tokens"}


def test_compose_still_parses_and_names_the_project(copy: Path) -> None:
    assert rename(copy, NEW).returncode == 0

    compose = yaml.safe_load((copy / "compose.yaml").read_text())

    assert compose["name"] == NEW
    assert compose["services"]["service"]["image"] == f"{NEW}:dev"
    database = Spellings.of(NEW).snake
    assert compose["services"]["postgres"]["environment"]["POSTGRES_DB"] == database
    assert (
        f"@postgres:5432/{database}"
        in compose["services"]["service"]["environment"]["DATABASE_URL"]
    )


def test_requirements_name_the_project_as_make_lock_would(copy: Path) -> None:
    assert rename(copy, NEW).returncode == 0

    for requirements in ("runtime", "codegen", "dev"):
        text = (copy / "requirements" / f"{requirements}.txt").read_text()
        assert f"{NEW} (pyproject.toml)" in text, requirements


def test_renaming_to_the_current_name_changes_nothing(copy: Path) -> None:
    assert rename(copy, NEW).returncode == 0
    before = tracked(copy)
    times = {p: (copy / p).stat().st_mtime_ns for p in before}

    result = rename(copy, NEW)

    assert result.returncode == 0, result.stderr
    assert result.stdout == f"{NEW} is already the project's name: nothing changed\n"
    assert tracked(copy) == before
    assert {p: (copy / p).stat().st_mtime_ns for p in before} == times


def test_renames_again(copy: Path) -> None:
    assert rename(copy, NEW).returncode == 0

    result = rename(copy, AGAIN)

    assert result.returncode == 0, result.stderr
    assert f"renamed {NEW} -> {AGAIN} in" in result.stdout
    assert project_name(copy) == AGAIN
    assert naming(copy, NEW) == set()
    assert naming(copy, CURRENT) == set()
    for resource in base_resources(copy):
        validate(resource)
        assert resource["metadata"]["name"].startswith(AGAIN), label(resource)


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("Billing_Service", "'B' 'S' '_'"),
        ("1abc", "start with a letter"),
        ("", "empty"),
        ("b", "1 characters long"),
        ("a" * 41, "41 characters long"),
        ("-billing", "start with a letter"),
        ("billing-", "hyphens go between words"),
        ("billing--service", "hyphens go between words"),
    ],
)
def test_refuses_an_invalid_name_and_changes_nothing(copy: Path, name: str, reason: str) -> None:
    before = tracked(copy)

    result = rename(copy, name)

    assert result.returncode == 2
    assert f"{name!r} cannot be the project's name" in result.stderr
    assert reason in result.stderr
    assert "billing-service" in result.stderr  # an example of a good one
    assert result.stdout == ""
    assert tracked(copy) == before


@pytest.mark.parametrize("name", ["service", "invitations"])
def test_refuses_a_name_that_already_stands_for_something_else(copy: Path, name: str) -> None:
    """Otherwise the next rename would rename the `service` package's imports too."""
    before = tracked(copy)

    result = rename(copy, name)

    assert result.returncode == 2
    assert f"{name!r} already stands for something else in" in result.stderr
    assert tracked(copy) == before


@pytest.mark.parametrize("spelling", ["kebab", "title"])
def test_the_readme_title_follows_when_it_names_the_project(copy: Path, spelling: str) -> None:
    readme = copy / "README.md"
    title = getattr(Spellings.of(CURRENT), spelling)
    rest = readme.read_text().split("\n", 1)[1]
    readme.write_text(f"# {title}\n{rest}")

    assert rename(copy, NEW).returncode == 0

    expected = getattr(Spellings.of(NEW), spelling)
    assert readme.read_text().split("\n", 1)[0] == f"# {expected}"


def test_lines_showing_make_rename_keep_their_example(copy: Path) -> None:
    readme = copy / "README.md"
    example = f"To rename the project: `make rename name={NEW}`.\n"
    readme.write_text(readme.read_text() + example)
    git(copy, "add", "README.md")

    assert rename(copy, NEW).returncode == 0  # the example is no clash
    assert rename(copy, AGAIN).returncode == 0

    assert readme.read_text().endswith(example)


def test_a_one_word_name_keeps_identifiers_valid(copy: Path) -> None:
    """ledger becomes payments-api in names, payments_api next to an underscore."""
    assert rename(copy, "ledger").returncode == 0
    module = copy / "service" / "naming.py"
    module.write_text('METRIC_PREFIX = "ledger_"\nledger_requests = 0\n')
    git(copy, "add", "service/naming.py")

    assert rename(copy, "payments-api").returncode == 0

    assert module.read_text() == 'METRIC_PREFIX = "payments_api_"\npayments_api_requests = 0\n'
    assert yaml.safe_load((copy / "compose.yaml").read_text())["name"] == "payments-api"
