"""The OCI v1.1 tables, under every base preset (the hosted ones depart by design): each passes, or departs exactly where its row says that kind does.

With ``--oci-registry-url URL --oci-registry-kind distribution`` the same tests run against a real registry
(``tests/test_external.py`` does that with Debian's docker-registry)."""

from __future__ import annotations

import pytest

from pytest_ociregistry import BASE_PRESETS, OCIRegistry
from pytest_ociregistry.cases import Case
from pytest_ociregistry.tables import SPEC


@pytest.mark.parametrize("case", SPEC, ids=lambda c: c.id)
def test_spec_row(oci_registry: OCIRegistry, case: Case) -> None:
    oci_registry.run(case)


@pytest.mark.parametrize("preset", sorted(BASE_PRESETS))
@pytest.mark.parametrize("case", SPEC, ids=lambda c: c.id)
def test_spec_row_under_each_preset(oci_registry: OCIRegistry, case: Case, preset: str, request: pytest.FixtureRequest) -> None:
    if request.config.getoption("--oci-registry-url"):
        pytest.skip("presets are the in-process registry's")
    oci_registry.options = BASE_PRESETS[preset]
    oci_registry.run(case)
