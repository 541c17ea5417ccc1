"""What the real-client tests share: a skopeo runner, the python-dxf and oras-py modules ready for tests, OCI
layouts on disk, and the files a TLS registry hands its clients."""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pytest_ociregistry import Descriptor, OCIRegistry
from pytest_ociregistry.content import Content

REF_NAME = "org.opencontainers.image.ref.name"


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
