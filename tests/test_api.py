"""The HTTP API as a plain WSGI app (no socket): what the spec asks beyond the reference table."""

from __future__ import annotations

import io
import json
from typing import Any

import httpx
import pytest
from werkzeug.exceptions import BadRequestKeyError
from werkzeug.test import Client, TestResponse

from pytest_ociregistry import Options, RegistryApp, RegistryError, Store
from pytest_ociregistry.api import Response
from pytest_ociregistry.names import digest_of

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"


@pytest.fixture
def store() -> Store:
    return Store()


@pytest.fixture
def client(store: Store) -> Client:
    return Client(RegistryApp(store))


def error(response: TestResponse) -> tuple[int, str]:
    body = json.loads(response.data)
    assert list(body) == ["errors"] and len(body["errors"]) == 1
    return response.status_code, body["errors"][0]["code"]


def push_blob(client: Client, repo: str, data: bytes) -> str:
    digest = digest_of(data)
    r = client.post(f"/v2/{repo}/blobs/uploads/?digest={digest}", data=data)
    assert r.status_code == 201, r.data
    return digest


def image_manifest(config: str, layers: list[str], subject: str | None = None, **extra: object) -> bytes:
    doc: dict[str, object] = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config, "size": 2},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": d, "size": 1} for d in layers],
        **extra,
    }
    if subject:
        doc["subject"] = {"mediaType": OCI_MANIFEST, "digest": subject, "size": 1}
    return json.dumps(doc).encode()


def push_image(client: Client, repo: str, tag: str, **extra: object) -> tuple[str, bytes]:
    config = push_blob(client, repo, b"{}")
    layer = push_blob(client, repo, f"layer {tag}".encode())
    body = image_manifest(config, [layer], **extra)  # type: ignore[arg-type]
    r = client.put(f"/v2/{repo}/manifests/{tag}", data=body, headers={"Content-Type": OCI_MANIFEST})
    assert r.status_code == 201, r.data
    return r.headers["Docker-Content-Digest"], body


class TestUploads:
    def test_post_then_put_with_body(self, client: Client, store: Store) -> None:
        r = client.post("/v2/a/b/blobs/uploads/")
        assert r.status_code == 202 and r.headers["Range"] == "0-0" and r.data == b""
        location = r.headers["Location"]
        assert location.startswith("/v2/a/b/blobs/uploads/")
        r = client.put(f"{location}?digest={digest_of(b'data')}", data=b"data")
        assert r.status_code == 201
        assert r.headers["Location"] == f"/v2/a/b/blobs/{digest_of(b'data')}"
        assert store.get_blob("a/b", digest_of(b"data")).data == b"data"
        assert error(client.get(location)) == (404, "BLOB_UPLOAD_UNKNOWN")  # the session is over

    def test_chunks_status_and_percent_encoded_digest(self, client: Client) -> None:
        location = client.post("/v2/foo/blobs/uploads/").headers["Location"]
        r = client.patch(location, data=b"hello ", headers={"Content-Range": "0-5"})
        assert (r.status_code, r.headers["Range"]) == (202, "0-5")
        r = client.patch(r.headers["Location"], data=b"world")  # no Content-Range: appended
        assert (r.status_code, r.headers["Range"]) == (202, "0-10")
        status = client.get(location)
        assert (status.status_code, status.headers["Range"], status.headers["Location"]) == (204, "0-10", location)
        digest = digest_of(b"hello world").replace(":", "%3A")
        assert client.put(f"{location}?digest={digest}").status_code == 201
        assert client.get(f"/v2/foo/blobs/{digest_of(b'hello world')}").data == b"hello world"

    def test_digest_mismatch_stores_nothing_and_keeps_the_upload(self, client: Client, store: Store) -> None:
        location = client.post("/v2/foo/blobs/uploads/").headers["Location"]
        client.patch(location, data=b"abc", headers={"Content-Range": "0-2"})
        r = client.put(f"{location}?digest={digest_of(b'abcY')}", data=b"X")
        assert error(r) == (400, "DIGEST_INVALID")
        assert client.get(location).headers["Range"] == "0-2"  # the final chunk was rolled back
        with pytest.raises(RegistryError, match="NAME_UNKNOWN"):  # nothing stored: only an upload, no repository
            store.get_blob("foo", digest_of(b"abcX"))
        assert client.put(f"{location}?digest={digest_of(b'abcd')}", data=b"d").status_code == 201

    def test_single_post_digest_mismatch(self, client: Client) -> None:
        assert error(client.post(f"/v2/foo/blobs/uploads/?digest={digest_of(b'x')}", data=b"y")) == (
            400,
            "DIGEST_INVALID",
        )

    def test_content_range_disagrees_with_length(self, client: Client) -> None:
        location = client.post("/v2/foo/blobs/uploads/").headers["Location"]
        r = client.patch(location, data=b"abc", headers={"Content-Range": "0-5"})
        assert error(r) == (400, "UNSUPPORTED")
        assert json.loads(r.data)["errors"][0]["message"] == "Content-Range implies a length of 6 but Content-Length is 3"

    def test_cancel(self, client: Client) -> None:
        location = client.post("/v2/foo/blobs/uploads/").headers["Location"]
        assert client.delete(location).status_code == 204
        assert error(client.get(location)) == (404, "BLOB_UPLOAD_UNKNOWN")
        assert error(client.delete(location)) == (404, "BLOB_UPLOAD_UNKNOWN")

    def test_unknown_upload_status(self, client: Client) -> None:
        assert error(client.get("/v2/foo/blobs/uploads/nope")) == (404, "BLOB_UPLOAD_UNKNOWN")

    def test_mount(self, client: Client, store: Store) -> None:
        digest = push_blob(client, "src", b"shared")
        r = client.post(f"/v2/dst/blobs/uploads/?mount={digest}&from=src")
        assert (r.status_code, r.headers["Location"], r.headers["Docker-Content-Digest"]) == (
            201,
            f"/v2/dst/blobs/{digest}",
            digest,
        )
        assert store.get_blob("dst", digest).data == b"shared"

    def test_mount_of_a_missing_blob_starts_an_upload(self, client: Client) -> None:
        r = client.post(f"/v2/dst/blobs/uploads/?mount={digest_of(b'none')}&from=src")
        assert r.status_code == 202 and "/v2/dst/blobs/uploads/" in r.headers["Location"]


