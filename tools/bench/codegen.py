"""Codegen speed: what a developer waits for between saving a proto and using the result.

- save -> stubs regenerated: a real `tools.watch` process on a copy of protos/ with a bench
  proto added, a real edit of that proto, timed until the new field is in the .pyi on disk;
- save -> dev server serving it: `make watch` in a copy of the repository, a new field in a
  message of the first resource of service/resources.py (skipped without one), timed until
  reflection shows it;
- a tree of 100 protos (10 packages of 10 files, with enums, services and cross-file imports):
  a full `python -m tools.codegen` from nothing, and after one proto changed, as wall-clock time
  of the command (Python start-up included, as `make generate` pays it) and inside the process
  (as `make watch` pays it).

Medians over repeated runs.
"""

from __future__ import annotations

import os
import queue
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from tools import codegen, probe

ROOT = codegen.ROOT
EDITS = 15
RUNS = 10


def _median_ms(samples: list[float]) -> str:
    ms = sorted(s * 1000 for s in samples)
    return (
        f"median {statistics.median(ms):6.1f} ms  (min {ms[0]:.1f}, max {ms[-1]:.1f}, n={len(ms)})"
    )


def _tree(protos: Path, packages: int = 10, files: int = 10) -> None:
    """A realistic tree: each file imports its predecessor and a well-known type."""
    for p in range(packages):
        for f in range(files):
            folder = protos / f"pkg{p}" / "v1"
            folder.mkdir(parents=True, exist_ok=True)
            imports = f'import "pkg{p}/v1/file{f - 1}.proto";\n' if f else ""
            ref = f"  Thing{f - 1} previous = 9;\n" if f else ""
            (folder / f"file{f}.proto").write_text(
                f'syntax = "proto3";\npackage pkg{p}.v1;\n'
                f'import "google/protobuf/timestamp.proto";\n{imports}'
                f"enum Kind{f} {{ KIND{f}_UNSPECIFIED = 0; KIND{f}_A = 1; KIND{f}_B = 2; }}\n"
                f"message Thing{f} {{\n  string name = 1;\n  Kind{f} kind = 2;\n"
                f"  google.protobuf.Timestamp create_time = 3;\n  repeated string tags = 4;\n"
                f"  map<string, int64> counts = 5;\n"
                f"  oneof choice {{ string a = 6; int32 b = 7; }}\n"
                f"{ref}}}\n"
                f"message GetThing{f}Request {{ string name = 1; }}\n"
                f"service Thing{f}Service {{\n"
                f"  rpc GetThing{f}(GetThing{f}Request) returns (Thing{f});\n"
                f"  rpc WatchThing{f}(GetThing{f}Request) returns (stream Thing{f});\n}}\n"
            )


def _cli(root: Path) -> float:
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "tools.codegen", "-q", "--protos", "protos", "--out", "generated"],
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=True,
    )
    return time.perf_counter() - started


def bench_tree(scratch: Path) -> None:
    root = scratch / "tree"
    _tree(root / "protos")
    protos, out = root / "protos", root / "generated"
    full_cli, one_cli, one_inproc, noop_cli = [], [], [], []
    for run in range(RUNS):
        shutil.rmtree(out, ignore_errors=True)
        full_cli.append(_cli(root))
        path = protos / "pkg3/v1/file9.proto"
        # A real edit: the field set changes, so that proto's outputs change.
        field = f"r{run} = {20 + run};"
        text = path.read_text()
        path.write_text(text.replace("string name = 1;", f"string name = 1;\n  int32 {field}", 1))
        one_cli.append(_cli(root))
        text = path.read_text()
        path.write_text(text.replace(f"int32 {field}", f"int64 {field}"))
        one_inproc.append(codegen.generate(protos, out).seconds)
        noop_cli.append(_cli(root))
    print("  100 protos, full `python -m tools.codegen` (cold)  ", _median_ms(full_cli))
    print("  100 protos, one changed, `python -m tools.codegen`  ", _median_ms(one_cli))
    print("  100 protos, one changed, in-process (make watch)  ", _median_ms(one_inproc))
    print("  100 protos, nothing changed, `python -m tools.codegen`", _median_ms(noop_cli))


