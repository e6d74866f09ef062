"""`make generate` (tools/codegen.py) with real protoc and mypy-protobuf, in a scratch project."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from grpc_tools import __file__ as grpc_tools_init

from tests.tools.conftest import ROOT, SAMPLE, Project
from tools import codegen

NOTES = """syntax = "proto3";
package notes.v1;
import "google/protobuf/timestamp.proto";
import "samples/v1/samples.proto";
message Note {
  string text = 1;
  samples.v1.Color color = 2;
  google.protobuf.Timestamp create_time = 3;
}
"""


def run_cli(project: Project, *args: str) -> subprocess.CompletedProcess[str]:
    """`python -m tools.codegen` as make runs it, from the scratch project's root."""
    return subprocess.run(
        [sys.executable, "-m", "tools.codegen", "--protos", "protos", "--out", "generated", *args],
        cwd=project.root,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        check=False,
    )


def test_generates_messages_stubs_type_hints_and_enums(project: Project) -> None:
    project.generate()

    files = set(project.snapshot())
    assert {
        "__init__.py",
        "samples/__init__.py",
        "samples/v1/__init__.py",
        "samples/v1/samples_pb2.py",
        "samples/v1/samples_pb2.pyi",
        "samples/v1/samples_pb2_grpc.py",
        "samples/v1/samples_pb2_grpc.pyi",
        "samples/v1/samples_enums.py",
    } <= files


def test_generated_modules_import_with_well_known_types_and_cross_file_imports(
    project: Project,
) -> None:
    project.write_proto("notes/v1/notes.proto", NOTES)
    project.generate()

    result = project.run_python(
        "from generated.notes.v1 import notes_pb2\n"
        "from generated.samples.v1 import samples_pb2_grpc\n"
        "from generated.samples.v1.samples_enums import Color\n"
        "note = notes_pb2.Note(text='hi', color=Color.BLUE.to_proto())\n"
        "note.create_time.FromSeconds(5)\n"
        "print(type(note).__module__, notes_pb2.Note.FromString(note.SerializeToString()).color)\n"
        "print(samples_pb2_grpc.SampleServiceStub.__module__)\n",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "generated.notes.v1.notes_pb2",
        "3",
        "generated.samples.v1.samples_pb2_grpc",
    ]
    # The cross-file import is rewritten; google.protobuf's is not.
    stub = (project.out / "notes/v1/notes_pb2.pyi").read_text()
    assert "from generated.samples.v1 import samples_pb2" in stub
    assert "from google.protobuf import timestamp_pb2" in stub


def test_second_run_rewrites_nothing(project: Project) -> None:
    first = run_cli(project)
    assert first.returncode == 0, first.stderr
    before = project.snapshot()

    second = run_cli(project)

    assert second.returncode == 0, second.stderr
    assert "up to date" in second.stdout
    assert project.snapshot() == before  # same bytes and same mtimes, file for file


def test_an_edit_rewrites_only_the_outputs_that_changed(project: Project) -> None:
    project.write_proto("notes/v1/notes.proto", NOTES)
    project.generate()
    before = project.snapshot()

    path = project.protos / "notes/v1/notes.proto"
    path.write_text(NOTES.replace("  string text = 1;", "  string text = 1;\n  int32 likes = 4;"))
    result = project.generate()

    after = project.snapshot()
    changed = {rel for rel in after if after[rel] != before.get(rel)}
    assert changed == {"notes/v1/notes_pb2.py", "notes/v1/notes_pb2.pyi", ".codegen.json"}
    assert result.compiled == ["notes/v1/notes.proto"]
    assert "likes" in (project.out / "notes/v1/notes_pb2.pyi").read_text()


