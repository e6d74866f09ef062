"""OpenTelemetry stays off, and out of the process, unless it is configured."""

from __future__ import annotations

import os
import subprocess
import sys

from tools.codegen import ROOT


def test_without_configuration_tracing_adds_nothing_and_imports_nothing() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    code = (
        "import sys\n"
        "from service import tracing\n"
        "import service.server\n"
        "assert tracing.server_interceptors() == []\n"
        "print(sorted(m for m in sys.modules if m.startswith('opentelemetry')))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_configured_without_the_extra_is_a_clear_start_up_error() -> None:
    env = {**os.environ, "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4317"}
    code = "from service import tracing\ntracing.server_interceptors()\n"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode != 0
    assert "the `otel` extra is not installed" in result.stderr
