"""A manifest's media type belongs to its content: what a push's Content-Type can and cannot change, over a socket.

The rule (docs/explanation/store.md): the body's ``mediaType`` when it has one, else the Content-Type of
the push that first stored those bytes in the repository; lower-case and without parameters; media types are
compared case-insensitively and without parameters wherever they are read.
"""

from __future__ import annotations

import json

import pytest
from raw_http import exchange, put_blob

from pytest_ociregistry import SPEC, OCIRegistry
from pytest_ociregistry.names import digest_of

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
SHOUTED = "Application/VND.OCI.Image.Manifest.v1+json"


def image(registry: OCIRegistry, repo: str = "foo", *, media_type: bool = True, **extra: object) -> bytes:
    """An OCI image manifest whose blobs are in ``repo``; with its ``mediaType`` field unless told otherwise."""
    config = put_blob(registry, repo, b"{}")
    layer = put_blob(registry, repo, b"layer")
    doc: dict[str, object] = {"schemaVersion": 2}
    if media_type:
        doc["mediaType"] = OCI_MANIFEST
    doc["config"] = {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config, "size": 2}
    doc["layers"] = [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": layer, "size": 5}]
    doc.update(extra)
    return json.dumps(doc).encode()


def put(registry: OCIRegistry, ref: str, body: bytes, content_type: str | None, repo: str = "foo") -> int:
    headers = {"Content-Type": content_type} if content_type is not None else {}
    return exchange(registry, "PUT", f"/v2/{repo}/manifests/{ref}", headers, body).status


def served_types(registry: OCIRegistry, refs: list[str], repo: str = "foo") -> dict[str, str | None]:
    """The exact Content-Type lines a GET of each reference answers."""
    out = {}
    for ref in refs:
        answer = exchange(registry, "GET", f"/v2/{repo}/manifests/{ref}")
        assert answer.status == 200, answer
        out[ref] = answer.header("Content-Type")
    return out


def test_a_repush_under_another_type_or_none_changes_nothing_served(oci_registry: OCIRegistry) -> None:
    body = image(oci_registry)
    digest = digest_of(body)
    assert put(oci_registry, "a", body, OCI_MANIFEST) == 201
    assert put(oci_registry, "b", body, DOCKER_MANIFEST) == 201
    assert put(oci_registry, "c", body, None) == 201
    assert put(oci_registry, "d", body, "application/octet-stream") == 201
    assert served_types(oci_registry, ["a", "b", "c", "d", digest]) == dict.fromkeys(
        ["a", "b", "c", "d", digest], OCI_MANIFEST
    )


def test_without_a_media_type_field_the_first_push_decides(oci_registry: OCIRegistry) -> None:
    index = json.dumps({"schemaVersion": 2, "manifests": []}).encode()
    digest = digest_of(index)
    assert put(oci_registry, "first", index, OCI_INDEX) == 201
    assert put(oci_registry, "second", index, None) == 201
    assert put(oci_registry, "third", index, "application/json") == 201
    assert served_types(oci_registry, ["first", "second", "third", digest]) == dict.fromkeys(
        ["first", "second", "third", digest], OCI_INDEX
    )


def test_the_media_type_field_decides_over_the_content_type(oci_registry: OCIRegistry) -> None:
    """A push with no Content-Type (seed(), many HTTP stacks) of a body that says what it is."""
    body = image(oci_registry)
    assert put(oci_registry, "v1", body, None) == 201
    assert served_types(oci_registry, ["v1"]) == {"v1": OCI_MANIFEST}


@pytest.mark.parametrize("content_type", [f"{OCI_MANIFEST}; charset=utf-8", f"{OCI_MANIFEST};charset=UTF-8", SHOUTED])
def test_content_type_is_served_bare_and_lower_case(oci_registry: OCIRegistry, content_type: str) -> None:
    body = image(oci_registry, media_type=False)
    assert put(oci_registry, "v1", body, content_type) == 201
    for method in ("GET", "HEAD"):
        answer = exchange(oci_registry, method, "/v2/foo/manifests/v1")
        assert (answer.status, answer.header("Content-Type")) == (200, OCI_MANIFEST)


def test_a_shouted_oci_type_is_an_oci_manifest(oci_registry: OCIRegistry) -> None:
    """Read as an OCI manifest: its missing blobs are refused, its subject indexed."""
    missing = json.dumps(
        {"config": {"mediaType": "a/b", "digest": digest_of(b"nothing"), "size": 7}, "layers": []}
    ).encode()
    answer = exchange(oci_registry, "PUT", "/v2/foo/manifests/v1", {"Content-Type": SHOUTED}, missing)
    assert answer.error()[:2] == (404, "MANIFEST_BLOB_UNKNOWN")
    subject = digest_of(b"subject")
    body = image(oci_registry, media_type=False, subject={"mediaType": OCI_MANIFEST, "digest": subject, "size": 7})
    answer = exchange(oci_registry, "PUT", f"/v2/foo/manifests/{digest_of(body)}", {"Content-Type": SHOUTED}, body)
    assert (answer.status, answer.header("OCI-Subject")) == (201, subject)
    listed = exchange(oci_registry, "GET", f"/v2/foo/referrers/{subject}").json()["manifests"]
    assert listed == [{"mediaType": OCI_MANIFEST, "digest": digest_of(body), "size": len(body),
                       "artifactType": "application/vnd.oci.image.config.v1+json"}]


def test_a_repush_keeps_the_referrer_and_its_oci_subject(oci_registry: OCIRegistry) -> None:
    subject = digest_of(b"subject")
    body = image(oci_registry, subject={"mediaType": OCI_MANIFEST, "digest": subject, "size": 7})
    digest = digest_of(body)
    for content_type in (OCI_MANIFEST, None, "application/octet-stream", DOCKER_MANIFEST):
        headers = {"Content-Type": content_type} if content_type else {}
        answer = exchange(oci_registry, "PUT", f"/v2/foo/manifests/{digest}", headers, body)
        assert (answer.status, answer.header("OCI-Subject")) == (201, subject), content_type
        listed = exchange(oci_registry, "GET", f"/v2/foo/referrers/{subject}").json()["manifests"]
        assert [entry["digest"] for entry in listed] == [digest], content_type


def test_a_repush_of_an_opaque_manifest_keeps_its_type(oci_registry: OCIRegistry) -> None:
    """Bytes first stored as an opaque type stay that type: a later OCI Content-Type does not re-read them."""
    body = b'{"not": "a manifest"}'
    assert put(oci_registry, "a", body, "application/vnd.example.thing") == 201
    assert put(oci_registry, "b", body, OCI_INDEX) == 201
    assert served_types(oci_registry, ["a", "b"]) == dict.fromkeys(["a", "b"], "application/vnd.example.thing")


@pytest.mark.parametrize("accept", [SHOUTED, f"{SHOUTED}; q=0.5", "APPLICATION/*"])
def test_accept_is_compared_case_insensitively(oci_registry: OCIRegistry, accept: str) -> None:
    body = image(oci_registry)
    assert put(oci_registry, "v1", body, OCI_MANIFEST) == 201
    for options in ({"accept_check": True}, {"distribution_accept": True}):
        oci_registry.configure(**options)
        answer = exchange(oci_registry, "GET", "/v2/foo/manifests/v1", {"Accept": accept})
        if "distribution_accept" in options and accept.endswith("/*"):
            assert answer.status == 404  # distribution wants the OCI type itself named
            continue
        assert (answer.status, answer.header("Content-Type")) == (200, OCI_MANIFEST), options
        oci_registry.options = oci_registry.default_options


def test_spec_compares_the_media_type_field_case_insensitively(oci_registry: OCIRegistry) -> None:
    oci_registry.options = SPEC
    body = image(oci_registry)
    assert put(oci_registry, "v1", body, SHOUTED) == 201
    assert put(oci_registry, "v2", body, f"{OCI_MANIFEST}; charset=utf-8") == 201
    answer = exchange(oci_registry, "PUT", "/v2/foo/manifests/v3", {"Content-Type": DOCKER_MANIFEST}, body)
    assert answer.error()[:2] == (400, "MANIFEST_INVALID")


def test_seeded_manifests_take_their_declared_type_under_every_preset(oci_registry: OCIRegistry) -> None:
    """seed() pushes with no Content-Type: a body declaring its type is that type, even under the strict preset."""
    oci_registry.options = SPEC
    body = image(oci_registry)
    oci_registry.seed(manifests={"foo/manifests/v1": body})
    assert oci_registry.manifest("foo", "v1").media_type == OCI_MANIFEST
    assert served_types(oci_registry, ["v1"]) == {"v1": OCI_MANIFEST}
