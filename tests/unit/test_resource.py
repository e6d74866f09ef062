"""Scopes of a resource's methods: from the AIP verbs, declared, or missing (never open)."""

from __future__ import annotations

import dataclasses

import pytest

from service.resource import all_scopes
from tests.probe_resource import RESOURCE, WITHOUT_ECHO_SCOPE

PROBE = "/probe.v1.ProbeService/"


def test_verbs_give_read_and_write_scopes_and_custom_methods_their_declared_one() -> None:
    assert RESOURCE.required_scopes() == {
        PROBE + "CreateMark": "probe.write",
        PROBE + "GetMark": "probe.read",
        PROBE + "WatchMarks": "probe.read",
        PROBE + "Echo": "probe.read",
        PROBE + "DeleteMark": "probe.write",
    }


def test_a_custom_method_without_a_declared_scope_has_none() -> None:
    assert all_scopes([WITHOUT_ECHO_SCOPE])[PROBE + "Echo"] is None


def test_a_scope_for_a_method_the_service_lacks_is_a_mistake() -> None:
    misspelt = dataclasses.replace(RESOURCE, scopes={"Ecko": "probe.read"})

    with pytest.raises(
        ValueError, match=r"scopes are declared for Ecko, which probe\.v1\.ProbeService"
    ):
        misspelt.required_scopes()
