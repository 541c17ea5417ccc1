"""python-dxf 12.1.1's own test suite (``test/`` of its sdist) against ``python -m pytest_ociregistry`` under each
preset, and against Debian's ``docker-registry`` (distribution 2.8): every test's outcome must be the same.

The suite runs each of its modules under upstream's fourteen registry configurations (no auth; Basic auth over plain
HTTP, which python-dxf refuses; Basic and token auth over TLS, with a password or an Authorization header, with and
without TLS verification; each with ``DXF`` and ``DXFBase``). ``dxf_conftest.py`` is its conftest here. The
``reference`` preset and docker-registry run all fourteen; ``spec`` and ``distribution`` the four the registry can
tell apart (the rest differ only on the client side), which keeps CI short.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from peer_support import DOCKER_REGISTRY, Known, Suite, baseline, counts, require, shared_dir, unexplained

DOCKER_HUB = "replays recorded Docker Hub (registry-1.docker.io) answers that the sdist does not ship: needs the internet"
DXF = Suite(
    name="python-dxf 12.1.1",
    requirement="python-dxf==12.1.1",
    filename="python_dxf-12.1.1.tar.gz",
    tests="test",
    conftest="dxf_conftest.py",
    deselect={
        f"test/{node}": DOCKER_HUB
        for node in (
            "test_module.py::test_docker_image_platform_get_alias",
            "test_module.py::test_docker_image_platform_unknown",
            "test_cli.py::test_docker_image_single_arch",
            "test_cli.py::test_docker_image_multi_arch",
            "test_cli.py::test_docker_image_multi_arch_del",
            "test_cli.py::test_docker_image_platform",
            "test_cli.py::test_docker_manifest",
        )
    },
)
DISTINCT = {"plain", "basic-http", "basic", "token"}
BLOB_REPOSITORIES = (
    "python-dxf expects a repository holding only blobs (pushed or mounted) in the catalog, as distribution lists it; "
    "the reference and spec presets list a repository once it holds a manifest (catalog_lists_blob_repositories "
    "is off)"
)
CATALOG = {
    f"test.test_module::{name}": Known("failed", "passed", "AssertionError: assert [", BLOB_REPOSITORIES)
    for name in ("test_push_blob", "test_pagination", "test_tlsverify", "test_tlsverify_str")
}
KNOWN = {"reference": CATALOG, "spec": {k: v for k, v in CATALOG.items() if not k.endswith("::test_tlsverify")}}
"""The differences that are the presets' choices, not faults; with the distinct configurations only, spec never
runs test_tlsverify's failing one (no TLS verification off)."""


def _config(test_id: str) -> str | None:
    found = re.search(r"\[(.*)\]$", test_id)
    return found[1] if found else None


@pytest.mark.parametrize("preset", ["reference", "spec", "distribution"])
def test_python_dxf_suite_as_against_docker_registry(
    preset: str, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    require("trustme", "cryptography", "requests", "www_authenticate", "tqdm")
    configs = {} if preset == "reference" else {"PEER_DXF_CONFIGS": "distinct"}
    ours = DXF.run(tmp_path / "ours", {"PEER_REGISTRY": f"ours:{preset}", **configs}, tmp_path / "ours.xml")
    theirs = baseline(
        "dxf-docker-registry",
        shared_dir(tmp_path_factory),
        lambda junit: DXF.run(tmp_path / "theirs", {"PEER_REGISTRY": DOCKER_REGISTRY}, junit),
    )
    if configs:
        theirs = {test_id: o for test_id, o in theirs.items() if _config(test_id) in (None, *DISTINCT)}
    print(f"{DXF.name}: us ({preset}): {counts(ours)}; docker-registry: {counts(theirs)}")
    print(f"left out:\n{DXF.left_out()}")
    print("known differences:\n" + "\n".join(f"  {name}: {k.reason}" for name, k in KNOWN.get(preset, {}).items()))
    different = unexplained(ours, theirs, KNOWN.get(preset, {}))
    assert not different, f"{len(different)} outcome(s) differ from docker-registry's:\n" + "\n".join(different)