class TestBlobs:
    def test_get_headers(self, client: Client) -> None:
        digest = push_blob(client, "foo", b"content")
        r = client.get(f"/v2/foo/blobs/{digest}")
        assert r.data == b"content"
        assert r.headers["Content-Length"] == "7"
        assert r.headers["Content-Type"] == "application/octet-stream"
        assert r.headers["Docker-Content-Digest"] == digest

    def test_suffix_range(self, client: Client) -> None:
        digest = push_blob(client, "foo", b"hello world")
        r = client.get(f"/v2/foo/blobs/{digest}", headers={"Range": "bytes=-5"})
        assert (r.status_code, r.data, r.headers["Content-Range"]) == (206, b"world", "bytes 6-10/11")

    def test_range_at_the_end_is_unsatisfiable(self, client: Client) -> None:
        digest = push_blob(client, "foo", b"hello world")
        r = client.get(f"/v2/foo/blobs/{digest}", headers={"Range": "bytes=11-"})
        assert error(r) == (416, "RANGE_INVALID") and r.headers["Content-Range"] == "bytes */11"

    def test_unknown_blob_in_known_repository(self, client: Client) -> None:
        push_blob(client, "foo", b"x")
        assert error(client.get(f"/v2/foo/blobs/{digest_of(b'y')}")) == (404, "BLOB_UNKNOWN")

    def test_blobs_are_per_repository(self, client: Client) -> None:
        digest = push_blob(client, "foo", b"x")
        push_blob(client, "bar", b"y")
        assert error(client.get(f"/v2/bar/blobs/{digest}")) == (404, "BLOB_UNKNOWN")

    def test_delete(self, client: Client) -> None:
        digest = push_blob(client, "foo", b"x")
        assert client.delete(f"/v2/foo/blobs/{digest}").status_code == 202
        assert error(client.get(f"/v2/foo/blobs/{digest}")) == (404, "BLOB_UNKNOWN")
        assert error(client.delete(f"/v2/foo/blobs/{digest}")) == (404, "BLOB_UNKNOWN")

    def test_sha512(self, client: Client) -> None:
        digest = digest_of(b"x", "sha512")
        assert client.post(f"/v2/foo/blobs/uploads/?digest={digest}", data=b"x").status_code == 201
        assert client.get(f"/v2/foo/blobs/{digest}").data == b"x"


