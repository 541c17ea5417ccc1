"""Fixtures the real-client tests share: the request log, and each light client ready for a test."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from client_support import Skopeo, new_skopeo, oras_provider_module

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
