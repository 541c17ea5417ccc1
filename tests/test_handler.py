"""HTTP/1.1 on the socket, byte for byte: what cannot be parsed, reason phrases, 100-continue, request bodies as
RFC 9112 frames them, and keep-alive (HTTP/1.0 included)."""

from __future__ import annotations

import ssl
import threading
import time
from typing import Any

import pytest
from werkzeug.test import Client
from werkzeug.wrappers import Response
from wire import Wire, exchange, without_date

from pytest_ociregistry import Auth, OCIRegistry, RegistryApp
from pytest_ociregistry.names import digest_of
from pytest_ociregistry.server import ConnectionServer

PLAIN = b"\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n"
BAD_REQUEST = b"HTTP/1.1 400 Bad Request" + PLAIN + b"400 Bad Request"
HEAD = b"GET /v2/ HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\n"
HEAD_TOO_LARGE = b"HTTP/1.1 431 Request Header Fields Too Large" + PLAIN + b"431 Request Header Fields Too Large"


def go_status(code: bytes, text: bytes) -> bytes:
    """Go's answer to a request it refuses with a reason (``statusError`` in net/http's server.go)."""
    return b"HTTP/1.1 " + code + b": " + text + PLAIN + code + b": " + text


def client_hello() -> bytes:
    """The first flight of a real TLS client (OpenSSL's ClientHello), as a client that tries HTTPS first sends it."""
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = ssl.create_default_context().wrap_bio(incoming, outgoing, server_hostname="127.0.0.1")
    with pytest.raises(ssl.SSLWantReadError):
        tls.do_handshake()
    return outgoing.read()


