"""The reference table (cue-labs ociserver's registry_test.go), row for row, against the fixture over a socket."""

from __future__ import annotations

import json

import pytest

from pytest_ociregistry import SPEC, OCIRegistry
from pytest_ociregistry.cases import Case, run_case
from pytest_ociregistry.tables import REFERENCE


@pytest.mark.parametrize("case", REFERENCE, ids=lambda c: c.id)
def test_reference_row(oci_registry: OCIRegistry, case: Case) -> None:
    oci_registry.run(case)


SKIPPED_ROWS = [case for case in REFERENCE if case.skip]


@pytest.mark.parametrize("case", SKIPPED_ROWS, ids=lambda c: c.id)
def test_skipped_rows_pass_under_the_spec_preset(oci_registry: OCIRegistry, case: Case) -> None:
    """The four rows the reference skips get the status they want under ``spec``. Their empty wanted bodies are not
    taken literally: an error always has an OCI error body here, so that is what is checked. The content is seeded
    into the store: over HTTP, the spec preset refuses the table's never-issued upload id."""
    oci_registry.options = SPEC
    oci_registry.seed(manifests=case.manifests, blobs=case.digests, uploads=case.blob_stream)
    answer = run_case(oci_registry.url, case, seed=False)
    assert answer.status == case.want_status, answer.body
    errors = json.loads(answer.body)["errors"]
    assert len(errors) == 1 and set(errors[0]) == {"code", "message"}


def test_the_table_has_four_skipped_rows() -> None:
    assert [c.id for c in SKIPPED_ROWS] == [
        "stream_duplicate_upload",
        "create_index_missing_child",
        "bad_index_body",
        "fetch_references,_bad_method",
    ]
