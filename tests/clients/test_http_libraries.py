"""requests and httpx, by hand, against the ``oci_registry`` fixture: uploads (POST + PUT, chunked PATCHes),
keep-alive, bytes that are not HTTP on the socket, pushes and pulls over HTTPS trusting the registry's CA, and every
client refusing a CA it does not trust."""

from __future__ import annotations

import random
import socket
import ssl
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urljoin

import pytest
from client_support import (
    TLS,
    Skopeo,
    assert_same_content,
    build_image,
    ca_bundle,
    read_registry,
)

from pytest_ociregistry import OCIRegistry
from pytest_ociregistry.manifest import OCI_MANIFEST
from pytest_ociregistry.names import digest_of
from pytest_ociregistry.requestlog import RequestLog


def test_requests_post_put_upload(oci_registry: OCIRegistry) -> None:
    """POST opens an upload (202 + Location), PUT with the whole body and ``?digest=`` closes it (201)."""
    requests = pytest.importorskip("requests")
    data = random.Random("post-put").randbytes(100_000)
    with requests.Session() as session:
        started = session.post(f"{oci_registry.url}/v2/foo/bar/blobs/uploads/")
        assert started.status_code == 202, started.text
        location = urljoin(oci_registry.url, started.headers["Location"])
        assert location.startswith(f"{oci_registry.url}/v2/foo/bar/blobs/uploads/")

        done = session.put(location, params={"digest": digest_of(data)}, data=data)
        assert done.status_code == 201, done.text
        assert done.headers["Docker-Content-Digest"] == digest_of(data)
        blob_url = urljoin(oci_registry.url, done.headers["Location"])
        assert blob_url == f"{oci_registry.url}/v2/foo/bar/blobs/{digest_of(data)}"

        fetched = session.get(blob_url)
        assert fetched.status_code == 200
        assert fetched.content == data
    assert oci_registry.blob("foo/bar", digest_of(data)) == data


def test_httpx_chunked_patch_upload(oci_registry: OCIRegistry) -> None:
    """PATCHes with ``Content-Range`` append in order (202, ``Range`` grows); an out-of-order chunk is 416; the
    closing PUT (201) stores exactly the chunks sent."""
    httpx = pytest.importorskip("httpx")
    data = random.Random("patch").randbytes(250_000)
    chunk = 100_000
    with httpx.Client(base_url=oci_registry.url) as client:
        started = client.post("/v2/foo/bar/blobs/uploads/")
        assert started.status_code == 202, started.text
        location = started.headers["Location"]
        for start in range(0, len(data), chunk):
            piece = data[start : start + chunk]
            end = start + len(piece) - 1
            response = client.patch(
                location,
                content=piece,
                headers={"Content-Range": f"{start}-{end}", "Content-Type": "application/octet-stream"},
            )
            assert response.status_code == 202, response.text
            assert response.headers["Range"] == f"0-{end}"
            location = response.headers["Location"]

        replayed = client.patch(location, content=data[:10], headers={"Content-Range": "0-9"})
        assert replayed.status_code == 416, replayed.text
        assert client.get(location).headers["Range"] == f"0-{len(data) - 1}"

        done = client.put(location, params={"digest": digest_of(data)})
        assert done.status_code == 201, done.text
        assert done.headers["Docker-Content-Digest"] == digest_of(data)
        assert client.get(f"/v2/foo/bar/blobs/{digest_of(data)}").content == data


def test_httpx_keep_alive(oci_registry: OCIRegistry) -> None:
    """Twenty requests of every kind (errors and unread bodies included) share one httpx connection."""
    httpx = pytest.importorskip("httpx")
    digest = oci_registry.push_blob("foo/bar", b"kept alive")
    oci_registry.push_manifest("foo/bar", "v0", b"x")
    calls: list[tuple[str, str, bytes, int]] = [
        ("GET", "/v2/", b"", 200),
        ("HEAD", f"/v2/foo/bar/blobs/{digest}", b"", 200),
        ("GET", f"/v2/foo/bar/blobs/{digest}", b"", 200),
        ("GET", "/v2/foo/bar/blobs/sha256:" + "0" * 64, b"", 404),
        ("PUT", "/v2/foo/bar/manifests/v1", b"{not json" * 1000, 400),
        ("POST", "/v2/nope", b"x" * 50_000, 404),
        ("GET", "/v2/foo/bar/tags/list", b"", 200),
    ]
    local_ports: set[int] = set()
    with httpx.Client(base_url=oci_registry.url) as client:
        for i in range(20):
            method, path, body, status = calls[i % len(calls)]
            response = client.request(method, path, content=body or None, headers={"Content-Type": OCI_MANIFEST})
            assert response.status_code == status, (method, path, response.text)
            local_ports.add(response.extensions["network_stream"].get_extra_info("client_addr")[1])
    assert len(local_ports) == 1


