"""What the real-client tests share: a skopeo runner, the python-dxf and oras-py modules ready for tests, images
built offline, OCI layouts on disk, reading back what a registry or a client holds and comparing it, and the files a
TLS registry hands its clients."""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from pytest_ociregistry import Descriptor, OCIRegistry, RegistryError, content
from pytest_ociregistry.content import Content
from pytest_ociregistry.names import digest_of

REF_NAME = "org.opencontainers.image.ref.name"
TLS = pytest.mark.oci_registry(tls=True)


class Skopeo:
    """Runs ``skopeo --insecure-policy <args>`` with HOME and XDG dirs of its own (so no stored credentials leak in)."""

    def __init__(self, executable: str, home: Path) -> None:
        self.executable = executable
        (home / "run").mkdir(parents=True)
        self.env = {
            **os.environ,
            "HOME": str(home),
            "XDG_CONFIG_HOME": str(home / ".config"),
            "XDG_DATA_HOME": str(home / ".local" / "share"),
            "XDG_CACHE_HOME": str(home / ".cache"),
            "XDG_RUNTIME_DIR": str(home / "run"),
            "REGISTRY_AUTH_FILE": str(home / "auth.json"),
        }

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        command = [self.executable, "--insecure-policy", *args]
        return subprocess.run(command, capture_output=True, text=True, timeout=120, env=self.env, check=False)

    def __call__(self, *args: str) -> str:
        """Run it; fail the test unless it exits 0; return its stdout."""
        done = self.run(*args)
        if done.returncode != 0:
            pytest.fail(f"skopeo {' '.join(args)} exited {done.returncode}:\n{done.stderr}", pytrace=False)
        return done.stdout

    def fails(self, *args: str) -> str:
        """Run it (with ``--debug``, so the log shows each answer); fail the test if it exits 0; return its stderr."""
        done = self.run("--debug", *args)
        if done.returncode == 0:
            pytest.fail(f"skopeo {' '.join(args)} succeeded:\n{done.stdout}", pytrace=False)
        return done.stderr


def new_skopeo(tmp_path: Path) -> Skopeo:
    """skopeo, with HOME and XDG dirs in ``tmp_path``; skips the test when it is not installed."""
    executable = shutil.which("skopeo")
    if executable is None:
        pytest.skip("skopeo is not installed (Debian package skopeo; .ci/run installs it)")
    return Skopeo(executable, tmp_path / "home")


def oras_provider_module(monkeypatch: pytest.MonkeyPatch) -> Any:
    """The ``oras.provider`` module, its sleeping retry decorator removed (a failure fails)."""
    provider = pytest.importorskip("oras.provider")
    monkeypatch.setattr(provider.Registry, "do_request", provider.Registry.do_request.__wrapped__)
    return provider


def write_files(root: Path, sizes: dict[str, int]) -> dict[str, bytes]:
    """Write files of the given sizes (seeded by name) under ``root``; returns their bytes by name."""
    root.mkdir(parents=True, exist_ok=True)
    files = {name: random.Random(name).randbytes(size) for name, size in sizes.items()}
    for name, data in files.items():
        (root / name).write_bytes(data)
    return files


def chunks_of(data: bytes, size: int) -> Iterator[bytes]:
    """``data`` as a generator of ``size``-byte chunks (so requests sends ``Transfer-Encoding: chunked``)."""
    for offset in range(0, len(data), size):
        yield data[offset : offset + size]


def pieces(built: Content) -> dict[str, bytes]:
    """Every piece of ``built`` by digest: its manifest, its blobs, and its children's, all the way down."""
    found = {built.digest: built.manifest, **built.blobs}
    for child in built.children:
        found.update(pieces(child))
    return found


