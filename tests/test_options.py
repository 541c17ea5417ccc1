"""Every option, by the difference a client sees (through the WSGI app: the same code a socket reaches)."""

from __future__ import annotations

import json
import socket
from typing import Any

import pytest
import requests
from werkzeug.test import Client, TestResponse

from pytest_ociregistry import (
    BASE_PRESETS,
    REFERENCE,
    Auth,
    OCIRegistry,
    Options,
    RegistryApp,
    Store,
    User,
)
from pytest_ociregistry.names import digest_of

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
F = digest_of(b"foo")


def make(**options: Any) -> tuple[Client, Store]:
    store = Store(Options(**options))
    return Client(RegistryApp(store)), store


def code(response: TestResponse) -> tuple[int, str, str]:
    error = json.loads(response.data)["errors"][0]
    return response.status_code, error["code"], error["message"]


def artifact(client: Client, subject: str, artifact_type: str) -> str:
    config = {"mediaType": "application/vnd.oci.empty.v1+json", "digest": digest_of(b"{}"), "size": 2}
    client.post(f"/v2/foo/blobs/uploads/?digest={config['digest']}", data=b"{}")
    body = json.dumps({"schemaVersion": 2, "mediaType": OCI_MANIFEST, "artifactType": artifact_type, "config": config,
                       "layers": [], "subject": {"mediaType": OCI_MANIFEST, "digest": subject, "size": 3}}).encode()
    assert client.put(f"/v2/foo/manifests/{artifact_type.rsplit('/')[-1]}", data=body,
                      headers={"Content-Type": OCI_MANIFEST}).status_code == 201
    return digest_of(body)


def test_delete_enabled() -> None:
    client, store = make(delete_enabled=False)
    store.put_blob("foo", [b"foo"], F)
    store.put_manifest("foo", "latest", b"foo")
    for url in (f"/v2/foo/blobs/{F}", "/v2/foo/manifests/latest", f"/v2/foo/manifests/{F}"):
        assert code(client.delete(url)) == (405, "UNSUPPORTED", "The operation is unsupported.")
    assert store.get_manifest("foo", "latest").data == b"foo"


def test_referrers_enabled() -> None:
    client, _ = make(referrers_enabled=False)
    assert code(client.get(f"/v2/foo/referrers/{F}")) == (404, "UNKNOWN", "referrers API has been disabled")


@pytest.mark.parametrize("filtering", [True, False])
def test_referrers_filtering(filtering: bool) -> None:
    client, store = make(referrers_filtering=filtering)
    store.put_manifest("foo", "image", b"foo")
    sig, sbom = artifact(client, F, "application/sig"), artifact(client, F, "application/sbom")
    r = client.get(f"/v2/foo/referrers/{F}?artifactType=application/sig")
    listed = {d["digest"] for d in json.loads(r.data)["manifests"]}
    assert listed == ({sig} if filtering else {sig, sbom})
    assert r.headers.get("OCI-Filters-Applied") == ("artifactType" if filtering else None)


def test_single_post_upload() -> None:
    client, store = make(single_post_upload=False)
    r = client.post(f"/v2/foo/blobs/uploads/?digest={F}", data=b"foo")
    assert r.status_code == 202 and r.headers["Location"].startswith("/v2/foo/blobs/uploads/")
    assert store.put_blob("bar", [b"x"], digest_of(b"x"))  # the store itself still takes a monolithic push
    assert client.get(f"/v2/foo/blobs/{F}").status_code == 404


def test_max_page_size() -> None:
    client, store = make(max_page_size=1000)
    store.put_manifest("foo", "a", b"x")
    assert code(client.get("/v2/foo/tags/list?n=2000")) == (
        400,
        "UNSUPPORTED",
        "query parameter n is too large (n=2000, max=1000)",
    )
    assert client.get("/v2/foo/tags/list?n=1000").status_code == 200
    assert code(client.get("/v2/_catalog?n=1001"))[0] == 400


@pytest.mark.parametrize("link", [True, False])
def test_link_header(link: bool) -> None:
    client, store = make(link_header=link)
    for tag in "ab":
        store.put_manifest("foo", tag, b"x")
    assert ("Link" in client.get("/v2/foo/tags/list?n=1").headers) is link


