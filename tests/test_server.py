"""The socket: keep-alive, chunked bodies, unread bodies, garbage, TLS, stopping, and the user's expectations taking
precedence."""

from __future__ import annotations

import http.client
import re
import socket
import threading
import time
from collections.abc import Iterator

import pytest
from wire import Wire, exchange

from pytest_ociregistry import OCIRegistry
from pytest_ociregistry.names import digest_of

GET = b"GET /v2/ HTTP/1.1\r\nHost: x\r\n\r\n"


def connect(registry: OCIRegistry) -> http.client.HTTPConnection:
    return http.client.HTTPConnection(registry.host, timeout=10)


def test_url_and_host(oci_registry: OCIRegistry) -> None:
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", oci_registry.url)
    assert oci_registry.host == oci_registry.url.removeprefix("http://")
    assert oci_registry.url_for("/v2/") == oci_registry.url + "/v2/"


def test_keep_alive_serves_many_requests_on_one_connection(oci_registry: OCIRegistry) -> None:
    digest = oci_registry.push_blob("foo", b"x" * 1000)
    conn = connect(oci_registry)
    conn.request("GET", "/v2/")
    first = conn.getresponse()
    first.read()
    sock = conn.sock
    for _ in range(20):
        conn.request("GET", f"/v2/foo/blobs/{digest}")
        response = conn.getresponse()
        assert (response.status, response.read()) == (200, b"x" * 1000)
        assert response.getheader("Connection") is None
    assert conn.sock is sock  # never reconnected


def test_chunked_request_body(oci_registry: OCIRegistry) -> None:
    conn = connect(oci_registry)
    data = b"chunk-" * 50_000

    def body() -> Iterator[bytes]:
        for i in range(0, len(data), 7000):
            yield data[i : i + 7000]

    conn.request("POST", f"/v2/foo/blobs/uploads/?digest={digest_of(data)}", body=body(), encode_chunked=True)
    response = conn.getresponse()
    assert response.status == 201, response.read()
    response.read()
    assert oci_registry.store.get_blob("foo", digest_of(data)).data == data


def test_an_unread_body_is_drained_and_the_connection_kept(oci_registry: OCIRegistry) -> None:
    conn = connect(oci_registry)
    conn.request("POST", "/v2/foo/blobs/uploads/", body=b"ignored body")  # an upload start reads no body
    response = conn.getresponse()
    assert response.status == 202
    response.read()
    sock = conn.sock
    conn.request("GET", "/v2/")
    response = conn.getresponse()
    assert (response.status, response.read()) == (200, b"")
    assert conn.sock is sock


def test_head_has_a_length_and_no_body(oci_registry: OCIRegistry) -> None:
    digest = oci_registry.push_blob("foo", b"12345")
    conn = connect(oci_registry)
    conn.request("HEAD", f"/v2/foo/blobs/{digest}")
    response = conn.getresponse()
    assert response.getheader("Content-Length") == "5" and response.read() == b""
    conn.request("GET", "/v2/")  # the connection is still in step
    assert conn.getresponse().status == 200


@pytest.mark.parametrize(
    "garbage",
    [
        bytes.fromhex("160301020001") + b"\x00" * 200,  # the start of a TLS ClientHello, as skopeo sends first
        b"\x00\xffnot http at all\r\n\r\n",
        b"GET /v2/ HTTP/9.9\r\n\r\n",
    ],
)
def test_garbage_does_not_kill_the_server(oci_registry: OCIRegistry, garbage: bytes) -> None:
    with socket.create_connection(("127.0.0.1", oci_registry.port), timeout=5) as raw:
        raw.sendall(garbage)
        raw.shutdown(socket.SHUT_WR)
        while raw.recv(4096):
            pass
    conn = connect(oci_registry)
    conn.request("GET", "/v2/")
    assert conn.getresponse().status == 200


