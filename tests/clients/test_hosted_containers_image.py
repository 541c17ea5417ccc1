"""The containers/image clients, skopeo 1.9 and podman 4.3, against each hosted preset (see ``hosted.py``): a push
and a pull, the tag list and a delete, each asserting the outcome the matrix declares for that preset."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from client_support import (
    Podman,
    Skopeo,
    assert_gone,
    assert_same_content,
    read_layout,
    read_registry,
    small_image,
    write_docker_archive,
    write_layout,
)
from hosted import HostedCell, Outcome, accepting, evidence
from matrix import USER

from pytest_ociregistry import OCIRegistry
from pytest_ociregistry.manifest import DOCKER_MANIFEST, OCI_MANIFEST


def seed(registry: OCIRegistry, repo: str, label: str, *tags: str) -> None:
    """Store :func:`small_image` ``label`` under each of ``tags`` through the registry's own API."""
    for tag in tags:
        registry.push(repo, small_image(label).content, tag)


@evidence("skopeo", ("push", "pull"))
def test_skopeo_push_pull(
    cell: HostedCell, outcomes: dict[str, Outcome], registry: OCIRegistry, skopeo: Skopeo, tmp_path: Path
) -> None:
    """skopeo copies a small OCI image from a layout into the registry and back out, digest for digest."""
    image = small_image("hosted-skopeo").content
    write_layout(tmp_path / "src", "v1", image)
    remote = f"docker://{registry.host}/foo/app:v1"

    done = skopeo.run("copy", "--dest-tls-verify=false", f"oci:{tmp_path / 'src'}:v1", remote)
    outcomes["push"].check(done.returncode, done.stderr, "skopeo copy (push)")
    if outcomes["push"].passes:
        assert_same_content(read_registry(registry, "foo/app", "v1"), image)
    else:
        with accepting(registry):
            registry.push("foo/app", image, "v1")

    done = skopeo.run("copy", "--src-tls-verify=false", remote, f"oci:{tmp_path / 'out'}:v1")
    outcomes["pull"].check(done.returncode, done.stderr, "skopeo copy (pull)")
    if outcomes["pull"].passes:
        assert_same_content(read_layout(tmp_path / "out", "v1"), image)


@evidence("skopeo", ("tag list", "delete"))
def test_skopeo_tags_and_delete(
    cell: HostedCell, outcomes: dict[str, Outcome], registry: OCIRegistry, skopeo: Skopeo
) -> None:
    """``skopeo list-tags`` lists three tags (the repository holds an untagged image too); ``skopeo delete``
    deletes one image by tag (it reads the manifest for its digest, then sends DELETE by digest), and with it both
    tags on it."""
    seed(registry, "foo/app", "hosted-tags-1", "v1", "v1-alias")
    seed(registry, "foo/app", "hosted-tags-2", "v2")
    untagged = registry.push("foo/app", small_image("hosted-untagged").content).digest
    remote = f"docker://{registry.host}/foo/app"

    done = skopeo.run("list-tags", "--tls-verify=false", remote)
    outcomes["tag list"].check(done.returncode, done.stderr, "skopeo list-tags")
    if outcomes["tag list"].passes:
        listed = sorted(json.loads(done.stdout)["Tags"])
        assert listed == sorted(["v1", "v1-alias", "v2", *([untagged] if registry.options.tags_list_digests else [])])

    done = skopeo.run("delete", "--tls-verify=false", f"{remote}:v1")
    outcomes["delete"].check(done.returncode, done.stderr, "skopeo delete")
    if outcomes["delete"].passes:
        for tag in ("v1", "v1-alias"):
            assert_gone(registry, "foo/app", tag)
    else:
        assert {"v1", "v1-alias"} <= set(registry.tags("foo/app"))
    registry.manifest("foo/app", "v2")  # still there