class TestEveryAnswerHasAStatusLine:
    @pytest.mark.parametrize(
        ("request_bytes", "answer"),
        [
            (b"\x16\x03\x01\x02\x00\x01" + b"\x00" * 200, BAD_REQUEST),  # the start of a ClientHello, then EOF
            (b"\x00\xffnot http at all\r\n\r\n", BAD_REQUEST),
            (b"GET /v2/\r\n\r\n", BAD_REQUEST),  # HTTP/0.9
            (b"GET /v2/ HTTP/1.10\r\nHost: x\r\n\r\n", BAD_REQUEST),
            (b"GET  /v2/ HTTP/1.1\r\nHost: x\r\n\r\n", BAD_REQUEST),
            (b"G@T /v2/ HTTP/1.1\r\nHost: x\r\n\r\n", BAD_REQUEST),
            (b"GET v2 HTTP/1.1\r\nHost: x\r\n\r\n", BAD_REQUEST),
            (b"GET /v2/ HTTP/1.1\r\nHost: x\r\nNo-Colon\r\n\r\n", BAD_REQUEST),
            (b"GET /v2/ HTTP/1.1\r\nHost : x\r\n\r\n", BAD_REQUEST),
            (b"GET /v2/ HTTP/1.1\r\nHost: x\r\nX: a\x00b\r\n\r\n", BAD_REQUEST),
            (b"GET /v2/ HTTP/1.1\r\nHost: x", BAD_REQUEST),  # the head ends with the input
            (b"GET /v2/ HTTP/1.1\r\r\nHost: x\r\n\r\n", BAD_REQUEST),  # a bare CR
            (b"GET /v2/ HTTP/1.1\r\n Host: x\r\n\r\n", BAD_REQUEST),  # whitespace before the first field
            (b"GET /v2/ HTTP/9.9\r\nHost: x\r\n\r\n", go_status(b"505 HTTP Version Not Supported",
                                                                b"unsupported protocol version")),
            (b"GET /v2/ HTTP/2.0\r\nHost: x\r\n\r\n", go_status(b"505 HTTP Version Not Supported",
                                                                b"unsupported protocol version")),
            (b"GET /v2/ HTTP/1.1\r\n\r\n", go_status(b"400 Bad Request", b"missing required Host header")),
            (b"GET /v2/ HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", go_status(b"400 Bad Request",
                                                                           b"too many Host headers")),
            (b"GET /v2/ HTTP/1.1\r\nHost: x\r\n" + b"X-Big: " + b"y" * ((1 << 20) + 8192) + b"\r\n\r\n", HEAD_TOO_LARGE),
            (b"GET /v2/" + b"a" * ((1 << 20) + 8192) + b" HTTP/1.1\r\nHost: x\r\n\r\n", HEAD_TOO_LARGE),
        ],
        ids=["tls-hello-start", "garbage", "http-0.9", "version-1.10", "two-spaces", "bad-method", "bad-target",
             "no-colon", "space-before-colon", "nul-in-value", "truncated", "bare-cr", "space-first-field", "http-9.9", "http-2.0", "no-host",
             "two-hosts", "header-1MiB", "request-line-1MiB"],
    )
    def test_unparsable_requests_get_go_s_answer(
        self, oci_registry: OCIRegistry, request_bytes: bytes, answer: bytes
    ) -> None:
        assert exchange(oci_registry.port, request_bytes) == answer
        assert Wire(oci_registry.port).send(b"GET /v2/ HTTP/1.1\r\nHost: x\r\n\r\n").response().status == (
            b"HTTP/1.1 200 OK"
        )

    def test_a_tls_client_hello_on_the_plain_port_gets_a_status_line(self, oci_registry: OCIRegistry) -> None:
        # Docker's CLI tries HTTPS first and falls back to HTTP only when the answer starts with "HTTP/". The
        # client does not stop sending: the answer must come from the hello alone.
        with Wire(oci_registry.port) as wire:
            wire.send(client_hello())
            assert wire.rest() == BAD_REQUEST
        (record,) = oci_registry.requests
        assert (record.method, record.path, record.status, record.handler) == ("", "", 400, "http")

    @pytest.mark.parametrize(
        ("headers", "answer"),
        [
            (b"Transfer-Encoding: gzip\r\n", b"HTTP/1.1 501 Not Implemented" + PLAIN + b"Unsupported transfer encoding"),
            (b"Transfer-Encoding: gzip, chunked\r\n",
             b"HTTP/1.1 501 Not Implemented" + PLAIN + b"Unsupported transfer encoding"),
            (b"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n",
             b"HTTP/1.1 501 Not Implemented" + PLAIN + b"Unsupported transfer encoding"),
            (b"Content-Length: abc\r\n", BAD_REQUEST),
            (b"Content-Length: -1\r\n", BAD_REQUEST),
            (b"Content-Length: +3\r\n", BAD_REQUEST),
            (b"Content-Length: 3, 3\r\n", BAD_REQUEST),
            (b"Content-Length: 3\r\nContent-Length: 4\r\n", BAD_REQUEST),
            (b"Expect: the-impossible\r\n", b"HTTP/1.1 417 Expectation Failed" + PLAIN + b"417 Expectation Failed"),
        ],
        ids=["te-gzip", "te-gzip-chunked", "te-twice", "cl-letters", "cl-negative", "cl-plus", "cl-list",
             "cl-conflict", "expect-other"],
    )
    def test_framing_it_cannot_trust_is_refused(self, oci_registry: OCIRegistry, headers: bytes, answer: bytes) -> None:
        request = b"PUT /v2/foo/manifests/v1 HTTP/1.1\r\nHost: x\r\n" + headers + b"\r\nabc"
        assert exchange(oci_registry.port, request) == answer
        assert oci_registry.store.repositories()[0] == []

    def test_transfer_encoding_on_http_1_0_is_faulty_framing(self, oci_registry: OCIRegistry) -> None:
        request = b"PUT /v2/foo/manifests/v1 HTTP/1.0\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\nabc"
        expected = go_status(b"400 Bad Request", b"Transfer-Encoding in an HTTP/1.0 request")
        assert exchange(oci_registry.port, request) == expected

    def test_refused_requests_are_in_the_request_log(self, oci_registry: OCIRegistry) -> None:
        exchange(oci_registry.port, b"GET /v2/x?n=1 HTTP/9.9\r\nHost: x\r\n\r\n")
        exchange(oci_registry.port, b"PUT /v2/y HTTP/1.1\r\nHost: x\r\nContent-Length: z\r\nContent-Type: a/b\r\n\r\n")
        exchange(oci_registry.port, b"\x16\x03\x01")
        exchange(oci_registry.port, b"DELETE /v2/z HTTP/1.10\r\nHost: x\r\n\r\n")
        assert [(r.method, r.path, r.query, r.status, r.handler, dict(r.headers)) for r in oci_registry.requests] == [
            ("GET", "/v2/x", "n=1", 505, "http", {}),
            ("PUT", "/v2/y", "", 400, "http", {"Content-Length": "z", "Content-Type": "a/b"}),
            ("", "", "", 400, "http", {}),
            ("DELETE", "/v2/z", "", 400, "http", {}),
        ]
        assert str(oci_registry.requests[1]) == "PUT /v2/y → 400 (refused by the HTTP layer)"


