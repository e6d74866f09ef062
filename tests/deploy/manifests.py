"""A checkout's Kubernetes manifests, read and validated offline (kubernetes-validate)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kubernetes_validate
import yaml

VERSION = "1.31.0"
# What the API server checks and the schemas do not: names are DNS-1035 labels (a Service's
# name must be one; the others' rules are looser), label values 63 characters at most.
DNS_LABEL = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?")
LABEL_VALUE = re.compile(r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?")
LONGEST = 63


def documents(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def kubernetes(root: Path) -> Path:
    return root / "deploy" / "kubernetes"


def base_resources(root: Path) -> list[dict[str, Any]]:
    """Every resource the base kustomization lists, in its order."""
    base = kubernetes(root) / "base"
    kustomization = documents(base / "kustomization.yaml")[0]
    return [d for name in kustomization["resources"] for d in documents(base / name)]


def validate(resource: dict[str, Any]) -> None:
    """Fails where Kubernetes would refuse the resource: its schema (kubernetes_validate's
    ValidationError) or its names and labels (AssertionError)."""
    kubernetes_validate.validate(resource, VERSION, strict=True)
    for name in names(resource):
        assert is_dns_label(name), f"{label(resource)}: {name!r} is not a valid name"
    for value in label_values(resource):
        assert is_label_value(value), f"{label(resource)}: {value!r} is not a valid label value"


def is_dns_label(name: str) -> bool:
    return len(name) <= LONGEST and DNS_LABEL.fullmatch(name) is not None


def is_label_value(value: str) -> bool:
    return len(value) <= LONGEST and LABEL_VALUE.fullmatch(value) is not None


def names(node: object) -> Iterator[str]:
    """Every object's name in the resource: its own, the secrets and targets it refers to."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in {"metadata", "secretKeyRef", "scaleTargetRef"} and "name" in value:
                yield value["name"]
            yield from names(value)
    elif isinstance(node, list):
        for item in node:
            yield from names(item)


def label_values(node: object) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            service_selector = key == "selector" and "matchLabels" not in value
            if key in {"labels", "matchLabels"} or service_selector:
                yield from value.values()
            yield from label_values(value)
    elif isinstance(node, list):
        for item in node:
            yield from label_values(item)


def label(resource: dict[str, Any]) -> str:
    return f"{resource['kind']}/{resource['metadata']['name']}"
