"""Real clients (skopeo, oras-py, python-dxf, requests, httpx) against the ``oci_registry`` fixture, over its socket.

Each test pushes content with a client, checks the store holds exactly those bytes under those digests, and pulls
it back out with the same client. A test skips only when its client is not installed.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import random
import shutil
import socket
import ssl
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urljoin

import pytest

from pytest_ociregistry import OCIRegistry, RegistryError
from pytest_ociregistry.requestlog import RequestLog, RequestRecord

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
REF_NAME = "org.opencontainers.image.ref.name"


def sha256(data: bytes) -> str:
    """The ``sha256:<hex>`` digest of ``data``."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


def canonical_json(obj: Any) -> bytes:
    """``obj`` as compact JSON bytes, so its digest is stable."""
    return json.dumps(obj, separators=(",", ":"), sort_keys=True).encode()


def descriptor(media_type: str, data: bytes, **extra: Any) -> dict[str, Any]:
    """An OCI descriptor of ``data``."""
    return {"mediaType": media_type, "digest": sha256(data), "size": len(data), **extra}


# Content: OCI images and indexes built in memory, written to and read from OCI layout directories -------------------


@dataclass(frozen=True)
class Content:
    """A manifest or index and everything it references, every piece keyed by its digest (the top one included)."""

    digest: str
    media_type: str
    blobs: dict[str, bytes] = field(default_factory=dict)

    @property
    def manifest(self) -> bytes:
        return self.blobs[self.digest]


def build_image(label: str, layers: int = 3, arch: str = "amd64") -> Content:
    """A gzip-layered OCI image whose layers are incompressible bytes seeded by ``label`` (the last one > 1 MiB, so
    it crosses the registry's read-chunk size)."""
    rng = random.Random(label)
    tars = [rng.randbytes(30_000 * (i + 1) if i < layers - 1 else 1_200_000) for i in range(layers)]
    gzipped = [gzip.compress(tar, mtime=0) for tar in tars]
    config = canonical_json(
        {
            "architecture": arch,
            "os": "linux",
            "config": {"Labels": {"label": label}},
            "rootfs": {"type": "layers", "diff_ids": [sha256(tar) for tar in tars]},
        }
    )
    manifest = canonical_json(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": descriptor(OCI_CONFIG, config),
            "layers": [descriptor(OCI_LAYER_GZIP, layer) for layer in gzipped],
        }
    )
    blobs = {sha256(b): b for b in [config, *gzipped, manifest]}
    return Content(sha256(manifest), OCI_MANIFEST, blobs)


def build_index(images: dict[str, Content]) -> Content:
    """A multi-platform OCI index over ``images`` keyed by architecture."""
    index = canonical_json(
        {
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "manifests": [
                descriptor(image.media_type, image.manifest, platform={"architecture": arch, "os": "linux"})
                for arch, image in images.items()
            ],
        }
    )
    blobs = {sha256(index): index}
    for image in images.values():
        blobs.update(image.blobs)
    return Content(sha256(index), OCI_INDEX, blobs)