def _time_edits(proto: Path, message: str, done: Callable[[str], bool]) -> list[float]:
    """Seconds from saving an edit of `proto` (a new field in `message`) to `done(field)`."""
    original = proto.read_text()
    opening = f"message {message} {{"
    if opening not in original:
        raise RuntimeError(f"no '{opening}' line in {proto} to add a field to")
    samples = []
    for edit in range(EDITS):
        field = f"bench_field_{edit}"
        text = original.replace(opening, f"{opening}\n  string {field} = {FIELD_NUMBER};", 1)
        started = time.perf_counter()
        proto.write_text(text)
        while not done(field):
            time.sleep(0.001)
        samples.append(time.perf_counter() - started)
        time.sleep(0.2)  # let the watcher settle before the next edit
    return samples


# The proto the save -> stubs figure edits: a resource's size, and no resource's own file.
BENCH_PROTO = """syntax = "proto3";
package bench.v1;
import "google/protobuf/field_mask.proto";
import "google/protobuf/timestamp.proto";
enum Kind { KIND_UNSPECIFIED = 0; KIND_A = 1; KIND_B = 2; }
message Thing {
  string name = 1;
  Kind kind = 2;
  google.protobuf.Timestamp create_time = 3;
}
message GetThingRequest { string name = 1; }
message ListThingsRequest { int32 page_size = 1; string page_token = 2; }
message ListThingsResponse { repeated Thing things = 1; string next_page_token = 2; }
message UpdateThingRequest { Thing thing = 1; google.protobuf.FieldMask update_mask = 2; }
service ThingService {
  rpc GetThing(GetThingRequest) returns (Thing);
  rpc ListThings(ListThingsRequest) returns (ListThingsResponse);
  rpc UpdateThing(UpdateThingRequest) returns (Thing);
}
"""
# High enough not to meet a resource's own fields, below protobuf's reserved 19000-19999.
FIELD_NUMBER = 18_999


def bench_save_to_stubs(scratch: Path) -> None:
    root = scratch / "watch"
    if (ROOT / "protos").is_dir():
        shutil.copytree(ROOT / "protos", root / "protos")  # the project's protos, as they are
    proto = root / "protos/bench/v1/bench.proto"
    proto.parent.mkdir(parents=True)
    proto.write_text(BENCH_PROTO)
    codegen.generate(root / "protos", root / "generated")
    watcher = subprocess.Popen(
        [sys.executable, "-m", "tools.watch", "--no-server", "--protos=protos", "--out=generated"],
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()

    def read() -> None:
        assert watcher.stdout is not None
        for line in watcher.stdout:
            lines.put(line)

    threading.Thread(target=read, daemon=True).start()
    try:
        while "watching" not in lines.get(timeout=30):
            pass
        stub = root / "generated/bench/v1/bench_pb2.pyi"

        def regenerated(field: str) -> bool:
            if field not in stub.read_text():
                return False
            lines.get(timeout=30)  # the cycle's line: wait until it is over before the next edit
            return True

        samples = _time_edits(proto, "Thing", regenerated)
        print("  proto saved -> stubs regenerated (make watch)    ", _median_ms(samples))
    finally:
        watcher.terminate()
        watcher.wait(10)


def main() -> None:
    print("codegen: from a saved proto to stubs and to a dev server serving it; 100 protos")
    with tempfile.TemporaryDirectory(prefix="bench-codegen-") as scratch:
        bench_save_to_stubs(Path(scratch))
        bench_save_to_serving(Path(scratch))
        bench_tree(Path(scratch))


def _served_message() -> tuple[str, str] | None:
    """(proto file, message) of a message the first resource of service/resources.py serves
    and defines itself: what the save -> server figure edits. None without a resource."""
    from service.resources import RESOURCES

    for resource in RESOURCES:
        for method in resource.service.methods:
            if method.output_type.file is resource.service.file:
                return resource.service.file.name, method.output_type.name
    return None


def bench_save_to_serving(scratch: Path) -> None:
    """`make watch` with its dev server, in a copy of the repository, on a free port."""
    served = _served_message()
    if served is None:
        print("  skipped proto saved -> dev server: service/resources.py serves no resource")
        return
    file, message = served
    copy = probe.copy_repository(scratch / "repo")
    port = probe.free_port()
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    watcher = subprocess.Popen(
        [sys.executable, "-m", "tools.watch"],
        cwd=copy,
        env={**env, "PORT": str(port), "LOG_LEVEL": "WARNING"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    target = f"127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while not probe.serving(target) and time.monotonic() < deadline:
            time.sleep(0.1)
        samples = _time_edits(
            copy / "protos" / file, message, lambda field: probe.serving_with(target, field)
        )
        print("  proto saved -> dev server SERVING the new API      ", _median_ms(samples))
    finally:
        watcher.send_signal(signal.SIGINT)
        watcher.wait(30)
