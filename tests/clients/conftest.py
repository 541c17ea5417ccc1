"""Fixtures the real-client tests share: the request log, each client ready for a test, the daemons the
heavyweight clients need (started once per session with private directories, stopped at its end), and a registry
for each cell of the client matrix."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from client_support import (
    Buildah,
    Ctr,
    Docker,
    Podman,
    Skopeo,
    missing,
    new_skopeo,
    oras_provider_module,
    require,
)
from daemons import DOCKER, Daemon, DaemonError, containers_storage, start_containerd, start_dockerd
from matrix import Cell

from pytest_ociregistry import OCIRegistry
from pytest_ociregistry.requestlog import RequestLog


@pytest.fixture
def wire(oci_registry: OCIRegistry) -> RequestLog:
    """Every request the registry serves during the test, in order (the registry's own request log)."""
    return oci_registry.requests


@pytest.fixture
def skopeo(tmp_path: Path) -> Skopeo:
    """skopeo, with HOME and XDG dirs in ``tmp_path``."""
    return new_skopeo(tmp_path)


@pytest.fixture
def oras_provider(monkeypatch: pytest.MonkeyPatch) -> Any:
    """The ``oras.provider`` module, its sleeping retry decorator removed (a failure fails)."""
    return oras_provider_module(monkeypatch)


@pytest.fixture
def dxf_module() -> Any:
    """The python-dxf module."""
    return pytest.importorskip("dxf")


# The heavyweight clients: each daemon once per session (per xdist worker), in private directories ----------------


@pytest.fixture(scope="session")
def heavy_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where this session's daemons keep their state: ``$OCI_HEAVY_ROOT/<worker>`` when ``.ci/run`` names a root
    (its exit trap stops whatever is left there), else a session temporary directory."""
    base = os.environ.get("OCI_HEAVY_ROOT")
    if not base:
        return tmp_path_factory.mktemp("heavy")
    root = Path(base) / os.environ.get("PYTEST_XDIST_WORKER", "main")
    root.mkdir(parents=True, exist_ok=True)
    return root


def _daemon(start: Callable[[Path], tuple[Daemon, dict[str, str]]], root: Path) -> tuple[Daemon, dict[str, str]]:
    try:
        return start(root)
    except (DaemonError, OSError) as e:
        missing(f"{root.name} daemon did not start: {e}")


@pytest.fixture(scope="session")
def docker_engine(heavy_root: Path) -> Iterator[dict[str, str]]:
    """A private ``dockerd``; yields the environment its CLI needs."""
    require(DOCKER, "docker.io")
    require("dockerd", "docker.io")
    daemon, env = _daemon(start_dockerd, heavy_root / "docker")
    yield env
    daemon.stop()


@pytest.fixture(scope="session")
def containerd(heavy_root: Path) -> Iterator[dict[str, str]]:
    """A private standalone ``containerd``; yields the environment ``ctr`` needs."""
    require("containerd", "containerd")
    require("ctr", "containerd")
    daemon, env = _daemon(start_containerd, heavy_root / "containerd")
    yield env
    daemon.stop()


@pytest.fixture(scope="session")
def containers_env(heavy_root: Path) -> dict[str, str]:
    """Private storage and engine configuration for podman and buildah."""
    return containers_storage(heavy_root / "containers")


@pytest.fixture
def registry(cell: Cell, make_oci_registry: Callable[..., OCIRegistry]) -> OCIRegistry:
    """A registry of its own for the test's matrix ``cell``: the preset, HTTP or HTTPS, the auth."""
    return make_oci_registry(tls=cell.tls, **cell.options())


@pytest.fixture
def docker(docker_engine: dict[str, str], tmp_path: Path) -> Docker:
    """The Docker CLI on the session's ``dockerd``, its logins in ``tmp_path``."""
    return Docker(DOCKER, tmp_path / "docker-home", {**docker_engine, "DOCKER_CONFIG": str(tmp_path / "docker")})


@pytest.fixture
def ctr(containerd: dict[str, str], tmp_path: Path) -> Ctr:
    """``ctr`` on the session's ``containerd``."""
    return Ctr(require("ctr", "containerd"), tmp_path / "ctr-home", containerd)


def _registries_conf(tmp_path: Path) -> dict[str, str]:
    conf = tmp_path / "registries.conf"
    conf.write_text("unqualified-search-registries = []\n")
    return {"CONTAINERS_REGISTRIES_CONF": str(conf)}


@pytest.fixture
def podman(containers_env: dict[str, str], tmp_path: Path) -> Podman:
    """podman on the session's private storage."""
    env = {**containers_env, **_registries_conf(tmp_path)}
    return Podman(require("podman", "podman"), tmp_path / "podman-home", env)


@pytest.fixture
def buildah(containers_env: dict[str, str], tmp_path: Path) -> Buildah:
    """buildah on the session's private storage (shared with podman)."""
    env = {**containers_env, **_registries_conf(tmp_path)}
    return Buildah(require("buildah", "buildah"), tmp_path / "buildah-home", env)
