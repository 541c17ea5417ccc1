"""The hosted registries' manifest, referrers, tag and delete quirks (one test per option, named after it), each as
a client sees it on the wire: the status line, the headers and the body exactly."""

from __future__ import annotations

import json
from typing import Any

import pytest
from raw_http import Answer, exchange, put_blob

from pytest_ociregistry import OCIRegistry
from pytest_ociregistry.names import digest_of

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
EMPTY = "application/vnd.oci.empty.v1+json"
LAYER = "application/vnd.oci.image.layer.v1.tar"
JSON = ("Content-Type", "application/json")
HARBOR_JSON = ("Content-Type", "application/json; charset=utf-8")
UNKNOWN_DIGEST = digest_of(b"nothing here")


def descriptor(media_type: str, data: bytes) -> dict[str, Any]:
    return {"mediaType": media_type, "digest": digest_of(data), "size": len(data)}


def image(
    config_type: str = OCI_CONFIG, layers: tuple[str, ...] = (), media_type: bool = True, **fields: Any
) -> bytes:
    """An OCI image manifest: an ``{}`` config of ``config_type``, one ``x`` layer per media type, and ``fields``."""
    doc: dict[str, Any] = {"schemaVersion": 2}
    if media_type:
        doc["mediaType"] = OCI_MANIFEST
    doc["config"] = descriptor(config_type, b"{}")
    doc["layers"] = [descriptor(t, b"x") for t in layers]
    doc.update(fields)
    return json.dumps(doc).encode()


def push(
    registry: OCIRegistry, reference: str, body: bytes, repo: str = "foo", content_type: str = OCI_MANIFEST
) -> Answer:
    """PUT a manifest (its config and layer blobs pushed first)."""
    put_blob(registry, repo, b"{}")
    put_blob(registry, repo, b"x")
    return exchange(registry, "PUT", f"/v2/{repo}/manifests/{reference}", {"Content-Type": content_type}, body)


def error(answer: Answer) -> tuple[str, str, bytes]:
    """(status line, Content-Type, body) of an error answer."""
    return answer.status_line, answer.header("Content-Type") or "", answer.body


def subject_of(registry: OCIRegistry) -> tuple[str, dict[str, Any]]:
    """A pushed image's digest and a ``subject`` descriptor naming it."""
    body = image()
    assert push(registry, "image", body).status == 201
    return digest_of(body), descriptor(OCI_MANIFEST, body)


# Referrers -------------------------------------------------------------------------------------------------------


@pytest.mark.oci_registry(referrers_enabled=False, referrers_disabled_status=406)
def test_referrers_disabled_status(oci_registry: OCIRegistry) -> None:
    """ART-1: Artifactory before 7.90.1 answers the referrers API 406 (ggcr falls back to the tag schema on it)."""
    answer = exchange(oci_registry, "GET", f"/v2/foo/referrers/{UNKNOWN_DIGEST}")
    assert error(answer) == (
        "HTTP/1.1 406 Not Acceptable", "application/json",
        b'{"errors":[{"code":"UNKNOWN","message":"referrers API has been disabled"}]}',
    )


@pytest.mark.parametrize("header", [False, True])
def test_oci_subject_without_referrers(oci_registry: OCIRegistry, header: bool) -> None:
    """GHCR-1 (no referrers API, no ``OCI-Subject``) and DH-6/ECR-7 (``OCI-Subject`` all the same)."""
    oci_registry.options = oci_registry.options.replace(referrers_enabled=False, oci_subject_without_referrers=header)
    digest, subject = subject_of(oci_registry)
    answer = push(oci_registry, "sig", image(EMPTY, artifactType="application/example", subject=subject))
    assert answer.status_line == "HTTP/1.1 201 Created"
    assert answer.header("OCI-Subject") == (digest if header else None)
    referrers = exchange(oci_registry, "GET", f"/v2/foo/referrers/{digest}")
    assert error(referrers) == (
        "HTTP/1.1 404 Not Found", "application/json",
        b'{"errors":[{"code":"UNKNOWN","message":"referrers API has been disabled"}]}',
    )


