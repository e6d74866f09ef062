"""`make resource` and `make remove-resource`: add a complete, tested resource, or take one out.

    python -m tools.scaffold add book_shelf [--plural book_shelves]
    python -m tools.scaffold remove book_shelf

`add` renders tools/scaffold/templates/ (Mako, the engine Alembic already brings for its
migration scripts) into the proto, the service package, its tests and its line in
service/resources.py, then runs `make generate`'s two steps: the protos into generated/, and
each resource's queries.py into its sql.py (tools/sql.py). What it writes is the template's
plain CRUD shape (Create, Get, List with page tokens, Update with a mask, Delete; a display
name, a state enum, times): the patterns of this repository in their simplest form, to edit
from there. Its statements are SQLAlchemy Core in queries.py; storage.py runs them as compiled
into sql.py, and imports no SQLAlchemy (service/db/statements.py says why).

`remove` deletes a resource's proto, package (its sql.py with it), tests, generated code and
its line in service/resources.py. Its table and enum types stay in the database until the next
`make migration` writes their drop.
"""

from __future__ import annotations

import argparse
import importlib
import keyword
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from mako.template import Template

from tools import codegen, sql

ROOT = codegen.ROOT
TEMPLATES = Path(__file__).resolve().parent / "templates"
REGISTRY = Path("service") / "resources.py"
# Names a resource cannot take: the packages and modules beside it, and top-level packages the
# generated code would shadow (a proto package becomes a Python package in generated/).
RESERVED = {
    "db",
    "generated",
    "google",
    "grpc",
    "service",
    "tests",
    "tools",
    "typing",
    "test",
}
_SNAKE = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)*")
# Long enough for real names; short enough that generated lines fit (`from generated.<plural>.v1.
# <plural>_pb2_grpc import ...`) and PostgreSQL's 63-byte identifiers hold `ix_<plural>_...`.
MAX_NAME_LENGTH = 24
MAX_PLURAL_LENGTH = 28


class ScaffoldError(Exception):
    """The command cannot go ahead; the message says why. Nothing was written."""


def pluralize(singular: str) -> str:
    """English plural of the last word: shelf -> shelves is not guessed (pass plural=)."""
    head, _, last = singular.rpartition("_")
    if re.search(r"[^aeiou]y$", last):
        last = last[:-1] + "ies"
    elif re.search(r"(s|x|z|ch|sh)$", last):
        last += "es"
    else:
        last += "s"
    return f"{head}_{last}" if head else last


@dataclass(frozen=True)
class Names:
    """Every spelling of a resource's name the templates use."""

    s: str  # book_shelf: modules, variables, the enum type `book_shelf_state`
    p: str  # book_shelves: proto package, Python package, table, scopes

    @property
    def S(self) -> str:  # noqa: N802  (named as the templates use it)
        return "".join(word.capitalize() for word in self.s.split("_"))

    @property
    def P(self) -> str:  # noqa: N802
        return "".join(word.capitalize() for word in self.p.split("_"))

    @property
    def collection(self) -> str:
        """The resource name's collection (AIP-122: lowerCamelCase plural): bookShelves."""
        return self.P[0].lower() + self.P[1:]

    @property
    def field(self) -> str:
        """The singular as a JSON field name: bookShelf."""
        return self.S[0].lower() + self.S[1:]

    @property
    def STATE(self) -> str:  # noqa: N802
        return f"{self.s.upper()}_STATE"

    @property
    def human(self) -> str:
        return self.s.replace("_", " ")

    @property
    def humans(self) -> str:
        return self.p.replace("_", " ")

    @property
    def constant(self) -> str:
        """Its entry in service/resources.py."""
        return self.p.upper()

    def files(self) -> dict[str, Path]:
        """Template -> where it is written, relative to the repository."""
        p = self.p
        return {
            "protos/resource.proto.mako": Path("protos", p, "v1", f"{p}.proto"),
            **{
                f"service/{name}.py.mako": Path("service", p, f"{name}.py")
                for name in (
                    "__init__",
                    "models",
                    "domain",
                    "convert",
                    "queries",
                    "storage",
                    "logic",
                    "servicer",
                    "resource",
                )
            },
            **{
                f"tests/{name}.py.mako": Path("tests", p, f"{name}.py")
                for name in ("__init__", "conftest", "test_api", "test_convert")
            },
        }

    def render(self, template: str) -> str:
        spellings = ("s", "p", "S", "P", "collection", "STATE", "human", "humans")
        fields = {spelling: getattr(self, spelling) for spelling in spellings}
        text: str = Template(filename=str(TEMPLATES / template)).render(**fields)
        return text