class TestUserExpectations:
    def test_a_permanent_handler_wins_and_the_rest_falls_through(self, oci_registry: OCIRegistry) -> None:
        oci_registry.expect_request("/v2/foo/manifests/latest").respond_with_data("nope", status=503)
        oci_registry.push_manifest("foo", "other", b"{}")
        conn = connect(oci_registry)
        for _ in range(2):
            conn.request("GET", "/v2/foo/manifests/latest")
            response = conn.getresponse()
            assert (response.status, response.read()) == (503, b"nope")
        conn.request("GET", "/v2/foo/manifests/other")
        response = conn.getresponse()
        assert (response.status, response.read()) == (200, b"{}")
        assert len(oci_registry.log) == 2  # only the user's handler's requests are logged there

    def test_a_oneshot_handler_answers_once(self, oci_registry: OCIRegistry) -> None:
        oci_registry.expect_oneshot_request("/v2/", method="GET").respond_with_data("busy", status=429)
        conn = connect(oci_registry)
        conn.request("GET", "/v2/")
        response = conn.getresponse()
        assert (response.status, response.read()) == (429, b"busy")
        conn.request("GET", "/v2/")
        response = conn.getresponse()
        assert (response.status, response.read()) == (200, b"")
        oci_registry.check_assertions()

    def test_registry_traffic_interleaves_with_ordered_handlers(self, oci_registry: OCIRegistry) -> None:
        oci_registry.expect_ordered_request("/v2/a/tags/list").respond_with_json({"name": "a", "tags": ["x"]})
        oci_registry.expect_ordered_request("/v2/b/tags/list").respond_with_json({"name": "b", "tags": ["y"]})
        conn = connect(oci_registry)
        for path, status in [("/v2/a/tags/list", 200), ("/v2/", 200), ("/v2/b/tags/list", 200), ("/v2/a/tags/list", 404)]:
            conn.request("GET", path)
            response = conn.getresponse()
            response.read()
            assert response.status == status, path
        oci_registry.check_assertions()

    def test_a_body_matcher_that_misses_leaves_the_body_to_the_registry(self, oci_registry: OCIRegistry) -> None:
        oci_registry.expect_request("/v2/foo/manifests/latest", data="something else").respond_with_data("no")
        conn = connect(oci_registry)
        conn.request("PUT", "/v2/foo/manifests/latest", body=b"manifest bytes")
        response = conn.getresponse()
        assert response.status == 201, response.read()
        assert oci_registry.store.get_manifest("foo", "latest").data == b"manifest bytes"

    @pytest.mark.parametrize("error", [OSError("disk on fire"), ConnectionResetError("peer of the user's own")])
    def test_a_user_handler_raising_an_os_error_answers_500_and_is_reported(
        self, oci_registry: OCIRegistry, error: OSError
    ) -> None:
        def broken(request: object) -> None:
            raise error

        oci_registry.expect_request("/v2/boom").respond_with_handler(broken)
        with Wire(oci_registry.port) as wire:
            answer = wire.send(b"GET /v2/boom HTTP/1.1\r\nHost: x\r\n\r\n").response()
            assert answer.status == b"HTTP/1.1 500 Internal Server Error"
            assert wire.send(GET).response().status == b"HTTP/1.1 200 OK"  # the connection is fine
        with pytest.raises(type(error), match=str(error)):
            oci_registry.check_handler_errors()
        assert [(r.path, r.status, r.handler) for r in oci_registry.requests] == [("/v2/boom", 500, "user"),
                                                                                   ("/v2/", 200, "registry")]

    def test_a_failing_user_handler_answers_500(self, oci_registry: OCIRegistry) -> None:
        def broken(request: object) -> None:
            raise RuntimeError("user bug")

        oci_registry.expect_request("/v2/boom").respond_with_handler(broken)
        conn = connect(oci_registry)
        conn.request("GET", "/v2/boom")
        assert conn.getresponse().status == 500
        with pytest.raises(RuntimeError, match="user bug"):
            oci_registry.check_handler_errors()
        conn = connect(oci_registry)
        conn.request("GET", "/v2/")
        assert conn.getresponse().status == 200


def connection_threads(port: int) -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == f"oci-registry:{port} connection"]


def dead(wire: Wire) -> bool:
    """The server has closed this connection: a request on it gets no answer."""
    try:
        wire.send(GET)
    except OSError:
        return True
    return wire.closed_by_server()