def test_tag_get_digest() -> None:
    client, store = make(tag_get_digest=False)
    store.put_manifest("foo", "latest", b"foo")
    assert "Docker-Content-Digest" not in client.get("/v2/foo/manifests/latest").headers
    assert client.head("/v2/foo/manifests/latest").headers["Docker-Content-Digest"] == F
    assert client.get(f"/v2/foo/manifests/{F}").headers["Docker-Content-Digest"] == F


def test_immutable_tags() -> None:
    client, store = make(immutable_tags=True)
    assert client.put("/v2/foo/manifests/v1", data=b"one").status_code == 201
    assert client.put("/v2/foo/manifests/v1", data=b"one").status_code == 201  # the same content: a no-op
    assert code(client.put("/v2/foo/manifests/v1", data=b"two")) == (
        403,
        "DENIED",
        "requested access to the resource is denied: cannot overwrite tag",
    )
    assert code(client.delete("/v2/foo/manifests/v1"))[:2] == (403, "DENIED")
    assert store.get_manifest("foo", "v1").data == b"one"


def test_absolute_location() -> None:
    client, _ = make(absolute_location=True)
    assert client.post("/v2/foo/blobs/uploads/").headers["Location"].startswith("http://localhost/v2/foo/blobs/uploads/")


def test_warnings() -> None:
    client, _ = make(warnings=("deprecated", "slow down"))
    assert client.get("/v2/").headers.getlist("Warning") == ['299 - "deprecated"', '299 - "slow down"']


@pytest.mark.parametrize("on", [False, True])
def test_api_version_header(on: bool) -> None:
    """Outside /v2/ (the token endpoint) only with the option; under /v2/ always, errors and auth refusals too."""
    client, _ = make(api_version_header=on, auth=Auth("bearer", users=(User("u", "p"),)))
    assert ("Docker-Distribution-API-Version" in client.get("/token", auth=("u", "p")).headers) is on
    for url in ("/v2", "/v2/", "/v2/_catalog", "/v2/foo/tags/list", "/v2/bad"):
        assert client.get(url).headers["Docker-Distribution-API-Version"] == "registry/2.0", url


def test_upload_uuid_header() -> None:
    r = make(upload_uuid_header=True)[0].post("/v2/foo/blobs/uploads/")
    assert r.headers["Location"].endswith("/" + r.headers["Docker-Upload-UUID"])
    assert "Docker-Upload-UUID" not in make()[0].post("/v2/foo/blobs/uploads/").headers


@pytest.mark.parametrize(
    ("media_type", "body"),
    [(DOCKER_MANIFEST, b"not json"), (OCI_MANIFEST, b'{"schemaVersion":2,"layers":[]}'),
     ("application/vnd.oci.image.index.v1+json", b'{"schemaVersion":1,"manifests":[]}')],
)
def test_validate_manifests(media_type: str, body: bytes) -> None:
    headers = {"Content-Type": media_type}
    assert make()[0].put("/v2/foo/manifests/v1", data=body, headers=headers).status_code == 201  # off: not checked
    assert code(make(validate_manifests=True)[0].put("/v2/foo/manifests/v1", data=body, headers=headers))[:2] == (
        400,
        "MANIFEST_INVALID",
    )


def test_check_references() -> None:
    body = json.dumps({"schemaVersion": 2, "config": {"mediaType": "a/b", "digest": F, "size": 3}, "layers": []})
    headers = {"Content-Type": OCI_MANIFEST}
    assert code(make()[0].put("/v2/foo/manifests/v1", data=body, headers=headers))[:2] == (404, "MANIFEST_BLOB_UNKNOWN")
    assert make(check_references=False)[0].put("/v2/foo/manifests/v1", data=body, headers=headers).status_code == 201


def test_automatic_mount() -> None:
    client, store = make(automatic_mount=True)
    store.put_blob("src", [b"foo"], F)
    r = client.post(f"/v2/dst/blobs/uploads/?mount={F}")
    assert (r.status_code, r.headers["Docker-Content-Digest"]) == (201, F)
    assert store.get_blob("dst", F).data == b"foo"
    assert make()[0].post(f"/v2/dst/blobs/uploads/?mount={F}").status_code == 202
    assert client.post(f"/v2/dst/blobs/uploads/?mount={digest_of(b'none')}").status_code == 202


