"""The forge's CI and the git hooks: .github/workflows/ci.yml, .ci/install and .ci/run,
.pre-commit-config.yaml, and the offline checks of the workflows that `make lint` runs
(tools/workflows.py: zizmor and check-jsonschema), on the shipped files and on broken copies."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.tools.conftest import ROOT, sample_project
from tools import api, workflows

WORKFLOW = ROOT / ".github" / "workflows" / "ci.yml"
CHECKOUT = re.compile(r"actions/checkout@[0-9a-f]{40} # v[0-9.]+")


def load_workflow(path: Path = WORKFLOW) -> dict[str, Any]:
    loaded = yaml.safe_load(path.read_text())
    assert isinstance(loaded, dict)
    # YAML 1.1 reads the key `on` as True.
    loaded["on"] = loaded.pop(True, loaded.get("on"))
    return loaded


def run_lines(job: dict[str, Any]) -> list[str]:
    return [line for step in job["steps"] for line in str(step.get("run", "")).splitlines()]


def broken_copy(tmp_path: Path, *changes: tuple[str, str]) -> Path:
    """The repository's .github/ in tmp_path, its workflow edited."""
    shutil.copytree(ROOT / ".github", tmp_path / ".github")
    path = tmp_path / ".github" / "workflows" / "ci.yml"
    text = path.read_text()
    for old, new in changes:
        assert re.search(old, text, re.MULTILINE), old
        text = re.sub(old, new, text, count=1, flags=re.MULTILINE)
    path.write_text(text)
    return tmp_path


def test_the_shipped_workflows_pass_every_check() -> None:
    assert [path.name for path in workflows.workflows(ROOT)] == ["ci.yml"]
    assert [Path(command[0]).name for command in workflows.commands(ROOT)] == [
        "zizmor",
        "check-jsonschema",
    ]
    assert workflows.check(ROOT) == workflows.Report(True, "")


def test_make_lint_and_the_hooks_run_the_workflows_check() -> None:
    makefile = (ROOT / "Makefile").read_text()
    lint = makefile.split("\nlint:", 1)[1].split("\n\n", 1)[0]
    assert "$(BIN)/python -m tools.workflows" in lint
    hooks = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())
    entries = {hook["id"]: hook["entry"] for repo in hooks["repos"] for hook in repo["hooks"]}
    assert entries["workflows"] == ".venv/bin/python -m tools.workflows"
    assert all(repo["repo"] == "local" for repo in hooks["repos"])  # nothing to download


# Each: an edit of the shipped workflow that a check must refuse, and what it says.
BROKEN = {
    "an action pinned by a tag, not a commit": (
        [(CHECKOUT.pattern, "actions/checkout@v4")],
        ["unpinned-uses", "action is not pinned to a hash"],
    ),
    "an attacker's text expanded into a script": (
        [
            (
                r"^        run: make test$",
                '        run: echo "${{ github.event.pull_request.title }}"',
            )
        ],
        ["template-injection", "may expand into attacker-controllable code"],
    ),
    "no permissions block": (
        [(r"^permissions:\n  contents: read\n", "")],
        ["excessive-permissions", "default permissions used due to no permissions: block"],
    ),
    "a misspelt key": (
        [(r"^    runs-on: ", "    runs_on: ")],
        ["Schema validation errors were encountered", "'runs-on' is a required property"],
    ),
}


@pytest.mark.parametrize("case", BROKEN)
def test_a_broken_workflow_fails_with_the_linters_message(tmp_path: Path, case: str) -> None:
    changes, messages = BROKEN[case]
    root = broken_copy(tmp_path, *changes)

    report = workflows.check(root)

    assert not report.ok
    for message in messages:
        assert message in report.text, report.text


def test_the_three_classic_mistakes_at_once_are_each_reported(tmp_path: Path) -> None:
    folder = tmp_path / ".github" / "workflows"
    folder.mkdir(parents=True)
    (folder / "ci.yml").write_text(
        "name: ci\n"
        "on: [pull_request]\n"
        "jobs:\n"
        "  test:\n"
        "    runs-on: ubuntu-24.04\n"
        "    steps:\n"
        "      - uses: actions/checkout@v4\n"
        "        with:\n"
        "          persist-credentials: false\n"
        '      - run: echo "${{ github.event.pull_request.title }}"\n'
    )

    report = workflows.check(tmp_path)

    assert not report.ok
    for audit in ["unpinned-uses", "template-injection", "excessive-permissions"]:
        assert f"[{audit}]" in report.text, report.text