def write_layout(root: Path, tag: str, content: Content) -> None:
    """Write ``content`` as an OCI image layout directory, its top manifest named ``tag`` in ``index.json``."""
    blob_dir = root / "blobs" / "sha256"
    blob_dir.mkdir(parents=True)
    (root / "oci-layout").write_text(json.dumps({"imageLayoutVersion": "1.0.0"}))
    for digest, data in content.blobs.items():
        (blob_dir / digest.removeprefix("sha256:")).write_bytes(data)
    top = descriptor(content.media_type, content.manifest, annotations={REF_NAME: tag})
    (root / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": [top]}))


def read_layout(root: Path, tag: str) -> Content:
    """Read back the content an OCI layout directory names ``tag``, following every reference."""
    index = json.loads((root / "index.json").read_text())
    [top] = [d for d in index["manifests"] if d.get("annotations", {}).get(REF_NAME) == tag]

    def read(digest: str) -> bytes:
        return (root / "blobs" / "sha256" / digest.removeprefix("sha256:")).read_bytes()

    return Content(top["digest"], top["mediaType"], closure(top["digest"], read, read))


def read_registry(registry: OCIRegistry, repo: str, reference: str) -> Content:
    """The content the registry's store holds under ``repo:reference``, following every reference."""
    top = registry.store.get_manifest(repo, reference)
    blobs = closure(
        top.digest,
        lambda digest: registry.store.get_manifest(repo, digest).data,
        lambda digest: bytes(registry.store.get_blob(repo, digest).data),
    )
    return Content(top.digest, top.media_type, blobs)


def closure(top: str, read_manifest: Callable[[str], bytes], read_blob: Callable[[str], bytes]) -> dict[str, bytes]:
    """Every piece reachable from the manifest or index ``top``, by digest; each piece must hash to its digest."""
    found: dict[str, bytes] = {}
    pending = [top]
    while pending:
        digest = pending.pop()
        body = found[digest] = read_manifest(digest)
        doc = json.loads(body)
        pending.extend(child["digest"] for child in doc.get("manifests", []))
        for blob in [doc["config"], *doc["layers"]] if "config" in doc else []:
            found[blob["digest"]] = read_blob(blob["digest"])
    for digest, data in found.items():
        assert sha256(data) == digest, f"{digest} holds bytes hashing to {sha256(data)}"
    return found


def assert_same_content(actual: Content, expected: Content) -> None:
    """Both hold the same top digest and media type, and the very same bytes under the very same digests."""
    assert actual.digest == expected.digest
    assert actual.media_type == expected.media_type
    assert sorted(actual.blobs) == sorted(expected.blobs)
    for digest, data in expected.blobs.items():
        assert actual.blobs[digest] == data, f"{digest} differs"


def assert_gone(registry: OCIRegistry, repo: str, reference: str) -> None:
    """The store holds no manifest under ``repo:reference``."""
    with pytest.raises(RegistryError) as caught:
        registry.store.get_manifest(repo, reference)
    assert caught.value.status == 404


@pytest.fixture
def wire(oci_registry: OCIRegistry) -> RequestLog:
    """Every request the registry serves during the test, in order (the registry's own request log)."""
    return oci_registry.requests


# skopeo -------------------------------------------------------------------------------------------------------------


@pytest.fixture
def skopeo(tmp_path: Path) -> Callable[..., str]:
    """Run ``skopeo --insecure-policy <args>`` with HOME and XDG dirs in ``tmp_path``; returns its stdout."""
    executable = shutil.which("skopeo")
    if executable is None:
        pytest.skip("skopeo is not installed")
    home = tmp_path / "home"
    env = {
        **os.environ,
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "XDG_RUNTIME_DIR": str(home / "run"),
    }
    (home / "run").mkdir(parents=True)

    def run(*args: str) -> str:
        command = [executable, "--insecure-policy", *args]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120, env=env, check=False)
        if done.returncode != 0:
            pytest.fail(f"{' '.join(command)} exited {done.returncode}:\n{done.stderr}", pytrace=False)
        return done.stdout

    return run


def test_skopeo_copy_image_round_trip(oci_registry: OCIRegistry, skopeo: Callable[..., str], tmp_path: Path) -> None:
    """skopeo copies a 3-layer OCI image in and back out: same manifest digest, same bytes, every blob."""
    image = build_image("skopeo")
    write_layout(tmp_path / "src", "v1", image)
    remote = f"docker://{oci_registry.host}/foo/bar:v1"

    skopeo("copy", "--preserve-digests", "--dest-tls-verify=false", f"oci:{tmp_path / 'src'}:v1", remote)
    assert_same_content(read_registry(oci_registry, "foo/bar", "v1"), image)

    skopeo("copy", "--preserve-digests", "--src-tls-verify=false", remote, f"oci:{tmp_path / 'out'}:v1")
    assert_same_content(read_layout(tmp_path / "out", "v1"), image)

    assert skopeo("inspect", "--raw", "--tls-verify=false", remote).encode() == image.manifest
    inspected = json.loads(skopeo("inspect", "--tls-verify=false", remote))
    assert inspected["Digest"] == image.digest
    assert inspected["Labels"] == {"label": "skopeo"}


def layer_digests(image: Content) -> list[str]:
    """The digests of an image's layers, in order."""
    return [layer["digest"] for layer in json.loads(image.manifest)["layers"]]


def mounts(wire: RequestLog, repo: str) -> dict[str, RequestRecord]:
    """The mount requests into ``repo``, by the digest they mount."""
    return {
        parse_qs(e.query)["mount"][0]: e
        for e in wire
        if e.method == "POST" and e.path == f"/v2/{repo}/blobs/uploads/" and "mount=" in e.query
    }