class TestManifests:
    def test_put_get_head_exact(self, client: Client) -> None:
        digest, body = push_image(client, "foo", "v1")
        for ref in ("v1", digest):
            r = client.get(f"/v2/foo/manifests/{ref}")
            assert r.data == body
            assert r.headers["Content-Type"] == OCI_MANIFEST
            assert r.headers["Docker-Content-Digest"] == digest
            assert r.headers["Content-Length"] == str(len(body))
            h = client.head(f"/v2/foo/manifests/{ref}")
            assert h.data == b"" and h.headers["Content-Length"] == str(len(body))

    def test_put_location(self, client: Client) -> None:
        config = push_blob(client, "foo", b"{}")
        body = image_manifest(config, [])
        r = client.put("/v2/foo/manifests/v1", data=body, headers={"Content-Type": OCI_MANIFEST})
        assert r.headers["Location"] == f"/v2/foo/manifests/{digest_of(body)}"
        assert "OCI-Subject" not in r.headers

    def test_put_by_digest_with_tags(self, client: Client) -> None:
        r = client.put(f"/v2/foo/manifests/{digest_of(b'm')}?tag=a&tag=b", data=b"m")
        assert (r.status_code, r.headers.getlist("OCI-Tag")) == (201, ["a", "b"])
        assert json.loads(client.get("/v2/foo/tags/list").data)["tags"] == ["a", "b"]
        assert error(client.put(f"/v2/foo/manifests/{digest_of(b'm')}?tag=-x", data=b"m")) == (400, "TAG_INVALID")

    def test_put_by_wrong_digest(self, client: Client) -> None:
        r = client.put(f"/v2/foo/manifests/{digest_of(b'other')}", data=b"foo")
        assert error(r) == (400, "DIGEST_INVALID")

    def test_missing_blob(self, client: Client) -> None:
        body = image_manifest(digest_of(b"{}"), [])
        r = client.put("/v2/foo/manifests/v1", data=body, headers={"Content-Type": OCI_MANIFEST})
        assert error(r) == (404, "MANIFEST_BLOB_UNKNOWN")
        assert error(client.get("/v2/foo/manifests/v1")) == (404, "NAME_UNKNOWN")

    def test_invalid_json(self, client: Client) -> None:
        r = client.put("/v2/foo/manifests/v1", data=b"{not json", headers={"Content-Type": OCI_MANIFEST})
        assert error(r) == (400, "MANIFEST_INVALID")

    def test_delete_by_digest_removes_its_tags(self, client: Client) -> None:
        digest, _ = push_image(client, "foo", "v1")
        client.put("/v2/foo/manifests/v2", data=client.get(f"/v2/foo/manifests/{digest}").data,
                   headers={"Content-Type": OCI_MANIFEST})
        assert client.delete(f"/v2/foo/manifests/{digest}").status_code == 202
        assert error(client.get("/v2/foo/manifests/v1")) == (404, "MANIFEST_UNKNOWN")
        assert json.loads(client.get("/v2/foo/tags/list").data) == {"name": "foo", "tags": []}

    def test_delete_tag_keeps_the_manifest(self, client: Client) -> None:
        digest, body = push_image(client, "foo", "v1")
        assert client.delete("/v2/foo/manifests/v1").status_code == 202
        assert client.get(f"/v2/foo/manifests/{digest}").data == body

    def test_invalid_names(self, client: Client) -> None:
        assert error(client.get("/v2/Foo/manifests/v1")) == (400, "NAME_INVALID")
        assert error(client.get(f"/v2/{'a' * 256}/manifests/v1")) == (400, "NAME_INVALID")
        assert error(client.get("/v2/foo/manifests/-bad")) == (404, "UNKNOWN")  # nothing can be stored there
        assert error(client.put("/v2/foo/manifests/-bad", data=b"{}")) == (400, "TAG_INVALID")
        assert error(client.put(f"/v2/foo/manifests/{'a' * 129}", data=b"{}")) == (400, "TAG_INVALID")
        assert error(client.put("/v2/foo/manifests/sha256:bad", data=b"{}")) == (400, "UNKNOWN")  # badly formed digest


