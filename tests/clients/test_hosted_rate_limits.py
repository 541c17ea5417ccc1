"""Each client pulls twice from a preset whose service rate-limits (see ``hosted.py``), with a budget of one
(``rate_limit=1``): Docker Hub's pull limit lets the first pull through (only manifest GETs count) and refuses the
second, GHCR's and ECR's limits count every request, so the first pull is already refused. Each test asserts what
the client prints of the service's 429."""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from client_support import Ctr, Docker, Skopeo, small_image
from hosted import Expect, HostedCell, Options, Outcome, evidence, expect, fails

from pytest_ociregistry import OCIRegistry
from pytest_ociregistry.manifest import DOCKER_MANIFEST

# Rate limits (DH-1/DH-2, GHCR-4, ECR): what each client prints of each service's 429, by rate_limit_style.
HUB_LIMIT = (
    "You have reached your pull rate limit. You may increase the limit by authenticating and upgrading: "
    "https://www.docker.com/increase-rate-limit"
)
LIMITS = {
    "dockerhub": (HUB_LIMIT, "DH-1, DH-2", "https://github.com/containers/image/pull/1078"),
    "ghcr": ("retry-after: …, allowed: 1/…", "GHCR-4", "https://github.com/falcosecurity/plugins/issues/1069"),
    "ecr": ("Rate exceeded", "ECR rate limit", "https://github.com/mitogen-hq/mitogen/pull/790"),
}
ABUSE = ("DH-2", "https://github.com/docker/hub-feedback/issues/1907")  # Docker staff on HAP429


def limited(style: str) -> Callable[[Options], bool]:
    return lambda o: getattr(o, "rate_limit", None) is not None and o.rate_limit_style == style  # type: ignore[attr-defined]


expect(
    *(Expect(client, "pull twice", limited(style), fails(text.format(message), quirk, source))
    for style, (message, quirk, source) in LIMITS.items()
    for client, text in (
        ("skopeo", "toomanyrequests: {}"),
        ("ctr", "429 Too Many Requests - Server message: toomanyrequests: {}"),
        # oras-py logs the message of a refused manifest GET; a blob GET (Docker Hub's limit lets those through)
        # raises requests' own error
        ("oras-py", "{}…Too Many Requests" if style == "dockerhub" else "429 Client Error: Too Many Requests for url"),
        ("python-dxf", "429 Client Error: Too Many Requests for url"),
    )),
    Expect("docker", "pull twice", limited("dockerhub_hap429"), fails(
        "error parsing HTTP 429 response body: invalid character 'T' looking for beginning of value: "
        '"Too Many Requests (HAP429).\\n"', *ABUSE)),
    Expect("ctr", "pull twice", limited("dockerhub_hap429"), fails(
        "429 Too Many Requests - Server message: Too Many Requests (HAP429).", *ABUSE)),
)  # fmt: skip


LIMITED = ("dockerhub", "ghcr", "ecr")
OPERATION = "pull twice"
ONE = (("rate_limit", 1),)
HAP429 = (("rate_limit", 1), ("rate_limit_style", "dockerhub_hap429"))


def seed(registry: OCIRegistry, label: str, *, docker: bool = False) -> str:
    """Store :func:`small_image` ``label`` as ``foo/app:v1`` (through the API: it counts nothing); its reference."""
    registry.push("foo/app", small_image(label, docker=docker).content, "v1")
    return f"{registry.host}/foo/app:v1"


def twice(outcome: Outcome, run: Any, what: str) -> None:
    """Run ``run()`` (a CompletedProcess) twice, the second only if the first succeeded; assert ``outcome`` of the
    last one run."""
    done = run()
    if done.returncode == 0:
        done = run()
    outcome.check(done.returncode, done.stdout + done.stderr, what)


def docker_pulls_twice(outcome: Outcome, registry: OCIRegistry, docker: Docker) -> None:
    """docker pulls an image it never saw (its first pull GETs the manifest), removes it and pulls it again."""
    ref = seed(registry, f"hosted-limit-docker-{uuid.uuid4().hex}", docker=True)

    def pull() -> Any:
        done = docker.run("pull", ref)
        docker.run("image", "rm", ref)
        return done

    twice(outcome, pull, "docker pull")