class TestReasonPhrases:
    def test_the_socket_sends_go_s_phrases(self, oci_registry: OCIRegistry) -> None:
        with Wire(oci_registry.port) as wire:
            wire.send(b"GET /v2/foo/manifests/nope HTTP/1.1\r\nHost: x\r\n\r\n")
            assert wire.response().status == b"HTTP/1.1 404 Not Found"
            wire.send(b"POST /v2/foo/blobs/uploads/ HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
            assert wire.response().status == b"HTTP/1.1 202 Accepted"
            wire.send(b"GET /v2/foo/blobs/uploads/x HTTP/1.1\r\nHost: x\r\nRange: bytes=0-1\r\n\r\n")
            assert wire.response().status == b"HTTP/1.1 404 Not Found"

    def test_401_unauthorized(self, oci_registry: OCIRegistry) -> None:
        oci_registry.configure(auth=Auth.from_string("basic:ci:pw"))
        answer = Wire(oci_registry.port).send(b"GET /v2/ HTTP/1.1\r\nHost: x\r\n\r\n").response()
        assert answer.status == b"HTTP/1.1 401 Unauthorized"

    def test_a_user_handler_s_phrase_is_standard_and_a_custom_one_kept(self, oci_registry: OCIRegistry) -> None:
        oci_registry.expect_request("/teapot").respond_with_data("short and stout", status=418)
        oci_registry.expect_request("/custom").respond_with_response(Response("x", status="299 Fine Thanks"))
        with Wire(oci_registry.port) as wire:
            assert wire.send(b"GET /teapot HTTP/1.1\r\nHost: x\r\n\r\n").response().status == b"HTTP/1.1 418 I'm a teapot"
            assert wire.send(b"GET /custom HTTP/1.1\r\nHost: x\r\n\r\n").response().status == b"HTTP/1.1 299 Fine Thanks"

    def test_the_wsgi_app_uses_them_too(self) -> None:
        client = Client(RegistryApp())
        assert client.get("/v2/foo/manifests/nope").status == "404 Not Found"
        assert client.post("/v2/foo/blobs/uploads/").status == "202 Accepted"
        assert client.get("/v2/").status == "200 OK"


def put_manifest_head(repo: str, length: int, version: bytes = b"HTTP/1.1", extra: bytes = b"") -> bytes:
    return (b"PUT /v2/%s/manifests/v1 %s\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"
            b"Expect: 100-continue\r\n%s\r\n" % (repo.encode(), version, length, extra))


class TestExpectContinue:
    def test_one_100_continue_when_the_body_is_read(self, oci_registry: OCIRegistry) -> None:
        with Wire(oci_registry.port) as wire:
            wire.send(put_manifest_head("foo", 2))
            assert wire.head() == b"HTTP/1.1 100 Continue\r\n\r\n"
            answer = wire.send(b"{}").response()
            assert answer.status == b"HTTP/1.1 201 Created" and b"100 Continue" not in answer.head
            assert answer.header("Connection") is None  # kept alive
            assert wire.send(b"GET /v2/foo/manifests/v1 HTTP/1.1\r\nHost: x\r\n\r\n").response().body == b"{}"

    def test_no_100_continue_to_http_1_0(self, oci_registry: OCIRegistry) -> None:
        answer = exchange(oci_registry.port, put_manifest_head("foo", 2, b"HTTP/1.0") + b"{}")
        assert answer.startswith(b"HTTP/1.1 201 Created\r\n") and b"100 Continue" not in answer

    @pytest.mark.parametrize(
        ("setup", "repo", "status"),
        [
            (lambda registry: None, "UPPER", b"HTTP/1.1 400 Bad Request"),  # NAME_INVALID
            (lambda registry: registry.configure(auth=Auth.from_string("basic:ci:pw")), "foo", b"HTTP/1.1 401 Unauthorized"),
            (lambda registry: registry.configure(strict_upload_ids=True), "foo", b"HTTP/1.1 404 Not Found"),
            (lambda registry: registry.configure(max_manifest_size=10), "foo", b"HTTP/1.1 413 Request Entity Too Large"),
        ],
        ids=["bad-name", "unauthorized", "unknown-upload", "manifest-too-large"],
    )
    def test_a_refused_request_is_answered_at_once_without_its_body(
        self, oci_registry: OCIRegistry, setup: Any, repo: str, status: bytes
    ) -> None:
        setup(oci_registry)
        head = put_manifest_head(repo, 1000)
        if b"413" not in status:
            head = head.replace(b"PUT /v2/%s/manifests/v1" % repo.encode(), b"PATCH /v2/%s/blobs/uploads/nope" % repo.encode())
        with Wire(oci_registry.port, timeout=5) as wire:
            answer = wire.send(head).response()  # the body is never sent
            assert answer.status == status and b"100 Continue" not in answer.head
            assert answer.header("Connection") == "close"
            assert wire.closed_by_server()
        assert oci_registry.store.repositories()[0] == []


CHUNKED_HEAD = b"PUT /v2/foo/manifests/v1 HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"


class TestChunkedBodies:
    @pytest.mark.parametrize(
        "body",
        [
            b"2\r\n{}\r\n0\r\n\r\n",
            b"2;x=y\r\n{}\r\n0;last\r\n\r\n",
            b'2 ; name="quoted; value"\r\n{}\r\n0\r\n\r\n',
            b"1\r\n{\r\n1\r\n}\r\n0\r\nChecksum: abc\r\nOther: d\r\n\r\n",
            b"0002\r\n{}\r\n000\r\n\r\n",
            b"2\n{}\n0\n\n",  # bare LF line ends
        ],
        ids=["plain", "extensions", "quoted-extension", "trailers", "leading-zeros", "bare-lf"],
    )
    def test_rfc_9112_chunked_bodies(self, oci_registry: OCIRegistry, body: bytes) -> None:
        with Wire(oci_registry.port) as wire:
            answer = wire.send(CHUNKED_HEAD + b"Transfer-Encoding: chunked\r\n\r\n" + body).response()
            assert answer.status == b"HTTP/1.1 201 Created", answer
            assert answer.header("Connection") is None
            assert wire.send(b"GET /v2/foo/manifests/v1 HTTP/1.1\r\nHost: x\r\n\r\n").response().body == b"{}"
        assert oci_registry.requests[0].body_size == 2

    @pytest.mark.parametrize(
        ("body", "why"),
        [
            (b"zz\r\n{}\r\n0\r\n\r\n", b"invalid chunk size"),
            (b"-2\r\n{}\r\n0\r\n\r\n", b"invalid chunk size"),
            (b"\r\n{}\r\n0\r\n\r\n", b"invalid chunk size"),
            (b"11111111111111111\r\n{}\r\n0\r\n\r\n", b"invalid chunk size"),
            (b"2\r\n{}XX0\r\n\r\n", b"malformed chunked encoding"),
            (b"2;" + b"x" * 5000 + b"\r\n{}\r\n0\r\n\r\n", b"chunk line too long"),
            (b"2\r\n{}\r\n0\r\nno colon here\r\n\r\n", b"malformed trailer section"),
        ],
        ids=["letters", "negative", "empty", "17-digits", "no-crlf-after-data", "long-extension", "bad-trailer"],
    )
    def test_a_malformed_chunked_body_is_400_and_closes(self, oci_registry: OCIRegistry, body: bytes, why: bytes) -> None:
        answer = exchange(oci_registry.port, CHUNKED_HEAD + b"Transfer-Encoding: chunked\r\n\r\n" + body)
        text = b"400 Bad Request: " + why
        assert without_date(answer) == (
            b"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; "
            b"charset=utf-8\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(text), text)
        ), answer
        (record,) = oci_registry.requests
        assert (record.method, record.status, record.handler) == ("PUT", 400, "registry")
        assert oci_registry.store.repositories()[0] == []

    def test_a_malformed_body_for_a_user_handler_is_400_too(self, oci_registry: OCIRegistry) -> None:
        oci_registry.expect_request("/upload", method="POST").respond_with_data("ok")
        request = b"POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nq\r\n"
        answer = exchange(oci_registry.port, request)
        assert answer.startswith(b"HTTP/1.1 400 Bad Request\r\n") and answer.endswith(b"400 Bad Request: invalid chunk size")

    def test_chunked_wins_over_content_length_and_the_connection_closes(self, oci_registry: OCIRegistry) -> None:
        head = CHUNKED_HEAD + b"Transfer-Encoding: chunked\r\nContent-Length: 100\r\n\r\n"
        with Wire(oci_registry.port) as wire:
            answer = wire.send(head + b"2\r\n{}\r\n0\r\n\r\n").response()
            assert (answer.status, answer.header("Connection")) == (b"HTTP/1.1 201 Created", "close")
            assert wire.closed_by_server()
        assert oci_registry.store.get_manifest("foo", "v1").data == b"{}"


def test_no_server_header_as_go_sends_none(oci_registry: OCIRegistry) -> None:
    answer = exchange(oci_registry.port, b"GET /v2/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    status, *fields = answer.split(b"\r\n\r\n", 1)[0].split(b"\r\n")
    names = [field.split(b":", 1)[0] for field in fields]
    assert status == b"HTTP/1.1 200 OK" and b"Date" in names and b"Server" not in names, answer


class TestConnections:
    def test_http_1_0_keep_alive_when_asked(self, oci_registry: OCIRegistry) -> None:
        with Wire(oci_registry.port) as wire:
            for _ in range(3):
                answer = wire.send(b"GET /v2/ HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").response()
                assert (answer.status, answer.header("Connection")) == (b"HTTP/1.1 200 OK", "keep-alive")

    def test_http_1_0_closes_by_default(self, oci_registry: OCIRegistry) -> None:
        with Wire(oci_registry.port) as wire:
            answer = wire.send(b"GET /v2/ HTTP/1.0\r\n\r\n").response()
            assert (answer.status, answer.header("Connection")) == (b"HTTP/1.1 200 OK", None)  # closing is the default
            assert wire.closed_by_server()

    def test_an_unframed_answer_to_http_1_0_is_not_chunked(self, oci_registry: OCIRegistry) -> None:
        oci_registry.expect_request("/stream").respond_with_handler(lambda request: Response(iter([b"a", b"b"])))
        answer = exchange(oci_registry.port, b"GET /stream HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        head, body = answer.split(b"\r\n\r\n", 1)
        assert b"Transfer-Encoding" not in head and b"Connection" not in head and body == b"ab"  # ends with the close
        with Wire(oci_registry.port) as wire:
            answer11 = wire.send(b"GET /stream HTTP/1.1\r\nHost: x\r\n\r\n").response()
            assert (answer11.header("Transfer-Encoding"), answer11.body) == ("chunked", b"ab")

    def test_an_unframed_answer_to_head_has_no_body(self, oci_registry: OCIRegistry) -> None:
        """A HEAD answer without Content-Length is not chunked: not even the last chunk follows its head, so the
        next answer on the connection starts right after it."""
        oci_registry.expect_request("/stream").respond_with_handler(lambda request: Response(iter([b"a", b"b"])))
        with Wire(oci_registry.port) as wire:
            wire.send(b"HEAD /stream HTTP/1.1\r\nHost: x\r\n\r\nGET /v2/ HTTP/1.1\r\nHost: x\r\n\r\n")
            assert b"Transfer-Encoding" not in wire.head()
            assert wire.response().status == b"HTTP/1.1 200 OK"

    def test_connection_close_is_honoured(self, oci_registry: OCIRegistry) -> None:
        with Wire(oci_registry.port) as wire:
            answer = wire.send(b"GET /v2/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").response()
            assert (answer.status, answer.header("Connection")) == (b"HTTP/1.1 200 OK", "close")
            assert wire.closed_by_server()

    def test_pipelined_requests_blank_lines_folded_headers_and_absolute_form(self, oci_registry: OCIRegistry) -> None:
        digest = oci_registry.push_blob("foo", b"hello")
        with Wire(oci_registry.port) as wire:
            wire.send(b"\r\nGET /v2/ HTTP/1.1\r\nHost: x\r\nX-Folded: a\r\n b\r\n\r\n"
                      b"HEAD /v2/foo/blobs/%s HTTP/1.1\r\nHost: x\r\n\r\n"
                      b"GET /v2/foo/blobs/%s HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nContent-Length: 0\r\n\r\n"
                      % (digest.encode(), digest.encode()))
            assert wire.response().status == b"HTTP/1.1 200 OK"
            head = wire.response(head_request=True)
            assert (head.status, head.header("Content-Length"), head.body) == (b"HTTP/1.1 200 OK", "5", b"")
            assert wire.response().body == b"hello"
            wire.send(b"GET http://127.0.0.1/v2/foo/blobs/%s HTTP/1.1\r\nHost: x\r\n\r\n" % digest.encode())
            assert wire.response().body == b"hello"  # the absolute form

    @pytest.mark.parametrize(
        "pieces",
        [
            [HEAD],
            [HEAD[:5], HEAD[5:30], HEAD[30:]],  # each piece read as it comes
            [HEAD[:-2], HEAD[-2:]],  # all but the blank line
            [HEAD.replace(b"\r\n", b"\n")],  # bare LF line ends (RFC 9112 section 2.2)
            [HEAD.replace(b"Host: x\r\n", b"Host: x\n")],  # one of them
            [b"\r\n\r\n" + HEAD],  # empty lines before the request line
        ],
        ids=["at-once", "in-pieces", "blank-line-later", "bare-lf", "one-bare-lf", "leading-empty-lines"],
    )
    def test_a_head_is_read_however_it_arrives(self, oci_registry: OCIRegistry, pieces: list[bytes]) -> None:
        with Wire(oci_registry.port) as wire:
            for piece in pieces:
                wire.send(piece)
                time.sleep(0.05)  # the server reads what has arrived
            answers = [wire.response(), wire.send(HEAD).response()]  # and the connection is kept
        assert [answer.status for answer in answers] == [b"HTTP/1.1 200 OK"] * 2
        assert [(r.path, dict(r.headers)) for r in oci_registry.requests] == [("/v2/", {"Accept": "*/*"})] * 2

    def test_a_header_field_with_a_line_break_is_never_sent(self) -> None:
        """A field value that would split the header section (header injection) is an application error: 500."""
        def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
            start_response("200 OK", [("X-Split", "a\r\nInjected: yes")])
            return [b"body"]

        server = ConnectionServer("127.0.0.1", 0, app)
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        thread.start()
        try:
            answer = exchange(server.port, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        finally:
            server.shutdown()
            server.server_close()
        assert answer == b"HTTP/1.1 500 Internal Server Error" + PLAIN + b"500 Internal Server Error"

    def test_an_unread_body_over_the_drain_limit_closes_before_the_answer(self, oci_registry: OCIRegistry) -> None:
        with Wire(oci_registry.port) as wire:  # an upload start reads no body; 100 MiB is not worth reading
            answer = wire.send(b"POST /v2/foo/blobs/uploads/ HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n"
                               % (100 << 20)).response()
            assert (answer.status, answer.header("Connection")) == (b"HTTP/1.1 202 Accepted", "close")
            assert wire.closed_by_server()


MiB = b"x" * (1 << 20)


@pytest.mark.parametrize("repeat", range(2))
def test_an_answer_given_before_the_body_is_read_survives_the_close(oci_registry: OCIRegistry, repeat: int) -> None:
    """The server answers (and closes) while the client is still sending a body nobody reads: the client reads the
    whole answer, not a truncated one and a reset (closing with unread input resets the connection and drops what
    was still queued to send, so the server stops sending and drops the rest of the input for a moment first)."""
    blob = bytes(range(256)) * (80 << 10)  # 20 MiB: more than the socket buffers hold
    digest = oci_registry.push_blob("foo", blob)
    size = 100 << 20  # over the 64 MiB the server would read to keep the connection
    with Wire(oci_registry.port) as wire:
        wire.send(b"GET /v2/foo/blobs/%s HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % (digest.encode(), size))

        def stream() -> None:
            try:
                for _ in range(size >> 20):
                    wire.sock.sendall(MiB)
            except OSError:  # the server closed: the rest is not wanted
                pass

        sender = threading.Thread(target=stream)
        sender.start()
        time.sleep(0.2)  # the client reads late
        answer = wire.response()
        sender.join()
    assert (answer.status, answer.header("Connection")) == (b"HTTP/1.1 200 OK", "close")
    assert answer.body == blob


def test_chunked_upload_through_http_client_matches_digest(oci_registry: OCIRegistry) -> None:
    data = b"chunk-" * 50_000
    with Wire(oci_registry.port) as wire:
        chunks = b"".join(b"%x;n=%d\r\n%s\r\n" % (len(data[i : i + 7000]), i, data[i : i + 7000])
                          for i in range(0, len(data), 7000))
        wire.send(b"POST /v2/foo/blobs/uploads/?digest=%s HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                  % digest_of(data).encode() + chunks + b"0\r\n\r\n")
        assert wire.response().status == b"HTTP/1.1 201 Created"
    assert oci_registry.store.get_blob("foo", digest_of(data)).data == data


def test_a_handler_closing_a_bodiless_request_s_stream_harms_no_later_request(oci_registry: OCIRegistry) -> None:
    """Requests without a body share one empty body stream: a handler closing it closes nothing of another's."""

    def close_stream(request: Any) -> Response:
        text = f"{request.stream.read()!r} {list(request.stream)!r}"  # iterating checks that it is open
        request.stream.close()
        return Response(text)

    oci_registry.expect_request("/close").respond_with_handler(close_stream)
    with Wire(oci_registry.port) as wire:
        for _ in range(2):
            assert wire.send(b"GET /close HTTP/1.1\r\nHost: x\r\n\r\n").response().body == b"b'' []"
        assert wire.send(b"GET /v2/ HTTP/1.1\r\nHost: x\r\n\r\n").response().status == b"HTTP/1.1 200 OK"
