"""Hosted registries' lists on the wire: ECR's page-size refusal (ECR-5), Quay's silent page cap and opaque catalog
tokens, Harbor's catalog ``last`` that must exist."""

from __future__ import annotations

import re

import pytest
from raw_http import exchange

from pytest_ociregistry import OCIRegistry
from pytest_ociregistry.presets import ECR_PAGE_SIZE_MESSAGE as ECR_5

MANIFEST = b'{"schemaVersion":2}'


def repositories(registry: OCIRegistry, *names: str) -> None:
    for name in names:
        registry.push_manifest(name, "v1", MANIFEST)


@pytest.mark.oci_registry(max_page_size=1000, max_page_size_message=ECR_5)
def test_max_page_size_message(oci_registry: OCIRegistry) -> None:
    repositories(oci_registry, "app")
    expected = ECR_5.replace("{max}", "1000")
    for path in ("/v2/_catalog?n=10000", "/v2/app/tags/list?n=1001"):
        assert exchange(oci_registry, "GET", path).error() == (400, "UNSUPPORTED", expected)
    assert exchange(oci_registry, "GET", "/v2/_catalog?n=1000").json() == {"repositories": ["app"]}


@pytest.mark.oci_registry(max_page_size=2, page_size_clamp=True)
def test_page_size_clamp(oci_registry: OCIRegistry) -> None:
    """Quay: any ``n`` over the cap, or none, is the cap, silently; the ``Link`` leads on."""
    for tag in ("a", "b", "c"):
        oci_registry.push_manifest("app", tag, MANIFEST)
    for query in ("", "?n=100"):
        answer = exchange(oci_registry, "GET", f"/v2/app/tags/list{query}")
        assert (answer.status, answer.json()["tags"]) == (200, ["a", "b"])
        assert answer.header("Link") is not None and "last=b" in answer.header("Link")  # type: ignore[operator]
    assert exchange(oci_registry, "GET", "/v2/app/tags/list?n=0").json()["tags"] == ["a"]
    repositories(oci_registry, "x", "y")
    assert exchange(oci_registry, "GET", "/v2/_catalog?n=5").json() == {"repositories": ["app", "x"]}


@pytest.mark.oci_registry(catalog_page_token=True)
def test_catalog_page_token(oci_registry: OCIRegistry) -> None:
    """Quay: an absolute ``Link`` with an opaque ``next_page``; a plain ``last`` starts over."""
    repositories(oci_registry, "a", "b", "c")
    answer = exchange(oci_registry, "GET", "/v2/_catalog?n=2")
    assert answer.json() == {"repositories": ["a", "b"]}
    link = answer.header("Link") or ""
    match = re.fullmatch(rf'<{re.escape(oci_registry.url)}/v2/_catalog\?n=2&next_page=([A-Za-z0-9_-]+)>; rel="next"',
                         link)
    assert match is not None and match[1] != "b", link
    answer = exchange(oci_registry, "GET", link[1:].partition(">")[0].removeprefix(oci_registry.url))
    assert (answer.json(), answer.header("Link")) == ({"repositories": ["c"]}, None)
    assert exchange(oci_registry, "GET", "/v2/_catalog?n=2&last=b").json() == {"repositories": ["a", "b"]}
    assert exchange(oci_registry, "GET", "/v2/_catalog?n=2&next_page=bm90LWEtdG9rZW4").json() == {
        "repositories": ["a", "b"]}


@pytest.mark.oci_registry(catalog_last_must_exist=True)
def test_catalog_last_must_exist(oci_registry: OCIRegistry) -> None:
    repositories(oci_registry, "a", "c")
    assert exchange(oci_registry, "GET", "/v2/_catalog?last=b").error() == (
        400, "BAD_REQUEST", "the last: b should be a valid repository name.")
    assert exchange(oci_registry, "GET", "/v2/_catalog?last=a").json() == {"repositories": ["c"]}
