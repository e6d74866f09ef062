"""Validating a request: the example's hand-written parse against protovalidate.

The same valid CreateInvitationRequest and GetInvitationRequest go through:

    hand-written    convert.parse_create / convert.parse_name (what the server runs)
    protovalidate   protovalidate's Validator on the constraints invitations.proto declares
    both            protovalidate, then the hand-written parse (what adding it would cost)

in interleaved rounds (each round times every variant once, in turn, so a machine that slows
down slows them all), on one CPU where the process may choose. Printed: the median over the
rounds of the microseconds per call, and each variant's ratio to the hand-written parse.
docs/benchmarks.md has the figures and the server runs; docs/api.md why the server does not
evaluate the constraints.
"""

from __future__ import annotations

import importlib
import os
import statistics
import time
from collections.abc import Callable
from typing import Any

from tools.bench import invitations_message, serves_invitations, skipped

ROUNDS = int(os.environ.get("BENCH_VALIDATION_ROUNDS", "15"))
CALLS = int(os.environ.get("BENCH_VALIDATION_CALLS", "10000"))
NAME = "invitations/0b7e6c1a-3f7d-4d3e-9a51-2c4f8e0d1b6a"


def _per_call(function: Callable[[], object]) -> float:
    """Microseconds per call over CALLS calls."""
    started = time.perf_counter()
    for _ in range(CALLS):
        function()
    return (time.perf_counter() - started) / CALLS * 1e6


def _measure(variants: dict[str, Callable[[], object]]) -> dict[str, float]:
    for function in variants.values():  # warm: caches, the validator's compiled rules
        function()
    times: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(ROUNDS):
        for name, function in variants.items():
            times[name].append(_per_call(function))
    return {name: statistics.median(values) for name, values in times.items()}


def _variants(parse: Callable[[Any], object], request: Any) -> dict[str, Callable[[], object]]:
    import protovalidate

    validator = protovalidate.Validator()

    def both() -> object:
        validator.collect_violations(request)
        return parse(request)

    return {
        "hand-written": lambda: parse(request),
        "protovalidate": lambda: validator.collect_violations(request),
        "both": both,
    }


def main() -> None:
    print(f"validation: us per call, medians of {ROUNDS} interleaved rounds x {CALLS} calls")
    if not serves_invitations():
        skipped("the validation figures")
        return
    try:
        import protovalidate  # noqa: F401
    except ImportError:
        print("  skipped: protovalidate is not installed (the codegen extra installs it)")
        return
    convert = importlib.import_module("service.invitations.convert")
    create = invitations_message("CreateInvitationRequest")(
        invitation={"email": "someone@example.com", "role": "ROLE_VIEWER"}
    )
    get = invitations_message("GetInvitationRequest")(name=NAME)
    affinity = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    if affinity:
        os.sched_setaffinity(0, {max(affinity)})
    try:
        for label, parse, request in (
            ("CreateInvitation", convert.parse_create, create),
            ("GetInvitation", lambda r: convert.parse_name(r.name), get),
        ):
            figures = _measure(_variants(parse, request))
            base = figures["hand-written"]
            shown = ", ".join(
                f"{name} {us:.1f}" + ("" if name == "hand-written" else f" ({us / base:.2f}x)")
                for name, us in figures.items()
            )
            print(f"  {label}: {shown}")
    finally:
        if affinity:
            os.sched_setaffinity(0, affinity)
