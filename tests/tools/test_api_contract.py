"""The API as a contract (tools/api.py, buf.yaml): buf lint and the breaking-change check
against the released image, with the real buf of this environment, on the tools tests' sample
proto in a scratch project (never the repository's protos/, which may hold no resource)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from service.db.enum_migrations import RemoveEnumValueOp, RenameEnumValueOp, plan
from tests.tools.conftest import ROOT, SAMPLE, Project, sample_project
from tools import api, probe, watch

OTHER = "others/v1/others.proto"
OTHER_PROTO = """\
syntax = "proto3";

package others.v1;

service OtherService {
  rpc GetOther(GetOtherRequest) returns (Other);
}

message Other {
  string name = 1;
}

message GetOtherRequest {
  string name = 1;
}
"""


@pytest.fixture
def released(tmp_path: Path) -> Project:
    """A scratch project with the repository's buf.yaml, the sample proto, and the sample
    recorded as released (what `make api-release` does)."""
    project = sample_project(tmp_path)
    shutil.copy(ROOT / "buf.yaml", tmp_path / "buf.yaml")
    api.release(tmp_path)
    return project


def edit(project: Project, *changes: tuple[str, str], rel: str = SAMPLE) -> None:
    path = project.protos / rel
    text = path.read_text()
    for old, new in changes:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    path.write_text(text)


# Each: an edit of the sample that breaks clients, and a line of buf's message about it.
BREAKING = {
    "a renumbered field": (
        [("  string title = 2;", "  string title = 6;")],
        'Previously present field "2" with name "title" on message "Sample" was deleted',
    ),
    "a deleted enum value, not reserved": (
        [("  COLOR_BLUE = 3;\n", "")],
        'Previously present enum value "3" on enum "Color" was deleted without reserving',
    ),
    "a deleted enum value, only its number reserved": (
        [("  COLOR_BLUE = 3;\n", "  reserved 3;\n")],
        'was deleted without reserving the name "COLOR_BLUE"',
    ),
    "a renamed RPC": (
        [
            ("rpc GetSample(GetSampleRequest)", "rpc FetchSample(FetchSampleRequest)"),
            ("message GetSampleRequest {", "message FetchSampleRequest {"),
        ],
        'Previously present RPC "GetSample" on service "SampleService" was deleted',
    ),
    "a renamed service": (
        [("service SampleService {", "service SpecimenService {")],
        'Previously present service "SampleService" was deleted',
    ),
    "a changed field type": (
        [("  string title = 2;", "  bytes title = 2;")],
        'Field "2" with name "title" on message "Sample" changed type from "string" to "bytes"',
    ),
    "a deleted field, not reserved": (
        [("  string title = 2;\n", "")],
        'Previously present field "2" with name "title" on message "Sample" was deleted',
    ),
    "a renamed enum value": (
        [("  COLOR_BLUE = 3;", "  COLOR_TEAL = 3;")],
        'Enum value "3" on enum "Color" changed name from "COLOR_BLUE" to "COLOR_TEAL"',
    ),
}

# Each: the safe form of a change; the check accepts it.
SAFE = {
    "a deleted field, number and name reserved": [
        ("  string title = 2;\n", '  reserved 2;\n  reserved "title";\n')
    ],
    "a deleted enum value, number and name reserved": [
        ("  COLOR_BLUE = 3;\n", '  reserved 3;\n  reserved "COLOR_BLUE";\n')
    ],
    "a new field instead of a changed one": [
        ("  string title = 2;", "  string title = 2 [deprecated = true];\n  bytes raw_title = 6;")
    ],
    "a new enum value": [("  COLOR_BLUE = 3;", "  COLOR_BLUE = 3;\n  COLOR_TEAL = 4;")],
    "a new RPC": [
        (
            "  rpc GetSample(GetSampleRequest) returns (Sample);",
            "  rpc GetSample(GetSampleRequest) returns (Sample);\n"
            "  rpc FetchSample(FetchSampleRequest) returns (Sample);",
        ),
        (
            "message GetSampleRequest {",
            "message FetchSampleRequest {\n  string name = 1;\n}\n\nmessage GetSampleRequest {",
        ),
    ],
}


@pytest.mark.parametrize("name", BREAKING)
def test_a_breaking_edit_fails_with_bufs_message_and_how_to_do_it_safely(
    released: Project, name: str
) -> None:
    changes, message = BREAKING[name]
    edit(released, *changes)

    report = api.check(released.root)

    assert not report.ok
    assert message in report.text
    assert report.text.endswith(api.SAFELY)


@pytest.mark.parametrize("name", SAFE)
def test_the_same_changes_made_safely_pass(released: Project, name: str) -> None:
    edit(released, *SAFE[name])

    report = api.check(released.root)

    assert report.ok, report.text
    assert report.text == ""


@pytest.mark.parametrize("name", BREAKING)
def test_after_a_release_a_deliberate_break_is_accepted(released: Project, name: str) -> None:
    changes, _ = BREAKING[name]
    edit(released, *changes)
    assert not api.check(released.root).ok

    said = api.release(released.root)

    assert said == f"{api.RELEASED}: released 1 file: {SAMPLE}"
    assert api.check(released.root).ok


def test_lint_findings_and_unformatted_protos_fail_too(released: Project) -> None:
    edit(released, ("  string title = 2;", "  string Title = 2;"))
    report = api.check(released.root)
    assert not report.ok
    assert 'Field name "Title" should be lower_snake_case' in report.text

    edit(released, ("  string Title = 2;", "    string title   =   2;"))
    report = api.check(released.root)
    assert not report.ok
    assert "`make format` formats the protos" in report.text
    assert api.check(released.root, format_too=False).ok


def test_a_new_package_is_not_a_break(released: Project) -> None:
    released.write_proto(OTHER, OTHER_PROTO)

    assert api.check(released.root).ok


def test_a_missing_image_fails_and_an_empty_one_means_nothing_released(
    released: Project,
) -> None:
    edit(released, *BREAKING["a renamed service"][0])
    image = released.root / api.RELEASED

    image.unlink()
    report = api.check(released.root)
    assert not report.ok
    assert "api/released.binpb is missing: `make api-release`" in report.text

    image.write_bytes(b"")
    assert api.check(released.root).ok


def test_a_removed_resource_leaves_the_rest_of_the_release_checked(released: Project) -> None:
    """What `make remove-resource` does to the image: a package removed on purpose is dropped
    from it, every other stays checked; with the last one gone the image is empty."""
    released.write_proto(OTHER, OTHER_PROTO)
    api.release(released.root)
    assert api.released_files(released.root) == [OTHER, SAMPLE]

    shutil.rmtree(released.protos / "samples")
    gone = api.check(released.root).text
    assert 'Previously present package "samples.v1" was deleted' in gone
    assert "google.protobuf" not in gone  # imports are not the API: --exclude-imports
    assert api.forget(released.root, ["samples"]) == [SAMPLE]
    assert api.released_files(released.root) == [OTHER]
    assert api.check(released.root).ok
    edit(
        released,
        ("string name = 1;\n}\n\nmessage Get", "int64 name = 1;\n}\n\nmessage Get"),
        rel=OTHER,
    )
    assert 'changed type from "string" to "int64"' in api.check(released.root).text

    shutil.rmtree(released.protos / "others")
    assert api.forget(released.root, ["others"]) == [OTHER]
    assert (released.root / api.RELEASED).read_bytes() == b""
    assert api.check(released.root) == api.Report(True, "")  # no protos: nothing to check
    assert api.release(released.root) == f"{api.RELEASED}: no protos, nothing released"


def test_reserved_enum_values_generate_and_migrate(released: Project) -> None:
    """A value removed the safe way (number and name reserved, ranges too) passes the check,
    leaves a Python enum without it, numbered as before, and a migration that removes its
    label; a renamed value is a break on the wire check, and `renamed=` on the database."""
    edit(
        released,
        (
            "  COLOR_BLUE = 3;\n",
            '  reserved 3, 7 to 9, 100 to max;\n  reserved "COLOR_BLUE", "COLOR_PINK";\n'
            "  COLOR_CYAN = 4;\n",
        ),
    )
    assert api.check(released.root).ok
    released.generate()
    done = released.run_python(
        "import json\n"
        "from generated.samples.v1 import samples_enums as e, samples_pb2 as pb\n"
        "from service.db.enums import ProtoEnum\n"
        "members = [[m.name, m.value, m.to_proto(), m.proto_name] for m in e.Color]\n"
        "print(json.dumps([members, ProtoEnum(e.Color, 'color').labels]))\n"
        "assert e.Color.from_proto(pb.COLOR_CYAN) is e.Color.CYAN\n"
    )
    assert done.returncode == 0, done.stderr
    members, labels = json.loads(done.stdout)
    assert members == [
        ["UNSPECIFIED", 0, 0, "COLOR_UNSPECIFIED"],
        ["RED", 1, 1, "COLOR_RED"],
        ["GREEN", 2, 2, "COLOR_GREEN"],
        ["CYAN", 4, 4, "COLOR_CYAN"],
    ]
    assert labels == ["RED", "GREEN", "CYAN"]  # the database's labels: names, never numbers

    old = ["RED", "GREEN", "BLUE"]
    [remove, add] = plan("color", None, old, labels, {})
    assert isinstance(remove, RemoveEnumValueOp)
    assert (remove.value, remove.values) == ("BLUE", ["RED", "GREEN"])
    assert add.describe() == "add value 'CYAN' to enum color, after 'GREEN'"

    [rename] = plan("color", None, old, ["RED", "GREEN", "TEAL"], {"BLUE": "TEAL"})
    assert isinstance(rename, RenameEnumValueOp)


def test_the_watch_reports_findings_after_a_regeneration(
    released: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    report = watch.ApiReport(released.root)
    edit(released, *BREAKING["a renamed service"][0])

    watch.run_cycle("edit", True, released.protos, released.out, None, api_report=report)
    assert report.done.wait(60)
    out = capsys.readouterr().out
    assert "edit: 8 written, 0 removed in " in out
    assert "API: buf found" in out
    assert 'Previously present service "SampleService" was deleted' in out

    report.done.clear()
    edit(released, ("service SpecimenService {", "service SampleService {"))
    watch.run_cycle("fix", True, released.protos, released.out, None, api_report=report)
    assert report.done.wait(60)
    assert "API: clean again" in capsys.readouterr().out


def test_a_protoc_error_is_reported_without_the_api_report(
    released: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    report = watch.ApiReport(released.root)
    edit(released, ("  string title = 2;", "  strin title = 2;"))

    watch.run_cycle("edit", True, released.protos, released.out, None, api_report=report)

    assert not report.done.wait(1)
    assert "protoc error" in capsys.readouterr().out


@pytest.mark.timeout(600)
def test_a_scaffolded_resource_passes_and_its_removal_leaves_the_release_checked(
    tmp_path: Path,
) -> None:
    """In a copy of the repository: `make resource` writes a proto that passes lint and is
    not a break; released, then removed with `make remove-resource`'s command, it leaves the
    image without it and the check passing."""
    copy = probe.copy_repository(tmp_path / "repo")
    (copy / ".venv").symlink_to(ROOT / ".venv")
    before = api.released_files(copy)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [sys.executable, "-m", *args], cwd=copy, capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done

    run("tools.scaffold", "add", "shelf_item")
    assert run("tools.api", "check").stdout == ""
    run("tools.api", "release")
    proto = copy / "protos" / "shelf_items" / "v1" / "shelf_items.proto"
    text = proto.read_text()
    assert text.count("string display_name = 2 [") == 1
    proto.write_text(text.replace("string display_name = 2 [", "bytes display_name = 2 ["))
    broken = subprocess.run(
        [sys.executable, "-m", "tools.api", "check"],
        cwd=copy,
        capture_output=True,
        text=True,
        check=False,
    )
    assert broken.returncode == 1
    assert 'changed type from "string" to "bytes"' in broken.stderr
    assert broken.stderr.strip().endswith(api.SAFELY)
    proto.write_text(text)
    assert api.released_files(copy) == sorted([*before, "shelf_items/v1/shelf_items.proto"])

    removed = run("tools.api", "remove-resource", "shelf_item")

    assert "Also dropped from the released API (api/released.binpb): shelf_items" in removed.stdout
    assert api.released_files(copy) == before
    run("tools.api", "check")


def test_the_shipped_tree_passes_make_lint() -> None:
    env = {k: v for k, v in os.environ.items() if k != "MAKEFLAGS"}
    done = subprocess.run(
        ["make", "--no-print-directory", "lint"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert api.check(ROOT) == api.Report(True, "")


CHECKED = """\
syntax = "proto3";