@pytest.mark.oci_registry(referrers_unknown_subject_invalid=True)
def test_referrers_unknown_subject_invalid(oci_registry: OCIRegistry) -> None:
    """QUAY-1: the referrers of a digest not in the repository answer 400 ``MANIFEST_INVALID``; a manifest without
    referrers has an empty list, and a repository that does not exist is unknown."""
    digest, _ = subject_of(oci_registry)
    answer = exchange(oci_registry, "GET", f"/v2/foo/referrers/{UNKNOWN_DIGEST}")
    assert error(answer) == (
        "HTTP/1.1 400 Bad Request", "application/json",
        b'{"errors":[{"code":"MANIFEST_INVALID","message":"manifest invalid","detail":""}]}',
    )
    listed = exchange(oci_registry, "GET", f"/v2/foo/referrers/{digest}")
    assert (listed.status_line, listed.json()["manifests"]) == ("HTTP/1.1 200 OK", None)
    assert exchange(oci_registry, "GET", f"/v2/bar/referrers/{UNKNOWN_DIGEST}").error()[:2] == (404, "NAME_UNKNOWN")


@pytest.mark.oci_registry(referrers_duplicate_on_tag=True)
def test_referrers_duplicate_on_tag(oci_registry: OCIRegistry) -> None:
    """ZOT-4: a referrer pushed by digest and then tagged is listed twice (once per index entry); one pushed by tag
    only is listed once."""
    digest, subject = subject_of(oci_registry)
    sig = image(EMPTY, artifactType="application/sig", subject=subject)
    sbom = image(EMPTY, artifactType="application/sbom", subject=subject)
    assert push(oci_registry, digest_of(sig), sig).status == 201
    assert push(oci_registry, "sbom", sbom).status == 201

    def listed() -> list[str]:
        answer = exchange(oci_registry, "GET", f"/v2/foo/referrers/{digest}")
        assert answer.status_line == "HTTP/1.1 200 OK"
        return [d["digest"] for d in answer.json()["manifests"]]

    assert sorted(listed()) == sorted([digest_of(sig), digest_of(sbom)])
    assert push(oci_registry, "sig", sig).status == 201
    assert sorted(listed()) == sorted([digest_of(sig), digest_of(sig), digest_of(sbom)])


@pytest.mark.oci_registry(referrers_artifact_type=False)
def test_referrers_artifact_type(oci_registry: OCIRegistry) -> None:
    """ACR-3: the referrers list's entries lack ``artifactType`` (filtering by it still works)."""
    digest, subject = subject_of(oci_registry)
    sig = image(EMPTY, artifactType="application/sig", subject=subject)
    assert push(oci_registry, "sig", sig).status == 201
    answer = exchange(oci_registry, "GET", f"/v2/foo/referrers/{digest}?artifactType=application/sig")
    assert answer.json()["manifests"] == [descriptor(OCI_MANIFEST, sig)]


# Manifest acceptance ---------------------------------------------------------------------------------------------

ECR_INVALID_JSON = (
    b"{\"errors\":[{\"code\":\"UNSUPPORTED\",\"message\":\"Invalid parameter at 'ImageManifest' failed to satisfy "
    b"constraint: 'Invalid JSON syntax'\"}]}"
)


@pytest.mark.parametrize(
    ("kind", "refused", "accepted"),
    [
        ("no_media_type", image(media_type=False), image()),
        ("artifact_type", image(EMPTY, artifactType="application/example"), image(EMPTY)),
        (
            "artifact_type_subject",
            image(EMPTY, artifactType="application/example", subject=descriptor(OCI_MANIFEST, b"s")),
            image(EMPTY, artifactType="application/example"),
        ),
        (
            "media_type_parameters",
            image(EMPTY, (LAYER,), artifactType="application/vnd.dev.sigstore.bundle+json;version=0.2"),
            image(EMPTY, (LAYER,), artifactType="application/vnd.dev.sigstore.bundle.v0.3+json"),
        ),
    ],
)
def test_unsupported_manifests(oci_registry: OCIRegistry, kind: str, refused: bytes, accepted: bytes) -> None:
    """ECR-6 and ECR-9: ECR refuses these spec-valid manifests with 405 "Invalid JSON syntax"; nothing is stored."""
    oci_registry.options = oci_registry.options.replace(unsupported_manifests=(kind,))
    answer = push(oci_registry, "v1", refused)
    assert error(answer) == ("HTTP/1.1 405 Method Not Allowed", "application/json", ECR_INVALID_JSON)
    assert exchange(oci_registry, "HEAD", f"/v2/foo/manifests/{digest_of(refused)}").status == 404
    assert push(oci_registry, "v1", accepted).status_line == "HTTP/1.1 201 Created"


