"""What a client may put in a request that the api reads, over a socket: the referrers filter, Accept weights."""

from __future__ import annotations

import json
import threading

import pytest
from raw_http import exchange

from pytest_ociregistry import SPEC, OCIRegistry

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


@pytest.fixture
def subject(oci_registry: OCIRegistry) -> str:
    image = oci_registry.push_image("foo", "v1")
    for artifact_type in ("application/vnd.example.sig", "application/vnd.example.sbom"):
        oci_registry.push_artifact("foo", artifact_type, [b"x"], subject=image)
    return image.digest


@pytest.mark.parametrize("preset", ["reference", "spec"])
def test_an_empty_artifact_type_is_no_filter(oci_registry: OCIRegistry, subject: str, preset: str) -> None:
    if preset == "spec":
        oci_registry.options = SPEC
    answer = exchange(oci_registry, "GET", f"/v2/foo/referrers/{subject}?artifactType=")
    assert answer.status == 200
    assert sorted(d["artifactType"] for d in answer.json()["manifests"]) == [
        "application/vnd.example.sbom", "application/vnd.example.sig",
    ]
    assert answer.header("OCI-Filters-Applied") is None


def test_the_artifact_type_filter_is_case_insensitive(oci_registry: OCIRegistry, subject: str) -> None:
    answer = exchange(oci_registry, "GET", f"/v2/foo/referrers/{subject}?artifactType=Application/VND.Example.SIG")
    assert [d["artifactType"] for d in answer.json()["manifests"]] == ["application/vnd.example.sig"]
    assert answer.header("OCI-Filters-Applied") == "artifactType"


@pytest.mark.parametrize(
    ("accept", "status"),
    [
        (f"{OCI_MANIFEST};q=0", 404),
        (f"{OCI_MANIFEST}; q=0.000", 404),
        (f"*/*, {OCI_MANIFEST};q=0", 404),  # the most specific range decides
        (f"application/*;q=0, {OCI_MANIFEST}", 200),
        ("*/*;q=0, application/*;q=0.1", 200),
        ("Application/VND.OCI.Image.Manifest.v1+json;Q=0.5", 200),
        (f"{OCI_MANIFEST};q=bad", 200),  # a malformed weight is no weight
        ("text/html, application/json", 404),
        ("not a media range", 200),  # nothing that parses: as no Accept
    ],
)
def test_accept_check_honours_q_zero(oci_registry: OCIRegistry, accept: str, status: int) -> None:
    oci_registry.push_image("foo", "v1")
    oci_registry.configure(accept_check=True)
    answer = exchange(oci_registry, "GET", "/v2/foo/manifests/v1", {"Accept": accept})
    assert answer.status == status, answer
    if status == 404:
        assert answer.error() == (404, "MANIFEST_UNKNOWN", f"manifest of type {OCI_MANIFEST} is not in the Accept list")


# Conditional requests (RFC 9110 section 13): the entity tag of a blob or manifest is its quoted digest.


def test_a_get_or_head_whose_if_none_match_holds_is_304(oci_registry: OCIRegistry) -> None:
    image = oci_registry.push_image("foo", "v1")
    layer = oci_registry.push_blob("foo", b"layer")
    for target, digest in (("/v2/foo/manifests/v1", image.digest), (f"/v2/foo/blobs/{layer}", layer)):
        for method in ("GET", "HEAD"):
            for condition in (f'"{digest}"', f'W/"{digest}"', f'"sha256:0", "{digest}"', "*"):
                answer = exchange(oci_registry, method, target, {"If-None-Match": condition})
                assert (answer.status, answer.body) == (304, b""), (method, target, condition)
                assert answer.header("ETag") == f'"{digest}"' and answer.header("Content-Length") is None
            answer = exchange(oci_registry, method, target, {"If-None-Match": '"sha256:0"'})
            assert (answer.status, answer.header("ETag")) == (200, f'"{digest}"')


def put(registry: OCIRegistry, tag: str, body: bytes, **conditions: str) -> int:
    headers = {"Content-Type": "application/vnd.example+json", **{k.replace("_", "-"): v for k, v in conditions.items()}}
    return exchange(registry, "PUT", f"/v2/foo/manifests/{tag}", headers, body).status


def test_a_manifest_put_whose_condition_fails_is_412_and_changes_nothing(oci_registry: OCIRegistry) -> None:
    first, second = b'{"n":1}', b'{"n":2}'
    assert put(oci_registry, "v1", first, If_Match="*") == 412  # nothing there yet
    assert put(oci_registry, "v1", first, If_None_Match="*") == 201  # create only
    assert put(oci_registry, "v1", second, If_None_Match="*") == 412
    assert put(oci_registry, "v1", second, If_Match='"sha256:0"') == 412
    assert oci_registry.manifest("foo", "v1").data == first
    answer = exchange(oci_registry, "PUT", "/v2/foo/manifests/v1",
                      {"Content-Type": "application/json", "If-Match": '"sha256:0"'}, second)
    assert answer.error() == (412, "DENIED", "requested access to the resource is denied: If-Match does not hold")
    current = oci_registry.manifest("foo", "v1").digest
    assert put(oci_registry, "v1", second, If_Match=f'W/"{current}"') == 412  # If-Match compares strongly
    assert put(oci_registry, "v1", second, If_Match=f'"{current}"') == 201
    assert oci_registry.manifest("foo", "v1").data == second


def test_a_conditional_put_is_a_compare_and_set(oci_registry: OCIRegistry) -> None:
    """Eight clients update the tag from the same version at once: exactly one wins (the referrers tag schema's
    lost-update protection the spec mentions; tests/test_store.py races the store itself harder)."""
    assert put(oci_registry, "list", b'{"n":0}') == 201
    current = oci_registry.manifest("foo", "list").digest
    start = threading.Barrier(8)
    statuses: list[int] = []

    def client(i: int) -> None:
        body = json.dumps({"n": i, "pad": [{"k": "v"}] * 20_000}).encode()
        start.wait()
        statuses.append(put(oci_registry, "list", body, If_Match=f'"{current}"'))

    threads = [threading.Thread(target=client, args=(i,)) for i in range(1, 9)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(statuses) == [201] + [412] * 7
