"""The table-case runner: checks that read well, namespacing, loading tables from files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_ociregistry import OCIRegistry
from pytest_ociregistry.cases import Case, Departure, assert_case, check_case, load_table, run_case


def test_a_failing_check_says_what_differs(oci_registry: OCIRegistry) -> None:
    case = Case("wrong", "GET", "/v2/foo/tags/list", 200, want_headers={"X-Nope": "1"}, want_body="x")
    with pytest.raises(AssertionError) as info:
        assert_case(oci_registry.url, case)
    assert str(info.value) == (
        "GET /v2/foo/tags/list:\n"
        "status: got 404, want 200\n"
        "header X-Nope: got '', want '1'\n"
        "body:\n"
        "  got:  b'{\"errors\":[{\"code\":\"NAME_UNKNOWN\",\"message\":\"repository name not known to registry\"}]}'\n"
        "  want: b'x'"
    )


def test_json_error_and_header_name_columns(oci_registry: OCIRegistry) -> None:
    case = Case("json", "GET", "/v2/foo/tags/list", 404, want_body=None, want_error="NAME_UNKNOWN")
    assert check_case(case, run_case(oci_registry.url, case)) == []
    bad = Case("json", "GET", "/v2/foo/tags/list", 404, want_body=None, want_error="BLOB_UNKNOWN",
               want_json={"a": 1}, want_header_names=("Link",))
    problems = check_case(bad, run_case(oci_registry.url, bad))
    assert problems[0] == "header Link: missing"
    assert problems[2] == "error code: got 'NAME_UNKNOWN', want 'BLOB_UNKNOWN'"


def test_uploads_column_opens_sessions_as_clients_do(oci_registry: OCIRegistry) -> None:
    oci_registry.configure(upload_state=True, strict_upload_ids=True)
    case = Case("status", "GET", "{upload:u}", 204, uploads={"u": b"abc"}, want_headers={"Range": "0-2"})
    assert_case(oci_registry.url, case)


def test_departures_are_expected_failures_only_as_documented(
    oci_registry: OCIRegistry, pytester: pytest.Pytester
) -> None:
    """A departure is an expected failure only when the registry answers as the departure says; a registry that
    answers as the row wants, or a third way, fails."""
    pytester.makepyfile(
        """
        from pytest_ociregistry.cases import Case, Departure

        def row(want, departure):
            return Case("x", "GET", "/v2/foo/tags/list", 404, want_body=None, want_error=want,
                        departures={"reference": departure})

        def test_departs(oci_registry):
            oci_registry.run(row("BLOB_UNKNOWN", Departure("it answers NAME_UNKNOWN", 404, error="NAME_UNKNOWN")))

        def test_departure_gone(oci_registry):
            oci_registry.run(row("NAME_UNKNOWN", Departure("it used to differ", 404, error="BLOB_UNKNOWN")))

        def test_departs_otherwise(oci_registry):
            oci_registry.run(row("BLOB_UNKNOWN", Departure("it answers 404 TAG_INVALID", 404, error="TAG_INVALID")))
        """
    )
    result = pytester.runpytest_subprocess("-rxf", "-p", "no:randomly")
    result.assert_outcomes(xfailed=1, failed=2)
    for line in (
        "*x: reference was expected to depart (it used to differ) but answered as wanted",
        "*was expected to depart (it answers 404 TAG_INVALID), but answered otherwise:",
        "*error code: got 'NAME_UNKNOWN', want 'TAG_INVALID'",
        "*reference departs: it answers NAME_UNKNOWN",
    ):
        result.stdout.fnmatch_lines([line])


def test_namespaced() -> None:
    case = Case("n", "GET", "/v2/foo/tags/list", 200, manifests={"foo/manifests/v1": "x"},
                want_body='{"name":"foo","tags":["v1"]}', want_headers={"Location": "/v2/foo/blobs/x"})
    moved = case.namespaced("t1")
    assert (moved.url, list(moved.manifests), moved.repo) == ("/v2/t1/foo/tags/list", ["t1/foo/manifests/v1"], "t1/foo")
    assert moved.want_body == '{"name":"t1/foo","tags":["v1"]}'
    assert moved.want_headers == {"Location": "/v2/t1/foo/blobs/x"}
    assert Case("m", "POST", "/v2/a/blobs/uploads/?mount=d&from=b", 201).namespaced("t").url == (
        "/v2/t/a/blobs/uploads/?mount=d&from=t/b"
    )
    assert Case("p", "GET", "/v2/bad", 404).namespaced("t").url == "/v2/bad"  # no repository in it


def test_load_table_from_json(tmp_path: Path, oci_registry: OCIRegistry) -> None:
    path = tmp_path / "table.json"
    path.write_text(json.dumps([
        {"description": "ping", "method": "GET", "url": "/v2/", "want_status": 200},
        {"description": "tags", "method": "GET", "url": "/v2/foo/tags/list", "want_status": 200,
         "manifests": {"foo/manifests/v1": "x"}, "want_body": None, "want_json": {"name": "foo", "tags": ["v1"]},
         "want_header_names": ["Content-Type"]},
    ]))
    table = load_table(path)
    assert [c.id for c in table] == ["ping", "tags"]
    for case in table:
        oci_registry.run(case)
    path.write_text(json.dumps([{"description": "d", "method": "GET", "url": "/v2/", "want_status": 404,
                                 "departures": {"reference": {"reason": "a ping", "status": 200}}}]))
    assert load_table(path)[0].departures == {"reference": Departure("a ping", 200)}
    with pytest.raises(pytest.xfail.Exception, match="reference departs: a ping"):
        oci_registry.run(load_table(path)[0])
    path.write_text(json.dumps([{"description": "d", "method": "GET", "url": "/v2/", "want_status": 404,
                                 "departures": {"reference": "a ping"}}]))
    with pytest.raises(TypeError, match="row 0: the departure of 'reference' says what it answers"):
        load_table(path)
    path.write_text(json.dumps([{"description": "x", "method": "GET", "url": "/", "want_status": 1, "oops": 1}]))
    with pytest.raises(ValueError, match=r"row 0 has unknown columns \['oops'\]"):
        load_table(path)


def test_load_table_from_yaml(tmp_path: Path) -> None:
    path = tmp_path / "table.yaml"
    path.write_text("- description: ping\n  method: GET\n  url: /v2/\n  want_status: 200\n")
    assert load_table(path) == [Case("ping", "GET", "/v2/", 200)]