@evidence("docker", (OPERATION,), ("dockerhub",), overrides=HAP429)
def test_docker_pulls_twice_past_the_abuse_limit(
    cell: HostedCell, outcomes: dict[str, Outcome], registry: OCIRegistry, docker: Docker
) -> None:
    """docker pulls twice from Docker Hub past its abuse limit, which counts every request and answers in plain
    text. (Under the pull limit, whether docker's second pull GETs the manifest again, which the limit counts, or
    takes the one it holds varies from run to run: no row.)"""
    docker_pulls_twice(outcomes[OPERATION], registry, docker)


@evidence("ctr", (OPERATION,), LIMITED, overrides=ONE)
def test_ctr_pulls_twice(cell: HostedCell, outcomes: dict[str, Outcome], registry: OCIRegistry, ctr: Ctr) -> None:
    """ctr pulls a small image, removes it and pulls it again."""
    ref = seed(registry, "hosted-limit-ctr")

    def pull() -> Any:
        done = ctr.run("images", "pull", "--plain-http", ref)
        ctr.run("images", "rm", "--sync", ref)
        return done

    twice(outcomes[OPERATION], pull, "ctr pull")


@evidence("skopeo", (OPERATION,), ("dockerhub",), overrides=ONE)
def test_skopeo_pulls_twice(
    cell: HostedCell, outcomes: dict[str, Outcome], registry: OCIRegistry, skopeo: Skopeo, tmp_path: Path
) -> None:
    """skopeo copies a small image out to a layout, twice. (Only against Docker Hub: containers/image waits 30 s
    before it gives up on a 429, so podman, which also retries, is left out.)"""
    remote = f"docker://{seed(registry, 'hosted-limit-skopeo')}"
    runs = iter(("a", "b"))
    twice(outcomes[OPERATION],
          lambda: skopeo.run("copy", "--src-tls-verify=false", remote, f"oci:{tmp_path / next(runs)}:v1"),
          "skopeo copy")  # fmt: skip


@evidence("oras-py", (OPERATION,), LIMITED, overrides=ONE)
def test_oras_pulls_twice(
    cell: HostedCell,
    outcomes: dict[str, Outcome],
    registry: OCIRegistry,
    oras_provider: Any,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """oras-py pulls an artifact of one file, twice."""
    registry.push_artifact("foo/app", "application/vnd.example", blobs={"text/plain": b"limited"}, tag="v1")
    client = oras_provider.Registry(hostname=registry.host, insecure=True)

    def pull_twice() -> None:
        for out in ("a", "b"):
            client.pull(f"{registry.host}/foo/app:v1", outdir=str(tmp_path / out))

    outcomes[OPERATION].call(pull_twice, printed=lambda: caplog.text)


@evidence("python-dxf", (OPERATION,), LIMITED, overrides=ONE)
def test_dxf_pulls_twice(
    cell: HostedCell, outcomes: dict[str, Outcome], registry: OCIRegistry, dxf_module: Any
) -> None:
    """python-dxf reads an alias (its manifest, one blob as config and layer) and the blob, twice."""
    data = random.Random("limited").randbytes(1000)
    blob = {"size": len(data), "digest": registry.push_blob("foo/app", data)}
    manifest = {"schemaVersion": 2, "mediaType": DOCKER_MANIFEST,
                "config": {"mediaType": "application/vnd.docker.container.image.v1+json", **blob},
                "layers": [{"mediaType": "application/octet-stream", **blob}]}  # fmt: skip
    registry.push_manifest("foo/app", "v1", json.dumps(manifest).encode(), DOCKER_MANIFEST)
    with dxf_module.DXF(registry.host, "foo/app", insecure=True) as client:

        def pull_twice() -> None:
            for _ in range(2):
                assert [b"".join(client.pull_blob(d)) for d in client.get_alias("v1")] == [data]

        outcomes[OPERATION].call(pull_twice)
