"""The pytest plugin: fixtures, options, markers and the failure report. Registered through ``pytest11``."""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from ssl import SSLContext
from typing import Any

import pytest

from .external import ExternalRegistry
from .layout import LayoutError, parse_load_spec
from .options import Options
from .presets import PRESETS, preset
from .registry import OCIRegistry

MARKER = "oci_registry"
REGISTRIES = pytest.StashKey[list[OCIRegistry]]()
"""The registries a test used, for its failure report."""


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("oci-registry", "in-process OCI registry (pytest-ociregistry)")
    group.addoption(
        "--oci-registry-preset",
        choices=sorted(PRESETS),
        default=None,
        help="behaviour preset of the oci_registry fixture (default: the ini value, else 'reference')",
    )
    group.addoption(
        "--oci-registry-option",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="set a named option of the oci_registry fixture for the run, e.g. max_page_size=100 (repeatable)",
    )
    group.addoption(
        "--oci-registry-tls", action="store_true", default=None, help="serve the oci_registry fixture over HTTPS"
    )
    parser.addini("oci_registry_preset", "behaviour preset of the oci_registry fixture", default="reference")
    group.addoption("--oci-registry-url", default=None, metavar="URL",
                    help="run oci_registry tests against the registry at URL instead of starting one")
    group.addoption("--oci-registry-kind", default=None, metavar="NAME",
                    help="what the registry at --oci-registry-url is (e.g. distribution), for the tables' departures")
    parser.addini("oci_registry_url", "run oci_registry tests against the registry at this URL", default="")
    parser.addini("oci_registry_kind", "what the registry at oci_registry_url is", default="")
    parser.addini("oci_registry_options", "NAME=VALUE options of the oci_registry fixture", type="linelist", default=[])
    parser.addini("oci_registry_tls", "serve the oci_registry fixture over HTTPS", type="bool", default=False)
    _add_load_options(parser, group)


# The session baseline: layouts loaded once per session, which each test's reset goes back to -----------------------


def _add_load_options(parser: pytest.Parser, group: pytest.OptionGroup) -> None:
    group.addoption(
        "--oci-registry-load",
        action="append",
        default=[],
        metavar="PATH[=REPO]",
        help="load an OCI layout, oci-archive or docker save tarball into the registry once per session; each test "
        "starts from it (repeatable)",
    )
    parser.addini(
        "oci_registry_load",
        "PATH[=REPO] of layouts or archives each test's registry starts with, one a line (relative to the ini file)",
        type="linelist",
        default=[],
    )


def load_specs(config: pytest.Config) -> list[tuple[Path, str | None]]:
    """The layouts to load, ``(path, repo)``: ini ``oci_registry_load`` (paths relative to the ini file's directory),
    then ``--oci-registry-load`` (relative to the directory pytest was started in)."""
    ini_dir = config.inipath.parent if config.inipath else config.rootpath
    specs = [(ini_dir, spec) for spec in config.getini("oci_registry_load")]
    specs += [(config.invocation_params.dir, spec) for spec in config.getoption("--oci-registry-load")]
    return [(base / path, repo) for base, (path, repo) in ((b, parse_load_spec(s)) for b, s in specs)]


def _load_baseline(config: pytest.Config, registry: OCIRegistry) -> None:
    """Load the session's layouts, if any, and make them the registry's baseline."""
    specs = load_specs(config)
    if not specs:
        return
    try:
        for path, repo in specs:
            registry.load(path, repo)
    except LayoutError as e:
        registry.stop()
        pytest.fail(f"oci_registry_load: {e}", pytrace=False)
    registry.baseline = registry.snapshot()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(tls=False, preset=None, **options): options of the oci_registry fixture for this test, e.g. "
        "delete_enabled=False; preset='ecr' starts from that preset instead of the run's",
    )
    try:
        session_options(config)
    except (TypeError, ValueError) as e:
        raise pytest.UsageError(str(e)) from None


def session_options(config: pytest.Config, preset_name: str | None = None) -> Options:
    """The run's default options: the preset (``preset_name``, else the command line's, else ini's, else
    ``reference``), then the named options of ini ``oci_registry_options`` and of ``--oci-registry-option``
    (``NAME=VALUE``; ``-`` in a name is ``_``, as on ``python -m pytest_ociregistry --option``)."""
    name = preset_name or config.getoption("--oci-registry-preset") or config.getini("oci_registry_preset")
    items = [*config.getini("oci_registry_options"), *config.getoption("--oci-registry-option")]
    return preset(name).replace_from_text(items)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, None]:
    """On failure, add each used registry's requests to the report."""
    outcome = yield
    report = outcome.get_result()
    if report.failed:
        for registry in item.stash.get(REGISTRIES, []):
            report.sections.append((f"oci_registry requests ({registry.url})", registry.requests.format()))


def _tls_default(config: pytest.Config) -> bool:
    return bool(config.getoption("--oci-registry-tls") or config.getini("oci_registry_tls"))


def _track(request: pytest.FixtureRequest, registry: OCIRegistry) -> None:
    request.node.stash.setdefault(REGISTRIES, []).append(registry)


