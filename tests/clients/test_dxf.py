"""python-dxf against the ``oci_registry`` fixture: blobs PUT with ``Transfer-Encoding: chunked``, aliases, paged
tag and repository lists, a mount, deletes, and the same over HTTPS trusting the registry's CA. A test skips only
when python-dxf is not installed."""

from __future__ import annotations

import random
from typing import Any

import pytest
from client_support import (
    TLS,
    assert_gone,
    ca_bundle,
    chunks_of,
)

from pytest_ociregistry import OCIRegistry
from pytest_ociregistry.names import digest_of
from pytest_ociregistry.requestlog import RequestLog


def test_dxf_chunked_push_pull_and_delete(oci_registry: OCIRegistry, dxf_module: Any, wire: RequestLog) -> None:
    """python-dxf PUTs a chunked-encoded blob, reads its size and bytes back, then deletes it."""
    data = random.Random("dxf").randbytes(2_500_000)
    with dxf_module.DXF(oci_registry.host, "foo/bar", insecure=True) as client:
        digest = client.push_blob(data=chunks_of(data, 65_536), digest=digest_of(data))
        assert digest == digest_of(data)
        [put] = [e for e in wire if e.method == "PUT"]
        assert (put.headers.get("Transfer-Encoding"), put.headers.get("Content-Length"), put.status) == (
            "chunked",
            None,
            201,
        )
        assert put.body_size == len(data)
        assert oci_registry.blob("foo/bar", digest) == data

        assert client.blob_size(digest) == len(data)
        assert b"".join(client.pull_blob(digest)) == data
        stream, size = client.pull_blob(digest, size=True)
        assert size == len(data)
        assert b"".join(stream) == data

        # Pushing it again finds it with HEAD and sends nothing.
        assert client.push_blob(data=iter([b"never sent"]), digest=digest) == digest

        client.del_blob(digest)
        with pytest.raises(pytest.importorskip("requests").HTTPError) as caught:
            client.blob_size(digest)
        assert caught.value.response.status_code == 404


def test_dxf_aliases_repositories_and_mount(oci_registry: OCIRegistry, dxf_module: Any, wire: RequestLog) -> None:
    """python-dxf tags blobs (``set_alias``), lists tags and repositories one page at a time, mounts a blob across
    repositories (201), and deletes an alias."""
    blobs = [random.Random(f"alias-{i}").randbytes(1000 * (i + 1)) for i in range(3)]
    with dxf_module.DXF(oci_registry.host, "foo/bar", insecure=True) as client:
        digests = [client.push_blob(data=chunks_of(blob, 300), digest=digest_of(blob)) for blob in blobs]
        aliases = [f"alias-{i}" for i in range(5)]
        for i, alias in enumerate(aliases):
            manifest = client.set_alias(alias, *digests[: 1 + i % 3])
            assert oci_registry.manifest("foo/bar", alias).data == manifest.encode()
        assert client.get_alias("alias-2") == digests
        assert client.get_alias("alias-1", sizes=True) == [(d, len(b)) for d, b in zip(digests[:2], blobs[:2])]

        # batch_size=2 makes three pages, chained by Link headers.
        assert client.list_aliases(batch_size=2) == aliases
        assert [e.query for e in wire if e.path == "/v2/foo/bar/tags/list"] == [
            "n=2",
            "last=alias-1&n=2",
            "last=alias-3&n=2",
        ]
        # alias-1 and alias-4 name one manifest: deleting it by digest removes both tags.
        assert client.del_alias("alias-4") == digests[:2]
        assert_gone(oci_registry, "foo/bar", "alias-4")
        assert client.list_aliases() == ["alias-0", "alias-2", "alias-3"]

        other = dxf_module.DXF.from_base(client, "foo/other")
        assert other.mount_blob("foo/bar", digests[0]) == digests[0]
        assert oci_registry.blob("foo/other", digests[0]) == blobs[0]

    oci_registry.push_manifest("foo/other", "v1", b"x")  # the catalog lists repositories holding a manifest
    oci_registry.push_manifest("zzz/last", "v1", b"x")
    base = dxf_module.DXFBase(oci_registry.host, insecure=True)
    assert base.list_repos(batch_size=1) == ["foo/bar", "foo/other", "zzz/last"]
    assert [e.query for e in wire if e.path == "/v2/_catalog"] == ["n=1", "last=foo%2Fbar&n=1", "last=foo%2Fother&n=1"]


@TLS
def test_tls_dxf(oci_registry: OCIRegistry, dxf_module: Any, wire: RequestLog) -> None:
    """python-dxf, verifying with ``tlsverify=<ca_bundle>`` (and not insecure), pushes blobs and an alias over
    HTTPS and pulls them back."""
    blobs = [random.Random(f"tls-dxf-{i}").randbytes(100_000 * (i + 1)) for i in range(2)]
    with dxf_module.DXF(oci_registry.host, "foo/bar", tlsverify=ca_bundle(oci_registry)) as client:
        digests = [client.push_blob(data=chunks_of(blob, 65_536), digest=digest_of(blob)) for blob in blobs]
        assert digests == [digest_of(blob) for blob in blobs]
        manifest = client.set_alias("v1", *digests)
        assert oci_registry.manifest("foo/bar", "v1").data == manifest.encode()
        assert client.get_alias("v1", sizes=True) == [(digest_of(b), len(b)) for b in blobs]
        for digest, blob in zip(digests, blobs):
            assert b"".join(client.pull_blob(digest)) == blob
            assert oci_registry.blob("foo/bar", digest) == blob
        assert client.list_aliases() == ["v1"]
    assert {e.method for e in wire} >= {"POST", "PUT", "GET"}
    assert all(e.status < 400 or e.method == "HEAD" for e in wire), wire.format()
