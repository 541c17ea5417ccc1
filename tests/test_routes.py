"""Parsing requests into routes, in the reference's order."""

from __future__ import annotations

import dataclasses

import pytest

from pytest_ociregistry.errors import RegistryError
from pytest_ociregistry.names import digest_of
from pytest_ociregistry.options import Options
from pytest_ociregistry.routes import Kind, Route, parse

D = digest_of(b"x")


@pytest.mark.parametrize(
    ("method", "path", "query", "route"),
    [
        ("GET", "/v2", {}, Route(Kind.PING)),
        ("DELETE", "/v2/", {}, Route(Kind.PING)),
        ("GET", "/v2/_catalog", {"n": "5", "last": "a"}, Route(Kind.CATALOG, n=5, last="a")),
        ("POST", "/v2/a/b/blobs/uploads/", {}, Route(Kind.UPLOAD_START, "a/b")),
        ("POST", "/v2/a/blobs/uploads", {"digest": D}, Route(Kind.UPLOAD_SINGLE_POST, "a", digest=D)),
        ("POST", "/v2/a/blobs/uploads/", {"mount": D, "from": "b"}, Route(Kind.UPLOAD_MOUNT, "a", digest=D, from_repo="b")),
        ("POST", "/v2/a/blobs/uploads/", {"mount": D}, Route(Kind.UPLOAD_START, "a")),
        ("GET", "/v2/a/blobs/uploads/MQ", {}, Route(Kind.UPLOAD_STATUS, "a", upload_id="MQ")),
        ("PATCH", "/v2/a/blobs/uploads/MQ", {}, Route(Kind.UPLOAD_CHUNK, "a", upload_id="MQ")),
        ("PUT", "/v2/a/blobs/uploads/MQ", {"digest": D}, Route(Kind.UPLOAD_COMPLETE, "a", digest=D, upload_id="MQ")),
        ("DELETE", "/v2/a/blobs/uploads/MQ", {}, Route(Kind.UPLOAD_CANCEL, "a", upload_id="MQ")),
        ("HEAD", f"/v2/a/blobs/{D}", {}, Route(Kind.BLOB_HEAD, "a", digest=D)),
        ("GET", "/v2/a/manifests/v1", {}, Route(Kind.MANIFEST_GET, "a", tag="v1")),
        ("PUT", f"/v2/a/b/manifests/{D}", {}, Route(Kind.MANIFEST_PUT, "a/b", digest=D)),
        ("GET", "/v2/blobs/manifests/x", {}, Route(Kind.MANIFEST_GET, "blobs", tag="x")),
        ("GET", "/v2/a/tags/list", {"n": "0"}, Route(Kind.TAGS_LIST, "a", n=0)),
        ("GET", f"/v2/a/referrers/{D}", {"artifactType": "t"}, Route(Kind.REFERRERS, "a", digest=D, artifact_type="t")),
    ],
)
def test_parse(method: str, path: str, query: dict[str, str], route: Route) -> None:
    assert parse(method, path, query) == route


@pytest.mark.parametrize(
    ("method", "path", "query", "status", "message"),
    [
        ("GET", "/v2/bad", {}, 404, "page not found"),
        ("GET", "/other", {}, 404, "page not found"),
        ("GET", "/v2/a/tags/other", {}, 404, "page not found"),
        ("GET", "/v2//manifests/x", {}, 404, "page not found"),
        ("GET", "/v2/a/manifests/", {}, 404, "page not found"),
        ("GET", "/v2/A/blobs/sha256:bad", {}, 400, "badly formed digest"),  # the digest is checked first
        ("GET", f"/v2/A/blobs/{D}", {}, 400, "invalid repository name"),
        ("PUT", f"/v2/a/blobs/{D}", {}, 405, "method not allowed"),
        ("GET", "/v2/a/blobs/uploads/", {}, 405, "method not allowed"),
        ("POST", "/v2/_catalog", {}, 405, "method not allowed"),
        ("GET", "/v2/a/tags/list", {"n": "-1"}, 400, "query parameter n is not a valid integer"),
        ("POST", f"/v2/a/referrers/{D}", {}, 405, "method not allowed"),
        ("GET", "/v2/a/blobs/uploads/bad id", {}, 404, "blob upload unknown to registry"),
        ("POST", "/v2/a/blobs/uploads/", {"mount": "x", "from": "b"}, 400, "invalid digest in mount"),
    ],
)
def test_parse_errors(method: str, path: str, query: dict[str, str], status: int, message: str) -> None:
    with pytest.raises(RegistryError) as info:
        parse(method, path, query)
    assert (info.value.status, info.value.message) == (status, message)


def test_a_path_parsed_before_is_parsed_again_under_other_options() -> None:
    """Routes of query-less requests are remembered, per options: what one preset routes, another may refuse."""
    shaped = Options(digest_shaped_tags=True)
    path = "/v2/a/manifests/sha256:not-hex"
    assert parse("PUT", path, {}, shaped) == Route(Kind.MANIFEST_PUT, "a", tag="sha256:not-hex")
    assert parse("PUT", path, {}, shaped) is parse("PUT", path, {}, shaped)  # remembered
    with pytest.raises(RegistryError) as info:
        parse("PUT", path, {})
    assert (info.value.status, info.value.message) == (400, "badly formed digest")
    assert parse("PUT", path, {}, dataclasses.replace(shaped)) == Route(Kind.MANIFEST_PUT, "a", tag="sha256:not-hex")