def _check_name(name: str, what: str) -> None:
    longest = MAX_NAME_LENGTH if what == "name" else MAX_PLURAL_LENGTH
    if not _SNAKE.fullmatch(name) or len(name) > longest:
        raise ScaffoldError(
            f"{what} {name!r} is not a lower-case snake_case identifier of at most "
            f"{longest} characters (like book_shelf)"
        )
    if keyword.iskeyword(name) or name in RESERVED:
        raise ScaffoldError(f"{what} {name!r} is reserved: pick another")


def names_for(name: str, plural: str | None) -> Names:
    _check_name(name, "name")
    plural = plural or pluralize(name)
    _check_name(plural, "plural")
    if plural == name:
        raise ScaffoldError(f"the plural of {name!r} must differ from it: pass plural=...")
    return Names(name, plural)


def _read(root: Path, plural: str) -> str:
    return (root / "service" / plural / "resource.py").read_text()


def _existing_resources(root: Path) -> list[str]:
    return sorted(path.parent.name for path in (root / "service").glob("*/resource.py"))


def _collisions(names: Names, root: Path) -> list[str]:
    found = [
        str(path)
        for path in (Path("protos", names.p), Path("service", names.p), Path("tests", names.p))
        if (root / path).exists()
    ]
    if (root / "service" / f"{names.p}.py").exists():
        found.append(f"service/{names.p}.py")
    if f"service.{names.p}.resource" in (root / REGISTRY).read_text():
        found.append(f"{REGISTRY} (service.{names.p}.resource)")
    for proto in sorted((root / "protos").rglob("*.proto")):
        text = proto.read_text()
        for taken in (f"service {names.S}Service", f"enum {names.S}State", f"message {names.S} "):
            if taken in text:
                found.append(f"{proto.relative_to(root)} ({taken.strip()})")
    for models in sorted((root / "service").glob("*/models.py")):
        text = models.read_text()
        for taken in (f'__tablename__ = "{names.p}"', f'"{names.s}_state"'):
            if taken in text:
                found.append(f"{models.relative_to(root)} ({taken})")
    return found


_LIST = re.compile(r"^RESOURCES: list\[AnyResource\] = \[(.*?)\]", re.MULTILINE | re.DOTALL)


def _write_registry(root: Path, names: Names, *, adding: bool) -> None:
    """Add or take out the resource's import and its entry in RESOURCES (one per line)."""
    registry = root / REGISTRY
    text = registry.read_text()
    listed = _LIST.search(text)
    if listed is None:
        raise ScaffoldError(f"{REGISTRY} no longer has the RESOURCES list this command edits")
    entries = [entry.strip() for entry in listed.group(1).split(",") if entry.strip()]
    line = f"from service.{names.p}.resource import RESOURCE as {names.constant}\n"
    lines = [kept for kept in text[: listed.start()].splitlines(keepends=True) if kept != line]
    entries = [entry for entry in entries if entry != names.constant]
    if adding:
        lines.append(line)  # ruff sorts the imports afterwards (_tidy)
        entries.append(names.constant)
    body = "".join(f"    {entry},\n" for entry in entries)
    listing = (
        f"RESOURCES: list[AnyResource] = [\n{body}]"
        if entries
        else ("RESOURCES: list[AnyResource] = []")
    )
    registry.write_text("".join(lines) + listing + text[listed.end() :])


def _tidy(paths: list[Path], root: Path) -> None:
    """ruff's import order and format on what was written: names of any length fit."""
    ruff = Path(sys.executable).parent / "ruff"
    files = [str(path) for path in paths if path.suffix == ".py"]
    for args in (["check", "--fix-only", "--quiet"], ["format", "--quiet"]):
        subprocess.run([str(ruff), *args, *files], cwd=root, check=False)


