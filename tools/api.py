"""The API as a contract: buf lint, and the breaking-change check against the released API.

    python -m tools.api check               # make lint: buf format, lint and breaking
    python -m tools.api release             # make api-release: record protos/ as released
    python -m tools.api against origin/main # the forge's CI, in a pull request: against its base
    python -m tools.api remove-resource invitation [--plural P]   # make remove-resource

The released API is a buf image committed as api/released.binpb: the check needs no network and
no other branch. buf reads protos/ as the descriptor set protoc makes of it (tools/codegen.py's
`build_image`), not from the sources: the protos import buf/validate/validate.proto, which is
not in the repository but in the protovalidate wheel, where buf cannot find it. Only our own
files are linted and released; the imports (validate.proto, the well-known types) are not ours,
and the released image does not carry validate.proto at all (`_without_validate`). buf.yaml, at
the root, says which rules apply and why.
An empty image means nothing has been released yet: only lint runs. No protos at all (every
resource removed): nothing to check.

`against REF` is the pull request's check (.github/workflows/ci.yml): buf breaking of protos/
against protos/ at a git ref, the target branch, so a break that a branch brings in is reported
even where the branch moved api/released.binpb along with it. Consistently with `check`, a branch
that records a new release (its api/released.binpb differs from the ref's) breaks on purpose and
passes, and so does a ref with no protos.

`remove-resource` removes a resource (tools/scaffold) and then drops its files from the
released image: removing a whole resource is deliberate, so its package's deletion is not
reported as a break. Everything else released stays checked.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parent.parent
PROTOS = Path("protos")
RELEASED = Path("api") / "released.binpb"
# Printed under buf's findings when the breaking check fails.
SAFELY = (
    "To change the API without breaking clients: delete a field or enum value only with its "
    'number and name reserved (`reserved 3; reserved "old_name";`), add a new field instead of '
    "renumbering, retyping or renaming one, and keep RPCs and services under their names; "
    "for a deliberate break, `make api-release` records the new API as released."
)


class ApiError(Exception):
    """buf could not run, or could not build the image; the message says why."""


class Report(NamedTuple):
    """The outcome of a check: whether it passed, and what to print (empty when clean)."""

    ok: bool
    text: str


def buf_executable() -> str:
    """buf from this environment's bin/ (the pinned buf-bin), else from PATH."""
    beside = Path(sys.executable).parent / "buf"
    if beside.is_file():
        return str(beside)
    found = shutil.which("buf")
    if found is None:
        raise ApiError("no buf executable: `make` installs it into .venv (buf-bin)")
    return found


def has_protos(root: Path) -> bool:
    return any((root / PROTOS).rglob("*.proto"))


