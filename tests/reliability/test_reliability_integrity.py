"""Integrity: content is only ever stored under a digest it matches, and reads back byte for byte
(:func:`~reliability_support.check_invariants`, run after every stress run and after every fuzzed request)."""

from __future__ import annotations

import secrets

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from reliability_support import (
    FIGURES,
    SCALE,
    Conn,
    MiB,
    assert_oci_error,
    check_invariants,
    image_manifest,
)

from pytest_ociregistry import OCIRegistry
from pytest_ociregistry.names import digest_of
from pytest_ociregistry.store import Store


def test_check_invariants_catches_corruption() -> None:
    """The helper itself: a blob, manifest or tag that breaks the rule is caught."""
    store = Store()
    blob = store.put_blob("foo", [b"hello"], digest_of(b"hello"))
    assert check_invariants(store) == 1
    object.__setattr__(blob, "data", b"hellO")
    with pytest.raises(AssertionError, match="does not match"):
        check_invariants(store)
    store.reset()
    store.put_manifest("foo", "v1", b"{}", "application/json")
    store._repos["foo"].tags["v1"] = "sha256:" + "0" * 64
    with pytest.raises(AssertionError, match="not stored"):
        check_invariants(store)


# --------------------------------------------------------------------------------------------------------------------
# Integrity


def test_content_reads_back_byte_for_byte(oci_registry: OCIRegistry) -> None:
    conn = Conn(oci_registry)
    sizes = [0, 1, 4095, 64 * 1024, 64 * 1024 + 1, MiB + 7, 3 * MiB]
    for i, size in enumerate(sizes):
        data = secrets.token_bytes(size)
        push = conn.push_blob_single if i % 2 else conn.push_blob_chunked
        digest = push("round/trip", data)
        assert conn.get(f"/v2/round/trip/blobs/{digest}") == (200, data)
        status, headers, body = conn.request("HEAD", f"/v2/round/trip/blobs/{digest}")
        assert (status, headers["Content-Length"], body) == (200, str(size), b"")
        status, headers, body = conn.request("GET", f"/v2/round/trip/blobs/{digest}", headers={"Range": "bytes=1-"})
        if size > 1:
            assert (status, body) == (206, data[1:])
    config, layer = b"{}", secrets.token_bytes(1000)
    conn.push_blob_single("round/trip", config)
    conn.push_blob_single("round/trip", layer)
    body = image_manifest(config, [layer])
    digest = conn.push_manifest("round/trip", "v1", body)
    assert conn.get("/v2/round/trip/manifests/v1") == (200, body)
    assert conn.get(f"/v2/round/trip/manifests/{digest}") == (200, body)
    conn.close()
    assert check_invariants(oci_registry.store) == len(sizes) + 2 + 2


def test_content_is_only_stored_under_a_digest_it_matches(oci_registry: OCIRegistry) -> None:
    conn = Conn(oci_registry)
    data, other = b"the content", b"other content"
    wrong = digest_of(other)
    status, _, body = conn.request("POST", f"/v2/foo/blobs/uploads/?digest={wrong}", data)
    assert_oci_error(status, body, code="DIGEST_INVALID")
    status, headers, _ = conn.request("POST", "/v2/foo/blobs/uploads/")
    location = headers["Location"]
    status, _, body = conn.request("PUT", f"{location}?digest={wrong}", data)
    assert_oci_error(status, body, code="DIGEST_INVALID")
    status, _, body = conn.request("PUT", f"/v2/foo/manifests/{digest_of(other)}", data)
    assert_oci_error(status, body, code="DIGEST_INVALID")
    status, _, body = conn.request("PUT", f"/v2/foo/manifests/{digest_of(data, 'sha512')}", other)
    assert_oci_error(status, body, code="DIGEST_INVALID")
    assert oci_registry.store._repos["foo"].blobs == {}
    assert oci_registry.store._repos.get("foo") is None or oci_registry.store._repos["foo"].manifests == {}
    # The upload is still open after the mismatch and holds nothing of the refused final chunk.
    status, headers, _ = conn.request("GET", location)
    assert (status, headers["Range"]) == (204, "0-0")
    # sha512 digests are hashed with sha512.
    status, _, body = conn.request("PUT", f"/v2/foo/manifests/{digest_of(data, 'sha512')}", data)
    assert status == 201, body
    conn.close()
    check_invariants(oci_registry.store)


@given(data=st.binary(max_size=4096), claim=st.one_of(st.none(), st.binary(max_size=64)))
@settings(max_examples=100 * SCALE, deadline=None)
def test_store_accepts_content_only_under_its_own_digest(data: bytes, claim: bytes | None) -> None:
    FIGURES.add("inputs")
    store = Store()
    digest = digest_of(data if claim is None else claim)
    matches = claim is None or claim == data
    try:
        blob = store.put_blob("foo", [data[: len(data) // 2], data[len(data) // 2 :]], digest)
    except Exception as e:  # noqa: BLE001
        assert not matches, e
        assert store._repos == {}
    else:
        assert matches and bytes(blob.data) == data
    try:
        manifest = store.put_manifest("foo", digest, data, "application/octet-stream")
    except Exception as e:  # noqa: BLE001
        assert not matches, e
    else:
        assert matches and manifest.data == data
    check_invariants(store)