def test_no_workflows_nothing_to_check(tmp_path: Path) -> None:
    assert workflows.commands(tmp_path) == []
    assert workflows.check(tmp_path) == workflows.Report(True, "")


def commands_of_ci_run() -> list[str]:
    lines = (ROOT / ".ci" / "run").read_text().splitlines()
    return [line.split("#", 1)[0].strip() for line in lines if line.split("#", 1)[0].strip()]


def test_the_workflow_and_ci_run_install_and_test_alike() -> None:
    steps = run_lines(load_workflow()["jobs"]["test"])
    ci_run = commands_of_ci_run()
    shared = [".ci/install", "make test"]

    assert [line for line in steps if line in shared] == shared
    assert [line for line in ci_run if line in shared] == shared
    # The installs live in the script alone.
    assert not [line for line in [*steps, *ci_run] if "apt-get" in line]
    assert "apt-get install" in (ROOT / ".ci" / "install").read_text()


def test_the_install_script_installs_nothing_twice() -> None:
    text = (ROOT / ".ci" / "install").read_text()
    packages = re.search(r"^PACKAGES=\((.*)\)$", text, re.MULTILINE)
    assert packages is not None
    assert shlex.split(packages.group(1)) == [
        "podman",
        "runc",
        "slirp4netns",
        "mmdebstrap",
        "uidmap",
    ]
    assert "dpkg-query" in text  # what is installed already is skipped
    assert "sudo" in text  # and another user than root goes through sudo


def test_least_privilege_and_only_a_tag_of_the_repository_itself_publishes() -> None:
    workflow = load_workflow()
    assert set(workflow["on"]) == {"push", "pull_request"}
    assert workflow["permissions"] == {"contents": "read"}
    assert workflow["concurrency"]["cancel-in-progress"] is True
    jobs = workflow["jobs"]
    writers = [name for name, job in jobs.items() if "packages" in job.get("permissions", {})]
    assert writers == ["publish"]
    assert jobs["publish"]["permissions"] == {"contents": "read", "packages": "write"}
    guard = jobs["publish"]["if"]
    assert "github.event_name == 'push'" in guard
    assert "startsWith(github.ref, 'refs/tags/')" in guard
    assert "!github.event.repository.fork" in guard
    assert "vars.IMAGE_REGISTRY != ''" in guard  # off until the repository names its registry
    for name, job in jobs.items():
        assert job["timeout-minutes"] <= 60, name
        # Values of the event reach scripts through env:, never spliced into them.
        assert not [line for line in run_lines(job) if "${{" in line], name


def test_every_action_is_pinned_by_a_commit_with_its_version() -> None:
    uses = [line.strip() for line in WORKFLOW.read_text().splitlines() if "uses:" in line]
    assert uses
    for line in uses:
        assert re.fullmatch(r"- uses: [\w.-]+/[\w.-]+@[0-9a-f]{40} # v\d+(\.\d+)*", line), line