def test_skopeo_copy_between_repositories(
    oci_registry: OCIRegistry, skopeo: Callable[..., str], tmp_path: Path, wire: RequestLog
) -> None:
    """A registry-to-registry copy mounts every layer (201), never the config, and lands the same content."""
    image = build_image("mount")
    write_layout(tmp_path / "src", "v1", image)
    skopeo("copy", "--dest-tls-verify=false", f"oci:{tmp_path / 'src'}:v1", f"docker://{oci_registry.host}/foo/bar:v1")

    skopeo(
        "copy",
        "--src-tls-verify=false",
        "--dest-tls-verify=false",
        f"docker://{oci_registry.host}/foo/bar:v1",
        f"docker://{oci_registry.host}/other/repo:v2",
    )
    assert {d: e.status for d, e in mounts(wire, "other/repo").items()} == dict.fromkeys(layer_digests(image), 201)
    assert_same_content(read_registry(oci_registry, "other/repo", "v2"), image)


def test_skopeo_mount_fallback(
    oci_registry: OCIRegistry, skopeo: Callable[..., str], tmp_path: Path, wire: RequestLog
) -> None:
    """When a mount's source blob is gone the registry opens an upload instead (202); skopeo cancels that session
    (DELETE, 204) and uploads the layer itself."""
    image = build_image("fallback")
    write_layout(tmp_path / "src", "v1", image)
    source = f"oci:{tmp_path / 'src'}:v1"
    skopeo("copy", "--dest-tls-verify=false", source, f"docker://{oci_registry.host}/foo/bar:v1")
    vanishing = layer_digests(image)[0]

    def vanish_then_serve(request: Any) -> Any:
        oci_registry.store.delete_blob("foo/bar", vanishing)
        return oci_registry.app.handle(request)

    oci_registry.expect_oneshot_request(
        "/v2/other/repo/blobs/uploads/", method="POST", query_string={"from": "foo/bar", "mount": vanishing}
    ).respond_with_handler(vanish_then_serve)

    skopeo("copy", "--dest-tls-verify=false", source, f"docker://{oci_registry.host}/other/repo:v1")
    mounted = mounts(wire, "other/repo")
    assert {d: e.status for d, e in mounted.items()} == {
        d: 202 if d == vanishing else 201 for d in layer_digests(image)
    }
    cancelled = [e.status for e in wire if e.method == "DELETE" and e.path.startswith("/v2/other/repo/blobs/uploads/")]
    assert cancelled == [204]
    assert_same_content(read_registry(oci_registry, "other/repo", "v1"), image)


def test_skopeo_list_tags_and_delete(oci_registry: OCIRegistry, skopeo: Callable[..., str], tmp_path: Path) -> None:
    """``list-tags`` lists every tag; ``delete`` removes the manifest (and with it every tag on it)."""
    image = build_image("tags", layers=2)
    write_layout(tmp_path / "src", "v1", image)
    remote = f"docker://{oci_registry.host}/foo/bar"
    skopeo("copy", "--dest-tls-verify=false", f"oci:{tmp_path / 'src'}:v1", f"{remote}:v1")
    tags = ["v1", *(f"extra-{i}" for i in range(6))]
    for tag in tags[1:]:
        oci_registry.push_manifest("foo/bar", tag, image.manifest)

    listed = json.loads(skopeo("list-tags", "--tls-verify=false", remote))
    assert listed["Repository"] == f"{oci_registry.host}/foo/bar"
    assert sorted(listed["Tags"]) == sorted(tags)

    skopeo("delete", "--tls-verify=false", f"{remote}:v1")
    assert_gone(oci_registry, "foo/bar", image.digest)
    for tag in tags:
        assert_gone(oci_registry, "foo/bar", tag)