def test_strict_upload_ids() -> None:
    lenient, _ = make()
    assert lenient.patch("/v2/foo/blobs/uploads/never-issued", data=b"x").status_code == 202
    strict, _ = make(strict_upload_ids=True)
    assert code(strict.patch("/v2/foo/blobs/uploads/never-issued", data=b"x"))[:2] == (404, "BLOB_UPLOAD_UNKNOWN")
    assert code(strict.put(f"/v2/foo/blobs/uploads/never-issued?digest={F}", data=b"foo"))[0] == 404


def test_require_content_range() -> None:
    lenient, _ = make()
    location = lenient.post("/v2/foo/blobs/uploads/").headers["Location"]
    assert lenient.patch(location, data=b"foo").status_code == 202
    assert lenient.patch(location, data=b"bar").headers["Range"] == "0-5"
    strict, _ = make(require_content_range=True)
    location = strict.post("/v2/foo/blobs/uploads/").headers["Location"]
    assert strict.patch(location, data=b"foo").status_code == 202
    assert code(strict.patch(location, data=b"bar"))[:2] == (400, "BLOB_UPLOAD_INVALID")
    assert strict.patch(location, data=b"bar", headers={"Content-Range": "3-5"}).status_code == 202


def test_range_not_satisfiable() -> None:
    client, store = make(range_not_satisfiable=True)
    store.put_blob("foo", [b"hello world"], digest_of(b"hello world"))
    r = client.get(f"/v2/foo/blobs/{digest_of(b'hello world')}", headers={"Range": "bytes=20-30"})
    assert (r.status_code, r.headers["Content-Range"]) == (416, "bytes */11")


def test_null_empty_tags() -> None:
    client, store = make(null_empty_tags=True)
    store.put_manifest("foo", digest_of(b"x"), b"x")
    assert client.get("/v2/foo/tags/list").data == b'{"name":"foo","tags":null}'
    assert client.get("/v2/_catalog?last=foo").data == b'{"repositories":[]}'


def test_null_empty_catalog() -> None:
    assert make(null_empty_catalog=True)[0].get("/v2/_catalog").data == b'{"repositories":null}'
    assert make()[0].get("/v2/_catalog").data == b'{"repositories":[]}'


def test_spec_referrers_list() -> None:
    client, _ = make(spec_referrers_list=True)
    r = client.get(f"/v2/unknown/referrers/{F}")
    assert (r.status_code, json.loads(r.data)["manifests"]) == (200, [])


def test_untag_on_delete() -> None:
    client, store = make(untag_on_delete=False)
    store.put_manifest("foo", "latest", b"foo")
    assert client.delete(f"/v2/foo/manifests/{F}").status_code == 202
    assert store.tags("foo") == (["latest"], False)  # dangling, as the reference leaves it
    assert code(client.get("/v2/foo/manifests/latest"))[:2] == (404, "MANIFEST_UNKNOWN")


def test_accept_check() -> None:
    client, store = make(accept_check=True)
    store.put_manifest("foo", "latest", b"{}", OCI_MANIFEST)
    assert code(client.get("/v2/foo/manifests/latest", headers={"Accept": DOCKER_MANIFEST}))[:2] == (
        404,
        "MANIFEST_UNKNOWN",
    )
    several = [("Accept", DOCKER_MANIFEST), ("Accept", OCI_MANIFEST)]
    assert client.get("/v2/foo/manifests/latest", headers=several).status_code == 200
    assert client.get("/v2/foo/manifests/latest").status_code == 200  # no Accept takes anything
    assert client.get("/v2/foo/manifests/latest", headers={"Accept": "*/*"}).status_code == 200


def test_max_manifest_size() -> None:
    client, _ = make(max_manifest_size=10)
    assert client.put("/v2/foo/manifests/v1", data=b"x" * 10).status_code == 201
    # The message gives the whole body's size, announced or (chunked) counted, not the capped read.
    assert code(client.put("/v2/foo/manifests/v2", data=b"x" * 25)) == (
        413, "SIZE_INVALID", "manifest too large (25 bytes, max 10)")
    with OCIRegistry(Options(max_manifest_size=10)) as registry:
        chunked = requests.put(registry.url_for("/v2/foo/manifests/v2"), data=iter([b"x" * 20, b"x" * 10]), timeout=10)
    assert chunked.request.headers["Transfer-Encoding"] == "chunked"
    error = chunked.json()["errors"][0]
    assert (chunked.status_code, error["code"], error["message"]) == (
        413, "SIZE_INVALID", "manifest too large (30 bytes, max 10)")


