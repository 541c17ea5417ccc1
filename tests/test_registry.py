"""Seeding straight into the store leaves exactly the state the HTTP routes leave."""

from __future__ import annotations

from typing import Any

import pytest

from pytest_ociregistry import OCIRegistry, RegistryError, Store
from pytest_ociregistry.cases import Case, seed_case
from pytest_ociregistry.names import digest_of

CONTENT: dict[str, Any] = {
    "manifests": {"foo/manifests/latest": "foo", "bar/baz/manifests/v1": '{"a":1}', f"foo/manifests/{digest_of(b'x')}": "x"},
    "digests": {digest_of(b"blob"): "blob", digest_of(b"other"): "other"},
    "blob_stream": {"MQ": "partial"},
}


def snapshot(store: Store) -> dict[str, Any]:
    """Everything a client can observe of a store, upload ids aside."""
    repos, _ = store.repositories()
    out: dict[str, Any] = {}
    for name in repos:
        repo = store._repos[name]
        out[name] = {
            "blobs": {d: (bytes(b.data), b.media_type) for d, b in repo.blobs.items()},
            "manifests": {d: (m.data, m.media_type, m.info) for d, m in repo.manifests.items()},
            "tags": dict(repo.tags),
            "uploads": {u: bytes(up.buffer.data) for u, up in repo.uploads.items()},
        }
    return out


def test_seed_leaves_the_state_http_seeding_leaves(oci_registry: OCIRegistry) -> None:
    seed_case(oci_registry.url, Case("seed", "GET", "/v2/", 200, **CONTENT))
    over_http = snapshot(oci_registry.store)
    oci_registry.reset()
    oci_registry.seed(manifests=CONTENT["manifests"], blobs=CONTENT["digests"], uploads=CONTENT["blob_stream"])
    assert snapshot(oci_registry.store) == over_http


def test_push_helpers(oci_registry: OCIRegistry) -> None:
    digest = oci_registry.push_blob("a/b", b"data")
    assert digest == digest_of(b"data")
    assert oci_registry.store.get_blob("a/b", digest).data == b"data"
    body = b'{"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}'
    assert oci_registry.push_manifest("a/b", "v1", body) == digest_of(body)
    assert oci_registry.store.get_manifest("a/b", "v1").media_type == "application/vnd.oci.image.index.v1+json"
    assert oci_registry.store.get_manifest("a/b", "v1").data == body
    upload_id = oci_registry.open_upload("a/b", b"abc")
    assert oci_registry.store.get_upload("a/b", upload_id).size == 3


def test_seeding_checks_what_http_checks(oci_registry: OCIRegistry) -> None:
    with pytest.raises(RegistryError, match="DIGEST_INVALID"):
        oci_registry.seed(blobs={digest_of(b"a"): "b"})
    with pytest.raises(RegistryError, match="NAME_INVALID"):
        oci_registry.push_blob("Not/Valid", b"x")
    with pytest.raises(ValueError, match="repo/manifests/reference"):
        oci_registry.seed(manifests={"foo/latest": "x"})


def test_configure_lasts_until_reset(oci_registry: OCIRegistry) -> None:
    defaults = oci_registry.options
    assert oci_registry.configure(delete_enabled=False).delete_enabled is False
    oci_registry.reset()
    assert oci_registry.options == defaults
