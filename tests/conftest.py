"""Shared fixtures: a private ``$TMPDIR`` that must be empty at the end of the run, and a real CNCF distribution 2.8
(Debian's ``docker-registry``) on loopback, for the tests that compare the fake with it or run the tables against
it."""

from __future__ import annotations

import gc
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from pytest_ociregistry import DISTRIBUTION, OCIRegistry

pytest_plugins = ["pytester", "ci_skips"]  # ci_skips: under CI=true a skipped test fails the run

# An in-process pytester run forgets the modules it imported; a library first imported inside one comes back as
# a second copy whose classes do not match the first (httpx's error mapping, cryptography's bindings). Importing
# them here, before any such run, keeps one copy.
for _name in ("httpx", "httpcore", "trustme", "cryptography", "yaml", "oras.provider", "dxf"):
    try:
        __import__(_name)
    except ImportError:
        pass

DOCKER_REGISTRY = shutil.which("docker-registry")


@pytest.fixture(scope="session", autouse=True)
def private_tmpdir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The run's ``$TMPDIR`` (and ``tempfile``'s), inside pytest's base temporary directory: everything the tests, the
    clients they drive and the processes they start write to a temporary directory goes there, not to ``/tmp``.
    Each test removes what it makes, or makes it in its own ``tmp_path``: a file or directory still there once the
    session's fixtures are torn down fails the run, naming it (a leak that, without this, piles up in ``/tmp``)."""
    root = tmp_path_factory.mktemp("tmpdir")
    saved, saved_env = tempfile.tempdir, os.environ.get("TMPDIR")
    tempfile.tempdir = os.environ["TMPDIR"] = str(root)
    yield root
    tempfile.tempdir = saved
    if saved_env is None:
        del os.environ["TMPDIR"]
    else:
        os.environ["TMPDIR"] = saved_env
    gc.collect()  # what is removed with its object (a TLS registry's CA directory) goes now
    left = sorted(p.name for p in root.iterdir())
    if left:
        pytest.fail(f"the tests left {len(left)} temporary files in $TMPDIR ({root}): {', '.join(left[:20])}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _read(path: Path) -> str:
    return path.read_text(errors="replace")[-2000:]


@pytest.fixture(scope="session")
def docker_registry_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real ``docker-registry`` on 127.0.0.1 (in-memory storage, deletes enabled); yields its base URL.

    Skips when the Debian package ``docker-registry`` is not installed (``.ci/run`` installs it)."""
    if DOCKER_REGISTRY is None:
        pytest.skip("docker-registry (CNCF distribution 2.8, Debian package docker-registry) is not installed")
    work = tmp_path_factory.mktemp("docker-registry")
    port = _free_port()
    config = work / "config.yml"
    config.write_text(
        "version: 0.1\n"
        "log:\n"
        "  level: error\n"
        "storage:\n"
        "  inmemory: {}\n"
        "  delete:\n"
        "    enabled: true\n"
        "http:\n"
        f"  addr: 127.0.0.1:{port}\n"
    )
    log = (work / "registry.log").open("wb")
    process = subprocess.Popen([DOCKER_REGISTRY, "serve", str(config)], stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                pytest.fail(f"docker-registry exited with {process.returncode}: {_read(work / 'registry.log')}")
            try:
                if requests.get(url + "/v2/", timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"docker-registry did not answer on {url}: {_read(work / 'registry.log')}")
            time.sleep(0.05)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


# The differential tests (differential_support.py): a real docker-registry and the distribution preset -------------


@pytest.fixture(scope="module")
def real_registry(docker_registry_url: str) -> str:
    """A real ``docker-registry`` on loopback; its base URL."""
    return docker_registry_url


@pytest.fixture(scope="module")
def fake_distribution() -> Iterator[OCIRegistry]:
    """``OCIRegistry(DISTRIBUTION)``, serving for the module."""
    registry = OCIRegistry(options=DISTRIBUTION)
    registry.start()
    try:
        yield registry
    finally:
        registry.stop()


@pytest.fixture
def fake_registry(fake_distribution: OCIRegistry) -> str:
    """The distribution preset, emptied; its base URL."""
    fake_distribution.reset()
    return fake_distribution.url