def test_oversize_manifest_invalid() -> None:
    client, _ = make(max_manifest_size=10, oversize_manifest_invalid=True)
    assert code(client.put("/v2/foo/manifests/v2", data=b"x" * 11)) == (
        400, "MANIFEST_INVALID", "http: request body too large")
    assert client.put("/v2/foo/manifests/v1", data=b"x" * 10).status_code == 201


def test_referrers_method_status() -> None:
    assert make()[0].post(f"/v2/foo/referrers/{F}").status_code == 405
    assert make(referrers_method_status=400)[0].post(f"/v2/foo/referrers/{F}").status_code == 400


def test_upload_state() -> None:
    client, _ = make(upload_state=True)
    location = client.post("/v2/foo/blobs/uploads/").headers["Location"]
    path, _, state = location.partition("?_state=")
    assert state
    assert code(client.patch(path, data=b"foo"))[:2] == (404, "BLOB_UPLOAD_INVALID")  # the token is required
    moved = client.patch(location, data=b"foo").headers["Location"]
    assert moved != location
    assert code(client.patch(location, data=b"bar"))[:2] == (404, "BLOB_UPLOAD_INVALID")  # a stale token
    assert client.get(moved).status_code == 204
    assert client.put(f"{moved}&digest={F}").status_code == 201


def test_digest_invalid_code() -> None:
    assert code(make(digest_invalid_code=True)[0].get("/v2/foo/blobs/sha256:bad")) == (
        400, "DIGEST_INVALID", "invalid digest")
    assert code(make()[0].get("/v2/foo/blobs/sha256:bad"))[:2] == (400, "UNKNOWN")


def test_name_unknown_for_content() -> None:
    client, _ = make(name_unknown_for_content=False)
    assert code(client.get(f"/v2/nope/blobs/{F}"))[:2] == (404, "BLOB_UNKNOWN")
    assert code(client.get("/v2/nope/manifests/latest"))[:2] == (404, "MANIFEST_UNKNOWN")
    assert code(client.get("/v2/nope/tags/list"))[:2] == (404, "NAME_UNKNOWN")


def test_distribution_accept() -> None:
    client, store = make(distribution_accept=True)
    store.put_manifest("foo", "oci", b"{}", OCI_MANIFEST)
    store.put_manifest("foo", "docker", b"{ }", DOCKER_MANIFEST)
    assert code(client.get("/v2/foo/manifests/oci"))[:2] == (404, "MANIFEST_UNKNOWN")
    assert code(client.get("/v2/foo/manifests/oci", headers={"Accept": "*/*"}))[:2] == (404, "MANIFEST_UNKNOWN")
    assert client.get("/v2/foo/manifests/oci", headers={"Accept": OCI_MANIFEST}).status_code == 200
    assert code(client.get("/v2/foo/manifests/docker", headers={"Accept": OCI_MANIFEST}))[:2] == (400, "MANIFEST_INVALID")
    docker_digest = digest_of(b"{ }")
    assert client.get(f"/v2/foo/manifests/{docker_digest}", headers={"Accept": OCI_MANIFEST}).status_code == 200
    # A Docker list by tag without its type: its linux/amd64 manifest, with that manifest's own type and digest.
    listed = [(docker_digest, "amd64"), (digest_of(b"{}"), "arm64")]
    store.put_manifest("foo", "list", _docker_list(listed), DOCKER_LIST)
    r = client.get("/v2/foo/manifests/list", headers={"Accept": DOCKER_MANIFEST})
    assert (r.status_code, r.data, r.headers["Content-Type"], r.headers["Docker-Content-Digest"]) == (
        200, b"{ }", DOCKER_MANIFEST, docker_digest)
    assert client.get("/v2/foo/manifests/list", headers={"Accept": DOCKER_LIST}).headers["Content-Type"] == DOCKER_LIST
    assert code(client.get("/v2/foo/manifests/list"))[:2] == (400, "MANIFEST_INVALID")  # no schema 2 type accepted
    store.put_manifest("foo", "arm", _docker_list(listed[1:]), DOCKER_LIST)
    assert code(client.get("/v2/foo/manifests/arm", headers={"Accept": DOCKER_MANIFEST}))[:2] == (
        404, "MANIFEST_UNKNOWN")