def git(root: Path, *args: str) -> str:
    env = {key: value for key, value in os.environ.items() if not key.startswith("GIT_")}
    identity = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com"}
    identity |= {"GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}
    done = subprocess.run(
        ["git", *args],
        cwd=root,
        env=env | identity,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def test_a_pull_request_is_checked_against_its_target_branch(tmp_path: Path) -> None:
    project = sample_project(tmp_path)
    shutil.copy(ROOT / "buf.yaml", tmp_path / "buf.yaml")
    api.release(tmp_path)
    git(tmp_path, "init", "--quiet", "--initial-branch", "main")
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "--quiet", "-m", "released")
    git(tmp_path, "switch", "--quiet", "-c", "feature")
    proto = project.protos / "samples" / "v1" / "samples.proto"
    proto.write_text(proto.read_text().replace("string title = 2;", "string heading = 2;"))
    git(tmp_path, "commit", "--quiet", "-am", "a renamed field")

    report = api.against("main", tmp_path)
    assert not report.ok
    assert 'changed name from "title" to "heading"' in report.text
    assert api.SAFELY in report.text
    assert api.against("feature", tmp_path) == api.Report(True, "")

    # A branch that records its break as a new release (make api-release) passes, as make lint.
    api.release(tmp_path)
    git(tmp_path, "commit", "--quiet", "-am", "released again")
    report = api.against("main", tmp_path)
    assert report.ok
    assert "a new release" in report.text


def test_protos_with_constraints_are_compared_as_protoc_compiles_them(tmp_path: Path) -> None:
    """buf cannot find buf/validate/validate.proto among a branch's sources: both sides are
    compiled by protoc, and the findings still name files under protos/."""
    project = sample_project(tmp_path)
    shutil.copy(ROOT / "buf.yaml", tmp_path / "buf.yaml")
    proto = project.write_proto(
        "checked/v1/checked.proto",
        'syntax = "proto3";\n\npackage checked.v1;\n\nimport "buf/validate/validate.proto";\n\n'
        "message Checked {\n  string code = 1 [(buf.validate.field).string.max_len = 8];\n}\n",
    )
    api.release(tmp_path)
    git(tmp_path, "init", "--quiet", "--initial-branch", "main")
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "--quiet", "-m", "released")
    git(tmp_path, "switch", "--quiet", "-c", "feature")
    proto.write_text(proto.read_text().replace("string code = 1", "bytes code = 1"))
    git(tmp_path, "commit", "--quiet", "-am", "a changed type")

    report = api.against("main", tmp_path)

    assert not report.ok
    assert 'protos/checked/v1/checked.proto:8:3:Field "1" with name "code"' in report.text
    assert api.against("feature", tmp_path) == api.Report(True, "")


def test_a_target_branch_with_no_protos_has_nothing_to_compare(tmp_path: Path) -> None:
    git(tmp_path, "init", "--quiet", "--initial-branch", "main")
    (tmp_path / "README.md").write_text("nothing yet\n")
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "--quiet", "-m", "empty")
    sample_project(tmp_path)
    shutil.copy(ROOT / "buf.yaml", tmp_path / "buf.yaml")

    report = api.against("main", tmp_path)

    assert report == api.Report(True, "main has no protos: nothing to compare")


def fresh_copy(root: Path) -> Path:
    """The repository's files (tracked, and new ones not ignored) in a new git repository at
    root, sharing this checkout's .venv; mtimes kept, so make sees the environment in sync."""
    listed = git(ROOT, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
    for rel in sorted(set(listed.split("\0")) - {""}):
        source = ROOT / rel
        if source.is_file():
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, root / rel, follow_symlinks=False)
    (root / ".venv").symlink_to(ROOT / ".venv")
    # mypy's cache, only to spare the copy a cold half-minute run: it is keyed on contents.
    if (ROOT / ".mypy_cache").is_dir():
        shutil.copytree(ROOT / ".mypy_cache", root / ".mypy_cache")
    git(root, "init", "--quiet")
    git(root, "add", "-A")
    return root


def test_pre_commit_passes_on_a_fresh_copy_after_make_hooks(tmp_path: Path) -> None:
    root = fresh_copy(tmp_path / "copy")
    # A new user's shell: not inside this run's make, git or coverage.
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("GIT_", "COVERAGE_")) and key not in ("MAKEFLAGS", "MAKELEVEL")
    }
    env["PRE_COMMIT_HOME"] = str(tmp_path / "pre-commit")  # local hooks: nothing lands there

    hooks = subprocess.run(
        ["make", "--no-print-directory", "hooks"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert hooks.returncode == 0, hooks.stdout + hooks.stderr
    assert "pre-commit installed at .git/hooks/pre-commit" in hooks.stdout
    assert (root / ".git" / "hooks" / "pre-commit").is_file()

    run = subprocess.run(
        [str(root / ".venv" / "bin" / "pre-commit"), "run", "--all-files", "--color=never"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )

    assert run.returncode == 0, run.stdout + run.stderr
    passed = {line.split(".", 1)[0] for line in run.stdout.splitlines() if line.endswith("Passed")}
    assert passed == {
        "ruff check",
        "ruff format",
        "mypy --strict",
        "hadolint",
        "buf (format, lint, breaking)",
        "workflows (zizmor, check-jsonschema)",
    }
    assert not git(root, "diff", "--name-only").strip()  # no hook rewrote a file
