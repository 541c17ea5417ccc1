"""The daemon clients, Docker Engine 20.10 and containerd 1.6 (``ctr``), against each hosted preset (see
``hosted.py``): a push and a pull of a small image, each asserting the outcome the matrix declares for that preset.
They run on the session's daemons (``conftest.py``)."""

from __future__ import annotations

import json
from pathlib import Path

from client_support import Ctr, Docker, assert_same_content, read_registry, small_image, write_docker_archive
from hosted import HostedCell, Outcome, accepting, evidence
from matrix import USER
from test_containerd import import_image, listed

from pytest_ociregistry import OCIRegistry


@evidence("docker", ("push", "pull"))
def test_docker_push_pull(
    cell: HostedCell, outcomes: dict[str, Outcome], registry: OCIRegistry, docker: Docker, tmp_path: Path
) -> None:
    """docker pushes a small image it loaded (Docker schema 2; the digest it prints is the stored one) and pulls
    it back by tag (the image it then holds is the stored config)."""
    host, image = registry.host, small_image("hosted-docker")
    ref = f"{host}/foo/app:v1"
    docker("load", "--input", str(write_docker_archive(tmp_path / "image.tar", ref, image)))

    done = docker.run("push", ref)
    outcomes["push"].check(done.returncode, done.stdout + done.stderr, "docker push")
    if outcomes["push"].passes:
        assert f"v1: digest: {registry.manifest('foo/app', 'v1').digest} size:" in done.stdout
    else:
        with accepting(registry):
            registry.push("foo/app", small_image("hosted-docker", docker=True).content, "v1")
    config = json.loads(registry.manifest("foo/app", "v1").data)["config"]["digest"]

    docker("image", "rm", ref)
    done = docker.run("pull", ref)
    outcomes["pull"].check(done.returncode, done.stdout + done.stderr, "docker pull")
    if outcomes["pull"].passes:
        [inspected] = json.loads(docker("image", "inspect", ref))
        assert inspected["Id"] == config
        docker("image", "rm", ref)


@evidence("ctr", ("push", "pull"))
def test_ctr_push_pull(
    cell: HostedCell, outcomes: dict[str, Outcome], registry: OCIRegistry, ctr: Ctr, tmp_path: Path
) -> None:
    """ctr pushes a small OCI image byte for byte as imported and pulls it back by tag (what it then holds is
    what is stored)."""
    host, image = registry.host, small_image("hosted-ctr").content
    ref = f"{host}/foo/app:v1"
    import_image(ctr, tmp_path, ref, image)

    done = ctr.run("images", "push", "--plain-http", ref)
    outcomes["push"].check(done.returncode, done.stdout + done.stderr, "ctr push")
    if outcomes["push"].passes:
        assert_same_content(read_registry(registry, "foo/app", "v1"), image)
    else:
        with accepting(registry):
            registry.push("foo/app", image, "v1")

    ctr("images", "rm", "--sync", ref)
    done = ctr.run("images", "pull", "--plain-http", ref)
    outcomes["pull"].check(done.returncode, done.stdout + done.stderr, "ctr pull")
    if outcomes["pull"].passes:
        assert listed(ctr, ref)[1] == image.digest
        ctr("images", "rm", ref)


@evidence("docker", ("push the same tag again",), ("reference", "ecr", "quay", "harbor"),
          overrides=(("immutable_tags", True),))  # fmt: skip
def test_docker_repush_immutable_tag(
    cell: HostedCell, outcomes: dict[str, Outcome], registry: OCIRegistry, docker: Docker, tmp_path: Path
) -> None:
    """With immutable tags on (a repository setting at each service), docker pushes an image, then pushes the
    same image to the same tag again: a no-op where only a change is refused, a failure with the service's words
    where the same content is refused too."""
    ref = f"{registry.host}/foo/app:v1"
    docker("load", "--input", str(write_docker_archive(tmp_path / "image.tar", ref, small_image("hosted-immutable"))))
    docker("push", ref)
    stored = registry.manifest("foo/app", "v1")
    done = docker.run("push", ref)
    outcomes["push the same tag again"].check(done.returncode, done.stdout + done.stderr, "docker push (again)")
    assert registry.manifest("foo/app", "v1") == stored
    docker("image", "rm", ref)


@evidence("docker", ("push and pull with credentials",), auth="bearer")
def test_docker_with_credentials(
    cell: HostedCell, outcomes: dict[str, Outcome], registry: OCIRegistry, docker: Docker, tmp_path: Path
) -> None:
    """With a user configured (Bearer auth, or the scheme the preset's service uses), docker logs in, pushes a
    small image and pulls it back."""
    ref = f"{registry.host}/foo/app:v1"
    docker("load", "--input", str(write_docker_archive(tmp_path / "image.tar", ref, small_image("hosted-docker-auth"))))
    done = docker.run("login", "--username", USER.name, "--password-stdin", registry.host, stdin=USER.password)
    if done.returncode == 0:
        done = docker.run("push", ref)
    if done.returncode == 0:
        docker("image", "rm", ref)
        done = docker.run("pull", ref)
    outcomes["push and pull with credentials"].check(done.returncode, done.stdout + done.stderr, "docker")
    docker.run("image", "rm", ref)


@evidence("ctr", ("push and pull with credentials",), auth="bearer")
def test_ctr_with_credentials(
    cell: HostedCell, outcomes: dict[str, Outcome], registry: OCIRegistry, ctr: Ctr, tmp_path: Path
) -> None:
    """With a user configured, ctr pushes a small image with ``--user`` and pulls it back."""
    ref, image = f"{registry.host}/foo/app:v1", small_image("hosted-ctr-auth").content
    import_image(ctr, tmp_path, ref, image)
    user = ["--user", f"{USER.name}:{USER.password}", "--plain-http"]
    done = ctr.run("images", "push", *user, ref)
    if done.returncode == 0:
        ctr("images", "rm", "--sync", ref)
        done = ctr.run("images", "pull", *user, ref)
    outcomes["push and pull with credentials"].check(done.returncode, done.stdout + done.stderr, "ctr")
    if done.returncode == 0:
        assert listed(ctr, ref)[1] == image.digest
    ctr.run("images", "rm", ref)