def _docker_list(entries: list[tuple[str, str]]) -> bytes:
    return json.dumps({"schemaVersion": 2, "mediaType": DOCKER_LIST, "manifests": [
        {"mediaType": DOCKER_MANIFEST, "digest": d, "size": 3, "platform": {"architecture": a, "os": "linux"}}
        for d, a in entries]}).encode()


def test_tag_query() -> None:
    for tag_query in (True, False):
        client, _ = make(tag_query=tag_query)
        r = client.put(f"/v2/foo/manifests/{digest_of(b'{}')}?tag=a&tag=b", data=b"{}")
        assert (r.status_code, r.headers.getlist("OCI-Tag")) == (201, ["a", "b"] if tag_query else [])
        assert client.get("/v2/foo/manifests/a").status_code == (200 if tag_query else 404)


def test_distribution_layer_urls() -> None:
    nondistributable = "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"
    missing = digest_of(b"not here")

    def push(client: Client, layer: dict[str, Any]) -> TestResponse:
        body = json.dumps({"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": {
            "mediaType": "a/b", "digest": F, "size": 3}, "layers": [layer]})
        return client.put("/v2/foo/manifests/v1", data=body, headers={"Content-Type": OCI_MANIFEST})

    foreign = {"mediaType": nondistributable, "digest": missing, "size": 8, "urls": ["https://example.com/l"]}
    plain, store = make()
    store.put_blob("foo", [b"foo"], F)
    assert push(plain, foreign).status_code == 201  # need not be present
    client, store = make(distribution_layer_urls=True)
    store.put_blob("foo", [b"foo"], F)
    refusal = f"unknown error: layer {missing}: no layer URL is allowed, and a Docker foreign layer needs one"
    assert code(push(client, foreign)) == (500, "UNKNOWN", refusal)
    unlisted = {k: v for k, v in foreign.items() if k != "urls"}
    assert code(push(client, unlisted))[:2] == (404, "MANIFEST_BLOB_UNKNOWN")  # without urls: like any layer
    zstd = dict(foreign, mediaType="application/vnd.oci.image.layer.v1.tar+zstd")
    assert push(client, zstd).status_code == 201  # urls distribution does not check: not looked for


def test_digest_algorithms() -> None:
    x512 = digest_of(b"foo", "sha512")
    r = make()[0].post(f"/v2/foo/blobs/uploads/?digest={x512}", data=b"foo")
    assert (r.status_code, r.headers["Docker-Content-Digest"]) == (201, x512)
    client, _ = make(digest_algorithms=("sha256",))
    r = client.post(f"/v2/foo/blobs/uploads/?digest={x512}", data=b"foo")
    assert (r.status_code, r.headers["Location"], r.headers["Docker-Content-Digest"]) == (201, f"/v2/foo/blobs/{F}", F)
    for url in (f"/v2/foo/blobs/{x512}", f"/v2/foo/blobs/{F}"):  # the pushed digest stays an alias
        r = client.get(url)
        assert (r.status_code, r.data, r.headers["Docker-Content-Digest"]) == (200, b"foo", F)
    assert code(client.post(f"/v2/foo/blobs/uploads/?digest={x512}", data=b"bar"))[:2] == (400, "DIGEST_INVALID")
    r = client.post(f"/v2/bar/blobs/uploads/?mount={x512}&from=foo")  # answers mounted, links nothing
    assert (r.status_code, r.headers["Docker-Content-Digest"]) == (201, x512)
    assert client.get(f"/v2/bar/blobs/{x512}").status_code == client.get(f"/v2/bar/blobs/{F}").status_code == 404
    assert client.post(f"/v2/baz/blobs/uploads/?mount={F}&from=foo").status_code == 201
    assert client.get(f"/v2/baz/blobs/{F}").status_code == 200
    manifest = b'{"schemaVersion":2}'
    assert code(client.put(f"/v2/foo/manifests/{digest_of(manifest, 'sha512')}", data=manifest))[:2] == (
        400, "DIGEST_INVALID")
    with pytest.raises(TypeError, match="digest_algorithms"):
        Options(digest_algorithms=("md5",))


