"""Limits: name and tag length, path traversal, dot-segment upload ids, the manifest size cap and header floods
answer clean errors."""

from __future__ import annotations

import socket

import pytest
from reliability_support import (
    FIGURES,
    SCALE,
    Conn,
    MiB,
    assert_oci_error,
    check_invariants,
    parse_raw,
    ping_fast,
    raw_socket,
    read_all,
    run_threads,
)

from pytest_ociregistry import OCIRegistry

# --------------------------------------------------------------------------------------------------------------------
# Limits


def test_repository_names_over_255_characters_are_name_invalid(oci_registry: OCIRegistry) -> None:
    conn = Conn(oci_registry)
    longest = "/".join(["a" * 50] * 4) + "/" + "b" * 51  # 255 characters
    assert len(longest) == 255
    digest = conn.push_blob_single(longest, b"ok")
    assert conn.get(f"/v2/{longest}/blobs/{digest}") == (200, b"ok")
    for name in (longest + "f", "a" * 256, "a" * 10_000):
        for method, suffix in [
            ("GET", "tags/list"),
            ("PUT", "manifests/v1"),
            ("POST", "blobs/uploads/"),
            ("GET", f"blobs/{digest}"),
        ]:
            status, _, body = conn.request(method, f"/v2/{name}/{suffix}", b"{}" if method == "PUT" else None)
            assert_oci_error(status, body, code="NAME_INVALID")
    conn.close()
    assert oci_registry.store.repositories()[0] == [longest]


def test_tags_over_128_characters_answer_a_clean_error(oci_registry: OCIRegistry) -> None:
    """A 128-character tag works; a 129-character one answers a clean 4xx OCI error and stores nothing.

    (The code is pinned by the next test: 400 TAG_INVALID.)"""
    conn = Conn(oci_registry)
    tag = "t" * 128
    conn.push_manifest("foo", tag, b"{}", "application/json")
    assert conn.get(f"/v2/foo/manifests/{tag}") == (200, b"{}")
    for method in ("PUT", "GET", "HEAD", "DELETE"):
        status, _, body = conn.request(method, f"/v2/foo/manifests/{tag}x", b"{}" if method == "PUT" else None)
        assert 400 <= status < 500
        if method != "HEAD":
            assert_oci_error(status, body)
    assert oci_registry.store.tags("foo")[0] == [tag]
    conn.close()


def test_tags_over_128_characters_are_tag_invalid(oci_registry: OCIRegistry) -> None:
    """A PUT is refused with TAG_INVALID; a read finds nothing (404), as the OCI conformance suite requires."""
    conn = Conn(oci_registry)
    status, _, body = conn.request("PUT", f"/v2/foo/manifests/{'t' * 129}", b"{}", {"Content-Type": "a/b"})
    assert status == 400
    assert_oci_error(status, body, code="TAG_INVALID")
    for method in ("GET", "DELETE"):
        status, _, body = conn.request(method, f"/v2/foo/manifests/{'t' * 129}")
        assert status == 404
        assert_oci_error(status, body, code="UNKNOWN")
    conn.close()


TRAVERSALS = [
    "/v2/../etc",
    "/v2/../etc/passwd",
    "/v2/foo/../bar/manifests/x",
    "/v2/foo/%2e%2e/bar/manifests/x",
    "/v2/foo/%2E%2E/bar/manifests/x",
    "/v2/%2e%2e/bar/manifests/x",
    "/v2/./bar/manifests/x",
    "/v2/foo/./bar/manifests/x",
    "/v2/foo%2F..%2Fbar/manifests/x",
    "/v2/foo%2f%2e%2e%2fbar/manifests/x",
    "/v2/foo/..%2Fbar/manifests/x",
    "/v2//bar/manifests/x",
    "/v2/foo//bar/manifests/x",
    "/v2/foo/bar/..",
    "/v2/foo/manifests/../../bar/manifests/x",
    "/v2/bar/manifests/..%2Fx",
    "/v2/bar/manifests/%2e%2e",
    "/v2/bar/blobs/uploads/%2e%2e%2f%2e%2e",
]
DOT_UPLOAD_IDS = ["/v2/bar/blobs/uploads/..", "/v2/bar/blobs/uploads/.", "/v2/bar/blobs/uploads/%2e%2e"]


