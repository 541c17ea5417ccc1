"""The reference table (cue-labs ociserver's registry_test.go), row for row, against the fixture over a socket."""

from __future__ import annotations

import pytest

from pytest_ociregistry import OCIRegistry
from pytest_ociregistry.cases import Case, assert_case
from pytest_ociregistry.tables import REFERENCE


@pytest.mark.parametrize("case", REFERENCE, ids=lambda c: c.id)
def test_reference_row(oci_registry: OCIRegistry, case: Case) -> None:
    if case.skip:
        pytest.skip(case.skip)
    assert_case(oci_registry.url, case)
