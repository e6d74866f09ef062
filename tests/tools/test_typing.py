"""The generated type hints make mypy --strict useful: right code passes, wrong code is caught.

Each snippet is a file of a scratch project holding the sample proto (tests/tools/conftest.py),
checked with the repository's mypy settings, as `make typecheck` would check the service.
"""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.tools.conftest import ROOT, Project, sample_project

HEADER = """\
from collections.abc import AsyncIterator

import grpc
from google.protobuf import empty_pb2

from generated.samples.v1 import samples_pb2 as pb
from generated.samples.v1 import samples_pb2_grpc as pb_grpc
from generated.samples.v1.samples_enums import Color, SampleState

Context = grpc.aio.ServicerContext
"""

# A complete aio servicer and an aio client: must pass --strict with no Any expression at all.
GOOD = """\
class Servicer(pb_grpc.SampleServiceServicer):
    async def CreateSample(
        self, request: pb.CreateSampleRequest, context: Context[pb.CreateSampleRequest, pb.Sample]
    ) -> pb.Sample:
        color = Color.from_proto(request.sample.color)
        return pb.Sample(
            title=request.sample.title,
            color=color.to_proto(),
            state=SampleState.DRAFT.to_proto(),
        )

    async def GetSample(
        self, request: pb.GetSampleRequest, context: Context[pb.GetSampleRequest, pb.Sample]
    ) -> pb.Sample:
        await context.abort(grpc.StatusCode.NOT_FOUND, f"{request.name} does not exist")

    async def ListSamples(
        self,
        request: pb.ListSamplesRequest,
        context: Context[pb.ListSamplesRequest, pb.ListSamplesResponse],
    ) -> pb.ListSamplesResponse:
        return pb.ListSamplesResponse(samples=[pb.Sample()], next_page_token="")

    async def UpdateSample(
        self, request: pb.UpdateSampleRequest, context: Context[pb.UpdateSampleRequest, pb.Sample]
    ) -> pb.Sample:
        paths: list[str] = list(request.update_mask.paths)
        return request.sample if paths else pb.Sample()

    async def DeleteSample(
        self, request: pb.DeleteSampleRequest, context: Context[pb.DeleteSampleRequest, empty_pb2.Empty]
    ) -> empty_pb2.Empty:
        return empty_pb2.Empty()

    async def WatchSamples(
        self, request: pb.WatchSamplesRequest, context: Context[pb.WatchSamplesRequest, pb.SampleEvent]
    ) -> AsyncIterator[pb.SampleEvent]:
        yield pb.SampleEvent(kind=pb.SampleEvent.KIND_CREATED)


async def serve() -> grpc.aio.Server:
    server = grpc.aio.server()
    pb_grpc.add_SampleServiceServicer_to_server(Servicer(), server)
    server.add_insecure_port("127.0.0.1:0")
    await server.start()
    return server


async def call(channel: grpc.aio.Channel) -> list[str]:
    stub = pb_grpc.SampleServiceStub(channel)
    created = await stub.CreateSample(
        pb.CreateSampleRequest(sample=pb.Sample(title="first", color=pb.COLOR_BLUE)),
        timeout=1.0,
    )
    state: SampleState = SampleState.from_proto(created.state)
    names = [state.name, created.create_time.ToDatetime().isoformat()]
    async for event in stub.WatchSamples(pb.WatchSamplesRequest()):
        names.append(event.sample.name)
    return names
"""

# Each wrong snippet, with the mypy error code and message part it must produce.
WRONG = {
    "wrong_field_type": (
        "pb.Sample(title=5)",
        "arg-type",
        'Argument "title" to "Sample" has incompatible type "int"',
    ),
    "wrong_enum_for_field": (
        "pb.Sample(color=SampleState.DRAFT.to_proto())",
        "arg-type",
        'Argument "color" to "Sample" has incompatible type "generated.samples.v1.samples_pb2._SampleState.ValueType"',
    ),
    "unknown_field": (
        "pb.Sample(nickname='x')",
        "call-arg",
        'Unexpected keyword argument "nickname" for "Sample"',
    ),
    "missing_rpc": (
        """\
        class Partial(pb_grpc.SampleServiceServicer):
            async def GetSample(
                self, request: pb.GetSampleRequest, context: Context[pb.GetSampleRequest, pb.Sample]
            ) -> pb.Sample:
                return pb.Sample()

        pb_grpc.add_SampleServiceServicer_to_server(Partial(), grpc.aio.server())
        """,
        "abstract",
        'Cannot instantiate abstract class "Partial" with abstract attributes "CreateSample"',
    ),
    "wrong_request_type_on_client": (
        """\
        async def call(channel: grpc.aio.Channel) -> None:
            stub = pb_grpc.SampleServiceStub(channel)
            await stub.GetSample(pb.DeleteSampleRequest(name="samples/1"))
        """,
        "arg-type",
        'has incompatible type "DeleteSampleRequest"; expected "GetSampleRequest"',
    ),
    "wrong_response_type_in_servicer": (
        """\
        class Wrong(pb_grpc.SampleServiceServicer):
            async def GetSample(
                self, request: pb.GetSampleRequest, context: Context[pb.GetSampleRequest, pb.Sample]
            ) -> pb.Sample:
                return pb.ListSamplesResponse()
        """,
        "return-value",
        'Incompatible return value type (got "ListSamplesResponse", expected "Sample")',
    ),
}


def run_mypy(project: Project, files: list[Path]) -> str:
    """mypy with the repository's settings, from the project's root, where `generated` is."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            f"--config-file={ROOT / 'pyproject.toml'}",
            "--strict",
            "--disallow-any-expr",
            "--no-pretty",
            *(str(f) for f in files),
        ],
        cwd=project.root,
        capture_output=True,
        text=True,
        check=False,
    )
    return result.stdout + result.stderr


@pytest.fixture(scope="module")
def mypy_output(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[str]]:
    """One mypy run over every snippet (mypy's start-up dominates); errors by snippet name."""
    project = sample_project(tmp_path_factory.mktemp("typing"))
    project.generate()
    folder = project.root / "snippets"
    folder.mkdir()
    files = []
    for name, body in {"good": GOOD, **{n: w[0] for n, w in WRONG.items()}}.items():
        path = folder / f"{name}.py"
        path.write_text(HEADER + "\n\n" + textwrap.dedent(body))
        files.append(path)
    output = run_mypy(project, files)
    errors: dict[str, list[str]] = {path.stem: [] for path in files}
    for line in output.splitlines():
        match = re.match(r".*?(\w+)\.py:\d+: error: (.*)", line)
        if match:
            errors[match.group(1)].append(match.group(2))
    return errors


def test_a_complete_aio_servicer_and_client_pass_strict_with_no_any(
    mypy_output: dict[str, list[str]],
) -> None:
    assert mypy_output["good"] == []


@pytest.mark.parametrize("name", sorted(WRONG))
def test_wrong_code_is_rejected(name: str, mypy_output: dict[str, list[str]]) -> None:
    _, code, message = WRONG[name]
    assert any(f"[{code}]" in error and message in error for error in mypy_output[name]), (
        mypy_output[name]
    )