class TestListing:
    def test_tags_pagination_with_link(self, client: Client) -> None:
        _, body = push_image(client, "foo", "a")
        for tag in ("c", "b", "d"):
            client.put(f"/v2/foo/manifests/{tag}", data=body, headers={"Content-Type": OCI_MANIFEST})
        r = client.get("/v2/foo/tags/list?n=2")
        assert json.loads(r.data) == {"name": "foo", "tags": ["a", "b"]}
        assert r.headers["Link"] == '</v2/foo/tags/list?last=b&n=2>;rel="next"'
        assert r.headers["Content-Type"] == "application/json"
        r = client.get("/v2/foo/tags/list?last=b&n=2")
        assert json.loads(r.data)["tags"] == ["c", "d"] and "Link" not in r.headers

    def test_n_zero_and_bad_n(self, client: Client) -> None:
        push_image(client, "foo", "a")
        r = client.get("/v2/foo/tags/list?n=0")
        assert r.data == b'{"name":"foo","tags":[]}' and "Link" not in r.headers
        assert error(client.get("/v2/foo/tags/list?n=x")) == (400, "UNKNOWN")

    def test_catalog(self, client: Client) -> None:
        assert client.get("/v2/_catalog").data == b'{"repositories":[]}'
        for repo in ("b/x", "a", "c"):
            assert client.put(f"/v2/{repo}/manifests/v1", data=b"x").status_code == 201
        r = client.get("/v2/_catalog?n=2")
        assert r.data == b'{"repositories":["a","b/x"]}'
        assert r.headers["Link"] == '</v2/_catalog?last=b%2Fx&n=2>;rel="next"'


class TestReferrers:
    def test_listed_with_artifact_type_and_filter(self, client: Client) -> None:
        subject, _ = push_image(client, "foo", "v1")
        config = push_blob(client, "foo", b"{}")
        sig = image_manifest(config, [], subject=subject, artifactType="application/x-sig",
                             annotations={"k": "v"})
        r = client.put("/v2/foo/manifests/sig", data=sig, headers={"Content-Type": OCI_MANIFEST})
        assert r.headers["OCI-Subject"] == subject
        sbom = image_manifest(config, [], subject=subject)
        client.put("/v2/foo/manifests/sbom", data=sbom, headers={"Content-Type": OCI_MANIFEST})
        r = client.get(f"/v2/foo/referrers/{subject}")
        assert r.headers["Content-Type"] == OCI_INDEX
        listed = json.loads(r.data)["manifests"]
        expected = sorted(
            [
                {"mediaType": OCI_MANIFEST, "digest": digest_of(sig), "size": len(sig), "annotations": {"k": "v"},
                 "artifactType": "application/x-sig"},
                {"mediaType": OCI_MANIFEST, "digest": digest_of(sbom), "size": len(sbom),
                 "artifactType": "application/vnd.oci.image.config.v1+json"},
            ],
            key=lambda d: d["digest"],
        )
        assert listed == expected
        r = client.get(f"/v2/foo/referrers/{subject}?artifactType=application/x-sig")
        assert r.headers["OCI-Filters-Applied"] == "artifactType"
        assert [d["digest"] for d in json.loads(r.data)["manifests"]] == [digest_of(sig)]

    def test_dangling_subject_is_accepted(self, client: Client) -> None:
        config = push_blob(client, "foo", b"{}")
        body = image_manifest(config, [], subject=digest_of(b"absent"))
        r = client.put("/v2/foo/manifests/x", data=body, headers={"Content-Type": OCI_MANIFEST})
        assert r.status_code == 201
        listed = json.loads(client.get(f"/v2/foo/referrers/{digest_of(b'absent')}").data)["manifests"]
        assert [d["digest"] for d in listed] == [digest_of(body)]