def test_digest_shaped_tags() -> None:
    assert make()[0].get("/v2/foo/manifests/sha256:xyz").status_code == 404
    client, store = make(digest_shaped_tags=True)
    store.put_manifest("foo", "v1", b"{}")
    for method in ("GET", "HEAD"):
        assert client.open("/v2/foo/manifests/sha256:xyz", method=method).status_code == 500
    assert code(client.get(f"/v2/foo/manifests/sha256:{'a' * 32}")) == (
        500, "UNKNOWN", f"unknown error: no tag can be named 'sha256:{'a' * 32}'")
    assert code(client.delete("/v2/foo/manifests/md5:abc"))[:2] == (400, "DIGEST_INVALID")
    assert code(client.put("/v2/foo/manifests/sha256:xyz", data=b"[1]"))[0] == 500
    assert client.get(f"/v2/foo/manifests/{digest_of(b'[1]')}").data == b"[1]"  # stored before the tag failed
    assert client.get("/v2/foo/manifests/sha256:").status_code == 404  # no digest shape: not found


def test_distribution_range_errors() -> None:
    blob = bytes(100)
    client, store = make(distribution_range_errors=True, range_not_satisfiable=True)
    store.put_blob("foo", [blob], digest_of(blob))
    r = client.get(f"/v2/foo/blobs/{digest_of(blob)}", headers={"Range": "bytes=500-600"})
    assert (r.status_code, r.data, dict(r.headers)) == (416, b"invalid range: failed to overlap\n", {
        "Content-Type": "text/plain; charset=utf-8", "Docker-Content-Digest": digest_of(blob),
        "ETag": f'"{digest_of(blob)}"', "Content-Length": "100", "Content-Range": "bytes */100", "Connection": "close",
        "Docker-Distribution-API-Version": "registry/2.0"})
    r = client.get(f"/v2/foo/blobs/{digest_of(blob)}", headers={"Range": "bytes=50-0"})
    assert (r.status_code, r.data, "Content-Range" in r.headers) == (416, b"invalid range\n", False)
    store.put_blob("foo", [b"tiny"], digest_of(b"tiny"))  # never more than the announced length: the text is cut
    r = client.get(f"/v2/foo/blobs/{digest_of(b'tiny')}", headers={"Range": "bytes=9-"})
    assert (r.status_code, r.data, r.headers["Content-Length"], "Connection" in r.headers) == (416, b"inva", "4", False)
    # On the wire: the body stops short of its Content-Length and the connection closes.
    with OCIRegistry(Options(distribution_range_errors=True, range_not_satisfiable=True)) as registry:
        registry.store.put_blob("foo", [blob], digest_of(blob))
        with socket.create_connection(("127.0.0.1", registry.port), timeout=10) as sock:
            sock.sendall(f"GET /v2/foo/blobs/{digest_of(blob)} HTTP/1.1\r\nHost: x\r\nRange: bytes=50-0\r\n"
                         "\r\n".encode())
            answer = b"".join(iter(lambda: sock.recv(65536), b""))
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 416 ") and b"Content-Length: 100" in head and body == b"invalid range\n"


def test_manifest_blob_unknown_status() -> None:
    body = json.dumps({"schemaVersion": 2, "config": {"mediaType": "a/b", "digest": F, "size": 3}, "layers": []})
    r = make(manifest_blob_unknown_status=400)[0].put("/v2/foo/manifests/v1", data=body,
                                                       headers={"Content-Type": OCI_MANIFEST})
    assert code(r)[:2] == (400, "MANIFEST_BLOB_UNKNOWN")


def test_delete_tags() -> None:
    client, store = make(delete_tags=False)
    store.put_manifest("foo", "latest", b"foo")
    assert code(client.delete("/v2/foo/manifests/latest"))[:2] == (400, "DIGEST_INVALID")
    assert store.tags("foo") == (["latest"], False)
    assert client.delete(f"/v2/foo/manifests/{F}").status_code == 202


