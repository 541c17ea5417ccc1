"""Fault injection, as a client sees it."""

from __future__ import annotations

import http.client
import time

import pytest
import requests

from pytest_ociregistry import OCIRegistry
from pytest_ociregistry.names import digest_of


def test_once_then_the_registry(oci_registry: OCIRegistry) -> None:
    oci_registry.push_manifest("foo", "latest", b"m")
    oci_registry.fail("GET", "/v2/foo/manifests/.*")
    first = requests.get(f"{oci_registry.url}/v2/foo/manifests/latest", timeout=10)
    assert (first.status_code, first.content) == (
        503,
        b'{"errors":[{"code":"UNAVAILABLE","message":"injected fault (503)"}]}',
    )
    second = requests.get(f"{oci_registry.url}/v2/foo/manifests/latest", timeout=10)
    assert (second.status_code, second.content) == (200, b"m")
    assert [(r.status, r.fault, r.handler) for r in oci_registry.requests] == [
        (503, "503", "fault"),
        (200, None, "registry"),
    ]


def test_429_with_retry_after_always(oci_registry: OCIRegistry) -> None:
    oci_registry.fail(None, "/v2/.*", 429, times=None)
    for _ in range(3):
        r = requests.get(f"{oci_registry.url}/v2/foo/tags/list", timeout=10)
        assert (r.status_code, r.headers["Retry-After"], r.json()["errors"][0]["code"]) == (429, "1", "TOOMANYREQUESTS")


def test_delay(oci_registry: OCIRegistry) -> None:
    oci_registry.fail("GET", "/v2/", None, delay=0.3)
    start = time.monotonic()
    assert requests.get(f"{oci_registry.url}/v2/", timeout=10).status_code == 200
    assert time.monotonic() - start >= 0.3


def test_cut_part_way_through_a_download(oci_registry: OCIRegistry) -> None:
    data = bytes(range(256)) * 4096
    digest = oci_registry.push_blob("foo", data)
    oci_registry.fail("GET", f"/v2/foo/blobs/{digest}", None, cut_after=1000)
    conn = http.client.HTTPConnection(oci_registry.host, timeout=10)
    conn.request("GET", f"/v2/foo/blobs/{digest}")
    response = conn.getresponse()
    assert response.getheader("Content-Length") == str(len(data))
    with pytest.raises(http.client.IncompleteRead) as info:
        response.read()
    assert info.value.partial == data[:1000]
    # a resumed download with Range gets the rest
    rest = requests.get(f"{oci_registry.url}/v2/foo/blobs/{digest}", headers={"Range": "bytes=1000-"}, timeout=10)
    assert (rest.status_code, data[:1000] + rest.content) == (206, data)


def test_corrupted_bytes_fail_digest_verification(oci_registry: OCIRegistry) -> None:
    digest = oci_registry.push_blob("foo", b"the real content")
    oci_registry.fail("GET", f"/v2/foo/blobs/{digest}", None, corrupt=True)
    r = requests.get(f"{oci_registry.url}/v2/foo/blobs/{digest}", timeout=10)
    assert r.status_code == 200 and len(r.content) == len(b"the real content")
    assert digest_of(r.content) != digest
    assert requests.get(f"{oci_registry.url}/v2/foo/blobs/{digest}", timeout=10).content == b"the real content"


def test_user_expectations_come_before_faults(oci_registry: OCIRegistry) -> None:
    oci_registry.fail("GET", "/v2/", 500, times=None)
    oci_registry.expect_oneshot_request("/v2/").respond_with_data("mine")
    assert requests.get(f"{oci_registry.url}/v2/", timeout=10).content == b"mine"
    assert requests.get(f"{oci_registry.url}/v2/", timeout=10).status_code == 500
