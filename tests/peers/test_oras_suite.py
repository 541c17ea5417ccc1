"""oras-py 0.2.43's own test suite (``oras/tests`` of its sdist) against ``python -m pytest_ociregistry`` under each
preset, and against Debian's ``docker-registry`` (distribution 2.8): every test's outcome must be the same.

As oras-py's CI runs it: against a plain-HTTP registry without auth, and against one with TLS and Basic (htpasswd)
auth (``ORAS_AUTH=true``; the tests then skip verification). ``oras_adapter.py`` scales its 16 GiB chunked push down
to 8 MiB and skips the retry decorator's sleeps.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from peer_support import (
    DOCKER_REGISTRY,
    AuthSetup,
    Outcome,
    Suite,
    baseline,
    counts,
    require,
    shared_dir,
    start_registry,
    unexplained,
)

GHCR = "talks to ghcr.io: needs the internet"
ORAS = Suite(
    name="oras-py 0.2.43",
    requirement="oras==0.2.43",
    filename="oras-0.2.43.tar.gz",
    tests="oras/tests",
    plugins=("oras_adapter",),
    deselect={
        "oras/tests/test_oras.py::test_get_many_tags": GHCR,
        "oras/tests/test_oras.py::test_ssl_no_verify": GHCR,
        "oras/tests/test_oras.py::test_ssl_verify_fails_if_bad_ca": GHCR,
        "oras/tests/test_oras.py::test_ssl_verify_fails_fast_if_bad_ca": GHCR,
    },
    ignore={"oras/tests/auth": "ECR token unit tests: they import boto3 (oras-py's optional ecr extra, not "
                               "installed) and use no registry"},
)
USER = AuthSetup("basic", "myuser", "mypass")
CONFIGS = {"plain": None, "tls-basic": USER}


def run(kind: str, config: str, work: Path, junit: Path) -> dict[str, Outcome]:
    auth = CONFIGS[config]
    registry = start_registry(kind, work / "registry", tls=auth is not None, auth=auth)
    try:
        host, port = registry.host.split(":")
        env = {"ORAS_HOST": host, "ORAS_PORT": port}
        if auth is not None:
            env.update(ORAS_AUTH="true", ORAS_USER=auth.user, ORAS_PASS=auth.password)
        return ORAS.run(work / "suite", env, junit)
    finally:
        registry.stop()


@pytest.mark.parametrize("config", sorted(CONFIGS))
@pytest.mark.parametrize("preset", ["reference", "spec", "distribution"])
def test_oras_suite_as_against_docker_registry(
    preset: str, config: str, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    require("trustme", "requests", "jsonschema")
    ours = run(f"ours:{preset}", config, tmp_path / "ours", tmp_path / "ours.xml")
    theirs = baseline(f"oras-{config}-docker-registry", shared_dir(tmp_path_factory),
                      lambda junit: run(DOCKER_REGISTRY, config, tmp_path / "theirs", junit))
    print(f"{ORAS.name} ({config}): us ({preset}): {counts(ours)}; docker-registry: {counts(theirs)}")
    print(f"left out:\n{ORAS.left_out()}")
    different = unexplained(ours, theirs, {})
    assert not different, f"{len(different)} outcome(s) differ from docker-registry's:\n" + "\n".join(different)