def test_requests_keep_alive(oci_registry: OCIRegistry) -> None:
    """Twenty requests on one requests session open one connection in urllib3's pool."""
    requests = pytest.importorskip("requests")
    digest = oci_registry.push_blob("foo/bar", b"kept alive")
    with requests.Session() as session:
        for i in range(20):
            if i % 2:
                assert session.get(f"{oci_registry.url}/v2/foo/bar/blobs/{digest}").content == b"kept alive"
            else:
                assert session.head(f"{oci_registry.url}/v2/foo/bar/blobs/sha256:{'1' * 64}").status_code == 404
        pools = session.get_adapter(oci_registry.url).poolmanager.pools
        keys = pools.keys()  # urllib3's pool container refuses plain iteration
        assert [(pools[key].num_connections, pools[key].num_requests) for key in keys] == [(1, 20)]


def tls_client_hello() -> bytes:
    """The first bytes a TLS client sends: a real ClientHello record."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    outgoing = ssl.MemoryBIO()
    tls = context.wrap_bio(ssl.MemoryBIO(), outgoing, server_hostname="localhost")
    with pytest.raises(ssl.SSLWantReadError):
        tls.do_handshake()
    return outgoing.read()


def send_and_hang_up(address: tuple[str, int], payload: bytes) -> None:
    """Send ``payload`` on a new connection, half-close it and read whatever comes back. The server may answer or
    hang up at any point: that is its right with such bytes."""
    with socket.create_connection(address, timeout=5) as raw:
        try:
            raw.sendall(payload)
            raw.shutdown(socket.SHUT_WR)
            while raw.recv(65_536):
                pass
        except OSError:  # reset, broken pipe, not connected, timeout
            pass


GARBAGE: dict[str, Callable[[], bytes]] = {
    "tls-client-hello": tls_client_hello,
    "binary": lambda: random.Random("garbage").randbytes(70_000),
    "binary-lines": lambda: b"\x00\xff\r\n" * 1000 + b"\r\n\r\n",
    "truncated-request": lambda: b"PUT /v2/foo/bar/manifests/v1 HTTP/1.1\r\nHost: x\r\nContent-Length: 9999\r\n\r\n{",
    "nothing": lambda: b"",
}


@pytest.mark.parametrize("payload", GARBAGE.values(), ids=GARBAGE.keys())
def test_garbage_on_the_socket_leaves_the_server_serving(
    oci_registry: OCIRegistry, payload: Callable[[], bytes]
) -> None:
    """Bytes that are not HTTP (a TLS handshake, noise, a cut-off request) on the plain port do not stop the server:
    a connection opened before keeps working, and new ones answer 200 on ``/v2/``."""
    httpx = pytest.importorskip("httpx")
    digest = oci_registry.push_blob("foo/bar", b"still here")
    with httpx.Client(base_url=oci_registry.url) as client:
        assert client.get("/v2/").status_code == 200
        host, port = oci_registry.host.rsplit(":", 1)
        for _ in range(3):
            send_and_hang_up((host, int(port)), payload())
        assert client.get(f"/v2/foo/bar/blobs/{digest}").content == b"still here"
    with httpx.Client(base_url=oci_registry.url) as fresh:
        response = fresh.get("/v2/")
        assert response.status_code == 200
        assert response.headers["Docker-Distribution-API-Version"] == "registry/2.0"
    assert oci_registry.is_running()


def push_and_pull_over_http(send: Callable[[str, str, bytes | None, Mapping[str, str]], Any], url: str) -> None:
    """Push an image to ``url``'s ``foo/bar:v1`` with ``send(method, url, body, headers)`` (a requests or httpx
    call): each blob by POST, PATCH and PUT ``?digest=``, then the manifest; then pull every piece back."""
    built = build_image("over-https", layers=2)
    for digest, data in built.blobs.items():
        started = send("POST", f"{url}/v2/foo/bar/blobs/uploads/", None, {})
        assert started.status_code == 202, started.text
        patched = send(
            "PATCH", urljoin(url, started.headers["Location"]), data, {"Content-Type": "application/octet-stream"}
        )
        assert patched.status_code == 202, patched.text
        assert patched.headers["Range"] == f"0-{len(data) - 1}"
        location = urljoin(url, patched.headers["Location"])
        done = send("PUT", f"{location}{'&' if '?' in location else '?'}digest={digest}", None, {})
        assert done.status_code == 201, done.text
        assert done.headers["Docker-Content-Digest"] == digest
    pushed = send("PUT", f"{url}/v2/foo/bar/manifests/v1", built.manifest, {"Content-Type": built.media_type})
    assert pushed.status_code == 201, pushed.text
    assert pushed.headers["Docker-Content-Digest"] == built.digest

    pulled = send("GET", f"{url}/v2/foo/bar/manifests/v1", None, {"Accept": built.media_type})
    assert pulled.status_code == 200, pulled.text
    assert (pulled.content, pulled.headers["Content-Type"]) == (built.manifest, built.media_type)
    for digest, data in built.blobs.items():
        fetched = send("GET", f"{url}/v2/foo/bar/blobs/{digest}", None, {})
        assert (fetched.status_code, fetched.content) == (200, data)


@TLS
def test_tls_requests(oci_registry: OCIRegistry, wire: RequestLog) -> None:
    """requests, verifying with ``verify=<ca_bundle>``, pushes an image over HTTPS and pulls it back."""
    requests = pytest.importorskip("requests")
    with requests.Session() as session:
        # Per request: requests lets a REQUESTS_CA_BUNDLE in the environment override ``session.verify``.
        verify = ca_bundle(oci_registry)
        push_and_pull_over_http(
            lambda method, url, body, headers: session.request(
                method, url, data=body, headers=headers, verify=verify, timeout=30
            ),
            oci_registry.url,
        )
    assert_same_content(read_registry(oci_registry, "foo/bar", "v1"), build_image("over-https", layers=2))
    blobs = len(build_image("over-https", layers=2).blobs)
    expected = [("POST", 202), ("PATCH", 202), ("PUT", 201)] * blobs + [("PUT", 201)] + [("GET", 200)] * (1 + blobs)
    assert [(e.method, e.status) for e in wire] == expected


@TLS
def test_tls_httpx(oci_registry: OCIRegistry) -> None:
    """httpx, verifying with ``verify=<ssl_context>``, pushes an image over HTTPS and pulls it back."""
    httpx = pytest.importorskip("httpx")
    assert isinstance(oci_registry.ssl_context, ssl.SSLContext)
    assert oci_registry.ssl_context.verify_mode == ssl.CERT_REQUIRED and oci_registry.ssl_context.check_hostname
    with httpx.Client(verify=oci_registry.ssl_context, timeout=30) as client:
        push_and_pull_over_http(
            lambda method, url, body, headers: client.request(method, url, content=body, headers=headers),
            oci_registry.url,
        )
    assert_same_content(read_registry(oci_registry, "foo/bar", "v1"), build_image("over-https", layers=2))


@TLS
def test_tls_untrusted_clients_fail_verification(
    oci_registry: OCIRegistry, skopeo: Skopeo, wire: RequestLog, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Clients that do not trust the registry's CA refuse its certificate (requests: ``SSLError``; httpx: a connect
    error; skopeo: an unknown authority), and no HTTP request gets through; one that trusts it gets in."""
    requests = pytest.importorskip("requests")
    httpx = pytest.importorskip("httpx")
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE", "SSL_CERT_DIR"):
        monkeypatch.delenv(name, raising=False)
    oci_registry.push_image("foo/bar", "v1")

    with pytest.raises(requests.exceptions.SSLError, match="CERTIFICATE_VERIFY_FAILED"):
        requests.get(f"{oci_registry.url}/v2/", timeout=30)
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        httpx.get(f"{oci_registry.url}/v2/", timeout=30)
    stderr = skopeo.fails("inspect", "--raw", "--tls-verify=true", f"docker://{oci_registry.host}/foo/bar:v1")
    assert "certificate signed by unknown authority" in stderr
    assert list(wire) == []

    trusted = requests.get(f"{oci_registry.url}/v2/foo/bar/manifests/v1", verify=ca_bundle(oci_registry), timeout=30)
    assert (trusted.status_code, trusted.content) == (200, oci_registry.manifest("foo/bar", "v1").data)
    assert [(e.method, e.path, e.status) for e in wire] == [("GET", "/v2/foo/bar/manifests/v1", 200)]
