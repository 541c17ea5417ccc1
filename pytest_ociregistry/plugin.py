"""The pytest plugin: fixtures, options, markers. Registered through the ``pytest11`` entry point."""

from __future__ import annotations

from collections.abc import Iterator
from ssl import SSLContext

import pytest

from .options import PRESETS, Options
from .registry import OCIRegistry

MARKER = "oci_registry"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("oci-registry", "in-process OCI registry (pytest-ociregistry)")
    group.addoption(
        "--oci-registry-preset",
        choices=sorted(PRESETS),
        default=None,
        help="behaviour preset of the oci_registry fixture (default: the ini value, else 'reference')",
    )
    parser.addini("oci_registry_preset", "behaviour preset of the oci_registry fixture", default="reference")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(**options): options of the oci_registry fixture for this test, e.g. delete_enabled=False",
    )
    preset = config.getoption("--oci-registry-preset") or config.getini("oci_registry_preset")
    if preset not in PRESETS:
        raise pytest.UsageError(f"oci_registry_preset must be one of {', '.join(sorted(PRESETS))}, not {preset!r}")


@pytest.fixture(scope="session")
def oci_registry_listen_address() -> tuple[str, int]:
    """Where the session's registry listens: ``("127.0.0.1", 0)``, a free port. Override to change it."""
    return ("127.0.0.1", 0)


@pytest.fixture(scope="session")
def oci_registry_ssl_context() -> SSLContext | None:
    """The server's SSL context; None serves plain HTTP. Override to serve HTTPS."""
    return None


@pytest.fixture(scope="session")
def oci_registry_options(pytestconfig: pytest.Config) -> Options:
    """The session's default options: the preset named by ``--oci-registry-preset`` or ini, else ``reference``."""
    return PRESETS[pytestconfig.getoption("--oci-registry-preset") or pytestconfig.getini("oci_registry_preset")]


@pytest.fixture(scope="session")
def oci_registry_server(
    oci_registry_listen_address: tuple[str, int],
    oci_registry_ssl_context: SSLContext | None,
    oci_registry_options: Options,
) -> Iterator[OCIRegistry]:
    """The session's registry server (one per xdist worker). Tests use ``oci_registry``, which resets it."""
    host, port = oci_registry_listen_address
    registry = OCIRegistry(oci_registry_options, host=host, port=port, ssl_context=oci_registry_ssl_context)
    registry.start()
    yield registry
    registry.stop()


@pytest.fixture
def oci_registry(oci_registry_server: OCIRegistry, request: pytest.FixtureRequest) -> OCIRegistry:
    """An empty registry for this test, with the options of the nearest ``oci_registry`` marker."""
    oci_registry_server.reset()
    marker = request.node.get_closest_marker(MARKER)
    if marker is not None:
        if marker.args:
            pytest.fail(f"the {MARKER} marker takes options by name only, got {marker.args!r}", pytrace=False)
        try:
            oci_registry_server.configure(**marker.kwargs)
        except (TypeError, ValueError) as e:
            pytest.fail(f"{MARKER} marker: {e}", pytrace=False)
    return oci_registry_server
