"""Run every benchmark, or the ones named: `python -m tools.bench [codegen ...]`."""

from __future__ import annotations

import os
import sys

from tools.bench import codegen, service

BENCHMARKS = {"codegen": codegen.main, "service": service.main}


def main(argv: list[str]) -> int:
    os.environ.setdefault("GRPC_VERBOSITY", "ERROR")  # no INFO lines from grpc's C core
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