def test_skopeo_copy_all_multi_platform_index(
    oci_registry: OCIRegistry, skopeo: Callable[..., str], tmp_path: Path
) -> None:
    """``copy --all`` carries a two-platform index and both images in, and back out, digest for digest."""
    index = build_index({arch: build_image(f"multi-{arch}", layers=2, arch=arch) for arch in ("amd64", "arm64")})
    write_layout(tmp_path / "src", "multi", index)
    remote = f"docker://{oci_registry.host}/foo/multi:v1"

    skopeo("copy", "--all", "--preserve-digests", "--dest-tls-verify=false", f"oci:{tmp_path / 'src'}:multi", remote)
    assert_same_content(read_registry(oci_registry, "foo/multi", "v1"), index)

    skopeo("copy", "--all", "--preserve-digests", "--src-tls-verify=false", remote, f"oci:{tmp_path / 'out'}:v1")
    assert_same_content(read_layout(tmp_path / "out", "v1"), index)
    assert skopeo("inspect", "--raw", "--tls-verify=false", remote).encode() == index.manifest


# oras-py ------------------------------------------------------------------------------------------------------------


@pytest.fixture
def oras_client(oci_registry: OCIRegistry, monkeypatch: pytest.MonkeyPatch) -> Any:
    """An oras-py client on the fixture over plain HTTP, its sleeping retry decorator removed (a failure fails)."""
    provider = pytest.importorskip("oras.provider")
    monkeypatch.setattr(provider.Registry, "do_request", provider.Registry.do_request.__wrapped__)
    return provider.Registry(hostname=oci_registry.host, insecure=True)


def write_files(root: Path, sizes: dict[str, int]) -> dict[str, bytes]:
    """Write files of the given sizes (seeded by name) under ``root``; returns their bytes by name."""
    root.mkdir(parents=True, exist_ok=True)
    files = {name: random.Random(name).randbytes(size) for name, size in sizes.items()}
    for name, data in files.items():
        (root / name).write_bytes(data)
    return files


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

    stored = oci_registry.store.get_manifest("foo/artifact", "v1")
    assert stored.media_type == OCI_MANIFEST
    assert response.headers["Docker-Content-Digest"] == stored.digest
    layers = json.loads(stored.data)["layers"]
    assert {layer["annotations"]["org.opencontainers.image.title"]: layer["digest"] for layer in layers} == {
        name: sha256(data) for name, data in files.items()
    }
    for name, data in files.items():
        assert oci_registry.store.get_blob("foo/artifact", sha256(data)).data == data

    pulled = oras_client.pull(target, outdir=str(tmp_path / "out"))
    assert sorted(Path(p).name for p in pulled) == sorted(files)
    for name, data in files.items():
        assert (tmp_path / "out" / name).read_bytes() == data


def test_oras_tags_and_delete(oci_registry: OCIRegistry, oras_client: Any) -> None:
    """oras lists tags (all, and the first N) and deletes one by its HEAD digest."""
    config = b"{}"
    oci_registry.push_blob("foo/bar", config)
    tags = [f"t{i:02d}" for i in range(12)]
    for tag in tags:
        manifest = {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": descriptor(OCI_CONFIG, config),
            "layers": [],
            "annotations": {"tag": tag},
        }
        oci_registry.push_manifest("foo/bar", tag, canonical_json(manifest))
    repo = f"{oci_registry.host}/foo/bar"

    assert oras_client.get_tags(repo) == tags
    assert oras_client.get_tags(repo, N=5) == tags[:5]

    assert oras_client.delete_tag(repo, "t03") is True
    assert_gone(oci_registry, "foo/bar", "t03")
    assert oras_client.get_tags(repo) == [t for t in tags if t != "t03"]


# python-dxf ---------------------------------------------------------------------------------------------------------


@pytest.fixture
def dxf_module() -> Any:
    """The python-dxf module."""
    return pytest.importorskip("dxf")


def chunks_of(data: bytes, size: int) -> Iterator[bytes]:
    """``data`` as a generator of ``size``-byte chunks (so requests sends ``Transfer-Encoding: chunked``)."""
    for offset in range(0, len(data), size):
        yield data[offset : offset + size]


