"""The error table and its wire form."""

from __future__ import annotations

import json

from pytest_ociregistry.errors import ErrorCode, RegistryError, badly_formed_digest, method_not_allowed, page_not_found


def test_wire_form_is_compact_and_has_one_error() -> None:
    error = RegistryError(ErrorCode.NAME_UNKNOWN)
    assert error.body() == b'{"errors":[{"code":"NAME_UNKNOWN","message":"repository name not known to registry"}]}'
    assert error.status == 404


def test_the_status_table_is_the_references() -> None:
    statuses = {code.name: code.status for code in ErrorCode}
    assert statuses["UNSUPPORTED"] == 400
    assert statuses["BLOB_UPLOAD_INVALID"] == 416
    assert statuses["MANIFEST_BLOB_UNKNOWN"] == 404
    assert statuses["RANGE_INVALID"] == 416
    assert statuses["DENIED"] == 403 and statuses["UNAUTHORIZED"] == 401 and statuses["TOOMANYREQUESTS"] == 429


def test_a_status_override_keeps_the_code() -> None:
    error = RegistryError(ErrorCode.UNSUPPORTED, "x", status=405, headers={"A": "b"})
    assert (error.status, error.headers, json.loads(error.body())["errors"][0]["code"]) == (405, {"A": "b"}, "UNSUPPORTED")


def test_parse_errors_are_pinned() -> None:
    assert (page_not_found().status, page_not_found().body()) == (
        404,
        b'{"errors":[{"code":"UNKNOWN","message":"page not found"}]}',
    )
    assert badly_formed_digest().status == 400
    assert method_not_allowed().status == 405


def test_detail_is_sent_when_given_null_included() -> None:
    assert RegistryError(ErrorCode.DENIED, detail=[{"Name": "x"}]).body() == (
        b'{"errors":[{"code":"DENIED","message":"requested access to the resource is denied","detail":[{"Name":"x"}]}]}'
    )
    assert RegistryError(ErrorCode.UNAUTHORIZED, detail=None).body() == (
        b'{"errors":[{"code":"UNAUTHORIZED","message":"authentication required","detail":null}]}'
    )