@pytest.mark.oci_registry(max_layers=2)
def test_max_layers(oci_registry: OCIRegistry) -> None:
    """ECR-11: a manifest over the layer limit answers 405 ``UNSUPPORTED``."""
    assert push(oci_registry, "two", image(layers=(LAYER, LAYER))).status == 201
    answer = push(oci_registry, "three", image(layers=(LAYER, LAYER, LAYER)))
    assert error(answer) == (
        "HTTP/1.1 405 Method Not Allowed", "application/json",
        (b"{\"errors\":[{\"code\":\"UNSUPPORTED\",\"message\":\"Invalid parameter at 'ImageManifest' failed to "
        b"satisfy constraint: 'Limit on number of layers per image exceeded'\"}]}"),
    )


GITLAB_SOME = (OCI_CONFIG, "application/vnd.cncf.helm.config.v1+json", LAYER, EMPTY)


@pytest.mark.parametrize(
    ("config_type", "artifact_type", "unknown"),
    [  # ocx#480's experiment on gitlab.com, one field changed per push
        (OCI_CONFIG, None, None),
        (OCI_CONFIG, "application/vnd.sh.ocx.package.v1", "application/vnd.sh.ocx.package.v1"),
        ("application/vnd.sh.ocx.package.v1+json", None, "application/vnd.sh.ocx.package.v1+json"),
        ("application/vnd.cncf.helm.config.v1+json", None, None),
        (OCI_CONFIG, "application/vnd.cncf.helm.config.v1+json", None),
    ],
)
def test_known_media_types(
    oci_registry: OCIRegistry, config_type: str, artifact_type: str | None, unknown: str | None
) -> None:
    """GITLAB-1: a media type off the list (``artifactType``, config, layers) answers 400 ``MANIFEST_INVALID``
    "unknown media type: …"."""
    oci_registry.options = oci_registry.options.replace(known_media_types=GITLAB_SOME)
    fields = {"artifactType": artifact_type} if artifact_type else {}
    answer = push(oci_registry, "v1", image(config_type, (LAYER,), **fields))
    if unknown is None:
        assert answer.status_line == "HTTP/1.1 201 Created"
        return
    assert error(answer) == (
        "HTTP/1.1 400 Bad Request", "application/json",
        b'{"errors":[{"code":"MANIFEST_INVALID","message":"manifest invalid","detail":"unknown media type: '
        + unknown.encode() + b'"}]}',
    )
    layered = push(oci_registry, "v1", image(OCI_CONFIG, ("application/x-custom",)))
    assert layered.json()["errors"][0]["detail"] == "unknown media type: application/x-custom"


@pytest.mark.oci_registry(config_media_types=(OCI_CONFIG, "application/vnd.cncf.helm.config.v1+json"))
def test_config_media_types(oci_registry: OCIRegistry) -> None:
    """QUAY-4: a config media type off the list answers 400 ``MANIFEST_INVALID``, the schema error in ``detail``;
    the layers' and ``artifactType`` are not looked at."""
    answer = push(oci_registry, "v1", image("application/octet-stream"))
    assert error(answer) == (
        "HTTP/1.1 400 Bad Request", "application/json",
        (b"{\"errors\":[{\"code\":\"MANIFEST_INVALID\",\"message\":\"manifest invalid\",\"detail\":{\"message\":"
        b"\"failed to parse manifest: manifest data does not match schema: 'application/octet-stream' is not one of "
        b"['application/vnd.oci.image.config.v1+json', 'application/vnd.cncf.helm.config.v1+json']\"}}]}"),
    )
    assert push(oci_registry, "v1", image(layers=("application/x-custom",), artifactType="a/b")).status == 201


# Tags ------------------------------------------------------------------------------------------------------------


@pytest.mark.oci_registry(immutable_tags=True, immutable_tag_patterns=("v*", "release-?"))
def test_immutable_tag_patterns(oci_registry: OCIRegistry) -> None:
    """Only the tags matching a pattern are immutable; the others move and delete as ever."""
    first, second = image(), image(layers=(LAYER,))
    for tag in ("v1", "release-1", "latest", "release-10"):
        assert push(oci_registry, tag, first).status == 201
        moved = push(oci_registry, tag, second)
        assert moved.status == (201 if tag in ("latest", "release-10") else 403), (tag, moved)
    assert exchange(oci_registry, "DELETE", "/v2/foo/manifests/latest").status == 202
    assert exchange(oci_registry, "DELETE", "/v2/foo/manifests/v1").error() == (
        403, "DENIED", "requested access to the resource is denied: tag is immutable"
    )