@pytest.fixture(scope="session")
def oci_registry_listen_address() -> tuple[str, int]:
    """Where the session's registry listens: ``("127.0.0.1", 0)``, a free port. Override to change it."""
    return ("127.0.0.1", 0)


@pytest.fixture(scope="session")
def oci_registry_ssl_context() -> SSLContext | None:
    """The server's SSL context for ``oci_registry_server``; None serves plain HTTP. Override to bring your own
    certificate (``tls=True`` makes one instead)."""
    return None


@pytest.fixture(scope="session")
def oci_registry_options(pytestconfig: pytest.Config) -> Options:
    """The session's default options: the preset named by ``--oci-registry-preset`` or ini (else ``reference``),
    with the ``oci_registry_options`` of ini and ``--oci-registry-option`` applied."""
    return session_options(pytestconfig)


@pytest.fixture(scope="session")
def oci_registry_server(
    pytestconfig: pytest.Config,
    oci_registry_listen_address: tuple[str, int],
    oci_registry_ssl_context: SSLContext | None,
    oci_registry_options: Options,
) -> Iterator[OCIRegistry]:
    """The session's registry server (one per xdist worker), holding the ``oci_registry_load`` layouts as its
    baseline. Tests use ``oci_registry``, which resets it."""
    host, port = oci_registry_listen_address
    registry = OCIRegistry(oci_registry_options, host=host, port=port, ssl_context=oci_registry_ssl_context)
    registry.start()
    _load_baseline(pytestconfig, registry)
    yield registry
    registry.stop()


@pytest.fixture(scope="session")
def oci_registry_tls_server(
    pytestconfig: pytest.Config, oci_registry_listen_address: tuple[str, int], oci_registry_options: Options
) -> Iterator[OCIRegistry]:
    """The session's HTTPS registry server, started the first time a test asks for ``tls=True``."""
    registry = OCIRegistry(oci_registry_options, host=oci_registry_listen_address[0], tls=True)
    registry.start()
    _load_baseline(pytestconfig, registry)
    yield registry
    registry.stop()
    assert registry.tls is not None
    registry.tls.remove()  # now, not when the process exits: it may never exit cleanly (a killed xdist worker)


def external_url(config: pytest.Config) -> str | None:
    """The registry URL the tests run against instead of the in-process one, if any."""
    return config.getoption("--oci-registry-url") or config.getini("oci_registry_url") or None


@pytest.fixture
def oci_registry(request: pytest.FixtureRequest) -> OCIRegistry:
    """An empty registry (or one holding the session's baseline) for this test, with the options of the nearest
    ``oci_registry`` marker (``tls=True`` serves it over HTTPS; ``preset="ecr"`` starts from that preset, with the
    run's named options, instead of the run's preset). With ``--oci-registry-url``, the registry at that URL, in a
    namespace of this test's own."""
    pytestconfig = request.config  # not the pytestconfig fixture: resolving it again for every test costs
    marker = request.node.get_closest_marker(MARKER)
    options = dict(marker.kwargs) if marker is not None else {}
    if marker is not None and marker.args:
        pytest.fail(f"the {MARKER} marker takes options by name only, got {marker.args!r}", pytrace=False)
    url = external_url(pytestconfig)
    if url is not None:
        if options:
            pytest.skip(f"options {sorted(options)} need the in-process registry, not one given by --oci-registry-url")
        if load_specs(pytestconfig):
            pytest.skip("oci_registry_load (a session baseline) needs the in-process registry, not --oci-registry-url")
        kind = pytestconfig.getoption("--oci-registry-kind") or pytestconfig.getini("oci_registry_kind") or None
        return ExternalRegistry(url, kind=kind)  # type: ignore[return-value]  # the same API, over HTTP
    tls = options.pop("tls", _tls_default(pytestconfig))
    preset_name = options.pop("preset", None)
    registry: OCIRegistry = request.getfixturevalue("oci_registry_tls_server" if tls else "oci_registry_server")
    registry.reset()
    try:
        if preset_name is not None:
            registry.options = session_options(pytestconfig, preset_name)
        if options:  # reset() restored the defaults; no options, no new Options to make and check
            registry.configure(**options)
    except (TypeError, ValueError) as e:
        pytest.fail(f"{MARKER} marker: {e}", pytrace=False)
    _track(request, registry)
    return registry


@pytest.fixture
def make_oci_registry(
    request: pytest.FixtureRequest, oci_registry_options: Options
) -> Iterator[Callable[..., OCIRegistry]]:
    """A factory for more registries in one test: ``make_oci_registry(tls=False, preset=None, **options)`` starts one
    on a free port (from the preset named, else the run's options); each is stopped after the test."""
    made: list[OCIRegistry] = []

    def make(*, tls: bool = False, preset: str | None = None, **options: Any) -> OCIRegistry:
        base = oci_registry_options if preset is None else session_options(request.config, preset)
        registry = OCIRegistry(base.replace(**options), tls=tls)
        registry.start()
        made.append(registry)
        _track(request, registry)
        return registry

    yield make
    for registry in made:
        registry.stop()
        if registry.tls is not None:
            registry.tls.remove()
