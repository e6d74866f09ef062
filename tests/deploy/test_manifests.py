"""The deployment files, checked offline: Kubernetes schemas, probes, security, compose order."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from tools.codegen import ROOT

KUBERNETES = ROOT / "deploy" / "kubernetes"
BASE = KUBERNETES / "base"
VERSION = "1.31.0"


def documents(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def base_resources() -> list[dict[str, Any]]:
    kustomization = documents(BASE / "kustomization.yaml")[0]
    return [d for name in kustomization["resources"] for d in documents(BASE / name)]


def by_kind(kind: str) -> dict[str, Any]:
    [found] = [d for d in base_resources() if d["kind"] == kind]
    return found


@pytest.mark.parametrize(
    "resource", base_resources(), ids=lambda d: f"{d['kind']}/{d['metadata']['name']}"
)
def test_every_resource_validates_against_the_kubernetes_schema(resource: dict[str, Any]) -> None:
    kubernetes_validate.validate(resource, VERSION, strict=True)


def test_probes_ask_the_grpc_health_service() -> None:
    [container] = by_kind("Deployment")["spec"]["template"]["spec"]["containers"]
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert container[probe]["grpc"] == {"port": 50051}, probe


def test_pods_are_restricted_and_outlive_the_servers_grace_period() -> None:
    pod = by_kind("Deployment")["spec"]["template"]["spec"]
    [container] = pod["containers"]
    env = {e["name"]: e.get("value") for e in container["env"]}
    pre_stop = int(container["lifecycle"]["preStop"]["exec"]["command"][1])
    assert pod["terminationGracePeriodSeconds"] > int(env["GRACE_PERIOD_SECONDS"]) + pre_stop
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert container["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
    }
    assert set(container["resources"]) == {"requests", "limits"}


def test_the_migration_job_runs_the_images_migrate_command() -> None:
    [job] = by_kind("Job")["spec"]["template"]["spec"]["containers"]
    [server] = by_kind("Deployment")["spec"]["template"]["spec"]["containers"]
    assert job["args"] == ["migrate"]
    assert job["image"] == server["image"]
    assert by_kind("Job")["spec"]["backoffLimit"] == 0
    # The README's `kubectl apply -l app.kubernetes.io/component=migrate` selects it alone.
    assert by_kind("Job")["metadata"]["labels"]["app.kubernetes.io/component"] == "migrate"


def test_the_production_overlay_patches_resources_that_exist() -> None:
    overlay = KUBERNETES / "overlays" / "production"
    kustomization = documents(overlay / "kustomization.yaml")[0]
    assert (overlay / kustomization["resources"][0]).resolve() == BASE
    names = {(d["kind"], d["metadata"]["name"]) for d in base_resources()}
    for patch in kustomization["patches"]:
        [document] = documents(overlay / patch["path"])
        assert (document["kind"], document["metadata"]["name"]) in names


def test_compose_migrates_before_serving_and_checks_health() -> None:
    compose = documents(ROOT / "compose.yaml")[0]["services"]
    assert compose["migrate"]["command"] == ["migrate"]
    assert compose["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert compose["service"]["depends_on"]["migrate"]["condition"] == (
        "service_completed_successfully"
    )
    assert compose["service"]["healthcheck"]["test"] == [
        "CMD",
        "python",
        "-m",
        "service.healthcheck",
    ]
    assert "POSTGRES_PASSWORD:?" in (ROOT / "compose.yaml").read_text()  # no default password