@pytest.mark.parametrize("tls", [False, True])
def test_stop_closes_every_connection_and_ends_every_thread(tls: bool) -> None:
    registry = OCIRegistry(tls=tls)
    registry.start()
    port, context = registry.port, registry.ssl_context
    kept = Wire(port, context)
    assert kept.send(GET).response().status == b"HTTP/1.1 200 OK"  # then idle, kept alive
    mid_body = Wire(port, context).send(b"PUT /v2/foo/manifests/v1 HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
    silent = socket.create_connection(("127.0.0.1", port))  # connected, nothing sent yet
    deadline = time.monotonic() + 5
    while len(connection_threads(port)) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(connection_threads(port)) == 3
    started = time.monotonic()
    registry.stop()
    assert time.monotonic() - started < 1.0
    assert connection_threads(port) == []
    assert dead(kept) and dead(mid_body)
    assert silent.recv(1) == b""
    assert registry.store.repositories()[0] == []
    for closable in (kept, mid_body, silent):
        closable.close()


@pytest.mark.oci_registry(tls=True)
class TestTLS:
    def test_plain_http_on_the_tls_port_gets_go_s_answer(self, oci_registry: OCIRegistry) -> None:
        answer = exchange(oci_registry.port, b"GET /v2/?x=1 HTTP/1.1\r\nHost: x\r\n\r\n")
        assert answer == b"HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n"
        (record,) = oci_registry.requests
        assert (record.method, record.path, record.query, record.status, record.handler) == ("GET", "/v2/", "x=1",
                                                                                            400, "http")
        with Wire(oci_registry.port, oci_registry.ssl_context) as wire:  # HTTPS is served as ever
            assert wire.send(GET).response().status == b"HTTP/1.1 200 OK"

    def test_plain_http_is_answered_without_waiting_for_its_line_to_end(self, oci_registry: OCIRegistry) -> None:
        with Wire(oci_registry.port, timeout=5) as wire:
            started = time.monotonic()
            wire.send(b"POST /v2/foo/blobs/uploads/")  # and nothing more for now
            assert wire.rest().startswith(b"HTTP/1.0 400 Bad Request\r\n")
            assert time.monotonic() - started < 3
        assert [(r.method, r.path, r.status) for r in oci_registry.requests] == [("POST", "/v2/foo/blobs/uploads/", 400)]

    def test_what_is_neither_tls_nor_plain_http_is_closed_unanswered(self, oci_registry: OCIRegistry) -> None:
        assert exchange(oci_registry.port, b"\x00\x01garbage\r\n\r\n") == b""
        assert exchange(oci_registry.port, b"PATCH /v2/ HTTP/1.1\r\n\r\n") == b""  # Go's list: GET, HEAD, POST, PUT, OPTIONS
        assert list(oci_registry.requests) == []

    def test_a_stalled_handshake_blocks_no_other_client(self, oci_registry: OCIRegistry) -> None:
        with socket.create_connection(("127.0.0.1", oci_registry.port)) as stalled:
            stalled.sendall(b"\x16\x03\x01")  # a TLS record begins, and nothing more comes
            started = time.monotonic()
            with Wire(oci_registry.port, oci_registry.ssl_context, timeout=5) as wire:
                assert wire.send(GET).response().status == b"HTTP/1.1 200 OK"
            assert time.monotonic() - started < 2.0

    def test_idle_tls_clients_time_out_like_plain_ones(self, oci_registry: OCIRegistry) -> None:
        oci_registry.configure(idle_timeout=0.2)
        with socket.create_connection(("127.0.0.1", oci_registry.port), timeout=5) as silent:
            started = time.monotonic()
            assert silent.recv(1) == b""  # closed by the server, before any handshake
            assert time.monotonic() - started < 2.0


class TestIdleConnections:
    """``idle_timeout`` closes a connection that waits for its next request; never one inside a request."""

    def test_a_body_may_pause_longer_than_the_idle_timeout(self, oci_registry: OCIRegistry) -> None:
        oci_registry.configure(idle_timeout=0.3)
        body = b'{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}'
        head = (
            b"PUT /v2/foo/manifests/v1 HTTP/1.1\r\nHost: x\r\nContent-Type: application/vnd.oci.image.index.v1+json\r\n"
            b"Content-Length: %d\r\n\r\n" % len(body)
        )
        with Wire(oci_registry.port) as wire:
            wire.send(head + body[:10])
            time.sleep(0.8)  # inside the request: no idle connection
            assert wire.send(body[10:]).response().status == b"HTTP/1.1 201 Created"
            assert wire.send(GET).response().status == b"HTTP/1.1 200 OK"  # and kept alive
        assert oci_registry.store.get_manifest("foo", "v1").data == body

    def test_a_head_that_stops_halfway_is_closed_after_the_idle_timeout(self, oci_registry: OCIRegistry) -> None:
        oci_registry.configure(idle_timeout=0.3)
        with socket.create_connection(("127.0.0.1", oci_registry.port), timeout=5) as conn:
            conn.sendall(b"GET /v2/ HTTP/1.1\r\nHost")
            started = time.monotonic()
            assert conn.recv(4096) == b""  # closed, with no answer
            assert 0.25 < time.monotonic() - started < 2.0

    def test_each_connection_has_its_own_clock(self, oci_registry: OCIRegistry) -> None:
        oci_registry.configure(idle_timeout=1.0)
        with socket.create_connection(("127.0.0.1", oci_registry.port), timeout=5) as idle:
            idle.sendall(GET)
            assert idle.recv(4096).startswith(b"HTTP/1.1 200 OK\r\n")
            with Wire(oci_registry.port) as busy:
                for _ in range(12):  # 1.2 s of requests on another connection, a tenth of the timeout apart
                    assert busy.send(GET).response().status == b"HTTP/1.1 200 OK"
                    time.sleep(0.1)
                assert idle.recv(1) == b""  # the idle one was closed meanwhile
                assert busy.send(GET).response().status == b"HTTP/1.1 200 OK"
