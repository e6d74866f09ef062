"""The deployment files, checked offline: Kubernetes schemas, probes, security, compose order,
and names that are the project's (pyproject.toml's name), never one of its resources'."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.deploy.manifests import base_resources, documents, kubernetes, label, validate
from tools.codegen import ROOT
from tools.image import IMAGE
from tools.rename import Spellings, project_name

KUBERNETES = kubernetes(ROOT)
BASE = KUBERNETES / "base"
PRODUCTION = KUBERNETES / "overlays" / "production"
PROJECT = project_name()
NAME_LABEL = "app.kubernetes.io/name"


def by_kind(kind: str) -> dict[str, Any]:
    [found] = [d for d in base_resources(ROOT) if d["kind"] == kind]
    return found


@pytest.mark.parametrize("resource", base_resources(ROOT), ids=label)
def test_every_resource_validates_against_the_kubernetes_schema(resource: dict[str, Any]) -> None:
    validate(resource)


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
    # docs/deployment.md's `kubectl apply -l app.kubernetes.io/component=migrate` selects it alone.
    assert by_kind("Job")["metadata"]["labels"]["app.kubernetes.io/component"] == "migrate"


def test_the_production_overlay_patches_resources_that_exist() -> None:
    kustomization = documents(PRODUCTION / "kustomization.yaml")[0]
    assert (PRODUCTION / kustomization["resources"][0]).resolve() == BASE
    names = {(d["kind"], d["metadata"]["name"]) for d in base_resources(ROOT)}
    for patch in kustomization["patches"]:
        [document] = documents(PRODUCTION / patch["path"])
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


def test_kubernetes_names_everything_after_the_project() -> None:
    resources = base_resources(ROOT)
    for resource in resources:
        name = resource["metadata"]["name"]
        assert name == PROJECT or name.startswith(f"{PROJECT}-"), label(resource)
        pod = resource["spec"].get("template", {}).get("metadata", {})
        if pod:
            assert pod["labels"][NAME_LABEL] == PROJECT, label(resource)
        selector = resource["spec"].get("selector", {})
        assert selector.get("matchLabels", selector).get(NAME_LABEL, PROJECT) == PROJECT

    secrets, images = set(), set()
    for kind in ("Deployment", "Job"):
        [container] = by_kind(kind)["spec"]["template"]["spec"]["containers"]
        images.add(container["image"])
        references = [e["valueFrom"] for e in container["env"] if "valueFrom" in e]
        secrets |= {r["secretKeyRef"]["name"] for r in references}
    assert secrets == {f"{PROJECT}-database", f"{PROJECT}-page-tokens"}
    assert images == {PROJECT}
    assert by_kind("HorizontalPodAutoscaler")["spec"]["scaleTargetRef"]["name"] == PROJECT

    base = documents(BASE / "kustomization.yaml")[0]
    assert base["labels"] == [{"pairs": {NAME_LABEL: PROJECT}, "includeSelectors": False}]
    production = documents(PRODUCTION / "kustomization.yaml")[0]
    assert production["namespace"] == PROJECT
    for kustomization in (base, production):
        assert [i["name"] for i in kustomization["images"]] == [PROJECT]
    assert production["images"][0]["newName"].endswith(f"/{PROJECT}")


def test_compose_names_the_project_its_image_and_its_database() -> None:
    compose = documents(ROOT / "compose.yaml")[0]
    services = compose["services"]
    database = Spellings.of(PROJECT).snake
    assert compose["name"] == PROJECT
    assert services["migrate"]["image"] == services["service"]["image"] == IMAGE
    assert services["postgres"]["environment"]["POSTGRES_USER"] == database
    assert services["postgres"]["environment"]["POSTGRES_DB"] == database
    for service in ("migrate", "service"):
        url = services[service]["environment"]["DATABASE_URL"]
        assert url == f"postgresql://{database}:${{POSTGRES_PASSWORD}}@postgres:5432/{database}"


def test_no_deployment_file_names_a_resource() -> None:
    """Resources come and go (`make remove-resource`); what is deployed is the project."""
    resources = [re.escape(p.name) for p in (ROOT / "protos").iterdir() if p.is_dir()]
    if not resources:
        pytest.skip("no resource in protos/ to look for")
    resource_name = re.compile(rf"(?<![A-Za-z0-9])({'|'.join(resources)})(?![A-Za-z0-9])")
    deploy_files = [ROOT / "compose.yaml", *sorted((ROOT / "deploy").rglob("*.*"))]
    for path in deploy_files:
        text = Spellings.of(PROJECT).in_text().sub("", path.read_text())
        found = resource_name.search(text)
        assert found is None, f"{path.relative_to(ROOT)} names the resource {found.group()!r}"