def test_protos_importing_a_changed_proto_are_recompiled(project: Project) -> None:
    tag = 'syntax = "proto3";\npackage notes.v1;\nmessage Tag {}\n'
    project.write_proto("notes/v1/tag.proto", tag)
    project.write_proto(
        "notes/v1/notes.proto",
        'syntax = "proto3";\npackage notes.v1;\nimport "notes/v1/tag.proto";\n'
        "message Note {\n  Tag tag = 1;\n}\n",
    )
    project.generate()

    project.write_proto("notes/v1/tag.proto", tag.replace("Tag", "Label"))

    with pytest.raises(codegen.CodegenError, match=r"protos/notes/v1/notes\.proto:5:3: .*Tag"):
        project.generate()


def test_deleting_a_proto_removes_its_outputs_and_empty_folders(project: Project) -> None:
    project.write_proto("notes/v1/notes.proto", NOTES)
    project.generate()

    (project.protos / "notes/v1/notes.proto").unlink()
    result = project.generate()

    assert not (project.out / "notes").exists()
    assert "notes/v1/notes_pb2.py" in result.removed
    assert (project.out / "samples/v1/samples_pb2.py").exists()


def test_renaming_a_proto_moves_its_outputs(project: Project) -> None:
    project.generate()
    # Leave a bytecode cache behind, as importing the old module would.
    assert project.run_python("import generated.samples.v1.samples_pb2").returncode == 0

    (project.protos / SAMPLE).rename(project.protos / "samples/v1/specimens.proto")
    project.generate()

    files = set(project.snapshot())
    assert "samples/v1/specimens_pb2.py" in files
    assert "samples/v1/specimens_enums.py" in files
    assert not {f for f in files if "samples_" in f}
    result = project.run_python("import generated.samples.v1.samples_pb2")
    assert "ModuleNotFoundError" in result.stderr


def test_syntax_error_leaves_generated_untouched_and_prints_the_location(project: Project) -> None:
    assert run_cli(project).returncode == 0
    before = project.snapshot()
    path = project.protos / SAMPLE
    lines = path.read_text().splitlines()
    line_no = next(i for i, line in enumerate(lines, 1) if "string title = 2;" in line)
    lines[line_no - 1] = "  string title = ;"
    path.write_text("\n".join(lines) + "\n")

    result = run_cli(project)

    assert result.returncode == 1
    assert f"protos/{SAMPLE}:{line_no}:18: Expected field number." in result.stderr
    assert project.snapshot() == before


def test_a_hand_edited_or_stray_file_is_put_right(project: Project) -> None:
    project.generate()
    stub = project.out / "samples/v1/samples_pb2.pyi"
    original = stub.read_bytes()
    stub.write_text("# edited by hand\n")
    (project.out / "samples/v1/leftover_pb2.py").write_text("x = 1\n")

    result = project.generate()

    assert stub.read_bytes() == original
    assert result.removed == ["samples/v1/leftover_pb2.py"]


def test_a_package_that_does_not_mirror_its_folder_is_refused(project: Project) -> None:
    project.write_proto("notes/v1/notes.proto", NOTES.replace("package notes.v1;", "package x;"))

    with pytest.raises(
        codegen.CodegenError, match=r"notes/v1/notes\.proto: package 'x'.*notes\.v1"
    ):
        project.generate()


def test_tool_upgrade_regenerates_everything(project: Project) -> None:
    project.write_proto("notes/v1/notes.proto", NOTES)
    project.generate()
    manifest = project.out / codegen.MANIFEST
    manifest.write_text(manifest.read_text().replace(codegen.fingerprint(), "older-tools"))

    assert project.generate().compiled == ["notes/v1/notes.proto", SAMPLE]


