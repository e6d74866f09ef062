"""The suite waits on what it can observe (a log line, a status, a row, a scrape), never on a
guessed duration: a sleep that stands for a wait is slow on a fast machine and flaky on a
loaded one. A few sleeps are no wait at all; each says so where it is."""

from __future__ import annotations

import re
from pathlib import Path

from tools.codegen import ROOT

TESTS = ROOT / "tests"
MAX_SLEEPS = 3
# A call of asyncio.sleep, time.sleep or anyio.sleep, or of a sleep imported from one of them;
# in code the tests write out for a server too.
SLEEP = re.compile(r"\b(?:(?:asyncio|time|anyio|trio)\.)?sleep\(")
IMPORTED_SLEEP = re.compile(r"\bfrom\s+(?:asyncio|time|anyio|trio)\s+import\b[^\n]*\bsleep\b")
REASON = re.compile(r"#\s*not a wait\b[^:\n]*:\s*\S")


def sleeps(folder: Path) -> list[tuple[str, int, str, bool]]:
    """Each sleep call under `folder`: file, line number, the line, and whether a
    `# not a wait: <why>` comment is on that line or the one before."""
    found = []
    for path in sorted(folder.rglob("*.py")):
        lines = path.read_text().splitlines()
        for number, line in enumerate(lines, 1):
            if not SLEEP.search(line.split("#", 1)[0]) and not IMPORTED_SLEEP.search(line):
                continue
            previous = lines[number - 2] if number > 1 else ""
            explained = bool(REASON.search(line) or REASON.search(previous))
            found.append((str(path.relative_to(folder.parent)), number, line.strip(), explained))
    return found


def test_at_most_three_sleeps_and_each_says_why_it_is_not_a_wait() -> None:
    found = sleeps(TESTS)

    unexplained = [f"{path}:{number}: {line}" for path, number, line, ok in found if not ok]
    assert not unexplained, "sleeps without a `# not a wait: <why>` comment:\n" + "\n".join(
        unexplained
    )
    assert len(found) <= MAX_SLEEPS, "more sleeps than the few that are no wait:\n" + "\n".join(
        f"{path}:{number}: {line}" for path, number, line, _ in found
    )


def test_the_scan_sees_each_kind_of_sleep(tmp_path: Path) -> None:
    tests = tmp_path / "tests"
    tests.mkdir()
    # Written with SLEEP for sleep, so that this file holds no sleep call of its own.
    sample = (
        "import time\n"
        "from anyio import SLEEP\n"
        "async def f() -> None:\n"
        "    await asyncio.SLEEP(1)\n"
        "    time.SLEEP(0.1)  # for the server to start\n"
        "    # not a wait: a client's back-off\n"
        "    await anyio.SLEEP(0.05)\n"
        "    await SLEEP(2)  # not a wait: the pause under test\n"
        "    # time.SLEEP(3) in a comment is no call, nor is asleep\n"
        "    await trio.SLEEP(4)  # not a wait\n"
    )
    (tests / "test_waits.py").write_text(sample.replace("SLEEP", "sleep"))

    found = [(number, explained) for _, number, _, explained in sleeps(tests)]

    assert found == [(2, False), (4, False), (5, False), (7, True), (8, True), (10, False)]
