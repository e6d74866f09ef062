"""`make generate`'s second step: each resource's queries.py compiled into its sql.py.

For every `service/<resource>/queries.py`, this imports it and writes `service/<resource>/sql.py`
(service/db/queries.py renders it): a Statement per Query, and a function per `variants`. The
server runs those and never imports SQLAlchemy (service/db/statements.py says why).

sql.py is committed, like a migration: the SQL the server runs is read in review, and the image
needs nothing else. In CI, a sql.py that is not what its queries.py compiles to fails the run.

Only when something changed. Compiling imports SQLAlchemy (~0.5 s), so a run first hashes what
the output can depend on (every .py under service/ but the sql.py files, and the generated
enums) and compares it with generated/.sql.json, written by the last run that compiled; equal,
it is done in a few milliseconds. `--check` compiles whatever the hash says, writes nothing and
exits 1 naming each sql.py that is not current; so does a run with CI=true, which checks what
was committed rather than fixing it. `make watch`'s spare server (tools/spare.py)
runs this before it imports the service, with SQLAlchemy already imported.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = "sql.py"


def sources(root: Path = ROOT) -> list[Path]:
    """Each resource's queries.py (a package of service/ with a resource.py), in name order."""
    return sorted(
        p for p in (root / "service").glob("*/queries.py") if p.with_name("resource.py").exists()
    )


def is_output(path: Path) -> bool:
    """Whether this is a file this module writes (tools/watch.py does not react to them)."""
    return path.name == OUTPUT and all(
        path.with_name(name).exists() for name in ("queries.py", "resource.py")
    )


def inputs_hash(root: Path = ROOT) -> str:
    """A hash of every file a compiled module can depend on."""
    digest = hashlib.sha256()
    files = [p for p in (root / "service").rglob("*.py") if not is_output(p)]
    files += (root / "generated").rglob("*_enums.py")
    for path in sorted(files):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def compile_resource(queries: Path, root: Path = ROOT) -> str:
    """The source of the sql.py of this queries.py."""
    from service.db.queries import Query, Variants, render

    package = ".".join(queries.relative_to(root).with_suffix("").parts)
    module = importlib.import_module(package)
    found = {
        name: value
        for name, value in vars(module).items()
        if isinstance(value, Query | Variants) and not name.startswith("_")
    }
    where = queries.relative_to(root).as_posix()
    doc = (
        f"The statements of {where}, compiled by `make generate` (tools/sql.py): do not edit.\n\n"
        "The server runs these; tests/tools/test_sql.py checks they are what queries.py\n"
        "compiles to now.\n"
    )
    return _formatted(render(found, doc), queries.with_name(OUTPUT))


def _formatted(text: str, path: Path) -> str:
    """The source as `ruff format` writes it (the version make lock pins): what lint expects."""
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--stdin-filename", str(path), "-"],
        input=text,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"ruff format failed on the compiled {path.name}: {result.stderr}")
    return result.stdout


def generate(root: Path = ROOT, *, check: bool = False, force: bool = False) -> list[Path]:
    """Compile every queries.py whose sql.py may be stale; the sql.py files that changed (with
    `check`, that would change: nothing is written)."""
    stamp = root / "generated" / ".sql.json"
    current = inputs_hash(root)
    outputs = {queries: queries.with_name(OUTPUT) for queries in sources(root)}
    if not force and all(p.exists() for p in outputs.values()) and _stamped(stamp) == current:
        return []
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    changed = []
    for queries, output in outputs.items():
        text = compile_resource(queries, root)
        if output.exists() and output.read_text() == text:
            continue
        changed.append(output)
        if not check:
            output.write_text(text)
    if not check and stamp.parent.is_dir():
        stamp.write_text(json.dumps({"inputs": current}) + "\n")
    return changed


def _stamped(stamp: Path) -> str | None:
    try:
        return str(json.loads(stamp.read_text())["inputs"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if stale")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    # In CI, what was committed is what is checked: a stale sql.py fails instead of being fixed.
    check = args.check or os.environ.get("CI") == "true"
    changed = generate(check=check, force=args.check)
    names = ", ".join(p.relative_to(ROOT).as_posix() for p in changed)
    if check:
        if changed:
            print(
                f"not what queries.py compiles to: {names} (run make generate, and commit it)",
                file=sys.stderr,
            )
            return 1
        return 0
    if changed:
        ms = (time.perf_counter() - started) * 1000
        print(f"sql: {names} written ({ms:.0f} ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