IMMUTABLE = {
    "denied": ("HTTP/1.1 403 Forbidden", "application/json",
               (b'{"errors":[{"code":"DENIED","message":"requested access to the resource is denied: cannot overwrite '
               b'tag"}]}')),
    "ecr": ("HTTP/1.1 400 Bad Request", "application/json",
            (b"{\"errors\":[{\"code\":\"TAG_INVALID\",\"message\":\"The image tag 'v1' already exists in the "
            b"'team/app' repository and cannot be overwritten because the repository is immutable.\"}]}")),
    "quay": ("HTTP/1.1 409 Conflict", "application/json",
             (b'{"errors":[{"code":"TAG_IMMUTABLE","message":"tag is immutable and cannot be overwritten",'
             b'"detail":{"message":"tag \'v1\' is immutable"}}]}')),
    "harbor": ("HTTP/1.1 412 Precondition Failed", "application/json; charset=utf-8",
               (b'{"errors":[{"code":"PRECONDITION","message":"Failed to process request due to \'app:v1\' configured '
               b'as immutable."}]}')),
}
IMMUTABLE_DELETE = {
    "denied": IMMUTABLE["denied"][:2]
    + (b'{"errors":[{"code":"DENIED","message":"requested access to the resource is denied: tag is immutable"}]}',),
    "quay": IMMUTABLE["quay"],
    "harbor": IMMUTABLE["harbor"][:2]
    + (b'{"errors":[{"code":"PRECONDITION","message":"the tag v1 configured as immutable, cannot be deleted"}]}',),
}
IMMUTABLE_DELETE["ecr"] = IMMUTABLE_DELETE["denied"]


@pytest.mark.parametrize("style", list(IMMUTABLE))
def test_immutable_tag_refusal(oci_registry: OCIRegistry, style: str) -> None:
    """ECR-12, QUAY-7, HARBOR-2: a push to an immutable tag refused as each service refuses it (the same content
    too, except ``denied``); a delete of the tag or its manifest likewise. Nothing changes."""
    oci_registry.options = oci_registry.options.replace(
        immutable_tags=True, immutable_tag_refusal=style, spec_error_codes=True  # a service's codes stay its own
    )
    first = image()
    assert push(oci_registry, "v1", first, "team/app").status == 201
    assert error(push(oci_registry, "v1", image(layers=(LAYER,)), "team/app")) == IMMUTABLE[style]
    again = push(oci_registry, "v1", first, "team/app")
    assert (again.status == 201) is (style == "denied"), again
    assert error(exchange(oci_registry, "DELETE", "/v2/team/app/manifests/v1")) == IMMUTABLE_DELETE[style]
    by_digest = exchange(oci_registry, "DELETE", f"/v2/team/app/manifests/{digest_of(first)}")
    assert by_digest.status_line == IMMUTABLE_DELETE[style][0]
    assert exchange(oci_registry, "GET", "/v2/team/app/manifests/v1").body == first


@pytest.mark.oci_registry(tags_list_digests=True)
def test_tags_list_digests(oci_registry: OCIRegistry) -> None:
    """ART-3: the tag list names the manifests no tag names by their digests, sorted with the tags."""
    tagged, untagged = image(), image(layers=(LAYER,))
    assert push(oci_registry, "latest", tagged).status == 201
    assert push(oci_registry, digest_of(untagged), untagged).status == 201
    answer = exchange(oci_registry, "GET", "/v2/foo/tags/list")
    listed = {"name": "foo", "tags": ["latest", digest_of(untagged)]}
    assert (answer.status_line, answer.body) == ("HTTP/1.1 200 OK", json.dumps(listed, separators=(",", ":")).encode())


@pytest.mark.oci_registry(missing_tag_head_status=403)
def test_missing_tag_head_status(oci_registry: OCIRegistry) -> None:
    """ART-2: HEAD of a tag that does not exist answers 403 (GET, and HEAD by digest, still 404)."""
    assert push(oci_registry, "latest", image()).status == 201
    head = exchange(oci_registry, "HEAD", "/v2/foo/manifests/missing")
    assert (head.status_line, head.header("Content-Length")) == ("HTTP/1.1 403 Forbidden", "81")
    assert exchange(oci_registry, "HEAD", "/v2/foo/manifests/latest").status == 200
    assert exchange(oci_registry, "HEAD", f"/v2/foo/manifests/{UNKNOWN_DIGEST}").status == 404
    assert exchange(oci_registry, "GET", "/v2/foo/manifests/missing").error()[:2] == (404, "MANIFEST_UNKNOWN")