def write_layout(root: Path, tag: str, built: Content) -> None:
    """Write ``built`` as an OCI image layout directory, its top manifest named ``tag`` in ``index.json``."""
    blob_dir = root / "blobs" / "sha256"
    blob_dir.mkdir(parents=True)
    (root / "oci-layout").write_text(json.dumps({"imageLayoutVersion": "1.0.0"}))
    for digest, data in pieces(built).items():
        (blob_dir / digest.removeprefix("sha256:")).write_bytes(data)
    top = Descriptor(built.media_type, built.digest, len(built.manifest), annotations={REF_NAME: tag})
    (root / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": [top.to_json()]}))


def ca_bundle(registry: OCIRegistry) -> str:
    """The registry's CA file, which must exist (a ``tls=True`` registry)."""
    assert registry.url.startswith("https://"), registry.url
    assert registry.ca_bundle is not None and registry.ca_bundle.is_file()
    return str(registry.ca_bundle)


def cert_dir(registry: OCIRegistry) -> str:
    """The registry's skopeo ``--cert-dir``: a directory with the CA as ``ca.crt``."""
    assert registry.cert_dir is not None
    assert (registry.cert_dir / "ca.crt").read_bytes() == Path(ca_bundle(registry)).read_bytes()
    return str(registry.cert_dir)


def layer_tars(label: str, layers: int = 3) -> list[bytes]:
    """Layer tars of incompressible bytes seeded by ``label``, the last one > 1 MiB (so it crosses the registry's
    read-chunk size)."""
    rng = random.Random(label)
    return [rng.randbytes(30_000 * (i + 1) if i < layers - 1 else 1_200_000) for i in range(layers)]


def build_image(label: str, layers: int = 3, arch: str = "amd64", *, docker: bool = False) -> Content:
    """A gzip-layered image over :func:`layer_tars`, its config labelled ``label``."""
    tars = layer_tars(label, layers)
    platform = {"architecture": arch, "os": "linux"}
    config = {
        **platform,
        "config": {"Labels": {"label": label}},
        "rootfs": {"type": "layers", "diff_ids": [digest_of(tar) for tar in tars]},
    }
    return content.image(tars, config, platform=platform, docker=docker)


ManifestReader = Callable[[str], tuple[bytes, "str | None"]]


def load(digest: str, media_type: str, read_manifest: ManifestReader, read_blob: Callable[[str], bytes]) -> Content:
    """The manifest ``digest`` as a :class:`Content`, its blobs and child manifests read too, all the way down.

    ``read_manifest`` gives a manifest's bytes and the media type its source records (None: use the one of the
    descriptor that points at it, ``media_type``). Each piece must hash to its digest."""
    body, recorded = read_manifest(digest)
    assert digest_of(body) == digest, f"manifest {digest} holds bytes hashing to {digest_of(body)}"
    doc = json.loads(body)
    children = [
        load(child["digest"], child["mediaType"], read_manifest, read_blob) for child in doc.get("manifests", [])
    ]
    blobs = {
        ref["digest"]: read_blob(ref["digest"]) for ref in ([doc["config"], *doc["layers"]] if "config" in doc else [])
    }
    for blob_digest, data in blobs.items():
        assert digest_of(data) == blob_digest, f"blob {blob_digest} holds bytes hashing to {digest_of(data)}"
    return Content(body, recorded or media_type, blobs, children)


def read_layout(root: Path, tag: str) -> Content:
    """Read back the content an OCI layout directory names ``tag``."""
    index = json.loads((root / "index.json").read_text())
    [top] = [d for d in index["manifests"] if d.get("annotations", {}).get(REF_NAME) == tag]

    def read(digest: str) -> bytes:
        return (root / "blobs" / "sha256" / digest.removeprefix("sha256:")).read_bytes()

    return load(top["digest"], top["mediaType"], lambda digest: (read(digest), None), read)


def read_dir(root: Path) -> Content:
    """Read back the content skopeo wrote to a ``dir:`` directory (``manifest.json`` on top, each instance of a
    list as ``<hex>.manifest.json``, blobs as ``<hex>``)."""
    top = (root / "manifest.json").read_bytes()

    def read_manifest(digest: str) -> tuple[bytes, str | None]:
        if digest == digest_of(top):
            return top, None
        return (root / f"{digest.removeprefix('sha256:')}.manifest.json").read_bytes(), None

    return load(
        digest_of(top),
        json.loads(top)["mediaType"],
        read_manifest,
        lambda digest: (root / digest.removeprefix("sha256:")).read_bytes(),
    )


def read_registry(registry: OCIRegistry, repo: str, reference: str) -> Content:
    """The content the registry holds under ``repo:reference``, each manifest with the media type it was pushed
    with."""

    def read_manifest(digest: str) -> tuple[bytes, str | None]:
        stored = registry.manifest(repo, digest)
        return stored.data, stored.media_type

    top = registry.manifest(repo, reference)
    return load(top.digest, top.media_type, read_manifest, lambda digest: registry.blob(repo, digest))


def assert_same_content(actual: Content, expected: Content) -> None:
    """Both hold the same manifest under the same digest and media type, the very same blobs under the very same
    digests, and the same children, all the way down."""
    assert actual.digest == expected.digest
    assert actual.media_type == expected.media_type
    assert actual.manifest == expected.manifest
    assert sorted(actual.blobs) == sorted(expected.blobs)
    for digest, data in expected.blobs.items():
        assert actual.blobs[digest] == data, f"{digest} differs"
    assert [c.digest for c in actual.children] == [c.digest for c in expected.children]
    for actual_child, expected_child in zip(actual.children, expected.children):
        assert_same_content(actual_child, expected_child)


def assert_gone(registry: OCIRegistry, repo: str, reference: str) -> None:
    """The registry holds no manifest under ``repo:reference``."""
    with pytest.raises(RegistryError) as caught:
        registry.manifest(repo, reference)
    assert caught.value.status == 404


def layer_digests(image: Content) -> list[str]:
    """The digests of an image's layers, in order."""
    return [layer["digest"] for layer in json.loads(image.manifest)["layers"]]