def test_path_traversal_reaches_no_other_repository(oci_registry: OCIRegistry) -> None:
    """Dot segments, encoded or not, never reach ``bar``'s manifest nor write anywhere; each answers a clean error.

    ``%2F`` is decoded to ``/`` before routing (as WSGI servers and the Go reference do), so ``foo%2Fbar`` names
    the repository ``foo/bar``, exactly as ``foo/bar`` does: it reaches no repository the decoded path does not name.
    """
    secret = b'{"secret":true}'
    oci_registry.push_manifest("bar", "x", secret, "application/json")
    oci_registry.push_manifest("foo", "x", b'{"foo":1}', "application/json")
    oci_registry.push_manifest("etc", "passwd", b'{"etc":1}', "application/json")
    before = {name: dict(r.manifests) for name, r in oci_registry.store._repos.items()}
    conn = Conn(oci_registry)
    for target in TRAVERSALS + DOT_UPLOAD_IDS:
        for method in ("GET", "PUT", "DELETE", "POST", "PATCH"):
            status, _, body = conn.request(method, target, b'{"evil":1}' if method in ("PUT", "PATCH") else None)
            FIGURES.add("faults")
            assert secret not in body and b'{"etc":1}' not in body, (method, target)
            assert 400 <= status < 500, (method, target, status, body)
            assert_oci_error(status, body)
    after = {name: dict(r.manifests) for name, r in oci_registry.store._repos.items()}
    assert after == before
    assert oci_registry.store.repositories()[0] == ["bar", "etc", "foo"]
    assert all(not r.blobs and not r.uploads for r in oci_registry.store._repos.values())
    # %2F: the decoded name, and only it.
    oci_registry.push_manifest("foo/bar", "x", b'{"foobar":1}', "application/json")
    assert conn.get("/v2/foo%2Fbar/manifests/x") == (200, b'{"foobar":1}')
    assert conn.get("/v2/foo%2fbar/manifests/x") == (200, b'{"foobar":1}')
    conn.close()
    check_invariants(oci_registry.store)


@pytest.mark.parametrize("target", DOT_UPLOAD_IDS)
def test_dot_segment_upload_ids_are_refused(oci_registry: OCIRegistry, target: str) -> None:
    """Found here: "." and ".." were accepted as upload ids, so PATCH /v2/bar/blobs/uploads/.. answered 202 with
    Location /v2/bar/blobs/uploads/.. (which RFC 3986 dot-segment removal turns into /v2/bar/blobs/)."""
    conn = Conn(oci_registry)
    status, headers, body = conn.request("PATCH", target, b"chunk")
    conn.close()
    print(f"\nPATCH {target} answered {status} Location={headers.get('Location')!r} {body!r}")
    assert_oci_error(status, body, code="BLOB_UPLOAD_UNKNOWN")


def test_manifests_over_the_size_cap_are_refused(oci_registry: OCIRegistry) -> None:
    oci_registry.configure(max_manifest_size=1024)
    conn = Conn(oci_registry)
    exact = b'{"a":"' + b"x" * 1016 + b'"}'
    assert len(exact) == 1024
    conn.push_manifest("foo", "exact", exact, "application/json")
    for size in (1025, 4096, 10 * MiB):
        body = b'{"a":"' + b"x" * (size - 8) + b'"}'
        status, _, answer = conn.request("PUT", "/v2/foo/manifests/big", body, {"Content-Type": "application/json"})
        assert status == 413
        assert_oci_error(status, answer, code="SIZE_INVALID")
        FIGURES.add("faults")
    assert conn.get("/v2/foo/manifests/exact") == (200, exact)
    assert oci_registry.store.tags("foo")[0] == ["exact"]
    assert len(oci_registry.store._repos["foo"].manifests) == 1
    conn.close()
    ping_fast(oci_registry)


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"GET /v2/ HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-H%d: v\r\n" % i for i in range(500)) + b"\r\n",
        b"GET /v2/ HTTP/1.1\r\nHost: x\r\nX-Big: " + b"y" * 100_000 + b"\r\n\r\n",
        b"GET /v2/" + b"a" * 100_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /v2/ HTTP/1.1\r\nHost: x\r\n" + b"Accept: */*\r\n" * 99 + b"\r\n",
    ],
    ids=["500-headers", "100KB-header", "100KB-request-line", "99-accept-lines"],
)
def test_a_header_flood_does_not_kill_the_server(oci_registry: OCIRegistry, request_bytes: bytes) -> None:
    def flood() -> None:
        sock = raw_socket(oci_registry)
        try:
            sock.sendall(request_bytes)
            sock.shutdown(socket.SHUT_WR)
        except OSError:  # the server answered 431 and closed while the flood was still being sent
            pass
        answer = read_all(sock)
        sock.close()
        FIGURES.add("faults")
        if answer:
            status, _ = parse_raw(answer)
            assert status < 500 and b"Traceback" not in answer, answer[:300]

    run_threads([flood for _ in range(4 * SCALE)])
    ping_fast(oci_registry)
