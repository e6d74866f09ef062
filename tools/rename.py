"""`make rename name=billing-service`: give the project its own name wherever a user sees it.

    python -m tools.rename billing-service

The current name is pyproject.toml's `[project] name`, read on every run, so a project can be
renamed again later (billing-service -> payments-api). Every tracked text file (`git ls-files`)
gets the new name wherever the current one stands, in each of its spellings:

    billing-service   pyproject.toml, the image (tools/image.py derives its tag from
                      pyproject.toml), the compose project, the Kubernetes names, namespace,
                      labels and secret names, the README
    billing_service   where a hyphen cannot go: the compose database and its user
    Billing Service   in README.md's first heading only

requirements/*.txt are rewritten too: the name is only in their `# via ... (pyproject.toml)`
comments, which is what `make lock` would write after the rename; no hash depends on them.

Left alone: the Python packages (`service`, `generated`, `tools`, `tests`), which are internal,
imported everywhere and seen by no one outside the repository; and the example names of the
rename itself, in this module, its test, and any line that shows `make rename`.

A name is lower-case kebab case, 2-40 characters, starting with a letter: with the longest
suffix the manifests add ("-headless") it is still a valid Kubernetes name (a DNS-1035 label,
63 characters at most). It must not already stand in the repository for something else
(`service`, `invitations`): a later rename could not tell the two apart.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHORTEST = 2
LONGEST = 40
KEBAB = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*")
# Files and lines about renaming itself: their example names are not the project's.
OWN_FILES = frozenset({"tools/rename.py", "tests/tools/test_rename.py"})
EXAMPLE = re.compile(r"make rename|tools\.rename")
README = "README.md"


def project_name(root: Path = ROOT) -> str:
    """The project's name: pyproject.toml's `[project] name`."""
    with (root / "pyproject.toml").open("rb") as file:
        name = tomllib.load(file)["project"]["name"]
    if not isinstance(name, str):
        raise SystemExit("pyproject.toml: [project] name is not a string")
    return name


def problem_with(name: str) -> str | None:
    """Why `name` cannot be the project's name, or None if it can."""
    if not name:
        return "the name is empty"
    if not SHORTEST <= len(name) <= LONGEST:
        return f"it is {len(name)} characters long, not {SHORTEST} to {LONGEST}"
    others = sorted({c for c in name if not ("a" <= c <= "z" or c.isdigit() or c == "-")})
    if others:
        listed = " ".join(repr(c) for c in others)
        return f"it has {listed}: only a-z, 0-9 and '-' can be in a Kubernetes name"
    if not name[0].isalpha():
        return "it must start with a letter"
    if not KEBAB.fullmatch(name):
        return "hyphens go between words: not first, last or two in a row"
    return None


@dataclass(frozen=True)
class Spellings:
    """One name as each kind of file spells it."""

    kebab: str
    snake: str
    title: str

    @classmethod
    def of(cls, name: str) -> Spellings:
        words = name.split("-")
        return cls(name, "_".join(words), " ".join(w.capitalize() for w in words))

    def in_text(self) -> re.Pattern[str]:
        """Either spelling, with no letter or digit on either side: billing-service-database
        holds the name billing-service, billing-services does not."""
        either = "|".join(re.escape(s) for s in dict.fromkeys([self.kebab, self.snake]))
        return re.compile(rf"(?<![A-Za-z0-9])(?:{either})(?![A-Za-z0-9])")

    def in_heading(self) -> re.Pattern[str]:
        """The Title Case spelling, however its words are capitalised: gRPC Service."""
        words = r"\s+".join(re.escape(w) for w in self.title.split())
        return re.compile(rf"(?<![A-Za-z0-9]){words}(?![A-Za-z0-9])", re.IGNORECASE)


def _replacement(old: Spellings, new: Spellings) -> Callable[[re.Match[str]], str]:
    def spelling(match: re.Match[str]) -> str:
        found = match.group()
        if found != old.kebab:
            return new.snake
        if found != old.snake:
            return new.kebab
        # A one-word name is spelled alike both ways: next to "_" it is in an identifier.
        text, start, end = match.string, match.start(), match.end()
        return new.snake if "_" in (text[start - 1 : start], text[end : end + 1]) else new.kebab

    return spelling


