"""A scratch project for the tools tests: its own protos/ and generated/, real tools.

The tools tests compile a sample proto of their own, never the repository's protos/: they pass
whatever resources protos/ holds, none included.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tools import codegen

ROOT = codegen.ROOT

SAMPLE = "samples/v1/samples.proto"
# What the codegen has to handle: well-known types, enums top-level and nested, a documented
# enum, unary and server-streaming methods.
SAMPLE_PROTO = """\
// A sample API for the tools tests.
syntax = "proto3";

package samples.v1;

import "google/protobuf/empty.proto";
import "google/protobuf/field_mask.proto";
import "google/protobuf/timestamp.proto";

// Keeps samples.
service SampleService {
  rpc CreateSample(CreateSampleRequest) returns (Sample);
  rpc GetSample(GetSampleRequest) returns (Sample);
  rpc ListSamples(ListSamplesRequest) returns (ListSamplesResponse);
  rpc UpdateSample(UpdateSampleRequest) returns (Sample);
  rpc DeleteSample(DeleteSampleRequest) returns (google.protobuf.Empty);
  // Streams every change from now on.
  rpc WatchSamples(WatchSamplesRequest) returns (stream SampleEvent);
}

// The colour a sample is painted.
enum Color {
  COLOR_UNSPECIFIED = 0;
  COLOR_RED = 1;
  COLOR_GREEN = 2;
  COLOR_BLUE = 3;
}

// Where a sample is in its life.
enum SampleState {
  SAMPLE_STATE_UNSPECIFIED = 0;
  SAMPLE_STATE_DRAFT = 1;
  SAMPLE_STATE_PUBLISHED = 2;
  SAMPLE_STATE_ARCHIVED = 3;
}

message Sample {
  string name = 1;
  string title = 2;
  Color color = 3;
  SampleState state = 4;
  google.protobuf.Timestamp create_time = 5;
}

message CreateSampleRequest {
  Sample sample = 1;
}

message GetSampleRequest {
  string name = 1;
}

message ListSamplesRequest {
  int32 page_size = 1;
  string page_token = 2;
}

message ListSamplesResponse {
  repeated Sample samples = 1;
  string next_page_token = 2;
}

message UpdateSampleRequest {
  Sample sample = 1;
  google.protobuf.FieldMask update_mask = 2;
}

message DeleteSampleRequest {
  string name = 1;
}

message WatchSamplesRequest {}

message SampleEvent {
  enum Kind {
    KIND_UNSPECIFIED = 0;
    KIND_CREATED = 1;
    KIND_UPDATED = 2;
    KIND_DELETED = 3;
  }
  Kind kind = 1;
  Sample sample = 2;
}
"""


@dataclass(frozen=True)
class Project:
    root: Path

    @property
    def protos(self) -> Path:
        return self.root / "protos"

    @property
    def out(self) -> Path:
        return self.root / "generated"

    def write_proto(self, rel: str, text: str) -> Path:
        path = self.protos / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return path

    def generate(self) -> codegen.Result:
        return codegen.generate(self.protos, self.out)

    def snapshot(self) -> dict[str, tuple[bytes, int]]:
        """Every generated file with its bytes and mtime, caches aside."""
        return {
            p.relative_to(self.out).as_posix(): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in sorted(self.out.rglob("*"))
            if p.is_file() and "__pycache__" not in p.parts
        }

    def run_python(self, code: str) -> subprocess.CompletedProcess[str]:
        """Python code run from the project's root: `generated` is this project's.

        The repository stays importable behind it (`tools`, `tests`), and the scratch modules
        never meet the test session's own generated/ in one process.
        """
        return subprocess.run(
            [sys.executable, "-c", code],
            cwd=self.root,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            capture_output=True,
            text=True,
            check=False,
        )


def sample_project(root: Path) -> Project:
    """A project at root whose protos/ holds the sample proto, and generated/ nothing yet."""
    project = Project(root)
    project.write_proto(SAMPLE, SAMPLE_PROTO)
    return project


@pytest.fixture
def project(tmp_path: Path) -> Project:
    """A scratch project with the sample proto and an empty generated/."""
    return sample_project(tmp_path)