def _start(root: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [buf_executable(), *args],
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _finish(process: subprocess.Popen[str]) -> tuple[int, str]:
    output, _ = process.communicate()
    return process.returncode, output.strip()


def _image(root: Path, out: Path, *, source_info: bool) -> list[str]:
    """protos/ compiled into a buf image at `out` (imports included); our files' paths."""
    from tools import codegen

    try:
        return codegen.build_image(
            root / PROTOS, out, source_info=source_info, generated=root / "generated"
        )
    except codegen.CodegenError as error:
        raise ApiError(f"protoc could not compile {PROTOS}/:\n{error}") from None


def _paths(files: list[str]) -> list[str]:
    return [arg for file in files for arg in ("--path", file)]


def _shown(output: str, files: list[str]) -> str:
    """buf names the image's files as protoc does: show them as paths under protos/."""
    return "\n".join(
        f"{PROTOS.as_posix()}/{line}" if line.split(":", 1)[0] in files else line
        for line in output.splitlines()
    )


def check(root: Path = ROOT, *, format_too: bool = True) -> Report:
    """buf lint, buf breaking against api/released.binpb and (`format_too`) buf format's
    check, run side by side."""
    if not has_protos(root):
        return Report(True, "")
    released = root / RELEASED
    formatted = _start(root, "format", "--diff", "--exit-code", str(PROTOS)) if format_too else None
    with tempfile.TemporaryDirectory(prefix="api-") as scratch:
        image = Path(scratch) / "image.binpb"
        try:
            files = _image(root, image, source_info=True)
        except ApiError as error:
            if formatted is not None:
                _finish(formatted)
            return Report(False, str(error))
        lint = _start(root, "lint", str(image), *_paths(files))
        breaking = None
        if released.is_file() and released.stat().st_size:
            breaking = _start(
                root, "breaking", str(image), "--against", str(RELEASED), "--exclude-imports"
            )
        lint_code, lint_output = _finish(lint)
        breaking_result = _finish(breaking) if breaking is not None else None
    parts = [_shown(lint_output, files)] if lint_code else []
    ok = lint_code == 0
    if breaking_result is not None:
        code, output = breaking_result
        if code:
            ok = False
            output = _shown(output, files)
            parts += [output, SAFELY] if code == 100 else [output]  # 100: buf found breaks
    elif not released.is_file():
        ok = False
        parts.append(f"{RELEASED} is missing: `make api-release` records the released API.")
    if formatted is not None:
        code, output = _finish(formatted)
        if code:
            ok = False
            parts += [output, "`make format` formats the protos (buf format)."]
    return Report(ok, "\n".join(part for part in parts if part))


def against(ref: str, root: Path = ROOT) -> Report:
    """buf breaking of protos/ against protos/ at `ref` in root's git repository."""
    if not has_protos(root):
        return Report(True, "")
    theirs = _git(root, "ls-tree", "-r", "--name-only", ref, "--", str(PROTOS))
    if not any(line.endswith(".proto") for line in theirs.splitlines()):
        return Report(True, f"{ref} has no protos: nothing to compare")
    changed = subprocess.run(
        ["git", "diff", "--quiet", ref, "--", str(RELEASED)], cwd=root, check=False
    )
    if changed.returncode not in (0, 1):
        raise ApiError(f"git diff failed: cannot compare {RELEASED} with {ref}'s")
    if changed.returncode == 1:
        return Report(True, f"{RELEASED} differs from {ref}'s: a new release, breaks deliberate")
    with tempfile.TemporaryDirectory(prefix="api-") as scratch:
        base = Path(scratch) / "base"
        (base / PROTOS).mkdir(parents=True)
        archive = subprocess.run(
            ["git", "archive", "--format=tar", ref, "--", str(PROTOS)],
            cwd=root,
            capture_output=True,
            check=False,
        )
        if archive.returncode:
            raise ApiError(f"git archive failed: cannot read {PROTOS}/ at {ref}")
        subprocess.run(["tar", "-x", "-C", str(base)], input=archive.stdout, check=True)
        their_image = Path(scratch) / "theirs.binpb"
        _released_image(base, their_image)
        image = Path(scratch) / "image.binpb"
        files = _image(root, image, source_info=True)
        code, output = _finish(
            _start(root, "breaking", str(image), "--against", str(their_image), "--exclude-imports")
        )
    if code == 0:
        return Report(True, "")
    output = _shown(output, files)
    return Report(False, "\n".join([output, SAFELY] if code == 100 else [output]))


def _git(root: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=False)
    if done.returncode:
        raise ApiError(f"git {args[0]} failed:\n{(done.stdout + done.stderr).strip()}")
    return done.stdout


def release(root: Path = ROOT) -> str:
    """Record protos/ as the released API; what it did, in a line."""
    released = root / RELEASED
    released.parent.mkdir(parents=True, exist_ok=True)
    if not has_protos(root):
        released.write_bytes(b"")
        return f"{RELEASED}: no protos, nothing released"
    _released_image(root, released)
    files = released_files(root)
    return f"{RELEASED}: released {len(files)} file{'s' * (len(files) != 1)}: {', '.join(files)}"


def _released_image(root: Path, out: Path) -> None:
    """root's protos/ as released: protoc's image of our files and the well-known types they
    import, without validate.proto, imports marked as such (buf build)."""
    with tempfile.TemporaryDirectory(prefix="api-") as scratch:
        image = Path(scratch) / "image.binpb"
        ours = _image(root, image, source_info=False)
        image.write_bytes(_without_validate(image.read_bytes(), ours))
        _buf(root, "build", str(image), *_paths(ours), "-o", str(out.resolve()))


def _without_validate(image: bytes, ours: list[str]) -> bytes:
    """The image without buf/validate/validate.proto: our files no longer import it (their
    constraints stay as options buf does not read), and only what they import is kept. The
    breaking check compares types, fields and names; constraints are not part of it."""
    from google.protobuf import descriptor_pb2

    from tools.codegen import VALIDATE

    files = {f.name: f for f in descriptor_pb2.FileDescriptorSet.FromString(image).file}
    for file in files.values():
        if VALIDATE in file.dependency:
            index = list(file.dependency).index(VALIDATE)
            del file.dependency[index]
            for indices in (file.public_dependency, file.weak_dependency):
                kept = [i - (i > index) for i in indices if i != index]
                del indices[:]
                indices.extend(kept)
    needed: set[str] = set()
    todo = list(ours)
    while todo:
        name = todo.pop()
        if name not in needed:
            needed.add(name)
            todo.extend(files[name].dependency)
    released = descriptor_pb2.FileDescriptorSet(file=[f for n, f in files.items() if n in needed])
    return released.SerializeToString()


def released_files(root: Path = ROOT) -> list[str]:
    """The proto files of the released image, by their paths under protos/."""
    released = root / RELEASED
    if not released.is_file() or not released.stat().st_size:
        return []
    return _buf(root, "ls-files", str(RELEASED)).split()


def forget(root: Path, folders: list[str]) -> list[str]:
    """Drop the released files under these folders of protos/ from the image (a resource
    removed on purpose); the files dropped."""
    files = released_files(root)
    dropped = [f for f in files if any(f.startswith(folder + "/") for folder in folders)]
    if not dropped:
        return []
    released = str(RELEASED)
    if len(dropped) == len(files):
        (root / RELEASED).write_bytes(b"")  # buf cannot write an image of no files
    else:
        excluded = [arg for folder in folders for arg in ("--exclude-path", folder)]
        _buf(root, "build", released, *excluded, "-o", released)
    return dropped


def _buf(root: Path, *args: str) -> str:
    done = subprocess.run(
        [buf_executable(), *args], cwd=root, capture_output=True, text=True, check=False
    )
    if done.returncode:
        raise ApiError(f"buf {args[0]} failed:\n{(done.stdout + done.stderr).strip()}")
    return done.stdout


def _folders(root: Path) -> set[str]:
    protos = root / PROTOS
    return {path.name for path in protos.iterdir() if path.is_dir()} if protos.is_dir() else set()


def remove_resource(name: str, plural: str | None, root: Path = ROOT) -> int:
    from tools.scaffold import __main__ as scaffold

    before = _folders(root)
    code = scaffold.main(["remove", name, *(["--plural", plural] if plural else [])])
    if code == 0:
        dropped = forget(root, sorted(before - _folders(root)))
        if dropped:
            print(f"Also dropped from the released API ({RELEASED}): {', '.join(dropped)}")
    return code


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv == ["check"]:  # every `make lint`: spared argparse's import
        return _check()
    import argparse

    parser = argparse.ArgumentParser(prog="python -m tools.api", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("check", help="buf lint and the breaking-change check")
    commands.add_parser("release", help=f"record protos/ as the released API ({RELEASED})")
    base = commands.add_parser("against", help="buf breaking against protos/ at a git ref")
    base.add_argument("ref", help="a git ref: a pull request's target branch, origin/main")
    remove = commands.add_parser("remove-resource", help="remove a resource and its release")
    remove.add_argument("name")
    remove.add_argument("--plural")
    args = parser.parse_args(argv)
    try:
        if args.command == "check":
            return _check()
        if args.command == "release":
            print(release())
            return 0
        if args.command == "against":
            return _report(against(args.ref))
        return remove_resource(args.name, args.plural)
    except ApiError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


def _check() -> int:
    try:
        report = check()
    except ApiError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return _report(report)


def _report(report: Report) -> int:
    if report.text:
        print(report.text, file=sys.stdout if report.ok else sys.stderr)
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