def test_dxf_chunked_push_pull_and_delete(oci_registry: OCIRegistry, dxf_module: Any, wire: RequestLog) -> None:
    """python-dxf PUTs a chunked-encoded blob, reads its size and bytes back, then deletes it."""
    data = random.Random("dxf").randbytes(2_500_000)
    with dxf_module.DXF(oci_registry.host, "foo/bar", insecure=True) as client:
        digest = client.push_blob(data=chunks_of(data, 65_536), digest=sha256(data))
        assert digest == sha256(data)
        [put] = [e for e in wire if e.method == "PUT"]
        assert (put.headers.get("Transfer-Encoding"), put.headers.get("Content-Length"), put.status) == (
            "chunked",
            None,
            201,
        )
        assert put.body_size == len(data)
        assert oci_registry.store.get_blob("foo/bar", digest).data == data

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
        digests = [client.push_blob(data=chunks_of(blob, 300), digest=sha256(blob)) for blob in blobs]
        aliases = [f"alias-{i}" for i in range(5)]
        for i, alias in enumerate(aliases):
            manifest = client.set_alias(alias, *digests[: 1 + i % 3])
            assert oci_registry.store.get_manifest("foo/bar", alias).data == manifest.encode()
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
        assert oci_registry.store.get_blob("foo/other", digests[0]).data == blobs[0]

    oci_registry.push_blob("zzz/last", b"x")
    base = dxf_module.DXFBase(oci_registry.host, insecure=True)
    assert base.list_repos(batch_size=1) == ["foo/bar", "foo/other", "zzz/last"]
    assert [e.query for e in wire if e.path == "/v2/_catalog"] == ["n=1", "last=foo%2Fbar&n=1", "last=foo%2Fother&n=1"]


# requests and httpx, by hand ----------------------------------------------------------------------------------------


def test_requests_post_put_upload(oci_registry: OCIRegistry) -> None:
    """POST opens an upload (202 + Location), PUT with the whole body and ``?digest=`` closes it (201)."""
    requests = pytest.importorskip("requests")
    data = random.Random("post-put").randbytes(100_000)
    with requests.Session() as session:
        started = session.post(f"{oci_registry.url}/v2/foo/bar/blobs/uploads/")
        assert started.status_code == 202, started.text
        location = urljoin(oci_registry.url, started.headers["Location"])
        assert location.startswith(f"{oci_registry.url}/v2/foo/bar/blobs/uploads/")

        done = session.put(location, params={"digest": sha256(data)}, data=data)
        assert done.status_code == 201, done.text
        assert done.headers["Docker-Content-Digest"] == sha256(data)
        blob_url = urljoin(oci_registry.url, done.headers["Location"])
        assert blob_url == f"{oci_registry.url}/v2/foo/bar/blobs/{sha256(data)}"

        fetched = session.get(blob_url)
        assert fetched.status_code == 200
        assert fetched.content == data
    assert oci_registry.store.get_blob("foo/bar", sha256(data)).data == data


def test_httpx_chunked_patch_upload(oci_registry: OCIRegistry) -> None:
    """PATCHes with ``Content-Range`` append in order (202, ``Range`` grows); an out-of-order chunk is 416; the
    closing PUT (201) stores exactly the chunks sent."""
    httpx = pytest.importorskip("httpx")
    data = random.Random("patch").randbytes(250_000)
    chunk = 100_000
    with httpx.Client(base_url=oci_registry.url) as client:
        started = client.post("/v2/foo/bar/blobs/uploads/")
        assert started.status_code == 202, started.text
        location = started.headers["Location"]
        for start in range(0, len(data), chunk):
            piece = data[start : start + chunk]
            end = start + len(piece) - 1
            response = client.patch(
                location,
                content=piece,
                headers={"Content-Range": f"{start}-{end}", "Content-Type": "application/octet-stream"},
            )
            assert response.status_code == 202, response.text
            assert response.headers["Range"] == f"0-{end}"
            location = response.headers["Location"]

        replayed = client.patch(location, content=data[:10], headers={"Content-Range": "0-9"})
        assert replayed.status_code == 416, replayed.text
        assert client.get(location).headers["Range"] == f"0-{len(data) - 1}"

        done = client.put(location, params={"digest": sha256(data)})
        assert done.status_code == 201, done.text
        assert done.headers["Docker-Content-Digest"] == sha256(data)
        assert client.get(f"/v2/foo/bar/blobs/{sha256(data)}").content == data


