"""Run every benchmark, or the ones named: `python -m tools.bench [codegen ...]`."""

from __future__ import annotations

import os
import sys

os.environ.setdefault("GRPC_VERBOSITY", "ERROR")  # before grpc loads: no INFO lines from its core

from tools.bench import (
    codegen,
    enums,
    enums_online,
    instructions,
    scaffold,
    scale,
    service,
    validation,
)

BENCHMARKS = {
    "codegen": codegen.main,
    "service": service.main,
    "enums": enums.main,
    "enums-online": enums_online.main,
    "scale": scale.main,
    "instructions": instructions.main,
    "scaffold": scaffold.main,
    "validation": validation.main,
}


def main(argv: list[str]) -> int:
    names = argv or list(BENCHMARKS)
    unknown = sorted(set(names) - set(BENCHMARKS))
    if unknown:
        print(f"unknown benchmark {unknown}; choose from {sorted(BENCHMARKS)}", file=sys.stderr)
        return 2
    for name in names:
        BENCHMARKS[name]()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