def test_tag_pagination() -> None:
    client, store = make(tag_pagination=False)
    for tag in "abc":
        store.put_manifest("foo", tag, b"x")
    r = client.get("/v2/foo/tags/list?n=1&last=a")
    assert json.loads(r.data)["tags"] == ["a", "b", "c"] and "Link" not in r.headers
    assert client.get("/v2/foo/tags/list?n=x").status_code == 200


def test_distribution_pagination() -> None:
    client, store = make(distribution_pagination=True, max_page_size=2)
    store.put_blob("foo", [b"x"], digest_of(b"x"))
    assert client.get("/v2/_catalog?n=x").status_code == 200
    assert code(client.get("/v2/_catalog?n=3")) == (400, "PAGINATION_NUMBER_INVALID", "invalid number of results requested")


def test_catalog_default_page_size() -> None:
    client, store = make(catalog_default_page_size=2)
    for name in "abc":
        store.put_manifest(name, "v1", b"x")
    r = client.get("/v2/_catalog")
    assert (json.loads(r.data)["repositories"], r.headers["Link"]) == (["a", "b"], '</v2/_catalog?last=b&n=2>;rel="next"')


@pytest.mark.parametrize("on", [True, False])
def test_catalog_lists_blob_repositories(on: bool) -> None:
    client, store = make(catalog_lists_blob_repositories=on)
    store.start_upload("only-upload")
    store.put_blob("with-blob", [b"x"], digest_of(b"x"))
    store.put_manifest("with-manifest", "v1", b"x")
    listed = json.loads(client.get("/v2/_catalog").data)["repositories"]
    assert listed == (["with-blob", "with-manifest"] if on else ["with-manifest"])


@pytest.mark.parametrize("on", [True, False])
def test_tags_list_needs_tag(on: bool) -> None:
    client, store = make(tags_list_needs_tag=on)
    store.put_manifest("foo", digest_of(b"x"), b"x")
    r = client.get("/v2/foo/tags/list")
    unknown = b'{"errors":[{"code":"NAME_UNKNOWN","message":"repository name not known to registry"}]}'
    assert (r.status_code, r.data) == ((404, unknown) if on else (200, b'{"name":"foo","tags":[]}'))
    store.put_manifest("foo", "v1", b"x")
    assert json.loads(client.get("/v2/foo/tags/list").data)["tags"] == ["v1"]


@pytest.mark.parametrize("on", [True, False])
def test_spec_error_codes(on: bool) -> None:
    client, _ = make(spec_error_codes=on)
    wanted = "UNSUPPORTED" if on else "UNKNOWN"
    assert code(client.get("/v2/nothing/here")) == (404, wanted, "page not found")
    assert code(client.get("/v2/foo/tags/list?n=x")) == (400, wanted, "query parameter n is not a valid integer")
    assert code(client.put("/v2/foo/manifests/-bad", data=b"x"))[:2] == (400, "MANIFEST_INVALID" if on else "TAG_INVALID")


def test_plain_router_errors() -> None:
    client, _ = make(plain_router_errors=True)
    for url in ("/v2/nothing", "/v2/Upper/tags/list", "/v2/foo/manifests/.bad"):
        r = client.get(url)
        assert (r.status_code, r.data, r.headers["Content-Type"]) == (404, b"404 page not found\n",
                                                                       "text/plain; charset=utf-8")
    r = client.open(f"/v2/foo/blobs/{F}", method="PATCH")
    assert (r.status_code, r.data, r.headers["Allow"]) == (405, b"Method not allowed\n", "DELETE, GET, HEAD")
    assert make()[0].open("/v2/foo/manifests/x", method="POST").headers["Allow"] == "DELETE, GET, HEAD, PUT"


def test_ping_json() -> None:
    r = make(ping_json=True)[0].get("/v2/")
    assert (r.data, r.headers["Content-Type"]) == (b"{}", "application/json; charset=utf-8")


