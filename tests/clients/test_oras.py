"""oras-py against the ``oci_registry`` fixture: files pushed (monolithic and in ``Content-Range`` chunks) and pulled
back, tags and delete, and the same over HTTPS trusting the registry's CA (``tls_verify=<ca_bundle>``). A test skips
only when oras-py is not installed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from client_support import (
    TLS,
    assert_gone,
    ca_bundle,
    write_files,
)

from pytest_ociregistry import OCIRegistry
from pytest_ociregistry.manifest import OCI_MANIFEST
from pytest_ociregistry.names import digest_of
from pytest_ociregistry.requestlog import RequestLog


@pytest.fixture
def oras_client(oci_registry: OCIRegistry, oras_provider: Any) -> Any:
    """An oras-py client on the fixture over plain HTTP."""
    return oras_provider.Registry(hostname=oci_registry.host, insecure=True)


@pytest.mark.parametrize("chunked", [False, True], ids=["monolithic", "chunked"])
def test_oras_push_pull(
    oci_registry: OCIRegistry,
    oras_client: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    wire: RequestLog,
    chunked: bool,
) -> None:
    """oras pushes files (chunked: PATCHes of 4000 bytes with ``Content-Range``) and pulls the same bytes back."""
    files = write_files(tmp_path / "src", {"a.txt": 10, "b.bin": 9_999, "empty": 0})
    monkeypatch.chdir(tmp_path / "src")
    target = f"{oci_registry.host}/foo/artifact:v1"

    response = oras_client.push(target, files=sorted(files), do_chunked=chunked, chunk_size=4000, quiet=True)
    assert response.status_code == 201
    patches = [(e.headers.get("Content-Range"), e.status) for e in wire if e.method == "PATCH"]
    expected = [("0-9", 202), ("0-3999", 202), ("4000-7999", 202), ("8000-9998", 202)]
    assert patches == (expected if chunked else [])

    stored = oci_registry.manifest("foo/artifact", "v1")
    assert stored.media_type == OCI_MANIFEST
    assert response.headers["Docker-Content-Digest"] == stored.digest
    layers = json.loads(stored.data)["layers"]
    assert {layer["annotations"]["org.opencontainers.image.title"]: layer["digest"] for layer in layers} == {
        name: digest_of(data) for name, data in files.items()
    }
    for name, data in files.items():
        assert oci_registry.blob("foo/artifact", digest_of(data)) == data

    pulled = oras_client.pull(target, outdir=str(tmp_path / "out"))
    assert sorted(Path(p).name for p in pulled) == sorted(files)
    for name, data in files.items():
        assert (tmp_path / "out" / name).read_bytes() == data


def test_oras_tags_and_delete(oci_registry: OCIRegistry, oras_client: Any) -> None:
    """oras lists tags (all, and the first N) and deletes one by its HEAD digest."""
    tags = [f"t{i:02d}" for i in range(12)]
    for tag in tags:
        oci_registry.push_image("foo/bar", tag, layers=(), config=b"{}", annotations={"tag": tag})
    repo = f"{oci_registry.host}/foo/bar"

    assert oras_client.get_tags(repo) == tags
    assert oras_client.get_tags(repo, N=5) == tags[:5]

    assert oras_client.delete_tag(repo, "t03") is True
    assert_gone(oci_registry, "foo/bar", "t03")
    assert oras_client.get_tags(repo) == [t for t in tags if t != "t03"]


@TLS
def test_tls_oras(
    oci_registry: OCIRegistry, oras_provider: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """oras-py, verifying with ``tls_verify=<ca_bundle>`` (its CA-bundle form; not insecure), pushes files over
    HTTPS and pulls the same bytes back."""
    client = oras_provider.Registry(hostname=oci_registry.host, tls_verify=ca_bundle(oci_registry))
    assert client.prefix == "https"
    files = write_files(tmp_path / "src", {"a.txt": 10, "b.bin": 300_000})
    monkeypatch.chdir(tmp_path / "src")
    target = f"{oci_registry.host}/foo/artifact:v1"

    response = client.push(target, files=sorted(files), quiet=True)
    assert response.status_code == 201
    stored = oci_registry.manifest("foo/artifact", "v1")
    layers = json.loads(stored.data)["layers"]
    assert {layer["annotations"]["org.opencontainers.image.title"]: layer["digest"] for layer in layers} == {
        name: digest_of(data) for name, data in files.items()
    }
    for data in files.values():
        assert oci_registry.blob("foo/artifact", digest_of(data)) == data

    pulled = client.pull(target, outdir=str(tmp_path / "out"))
    assert sorted(Path(p).name for p in pulled) == sorted(files)
    for name, data in files.items():
        assert (tmp_path / "out" / name).read_bytes() == data
    assert client.get_tags(f"{oci_registry.host}/foo/artifact") == ["v1"]