def test_in_process_type_hints_equal_the_mypy_protobuf_plugins_output(
    project: Project, tmp_path: Path
) -> None:
    """We run mypy-protobuf in-process for speed; its output must match the real plugins'."""
    project.write_proto("notes/v1/notes.proto", NOTES)
    project.generate()
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    bin_dir = Path(sys.executable).parent
    subprocess.run(
        [
            sys.executable,
            "-m",
            "grpc_tools.protoc",
            f"-I{project.protos}",
            f"-I{Path(grpc_tools_init).parent / '_proto'}",
            f"--plugin=protoc-gen-mypy={bin_dir / 'protoc-gen-mypy'}",
            f"--plugin=protoc-gen-mypy_grpc={bin_dir / 'protoc-gen-mypy_grpc'}",
            f"--mypy_out=quiet:{plugins}",
            f"--mypy_grpc_out=quiet:{plugins}",
            SAMPLE,
            "notes/v1/notes.proto",
        ],
        check=True,
    )
    ours = {"samples.v1.samples_pb2", "notes.v1.notes_pb2"}
    stubs = sorted(plugins.rglob("*.pyi"))
    assert len(stubs) == 4
    for stub in stubs:
        rel = stub.relative_to(plugins).as_posix()
        expected = codegen.rewrite_imports(stub.read_text(), ours, "generated")
        assert (project.out / rel).read_text() == expected, rel


def test_grpcio_tools_is_pinned_no_newer_than_grpcio() -> None:
    """Generated _pb2_grpc modules refuse a grpcio runtime older than the grpcio-tools used."""
    for requirements in sorted((ROOT / "requirements").glob("*.txt")):
        pins = dict(
            line.split(" ", 1)[0].split("==")
            for line in requirements.read_text().splitlines()
            if "==" in line and not line.startswith(("#", " "))
        )
        if "grpcio-tools" in pins:
            tools = tuple(map(int, pins["grpcio-tools"].split(".")))
            runtime = tuple(map(int, pins["grpcio"].split(".")))
            assert tools <= runtime, requirements.name


def test_enums_that_would_share_a_class_name_are_a_codegen_error(project: Project) -> None:
    assert run_cli(project).returncode == 0
    before = project.snapshot()
    clash = """syntax = "proto3";
package notes.v1;
enum NoteKind { NOTE_KIND_UNSPECIFIED = 0; }
message Note {
  enum Kind { KIND_UNSPECIFIED = 0; }
}
"""
    project.write_proto("notes/v1/notes.proto", clash)

    result = run_cli(project)

    assert result.returncode == 1
    assert "codegen failed, generated/ left as it was" in result.stderr
    assert "would share a Python class name" in result.stderr
    assert "Traceback" not in result.stderr
    assert project.snapshot() == before


CHECKED = """syntax = "proto3";
package checked.v1;
import "buf/validate/validate.proto";
message Checked {
  string code = 1 [(buf.validate.field).string.pattern = "^[a-z]+$"];
}
"""


def test_validate_proto_comes_from_protovalidate_and_goes_with_its_last_importer(
    project: Project,
) -> None:
    """buf/validate/validate.proto is compiled from the protovalidate wheel's descriptors into
    generated/buf/validate/, imported as `generated.buf.validate`; the generated modules work
    without protovalidate; an incremental run reuses it; it goes when no proto imports it."""
    project.write_proto("checked/v1/checked.proto", CHECKED)
    project.generate()
    validate = project.out / "buf/validate/validate_pb2.py"
    module = (project.out / "checked/v1/checked_pb2.py").read_text()
    assert "from generated.buf.validate import validate_pb2" in module
    assert "'generated.buf.validate.validate_pb2'" in validate.read_text()
    assert not (project.root / "protos/buf").exists()

    result = project.run_python(
        "import sys\n"
        "sys.modules['protovalidate'] = None  # as in the image: not installed\n"
        "from generated.checked.v1 import checked_pb2\n"
        "from generated.buf.validate import validate_pb2\n"
        "field = checked_pb2.Checked.DESCRIPTOR.fields_by_name['code']\n"
        "print(field.GetOptions().Extensions[validate_pb2.field].string.pattern)\n"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "^[a-z]+$"

    before = validate.read_bytes()
    project.write_proto("checked/v1/checked.proto", CHECKED.replace("[a-z]", "[a-c]"))
    assert project.generate().compiled == ["checked/v1/checked.proto"]
    assert validate.read_bytes() == before
    assert codegen.generate(project.protos, project.out, full=True).written == []

    (project.protos / "checked/v1/checked.proto").unlink()
    removed = project.generate().removed
    assert "buf/validate/validate_pb2.py" in removed
    assert not (project.out / "buf").exists()
