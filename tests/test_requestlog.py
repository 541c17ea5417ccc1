"""The request log: what the server saw, in order, without bodies; and assertions that read well."""

from __future__ import annotations

import dataclasses
import re

import pytest
import requests

from pytest_ociregistry import OCIRegistry


def test_records_in_order_with_error_codes_and_sizes(oci_registry: OCIRegistry) -> None:
    session = requests.Session()
    location = session.post(f"{oci_registry.url}/v2/foo/blobs/uploads/").headers["Location"]
    session.patch(oci_registry.url + location, data=b"abc", headers={"Content-Range": "0-2"})
    session.patch(oci_registry.url + location, data=b"zz", headers={"Content-Range": "1-2"})
    session.get(f"{oci_registry.url}/v2/foo/tags/list?n=5")
    records = list(oci_registry.requests)
    assert [(r.method, r.status, r.error) for r in records] == [
        ("POST", 202, None),
        ("PATCH", 202, None),
        ("PATCH", 416, "RANGE_INVALID"),
        ("GET", 404, "NAME_UNKNOWN"),  # an upload makes no repository
    ]
    assert records[1].body_size == 3 and records[1].headers["Content-Range"] == "0-2"
    assert records[3].query == "n=5"
    assert str(records[2]) == f"PATCH {location} → 416 RANGE_INVALID"


def test_a_large_push_is_not_kept(oci_registry: OCIRegistry) -> None:
    data = b"x" * (8 << 20)
    digest = oci_registry.push_blob("warm", b"")  # the store and the log share nothing
    requests.post(f"{oci_registry.url}/v2/foo/blobs/uploads/?digest={digest}", data=data, timeout=30)
    record = oci_registry.requests[-1]
    assert record.body_size == len(data)
    assert all(not isinstance(getattr(record, f.name), bytes) for f in dataclasses.fields(record))


def test_assert_requested(oci_registry: OCIRegistry) -> None:
    requests.get(f"{oci_registry.url}/v2/", timeout=10)
    requests.get(f"{oci_registry.url}/v2/foo/manifests/latest", timeout=10)
    oci_registry.assert_requested("GET", "/v2/")
    oci_registry.assert_requested("get", re.compile(r"/v2/foo/manifests/.*"), 1, status=404)
    with pytest.raises(AssertionError) as info:
        oci_registry.assert_requested("PUT", "/v2/foo/manifests/latest")
    assert str(info.value) == (
        "expected PUT /v2/foo/manifests/latest at least once, found 0; the registry saw:\n"
        "   1. GET /v2/ → 200\n"
        "   2. GET /v2/foo/manifests/latest → 404 NAME_UNKNOWN"
    )
    with pytest.raises(AssertionError, match="expected GET /v2/ 2 time"):
        oci_registry.assert_requested("GET", "/v2/", 2)


def test_user_handlers_are_logged_too(oci_registry: OCIRegistry) -> None:
    oci_registry.expect_request("/v2/x").respond_with_data("mine", status=418)
    requests.get(f"{oci_registry.url}/v2/x", timeout=10)
    assert str(oci_registry.requests[0]) == "GET /v2/x → 418 (user handler)"


def test_reset_clears_the_log(oci_registry: OCIRegistry) -> None:
    requests.get(f"{oci_registry.url}/v2/", timeout=10)
    oci_registry.reset()
    assert len(oci_registry.requests) == 0
    assert oci_registry.requests.format() == "(no requests)"


def test_the_log_keeps_the_last_records() -> None:
    from pytest_ociregistry.requestlog import RequestLog, RequestRecord

    log = RequestLog(limit=3)
    for i in range(5):
        log.append(RequestRecord("GET", f"/v2/{i}", "", 200))
    assert [r.path for r in log] == ["/v2/2", "/v2/3", "/v2/4"] and len(log) == 3 and log[-1].path == "/v2/4"


def test_assert_requested_counts_only_answers_with_the_status_asked_for(oci_registry: OCIRegistry) -> None:
    for _ in range(2):
        requests.get(f"{oci_registry.url}/v2/", timeout=10)
    requests.get(f"{oci_registry.url}/v2/foo/tags/list", timeout=10)
    assert len(oci_registry.assert_requested("GET", re.compile(r"/v2/.*"), 3)) == 3
    assert len(oci_registry.assert_requested("GET", re.compile(r"/v2/.*"), 2, status=200)) == 2
    assert len(oci_registry.assert_requested("GET", re.compile(r"/v2/.*"), 1, status=404)) == 1
    for count in (None, 2):
        with pytest.raises(AssertionError, match=r"^expected GET /v2/ → 404 .*, found 0; the registry saw"):
            oci_registry.assert_requested("GET", "/v2/", count, status=404)