def test_a_bug_answers_an_oci_error_not_a_traceback(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(store, "get_blob", broken)
    r = Client(RegistryApp(store)).get(f"/v2/foo/blobs/{digest_of(b'x')}")
    assert r.status_code == 500
    assert r.data == b'{"errors":[{"code":"UNKNOWN","message":"internal server error"}]}'


def test_options_are_read_per_request(store: Store, client: Client) -> None:
    store.options = Options(delete_enabled=False)
    r = client.delete(f"/v2/foo/blobs/{digest_of(b'x')}")
    assert (r.status_code, r.data) == (
        405,
        b'{"errors":[{"code":"UNSUPPORTED","message":"The operation is unsupported."}]}',
    )


def test_served_by_httpx_without_a_socket() -> None:
    client = httpx.Client(transport=httpx.WSGITransport(app=RegistryApp()), base_url="http://registry")
    digest = digest_of(b"no socket")
    assert client.post(f"/v2/foo/blobs/uploads/?digest={digest}", content=b"no socket").status_code == 201
    r = client.get(f"/v2/foo/blobs/{digest}")
    assert (r.status_code, r.content, r.headers["Docker-Content-Digest"]) == (200, b"no socket", digest)


# Pinned behaviours: each of these once changed without any test noticing ---------------------------------------


@pytest.mark.parametrize(
    ("header", "content_range", "body"),
    [
        ("bytes=-100", "bytes 0-10/11", b"hello world"),  # a suffix longer than the blob: the whole blob
        ("bytes=6-100", "bytes 6-10/11", b"world"),  # an end past the blob: up to its end
        ("bytes=0-10", "bytes 0-10/11", b"hello world"),
        ("bytes=10-", "bytes 10-10/11", b"d"),
    ],
)
def test_ranges_are_clamped_to_the_blob(client: Client, header: str, content_range: str, body: bytes) -> None:
    digest = push_blob(client, "foo", b"hello world")
    r = client.get(f"/v2/foo/blobs/{digest}", headers={"Range": header})
    assert (r.status_code, r.headers["Content-Range"], r.headers["Content-Length"], r.data) == (
        206, content_range, str(len(body)), body)


def push_referrer(client: Client, subject: str, artifact_type: str, repo: str = "foo", n: int = 0) -> str:
    config = push_blob(client, repo, b"{}")
    body = image_manifest(config, [], subject=subject, artifactType=artifact_type, annotations={"n": str(n)})
    r = client.put(f"/v2/{repo}/manifests/{digest_of(body)}", data=body, headers={"Content-Type": OCI_MANIFEST})
    assert r.status_code == 201, r.data
    return digest_of(body)


def test_referrers_are_listed_in_digest_order_whatever_the_push_order(client: Client) -> None:
    subject, _ = push_image(client, "foo", "v1")
    pushed = [push_referrer(client, subject, "application/x-sig", n=n) for n in range(6)]
    assert pushed != sorted(pushed)  # so that the push order would show
    listed = json.loads(client.get(f"/v2/foo/referrers/{subject}").data)["manifests"]
    assert [d["digest"] for d in listed] == sorted(pushed)


def test_referrers_of_another_repository_are_not_listed(client: Client) -> None:
    subject, _ = push_image(client, "foo", "v1")
    push_image(client, "bar", "v1")  # the same image: the same subject digest in another repository
    in_foo = push_referrer(client, subject, "application/x-sig", repo="foo")
    in_bar = push_referrer(client, subject, "application/x-sig", repo="bar", n=1)
    for repo, wanted in (("foo", in_foo), ("bar", in_bar)):
        listed = json.loads(client.get(f"/v2/{repo}/referrers/{subject}").data)["manifests"]
        assert [d["digest"] for d in listed] == [wanted]


@pytest.mark.parametrize(
    ("query", "options", "filtered"),
    [("", {}, False), ("?artifactType=application/x-sig", {}, True),
     ("?artifactType=application/x-sig", {"referrers_filtering": False}, False)],
)
def test_oci_filters_applied_only_on_filtered_answers(
    store: Store, client: Client, query: str, options: dict[str, bool], filtered: bool
) -> None:
    subject, _ = push_image(client, "foo", "v1")
    sig = push_referrer(client, subject, "application/x-sig")
    sbom = push_referrer(client, subject, "application/x-sbom", n=1)
    store.options = Options(**options)
    r = client.get(f"/v2/foo/referrers/{subject}{query}")
    listed = [d["digest"] for d in json.loads(r.data)["manifests"]]
    assert r.headers.get("OCI-Filters-Applied") == ("artifactType" if filtered else None)
    assert listed == ([sig] if filtered else sorted([sig, sbom]))


class TestUploadState:
    """With ``upload_state`` each upload URL carries a token bound to its upload and offset."""

    @pytest.fixture
    def store(self) -> Store:
        return Store(Options(upload_state=True))

    def start(self, client: Client, repo: str = "foo") -> str:
        r = client.post(f"/v2/{repo}/blobs/uploads/")
        assert r.status_code == 202
        return str(r.headers["Location"])

    def test_the_current_token_is_taken(self, client: Client) -> None:
        location = self.start(client)
        r = client.patch(location, data=b"abc", headers={"Content-Range": "0-2"})
        assert (r.status_code, r.headers["Range"]) == (202, "0-2")
        assert client.put(r.headers["Location"] + f"&digest={digest_of(b'abc')}").status_code == 201

    @pytest.mark.parametrize("state", ["", "0.", "0.0123456789abcdef0123456789abcdef", "x.y", "3"])
    def test_a_token_the_registry_did_not_sign_is_refused(self, client: Client, state: str) -> None:
        path = self.start(client).partition("?")[0]
        r = client.patch(f"{path}?_state={state}", data=b"abc", headers={"Content-Range": "0-2"})
        assert error(r) == (404, "BLOB_UPLOAD_INVALID")

    def test_a_token_is_bound_to_its_upload(self, client: Client) -> None:
        first, second = self.start(client), self.start(client)
        state = first.partition("?")[2]
        r = client.patch(f"{second.partition('?')[0]}?{state}", data=b"abc", headers={"Content-Range": "0-2"})
        assert error(r) == (404, "BLOB_UPLOAD_INVALID")
        other_repo = self.start(client, "bar")
        r = client.get(f"/v2/foo/blobs/uploads/{other_repo.partition('?')[0].rsplit('/', 1)[1]}?"
                       f"{other_repo.partition('?')[2]}")
        assert error(r) == (404, "BLOB_UPLOAD_INVALID")

    def test_a_stale_token_is_refused(self, client: Client) -> None:
        location = self.start(client)
        assert client.patch(location, data=b"abc", headers={"Content-Range": "0-2"}).status_code == 202
        r = client.patch(location, data=b"def", headers={"Content-Range": "3-5"})  # the token of offset 0
        assert error(r) == (404, "BLOB_UPLOAD_INVALID")


def test_without_a_socket_a_request_sees_the_options_it_began_with(store: Store) -> None:
    """Served as WSGI (no server), ``RegistryApp.handle`` binds the options itself: options changed while the body
    is read (here, by the read) do not reach the request."""

    class Body(io.BytesIO):
        def read(self, size: int | None = -1) -> bytes:
            store.options = Options(max_manifest_size=5, absolute_location=True)
            return super().read(size)

        def readinto(self, buffer: Any) -> int:
            store.options = Options(max_manifest_size=5, absolute_location=True)
            return super().readinto(buffer)

    body = b'{"not":"small"}'
    r = Client(RegistryApp(store)).put("/v2/foo/manifests/v1", input_stream=Body(body), content_length=len(body))
    assert (r.status_code, r.headers["Location"]) == (201, f"/v2/foo/manifests/{digest_of(body)}")


def test_accept_check_takes_a_wildcard_of_the_type(store: Store, client: Client) -> None:
    store.options = Options(accept_check=True)
    store.put_manifest("foo", "v1", b"{}", OCI_MANIFEST)
    for accept, status in (("application/*", 200), ("text/*", 404), ("*/*", 200)):
        assert (accept, client.get("/v2/foo/manifests/v1", headers={"Accept": accept}).status_code) == (accept, status)


def test_a_content_range_that_ends_before_it_starts_is_refused(client: Client) -> None:
    location = client.post("/v2/foo/blobs/uploads/").headers["Location"]
    assert client.patch(location, data=b"abc", headers={"Content-Range": "0-2"}).status_code == 202
    r = client.patch(location, data=b"", headers={"Content-Range": "3-2"})
    assert error(r) == (416, "RANGE_INVALID")


class TestResponseObject:
    def test_header_presence_ignores_case_and_a_missing_name_is_no_exception(self) -> None:
        headers = Response([b"{}"], 200, headers={"Content-Type": "application/json", "Content-Length": "2"}).headers
        assert "content-type" in headers and "CONTENT-LENGTH" in headers and "ETag" not in headers
        with pytest.raises(BadRequestKeyError):
            headers["ETag"]  # lookups that raise still raise werkzeug's error

    def test_a_buffered_body_is_sent_as_it_is_and_a_bodiless_answer_sends_nothing(self) -> None:
        response = Response([b"ab", b"c"], 200)
        assert response.get_app_iter({"REQUEST_METHOD": "GET"}) is response.response
        assert response.get_wsgi_headers({"REQUEST_METHOD": "GET"})["Content-Length"] == "3"
        assert list(response.get_app_iter({"REQUEST_METHOD": "HEAD"})) == []
        closed: list[bool] = []
        response.call_on_close(lambda: closed.append(True))
        app_iter = response.get_app_iter({"REQUEST_METHOD": "GET"})
        assert list(app_iter) == [b"ab", b"c"]
        app_iter.close()  # type: ignore[attr-defined]
        assert closed == [True]  # a body with something to call on close still goes through werkzeug's iterator