def _generate(root: Path) -> None:
    try:
        codegen.generate(root / "protos", root / "generated")
    except codegen.CodegenError as error:
        raise ScaffoldError(f"make generate failed:\n{error}") from None


def _compile_sql(root: Path) -> None:
    """`make generate`'s SQL step (tools/sql.py), in this process: every resource's queries.py
    compiled into its sql.py, the new one's included (its storage.py imports that). The new
    packages were written after this process started, so the import system is told to look
    again; compiling imports them by name, from this process's path (root is ROOT)."""
    importlib.invalidate_caches()
    sql.generate(root, force=True)


def add(name: str, plural: str | None, root: Path = ROOT) -> list[Path]:
    names = names_for(name, plural)
    collisions = _collisions(names, root)
    if collisions:
        raise ScaffoldError(f"{names.p} exists already: {', '.join(collisions)}")
    written = []
    for template, path in names.files().items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(names.render(template))
        written.append(path)
    _write_registry(root, names, adding=True)
    _tidy([*written, REGISTRY], root)
    _generate(root)
    _compile_sql(root)
    return [*written, Path("service", names.p, sql.OUTPUT)]


def remove(name: str, plural: str | None, root: Path = ROOT) -> tuple[Names, list[Path]]:
    _check_name(name, "name")
    registry = (root / REGISTRY).read_text()
    service = f'"{Names(name, name).S}Service"'  # how its resource.py names its gRPC service
    candidates = (
        [plural]
        if plural
        else [
            pluralize(name),
            *(p for p in _existing_resources(root) if service in _read(root, p)),
        ]
    )
    for candidate in candidates:
        if candidate and (
            (root / "service" / candidate / "resource.py").is_file()
            or f"service.{candidate}.resource" in registry
        ):
            names = Names(name, candidate)
            break
    else:
        existing = ", ".join(_existing_resources(root)) or "none"
        raise ScaffoldError(f"no resource {name!r} here (resources: {existing})")
    removed = [
        path
        for path in (
            Path("protos", names.p),
            Path("service", names.p),
            Path("tests", names.p),
            Path("generated", names.p),
        )
        if (root / path).exists()
    ]
    for path in removed:
        shutil.rmtree(root / path)
    _write_registry(root, names, adding=False)
    _tidy([REGISTRY], root)
    _generate(root)
    return names, removed


def _still_mentioned(names: Names, root: Path) -> list[str]:
    """Files outside the removed folders that still import the resource."""
    pattern = re.compile(rf"^\s*(?:from|import) (?:service|generated)\.{names.p}\b", re.MULTILINE)
    found = []
    for folder in ("service", "tests", "tools", "migrations"):
        for path in sorted((root / folder).rglob("*.py")):
            if "versions" not in path.parts and pattern.search(path.read_text()):
                found.append(str(path.relative_to(root)))
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.scaffold", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    for command in ("add", "remove"):
        sub = commands.add_parser(command)
        sub.add_argument("name", help="the resource, singular snake_case: book_shelf")
        sub.add_argument("--plural", help="plural snake_case, when adding an s is wrong")
    args = parser.parse_args(argv)
    try:
        if args.command == "add":
            written = add(args.name, args.plural)
            names = names_for(args.name, args.plural)
            print(f"Added the {names.p} resource:")
            print("\n".join(f"  {path}" for path in written))
            print(f"  {REGISTRY} (registered as {names.constant})")
            print("Next:")
            print(f'  make migration m="add {names.p}"   # its table and {names.s}_state type')
            print("  make migrate")
            print(f"  make test                          # tests/{names.p} included")
            print("  make run, then: .venv/bin/python -m service.client call \\")
            print(
                f"    {names.p}.v1.{names.S}Service/Create{names.S} "
                f"""'{{"{names.field}": {{"displayName": "first"}}}}'"""
            )
        else:
            names, removed = remove(args.name, args.plural)
            print("Removed:")
            print("\n".join(f"  {path}" for path in removed))
            print(f"  its entry in {REGISTRY}")
            left = _still_mentioned(names, ROOT)
            if left:
                print(f"Still importing it (edit these): {', '.join(left)}")
            print("Next:")
            print(f'  make migration m="remove {names.p}"   # drops its table and enum types')
            print("  make migrate")
    except ScaffoldError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