def test_httpx_keep_alive(oci_registry: OCIRegistry) -> None:
    """Twenty requests of every kind (errors and unread bodies included) share one httpx connection."""
    httpx = pytest.importorskip("httpx")
    digest = oci_registry.push_blob("foo/bar", b"kept alive")
    calls: list[tuple[str, str, bytes, int]] = [
        ("GET", "/v2/", b"", 200),
        ("HEAD", f"/v2/foo/bar/blobs/{digest}", b"", 200),
        ("GET", f"/v2/foo/bar/blobs/{digest}", b"", 200),
        ("GET", "/v2/foo/bar/blobs/sha256:" + "0" * 64, b"", 404),
        ("PUT", "/v2/foo/bar/manifests/v1", b"{not json" * 1000, 400),
        ("POST", "/v2/nope", b"x" * 50_000, 404),
        ("GET", "/v2/foo/bar/tags/list", b"", 200),
    ]
    local_ports: set[int] = set()
    with httpx.Client(base_url=oci_registry.url) as client:
        for i in range(20):
            method, path, body, status = calls[i % len(calls)]
            response = client.request(method, path, content=body or None, headers={"Content-Type": OCI_MANIFEST})
            assert response.status_code == status, (method, path, response.text)
            local_ports.add(response.extensions["network_stream"].get_extra_info("client_addr")[1])
    assert len(local_ports) == 1


def test_requests_keep_alive(oci_registry: OCIRegistry) -> None:
    """Twenty requests on one requests session open one connection in urllib3's pool."""
    requests = pytest.importorskip("requests")
    digest = oci_registry.push_blob("foo/bar", b"kept alive")
    with requests.Session() as session:
        for i in range(20):
            if i % 2:
                assert session.get(f"{oci_registry.url}/v2/foo/bar/blobs/{digest}").content == b"kept alive"
            else:
                assert session.head(f"{oci_registry.url}/v2/foo/bar/blobs/sha256:{'1' * 64}").status_code == 404
        pools = session.get_adapter(oci_registry.url).poolmanager.pools
        keys = pools.keys()  # urllib3's pool container refuses plain iteration
        assert [(pools[key].num_connections, pools[key].num_requests) for key in keys] == [(1, 20)]


def tls_client_hello() -> bytes:
    """The first bytes a TLS client sends: a real ClientHello record."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    outgoing = ssl.MemoryBIO()
    tls = context.wrap_bio(ssl.MemoryBIO(), outgoing, server_hostname="localhost")
    with pytest.raises(ssl.SSLWantReadError):
        tls.do_handshake()
    return outgoing.read()


def send_and_hang_up(address: tuple[str, int], payload: bytes) -> None:
    """Send ``payload`` on a new connection, half-close it and read whatever comes back. The server may answer or
    hang up at any point: that is its right with such bytes."""
    with socket.create_connection(address, timeout=5) as raw:
        try:
            raw.sendall(payload)
            raw.shutdown(socket.SHUT_WR)
            while raw.recv(65_536):
                pass
        except OSError:  # reset, broken pipe, not connected, timeout
            pass


GARBAGE: dict[str, Callable[[], bytes]] = {
    "tls-client-hello": tls_client_hello,
    "binary": lambda: random.Random("garbage").randbytes(70_000),
    "binary-lines": lambda: b"\x00\xff\r\n" * 1000 + b"\r\n\r\n",
    "truncated-request": lambda: b"PUT /v2/foo/bar/manifests/v1 HTTP/1.1\r\nHost: x\r\nContent-Length: 9999\r\n\r\n{",
    "nothing": lambda: b"",
}


@pytest.mark.parametrize("payload", GARBAGE.values(), ids=GARBAGE.keys())
def test_garbage_on_the_socket_leaves_the_server_serving(
    oci_registry: OCIRegistry, payload: Callable[[], bytes]
) -> None:
    """Bytes that are not HTTP (a TLS handshake, noise, a cut-off request) on the plain port do not stop the server:
    a connection opened before keeps working, and new ones answer 200 on ``/v2/``."""
    httpx = pytest.importorskip("httpx")
    digest = oci_registry.push_blob("foo/bar", b"still here")
    with httpx.Client(base_url=oci_registry.url) as client:
        assert client.get("/v2/").status_code == 200
        host, port = oci_registry.host.rsplit(":", 1)
        for _ in range(3):
            send_and_hang_up((host, int(port)), payload())
        assert client.get(f"/v2/foo/bar/blobs/{digest}").content == b"still here"
    with httpx.Client(base_url=oci_registry.url) as fresh:
        response = fresh.get("/v2/")
        assert response.status_code == 200
        assert response.headers["Docker-Distribution-API-Version"] == "registry/2.0"
    assert oci_registry.is_running()
