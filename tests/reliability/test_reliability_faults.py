"""Faults: clients that disconnect mid-upload or mid-download leave no partial blob, a slow client blocks no one,
and a Content-Length that lies stores nothing and answers no 500."""

from __future__ import annotations

import secrets
import socket
import threading
import time
from typing import Any

import pytest
from reliability_support import (
    FIGURES,
    JOIN_TIMEOUT,
    SCALE,
    Conn,
    Errors,
    MiB,
    assert_oci_error,
    check_invariants,
    parse_raw,
    ping_fast,
    raw_socket,
    read_all,
    read_all_until_response,
    read_first,
    run_threads,
    wait_until,
)

from pytest_ociregistry import OCIRegistry
from pytest_ociregistry.names import digest_of

# --------------------------------------------------------------------------------------------------------------------
# Faults: disconnects, slow clients, lying lengths


def test_upload_disconnects_leave_no_partial_blob(oci_registry: OCIRegistry) -> None:
    """Clients announce 1 MiB, send half and close (gracefully or with a reset): nothing partial is stored, the
    server keeps serving, and the same uploads then succeed."""
    data = secrets.token_bytes(MiB)
    digest = digest_of(data)
    conn = Conn(oci_registry)
    status, headers, _ = conn.request("POST", "/v2/foo/blobs/uploads/")
    assert status == 202
    location = headers["Location"]
    store = oci_registry.store
    upload = store._repos["foo"].uploads[location.rsplit("/", 1)[1]]
    attempts = [
        f"POST /v2/foo/blobs/uploads/?digest={digest}",  # monolithic
        f"PATCH {location}",  # a chunk
        f"PUT {location}?digest={digest}",  # a final chunk
        f"PUT /v2/foo/manifests/{digest}",  # a manifest
    ] * SCALE
    for i, line in enumerate(attempts):
        sock = raw_socket(oci_registry)
        sock.sendall(f"{line} HTTP/1.1\r\nHost: x\r\nContent-Length: {len(data)}\r\n\r\n".encode())
        sock.sendall(data[: len(data) // 2])
        if i % 2:  # an abortive close: RST instead of FIN
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        sock.close()
        FIGURES.add("faults")
        ping_fast(oci_registry)
    # Each handler has given up on its half body and rolled back.
    assert wait_until(lambda: not upload.lock.locked())
    time.sleep(0.1)
    assert store._repos["foo"].blobs == {} and store._repos["foo"].manifests == {}
    assert upload.size == 0
    check_invariants(store)
    # The same pushes, whole, succeed.
    assert conn.request("PATCH", location, data)[0] == 202
    assert conn.request("PUT", f"{location}?digest={digest}")[0] == 201
    assert conn.get(f"/v2/foo/blobs/{digest}") == (200, data)
    conn.close()
    check_invariants(store)


def test_download_disconnects_leave_the_server_serving(oci_registry: OCIRegistry) -> None:
    data = secrets.token_bytes(8 * MiB)
    digest = oci_registry.push_blob("big", data)
    readers = 4 * SCALE
    for i in range(readers):
        sock = raw_socket(oci_registry)
        sock.sendall(f"GET /v2/big/blobs/{digest} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        got = 0
        while got < 256 * 1024:
            got += len(sock.recv(65536))
        if i % 2:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        sock.close()
        FIGURES.add("faults")

    # Others are served whole meanwhile and afterwards, and the blob is untouched.
    def full_reader() -> None:
        conn = Conn(oci_registry)
        assert conn.get(f"/v2/big/blobs/{digest}") == (200, data)
        conn.close()

    run_threads([full_reader for _ in range(4)])
    ping_fast(oci_registry)
    check_invariants(oci_registry.store)


def test_a_slow_client_does_not_block_others(oci_registry: OCIRegistry) -> None:
    """One client trickles a chunk body over ~2 s, another its request headers; others are answered meanwhile."""
    pieces, pause = 20, 0.1
    body = b"s" * (pieces * 100)
    conn = Conn(oci_registry)
    status, headers, _ = conn.request("POST", "/v2/slow/blobs/uploads/")
    assert status == 202
    location = headers["Location"]
    other = oci_registry.push_blob("slow", b"other content")
    result: dict[str, Any] = {}

    def slow_body() -> None:
        sock = raw_socket(oci_registry, timeout=30)
        sock.sendall(f"PATCH {location} HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n\r\n".encode())
        for i in range(pieces):
            sock.sendall(body[i * 100 : (i + 1) * 100])
            time.sleep(pause)
        result["patch"] = parse_raw(read_all_until_response(sock))[0]
        sock.close()

    def slow_headers() -> None:
        sock = raw_socket(oci_registry, timeout=30)
        request = b"GET /v2/ HTTP/1.1\r\nHost: x\r\nX-Slow: yes\r\n\r\n"
        for i in range(0, len(request), 3):
            sock.sendall(request[i : i + 3])
            time.sleep(pause * pieces / (len(request) / 3))
        result["headers"] = parse_raw(read_all_until_response(sock))[0]
        sock.close()

    threads = [threading.Thread(target=f, daemon=True) for f in (slow_body, slow_headers)]
    for t in threads:
        t.start()
    worst, answered = 0.0, 0
    c2 = Conn(oci_registry)
    while any(t.is_alive() for t in threads):
        worst = max(worst, ping_fast(oci_registry, limit=1.0))
        start = time.monotonic()
        assert c2.get(f"/v2/slow/blobs/{other}") == (200, b"other content")
        c2.push_blob_chunked("slow", secrets.token_bytes(5000))  # another upload in the same repository
        worst = max(worst, time.monotonic() - start)
        answered += 4
        time.sleep(0.02)
    for t in threads:
        t.join(JOIN_TIMEOUT)
        assert not t.is_alive()
    assert result == {"patch": 202, "headers": 200}
    assert answered >= 8 and worst < 1.0
    assert oci_registry.store._repos["slow"].uploads[location.rsplit("/", 1)[1]].size == len(body)
    c2.close()
    conn.close()
    print(f"\n{answered} requests answered while two clients trickled; slowest took {worst * 1000:.0f} ms")
    check_invariants(oci_registry.store)


LYING_TARGETS = [
    "PUT /v2/foo/manifests/v1",
    "POST /v2/foo/blobs/uploads/?digest=sha256:" + "0" * 64,
    "PATCH /v2/foo/blobs/uploads/lying-upload",
]


@pytest.mark.parametrize("line", LYING_TARGETS)
def test_a_content_length_that_lies_long_stores_nothing(oci_registry: OCIRegistry, line: str) -> None:
    """Content-Length: 100 with 3 bytes sent and the sending side shut: no 2xx, nothing stored, server alive."""
    sock = raw_socket(oci_registry)
    sock.sendall(f"{line} HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc".encode())
    sock.shutdown(socket.SHUT_WR)
    answer = read_all(sock)
    sock.close()
    FIGURES.add("faults")
    status, body = parse_raw(answer)
    assert status >= 400 and b"Traceback" not in answer
    assert_oci_error(status, body)
    time.sleep(0.05)
    repo = oci_registry.store._repos.get("foo")
    assert repo is None or (not repo.blobs and not repo.manifests and all(u.size == 0 for u in repo.uploads.values()))
    ping_fast(oci_registry)
    check_invariants(oci_registry.store)


@pytest.mark.parametrize("line", LYING_TARGETS)
def test_a_content_length_that_lies_long_is_not_a_500(
    oci_registry: OCIRegistry, line: str, logged_errors: Errors
) -> None:
    """Found here: werkzeug's ClientDisconnected once escaped as 500 UNKNOWN "internal server error" with a logged
    traceback. Now a clean 4xx, and nothing logged."""
    sock = raw_socket(oci_registry)
    sock.sendall(f"{line} HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc".encode())
    sock.shutdown(socket.SHUT_WR)
    status, body = parse_raw(read_all(sock))
    sock.close()
    print(f"\n{line} with Content-Length 100 and a 3-byte body answered {status} {body!r}")
    assert 400 <= status < 500
    assert_oci_error(status, body)
    assert not logged_errors.all_threads, logged_errors.all_threads[0].getMessage()


def test_a_content_length_that_lies_short(oci_registry: OCIRegistry) -> None:
    """Content-Length: 3 with 8 bytes sent: the first 3 are the body, the rest is a (malformed) next request,
    refused with a 400 (not a 500), and the server keeps serving."""
    sock = raw_socket(oci_registry)
    sock.sendall(b"PUT /v2/foo/manifests/v1 HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabcdefgh")
    sock.shutdown(socket.SHUT_WR)
    answer = read_all(sock)
    sock.close()
    FIGURES.add("faults")
    first = read_first(answer)
    status, _ = parse_raw(first)
    assert status == 201
    rest = answer[len(first) :]
    # "defgh" is no request line: Go's plain-text 400, with a status line, and the connection closed.
    assert rest == b"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n400 Bad Request"
    assert oci_registry.store.get_manifest("foo", "v1").data == b"abc"
    ping_fast(oci_registry)
    check_invariants(oci_registry.store)