def tracked_text_files(root: Path) -> dict[str, str]:
    """Every tracked file that is UTF-8 text, by its path relative to root."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z"], cwd=root, check=True, capture_output=True, text=True
        ).stdout
    except (OSError, subprocess.CalledProcessError) as error:
        raise SystemExit(f"rename: git ls-files failed in {root}: {error}") from None
    texts = {}
    for relative in filter(None, listed.split("\0")):
        path = root / relative
        if relative in OWN_FILES or relative.startswith("generated/"):
            continue
        if path.is_symlink() or not path.is_file():
            continue
        data = path.read_bytes()
        if b"\0" in data:  # binary
            continue
        try:
            texts[relative] = data.decode()
        except UnicodeDecodeError:
            continue
    return texts


def _outside_examples(text: str, change: Callable[[str], str]) -> str:
    lines = text.splitlines(keepends=True)
    return "".join(line if EXAMPLE.search(line) else change(line) for line in lines)


def renamed(relative: str, text: str, old: Spellings, new: Spellings) -> str:
    """The file's text with the new name wherever the old one stood."""
    replacement = _replacement(old, new)
    text = _outside_examples(text, lambda line: old.in_text().sub(replacement, line))
    heading = first_heading(text) if relative == README else None
    if heading is not None:
        text = text.replace(heading, old.in_heading().sub(new.title, heading), 1)
    return text


def first_heading(text: str) -> str | None:
    return next((line for line in text.splitlines() if line.startswith("# ")), None)


def clashes(texts: dict[str, str], old: Spellings, new: Spellings) -> list[str]:
    """The files where the new name already stands for something other than the project."""
    old_name, new_name = old.in_text(), new.in_text()

    def clash(line: str) -> bool:
        return not EXAMPLE.search(line) and bool(new_name.search(old_name.sub("\0", line)))

    found = [relative for relative, text in texts.items() if any(map(clash, text.splitlines()))]
    heading = first_heading(texts.get(README, ""))
    if heading and new.in_heading().search(old.in_heading().sub("\0", heading)):
        found.append(README)
    return sorted(set(found))


def rename(new_name: str, root: Path = ROOT) -> int:
    """Rename the project in root; the exit status."""
    problem = problem_with(new_name)
    if problem is not None:
        print(
            f"rename: {new_name!r} cannot be the project's name: {problem}. Use lower-case "
            f"words joined by hyphens, {SHORTEST}-{LONGEST} characters, starting with a letter: "
            "billing-service.",
            file=sys.stderr,
        )
        return 2
    old_name = project_name(root)
    if new_name == old_name:
        print(f"{new_name} is already the project's name: nothing changed")
        return 0
    old, new = Spellings.of(old_name), Spellings.of(new_name)
    texts = tracked_text_files(root)
    clashing = clashes(texts, old, new)
    if clashing:
        shown = ", ".join(clashing[:3]) + (f" and {len(clashing) - 3} more" if clashing[3:] else "")
        print(
            f"rename: {new_name!r} already stands for something else in {shown}, and a later "
            "rename could not tell the two apart: pick a more distinctive name.",
            file=sys.stderr,
        )
        return 2

    changed = {}
    for relative, text in texts.items():
        after = renamed(relative, text, old, new)
        if after != text:
            changed[relative] = after
    for relative, text in changed.items():  # all worked out before anything is written
        (root / relative).write_bytes(text.encode())

    print(f"renamed {old_name} -> {new_name} in {len(changed)} files:")
    for relative in sorted(changed):
        print(f"  {relative}")
    heading = first_heading(changed.get(README) or texts.get(README, ""))
    if heading is not None and not (
        new.in_text().search(heading) or new.in_heading().search(heading)
    ):
        print(f"{README}'s title does not name the project ({heading!r}): edit it by hand.")
    print(
        "Nothing already deployed is renamed: compose will start a new, empty database volume, "
        "and Kubernetes expects its namespace and secret under the new name."
    )
    return 0


def main(argv: list[str]) -> int:
    # No option parser: a name such as "-billing" must reach the name's own check.
    if argv in (["-h"], ["--help"]):
        print(__doc__)
        return 0
    if len(argv) != 1:
        print(
            "usage: python -m tools.rename NEW-NAME   (make rename name=NEW-NAME)", file=sys.stderr
        )
        return 2
    return rename(argv[0])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
