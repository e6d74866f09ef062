"""The forge's workflows (.github/workflows/), checked offline: `make lint` runs
`python -m tools.workflows`.

- zizmor's offline audits (`--offline`, settings in .github/zizmor.yml): among them a missing
  `permissions:` block (excessive-permissions), `${{ ... }}` expanded into a `run:` script
  (template-injection) and actions not pinned by a full commit SHA (unpinned-uses). The audits
  that ask GitHub's API (impostor-commit, ref-confusion, known-vulnerable-actions,
  stale-action-refs, ref-version-mismatch) are skipped.
- check-jsonschema with its built-in schema of GitHub workflows (`vendor.github-workflows`):
  misspelt keys, wrong types, values a workflow cannot take.

Both run side by side, from this environment's bin/ (pinned in requirements/dev.txt). No
.github/workflows/ (a project on another forge): nothing to check.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = Path(".github") / "workflows"
ZIZMOR_CONFIG = Path(".github") / "zizmor.yml"
SCHEMA = "vendor.github-workflows"


class Report(NamedTuple):
    """The outcome of the check: whether it passed, and what to print (empty when clean)."""

    ok: bool
    text: str


def workflows(root: Path = ROOT) -> list[Path]:
    """The workflow files, relative to root."""
    folder = root / WORKFLOWS
    found = [*folder.glob("*.yml"), *folder.glob("*.yaml")] if folder.is_dir() else []
    return sorted(path.relative_to(root) for path in found)


def commands(root: Path = ROOT) -> list[list[str]]:
    """The linters, each a command line run from root: zizmor, then check-jsonschema."""
    files = [str(path) for path in workflows(root)]
    if not files:
        return []
    bin_ = Path(sys.executable).parent
    config = ["--config", str(ZIZMOR_CONFIG)] if (root / ZIZMOR_CONFIG).is_file() else []
    zizmor = [str(bin_ / "zizmor"), "--offline", "--quiet", "--no-progress", "--color=never"]
    schema = [str(bin_ / "check-jsonschema"), "--builtin-schema", SCHEMA]
    return [[*zizmor, *config, *files], [*schema, *files]]


def check(root: Path = ROOT) -> Report:
    """Every linter over every workflow, side by side; their findings when any fails."""
    # A finding, or a file zizmor cannot read, is reported without a Rust backtrace.
    env = {**os.environ, "RUST_LIB_BACKTRACE": "0"}
    started = [
        subprocess.Popen(
            command, cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        for command in commands(root)
    ]
    ok, parts = True, []
    for process in started:
        output, _ = process.communicate()
        if process.returncode:
            ok = False
            parts.append(output.strip())
    return Report(ok, "\n".join(part for part in parts if part))


def main() -> int:
    report = check()
    if report.text:
        print(report.text, file=sys.stdout if report.ok else sys.stderr)
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