def test_idle_timeout() -> None:  # a socket matter: seen on a kept-alive connection
    import socket
    import time

    from pytest_ociregistry import OCIRegistry

    registry = OCIRegistry(Options(idle_timeout=1.0))
    registry.start()
    try:
        with socket.create_connection(("127.0.0.1", registry.port), timeout=10) as conn:
            for pause in (0.0, 0.3, 0.3):  # reused within the timeout: still open
                time.sleep(pause)
                conn.sendall(b"GET /v2/ HTTP/1.1\r\nHost: x\r\n\r\n")
                assert conn.recv(4096).startswith(b"HTTP/1.1 200 OK\r\n")
            idle_since = time.monotonic()
            assert conn.recv(1) == b""  # then closed by the server
            assert 0.6 < time.monotonic() - idle_since < 5  # our clock starts when we read the answer
        assert Options().idle_timeout == 60.0 and Options.replace_from_strings(Options(), idle_timeout="1.5").idle_timeout == 1.5
    finally:
        registry.stop()


def test_auth() -> None:  # the flows are in test_auth.py
    client, _ = make(auth=Auth("basic", users=(User("u", "p"),)))
    r = client.get("/v2/")
    assert (r.status_code, r.headers["WWW-Authenticate"]) == (401, 'Basic realm="pytest-ociregistry"')
    assert client.get("/v2/", auth=("u", "p")).status_code == 200


def test_blob_spill_size() -> None:
    # Past 1 KiB the bytes go to a file; a client sees nothing different: the same answers, the same bytes.
    data = bytes(range(256)) * 40
    digest = digest_of(data)
    for spill in (None, 1024):
        client, store = make(blob_spill_size=spill)
        location = client.post("/v2/foo/blobs/uploads/").headers["Location"]
        for at in range(0, len(data), 3000):
            assert client.patch(location, data=data[at : at + 3000]).headers["Range"] == f"0-{min(at + 3000, len(data)) - 1}"
        assert code(client.put(f"{location}?digest={digest_of(b'other')}"))[:2] == (400, "DIGEST_INVALID")
        assert client.put(f"{location}?digest={digest}").status_code == 201
        assert client.get(f"/v2/foo/blobs/{digest}").data == data
        assert client.get(f"/v2/foo/blobs/{digest}", headers={"Range": "bytes=1000-1100"}).data == data[1000:1101]
        assert type(store.get_blob("foo", digest).data).__name__ == ("bytearray" if spill is None else "Spilled")


def test_every_option_is_tested_here() -> None:
    """Each option has a test named after it, here or in a ``test_hosted_*.py`` module (the hosted presets'
    quirks, by concern)."""
    import ast
    import dataclasses
    from pathlib import Path

    tested = {name.removeprefix("test_") for name in globals() if name.startswith("test_")}
    for module in Path(__file__).parent.glob("test_hosted_*.py"):
        tree = ast.parse(module.read_text(encoding="utf-8"))
        tested |= {node.name.removeprefix("test_") for node in tree.body if isinstance(node, ast.FunctionDef)}
    assert {f.name for f in dataclasses.fields(Options)} - tested == set()


def test_presets_answer_as_the_registries_they_are_named_for() -> None:
    """One request each tells the presets apart by name: a Range past the end (the reference: 500; the spec and
    distribution: 416) and a single POST (distribution: an upload session, 202). The tables check them in full."""
    assert REFERENCE == Options()
    answers = {}
    for name, preset in BASE_PRESETS.items():
        store = Store(preset)
        store.put_blob("foo", [b"foo"], F)
        client = Client(RegistryApp(store))
        ranged = client.get(f"/v2/foo/blobs/{F}", headers={"Range": "bytes=5-9"}).status_code
        answers[name] = (ranged, client.post(f"/v2/foo/blobs/uploads/?digest={F}", data=b"foo").status_code)
    assert answers == {"reference": (500, 201), "spec": (416, 201), "distribution": (416, 202)}


def test_option_value_types() -> None:
    """Texts and named values (``Literal``) are option types too: checked by value, parsed from text stripped."""
    from typing import Literal

    from pytest_ociregistry import options

    style = Literal["plain", "fancy"]
    assert options._is_instance("fancy", style) and not options._is_instance("other", style)
    assert options._from_string(" fancy ", style) == "fancy"
    assert options._is_instance("x", str) and not options._is_instance(1, str)
    assert options._is_instance(None, str | None) and options._from_string("none", str | None) is None
    assert options._from_string(" a b ", str | None) == "a b"