@pytest.mark.oci_registry(artifact_not_found=True, spec_error_codes=True)
def test_artifact_not_found(oci_registry: OCIRegistry) -> None:
    """HARBOR-4: a manifest that does not exist answers 404 ``NOT_FOUND`` "artifact … not found"."""
    assert push(oci_registry, "latest", image(), "test/alpine").status == 201
    by_tag = exchange(oci_registry, "GET", "/v2/test/alpine/manifests/sha256-4432.sig")
    assert error(by_tag) == (
        "HTTP/1.1 404 Not Found", "application/json; charset=utf-8",
        b'{"errors":[{"code":"NOT_FOUND","message":"artifact test/alpine:sha256-4432.sig not found"}]}',
    )
    by_digest = exchange(oci_registry, "GET", f"/v2/test/alpine/manifests/{UNKNOWN_DIGEST}")
    assert by_digest.json()["errors"][0]["message"] == f"artifact test/alpine@{UNKNOWN_DIGEST} not found"
    no_repo = exchange(oci_registry, "GET", "/v2/test/none/manifests/latest")
    assert no_repo.body == b'{"errors":[{"code":"NOT_FOUND","message":"repository test/none not found"}]}'


# Deletes ---------------------------------------------------------------------------------------------------------


@pytest.mark.oci_registry(blob_delete_enabled=False)
def test_blob_delete_enabled(oci_registry: OCIRegistry) -> None:
    """Quay: a blob DELETE answers 405 ``UNSUPPORTED``; the blob stays, and manifests can still be deleted."""
    digest = put_blob(oci_registry, "foo", b"x")
    answer = exchange(oci_registry, "DELETE", f"/v2/foo/blobs/{digest}")
    assert error(answer) == (
        "HTTP/1.1 405 Method Not Allowed", "application/json",
        b'{"errors":[{"code":"UNSUPPORTED","message":"The operation is unsupported.","detail":{}}]}',
    )
    assert exchange(oci_registry, "HEAD", f"/v2/foo/blobs/{digest}").status == 200
    body = image()
    assert push(oci_registry, "latest", body).status == 201
    deleted = exchange(oci_registry, "DELETE", f"/v2/foo/manifests/{digest_of(body)}")
    assert deleted.status_line == "HTTP/1.1 202 Accepted"


@pytest.mark.oci_registry(delete_untagged_only=True)
def test_delete_untagged_only(oci_registry: OCIRegistry) -> None:
    """DH-7: a manifest a tag names, or an index lists, is not deleted (403 ``DENIED``); an unreferenced one is."""
    child, loose = image(), image(layers=(LAYER,))
    assert push(oci_registry, "child", child).status == 201
    index = json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [descriptor(OCI_MANIFEST, child)]})
    assert push(oci_registry, digest_of(index.encode()), index.encode(), content_type=OCI_INDEX).status == 201
    assert push(oci_registry, digest_of(loose), loose).status == 201
    denied = (
        "HTTP/1.1 403 Forbidden", "application/json",
        b'{"errors":[{"code":"DENIED","message":"requested access to the resource is denied"}]}',
    )
    assert error(exchange(oci_registry, "DELETE", f"/v2/foo/manifests/{digest_of(child)}")) == denied
    assert exchange(oci_registry, "DELETE", "/v2/foo/manifests/child").status == 202  # untagged now, still listed
    assert error(exchange(oci_registry, "DELETE", f"/v2/foo/manifests/{digest_of(child)}")) == denied
    assert exchange(oci_registry, "DELETE", f"/v2/foo/manifests/{digest_of(loose)}").status == 202
    assert exchange(oci_registry, "HEAD", f"/v2/foo/manifests/{digest_of(child)}").status == 200


@pytest.mark.oci_registry(tag_delete_unsupported=True, spec_error_codes=True)
def test_tag_delete_unsupported(oci_registry: OCIRegistry) -> None:
    """HARBOR-7: a DELETE by tag answers 400 ``UNSUPPORTED`` and keeps the tag; by digest it deletes."""
    body = image()
    assert push(oci_registry, "latest", body).status == 201
    answer = exchange(oci_registry, "DELETE", "/v2/foo/manifests/latest")
    assert error(answer) == (
        "HTTP/1.1 400 Bad Request", "application/json; charset=utf-8",
        b'{"errors":[{"code":"UNSUPPORTED","message":"unsupported digest latest: invalid checksum digest format"}]}',
    )
    assert exchange(oci_registry, "GET", "/v2/foo/manifests/latest").body == body
    assert exchange(oci_registry, "DELETE", f"/v2/foo/manifests/{digest_of(body)}").status == 202