package checked.v1;

import "buf/validate/validate.proto";

message Checked {
  string code = 1 [(buf.validate.field).string.pattern = "^[a-z]+$"];
}
"""


def test_protos_with_constraints_are_checked_and_released_without_validate_proto(
    released: Project,
) -> None:
    """buf cannot find buf/validate/validate.proto among the sources: the check reads protoc's
    image of protos/ instead, lints only our files, and the release leaves validate.proto out."""
    released.write_proto("checked/v1/checked.proto", CHECKED)
    assert api.check(released.root) == api.Report(True, "")

    api.release(released.root)
    assert api.released_files(released.root) == ["checked/v1/checked.proto", SAMPLE]
    image = (released.root / api.RELEASED).read_bytes()
    assert b"buf/validate" not in image

    edit(released, ("string code = 1", "int64 code = 1"), rel="checked/v1/checked.proto")
    report = api.check(released.root)
    assert not report.ok
    assert (
        'protos/checked/v1/checked.proto:8:3:Field "1" with name "code" on message "Checked" '
        'changed type from "string" to "int64"' in report.text
    )
    edit(released, ("int64 code = 1", "string Code = 1"), rel="checked/v1/checked.proto")
    report = api.check(released.root)
    assert 'protos/checked/v1/checked.proto:8:10:Field name "Code" should be' in report.text