@evidence("skopeo", ("push an OCI manifest without mediaType",))
def test_skopeo_push_without_media_type(
    cell: HostedCell, outcomes: dict[str, Outcome], registry: OCIRegistry, skopeo: Skopeo, tmp_path: Path
) -> None:
    """skopeo copies an OCI image whose manifest has no top-level ``mediaType`` (image-spec 1.0 leaves it out) into
    the registry: as it is, or, when the registry refuses it as ECR does (405 ``UNSUPPORTED`` "Invalid JSON
    syntax"), converted to Docker schema 2 and pushed again."""
    image = small_image("hosted-bare").content
    doc = json.loads(image.manifest)
    del doc["mediaType"]
    bare = dataclasses.replace(image, manifest=json.dumps(doc).encode())
    write_layout(tmp_path / "src", "v1", bare)

    outcome = outcomes["push an OCI manifest without mediaType"]
    done = skopeo.run("copy", "--dest-tls-verify=false", f"oci:{tmp_path / 'src'}:v1",
                      f"docker://{registry.host}/foo/app:v1")  # fmt: skip
    outcome.check(done.returncode, done.stderr, "skopeo copy")
    puts = [(e.status, e.error) for e in registry.requests if e.method == "PUT" and "/manifests/" in e.path]
    if outcome.note:
        assert puts == [(405, "UNSUPPORTED"), (201, None)], puts
        stored = registry.manifest("foo/app", "v1")
        assert stored.media_type == DOCKER_MANIFEST
        assert json.loads(stored.data)["layers"][0]["digest"] == doc["layers"][0]["digest"]
    elif outcome.passes:
        assert puts == [(201, None)], puts
        assert registry.manifest("foo/app", "v1").data == bare.manifest
        assert registry.manifest("foo/app", "v1").media_type == OCI_MANIFEST


@evidence("podman", ("push", "pull"))
def test_podman_push_pull(
    cell: HostedCell, outcomes: dict[str, Outcome], registry: OCIRegistry, podman: Podman, tmp_path: Path
) -> None:
    """podman pushes a small image it loaded (as Docker schema 2: ``--digestfile`` names the stored manifest) and
    pulls it back (the image it then holds is the stored config)."""
    host, image = registry.host, small_image("hosted-podman")
    ref = f"{host}/foo/app:v1"
    podman("load", "--input", str(write_docker_archive(tmp_path / "image.tar", ref, image)))

    digest_file = tmp_path / "digest"
    done = podman.run("push", "--tls-verify=false", f"--digestfile={digest_file}", ref)
    outcomes["push"].check(done.returncode, done.stderr, "podman push")
    if outcomes["push"].passes:
        assert digest_file.read_text() == registry.manifest("foo/app", "v1").digest
    else:
        with accepting(registry):
            registry.push("foo/app", small_image("hosted-podman", docker=True).content, "v1")
    config = json.loads(registry.manifest("foo/app", "v1").data)["config"]["digest"]

    podman("rmi", ref)
    done = podman.run("pull", "--tls-verify=false", ref)
    outcomes["pull"].check(done.returncode, done.stderr, "podman pull")
    if outcomes["pull"].passes:
        assert "sha256:" + podman("image", "inspect", "--format", "{{.Id}}", ref).strip() == config
        podman("rmi", ref)


CREDS = f"{USER.name}:{USER.password}"


@evidence("skopeo", ("push and pull with credentials",), auth="bearer")
def test_skopeo_with_credentials(
    cell: HostedCell, outcomes: dict[str, Outcome], registry: OCIRegistry, skopeo: Skopeo, tmp_path: Path
) -> None:
    """With a user configured (Bearer auth, or the scheme the preset's service uses), skopeo copies a small image
    in and back out with ``--dest-creds``/``--src-creds``."""
    image = small_image("hosted-skopeo-auth").content
    write_layout(tmp_path / "src", "v1", image)
    remote = f"docker://{registry.host}/foo/app:v1"
    outcome = outcomes["push and pull with credentials"]
    done = skopeo.run("copy", "--dest-tls-verify=false", f"--dest-creds={CREDS}", f"oci:{tmp_path / 'src'}:v1", remote)
    if done.returncode == 0:
        done = skopeo.run(
            "copy", "--src-tls-verify=false", f"--src-creds={CREDS}", remote, f"oci:{tmp_path / 'out'}:v1"
        )
    outcome.check(done.returncode, done.stderr, "skopeo copy with credentials")
    if outcome.passes:
        assert_same_content(read_layout(tmp_path / "out", "v1"), image)


@evidence("podman", ("push and pull with credentials",), auth="bearer")
def test_podman_with_credentials(
    cell: HostedCell, outcomes: dict[str, Outcome], registry: OCIRegistry, podman: Podman, tmp_path: Path
) -> None:
    """With a user configured, podman logs in, pushes a small image and pulls it back."""
    ref = f"{registry.host}/foo/app:v1"
    podman("load", "--input", str(write_docker_archive(tmp_path / "image.tar", ref, small_image("hosted-podman-auth"))))
    outcome = outcomes["push and pull with credentials"]
    done = podman.run("login", "--tls-verify=false", "--username", USER.name, "--password-stdin", registry.host,
                      stdin=USER.password)  # fmt: skip
    if done.returncode == 0:
        done = podman.run("push", "--tls-verify=false", ref)
    if done.returncode == 0:
        podman("rmi", ref)
        done = podman.run("pull", "--tls-verify=false", ref)
    outcome.check(done.returncode, done.stderr, "podman login, push, pull")
    podman.run("rmi", ref)
