"""The hosted registries' upload and mount quirks (one test per option, named after it), each as a client sees it on
the wire: the status line, the headers and the body exactly, and what the store then holds."""

from __future__ import annotations

import socket

import pytest
from raw_http import Answer, exchange, put_blob

from pytest_ociregistry import PRESETS, OCIRegistry
from pytest_ociregistry.names import digest_of

MIB = 1 << 20
EMPTY_DIGEST = digest_of(b"")
JSON = "application/json"


def start(registry: OCIRegistry, repo: str = "foo") -> str:
    """POST an upload; its Location."""
    answer = exchange(registry, "POST", f"/v2/{repo}/blobs/uploads/")
    assert answer.status == 202, answer
    return location_of(registry, answer)


def location_of(registry: OCIRegistry, answer: Answer) -> str:
    location = answer.header("Location")
    assert location, answer
    return location.removeprefix(registry.url)


def patch(registry: OCIRegistry, location: str, data: bytes, at: int | None = None) -> Answer:
    """PATCH ``data`` (with ``Content-Range: <at>-<end>`` unless ``at`` is None)."""
    headers = {} if at is None else {"Content-Range": f"{at}-{at + len(data) - 1}"}
    return exchange(registry, "PATCH", location, headers, data)


def put(registry: OCIRegistry, location: str, digest: str, data: bytes = b"", **headers: str) -> Answer:
    return exchange(registry, "PUT", f"{location}{'&' if '?' in location else '?'}digest={digest}", headers, data)


def wire(answer: Answer) -> tuple[str, str | None, bytes]:
    """(status line, Content-Type, body)."""
    return answer.status_line, answer.header("Content-Type"), answer.body


def blob(registry: OCIRegistry, repo: str, digest: str) -> bytes | None:
    answer = exchange(registry, "GET", f"/v2/{repo}/blobs/{digest}")
    return answer.body if answer.status == 200 else None


# ECR -----------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [202, 201])
def test_chunk_status(oci_registry: OCIRegistry, status: int) -> None:
    """ECR-1: the chunk PATCH answers 201 Created; its Location and Range are those of the upload, as with 202."""
    oci_registry.configure(chunk_status=status)
    location = start(oci_registry)
    answer = patch(oci_registry, location, b"abc", at=0)
    assert answer.status_line == {202: "HTTP/1.1 202 Accepted", 201: "HTTP/1.1 201 Created"}[status]
    assert (location_of(oci_registry, answer), answer.header("Range"), answer.body) == (location, "0-2", b"")
    assert put(oci_registry, location, digest_of(b"abcd"), b"d", **{"Content-Range": "3-3"}).status == 201
    assert blob(oci_registry, "foo", digest_of(b"abcd")) == b"abcd"


@pytest.mark.parametrize("stale", [False, True])
def test_stale_upload_range(oci_registry: OCIRegistry, stale: bool) -> None:
    """ECR-2, its wire log at a smaller scale: three chunks answer ``Range: 0-3`` each, all three stored; a client
    that trusts ``Range`` sends the next chunk at 4 and meets 416; the right final chunk completes the blob."""
    oci_registry.configure(stale_upload_range=stale)
    data = b"\x01" * 4 + b"\x02" * 4 + b"\x03" * 4 + b"\x04" * 2
    location = start(oci_registry)
    ranges = [patch(oci_registry, location, data[i : i + 4], at=i).header("Range") for i in (0, 4, 8)]
    assert ranges == (["0-3", "0-3", "0-3"] if stale else ["0-3", "0-7", "0-11"])
    status = exchange(oci_registry, "GET", location)
    assert (status.status, status.header("Range")) == (204, "0-11")  # the status request tells the truth
    resent = patch(oci_registry, location, data[4:8], at=4)  # where the stale Range says to go on
    assert resent.status_line == "HTTP/1.1 416 Requested Range Not Satisfiable"
    done = put(oci_registry, location, digest_of(data), data[12:], **{"Content-Range": "12-13"})
    assert (done.status, done.header("Docker-Content-Digest")) == (201, digest_of(data))
    assert blob(oci_registry, "foo", digest_of(data)) == data


@pytest.mark.oci_registry(empty_upload_refused=True)
def test_empty_upload_refused(oci_registry: OCIRegistry) -> None:
    """ECR-4: POST, then PUT the empty blob with no body and no PATCH: 400 ``BLOB_UPLOAD_INVALID``, ECR's words."""
    location = start(oci_registry, "team/app")
    upload_id = location.rsplit("/", 1)[1]
    assert wire(put(oci_registry, location, EMPTY_DIGEST)) == (
        "HTTP/1.1 400 Bad Request", JSON,
        b'{"errors":[{"code":"BLOB_UPLOAD_INVALID","message":"The upload with id \'' + upload_id.encode()
        + b"' in the repository with name 'team/app' in registry with id '123456789012' cannot be completed because"
        b' it does not have any parts."}]}',
    )
    assert blob(oci_registry, "team/app", EMPTY_DIGEST) is None
    assert put(oci_registry, location, digest_of(b"x"), b"x").status == 201  # the upload stayed open
    assert put_blob(oci_registry, "team/app", b"y") == digest_of(b"y")  # any upload with bytes is taken


def test_mount_requires_manifest(oci_registry: OCIRegistry) -> None:
    """ECR-8: a blob the source holds but no manifest of it references is not mounted: 202, an upload session."""
    oci_registry.configure(mount_requires_manifest=True)
    loose = put_blob(oci_registry, "src", b"loose")
    oci_registry.push_image("src", "v1", layers=[b"in an image"], compress=False)
    layer = digest_of(b"in an image")
    refused = exchange(oci_registry, "POST", f"/v2/dst/blobs/uploads/?mount={loose}&from=src")
    assert (refused.status, refused.header("Docker-Content-Digest"), refused.header("Range")) == (202, None, "0-0")
    mounted = exchange(oci_registry, "POST", f"/v2/dst/blobs/uploads/?mount={layer}&from=src")
    assert (mounted.status, mounted.header("Docker-Content-Digest")) == (201, layer)
    assert blob(oci_registry, "dst", loose) is None
    oci_registry.configure(mount_requires_manifest=False)
    assert exchange(oci_registry, "POST", f"/v2/dst/blobs/uploads/?mount={loose}&from=src").status == 201


# GHCR ----------------------------------------------------------------------------------------------------------------

TOO_LARGE = (
    "HTTP/1.1 416 Requested Range Not Satisfiable", JSON,
    (b'{"errors":[{"code":"REQUESTED_RANGE_NOT_SATISFIABLE","message":"the request body is too large and exceeds the'
     b' maximum permissible limit of 4.00MiB"}]}'),
)


@pytest.mark.oci_registry(max_chunk_size=4 * MIB)
def test_max_chunk_size(oci_registry: OCIRegistry) -> None:
    """GHCR-2: a chunk over 4 MiB is refused with 416 and none of it stored; a 4 MiB chunk is taken, and so is a
    larger streamed PATCH (no Content-Range), as docker pushes."""
    data = bytes(range(256)) * (5 * MIB // 256)
    location = start(oci_registry)
    assert wire(patch(oci_registry, location, data[: 4 * MIB + 1], at=0)) == TOO_LARGE
    assert exchange(oci_registry, "GET", location).header("Range") == "0-0"
    assert patch(oci_registry, location, data[: 4 * MIB], at=0).header("Range") == f"0-{4 * MIB - 1}"
    done = put(oci_registry, location, digest_of(data), data[4 * MIB :], **{"Content-Range": f"{4 * MIB}-{5 * MIB - 1}"})
    assert done.status == 201
    streamed = start(oci_registry)
    assert patch(oci_registry, streamed, data).header("Range") == f"0-{5 * MIB - 1}"
    assert blob(oci_registry, "foo", digest_of(data)) == data


@pytest.mark.oci_registry(max_chunk_size=4 * MIB)
def test_max_chunk_size_counts_a_chunked_body(oci_registry: OCIRegistry) -> None:
    """A chunk sent with ``Transfer-Encoding: chunked`` is counted as it comes, even when its ``Content-Range``
    announced less."""
    location = start(oci_registry)
    piece = b"z" * MIB
    framed = b"".join(b"%x\r\n%s\r\n" % (len(piece), piece) for _ in range(5)) + b"0\r\n\r\n"
    headers = {"Content-Range": "0-3", "Transfer-Encoding": "chunked"}
    answer = exchange(oci_registry, "PATCH", location, headers, framed, length=False)
    assert wire(answer) == TOO_LARGE
    assert exchange(oci_registry, "GET", location).header("Range") == "0-0"


# Artifact Registry ---------------------------------------------------------------------------------------------------


@pytest.mark.oci_registry(chunked_uploads=False)
def test_chunked_uploads(oci_registry: OCIRegistry) -> None:
    """GAR-1: a PATCH with a Content-Range is refused unread; docker's single streamed PATCH, a PUT with the body
    and a single POST still push."""
    location = start(oci_registry)
    assert wire(patch(oci_registry, location, b"abc", at=0)) == (
        "HTTP/1.1 400 Bad Request", JSON,
        b'{"errors":[{"code":"UNSUPPORTED","message":"chunked uploads are not supported: use a monolithic upload"}]}',
    )
    assert patch(oci_registry, location, b"abc").header("Range") == "0-2"
    assert put(oci_registry, location, digest_of(b"abc")).status == 201
    assert put_blob(oci_registry, "foo", b"whole") == digest_of(b"whole")
    single = exchange(oci_registry, "POST", f"/v2/foo/blobs/uploads/?digest={digest_of(b'one')}", body=b"one")
    assert single.status == 201


# ACR -----------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("header", ["bytes 0-2/*", "bytes=0-2", "0-2/3", "bytes 0-2/3"])
@pytest.mark.oci_registry(bare_content_range=True)
def test_bare_content_range(oci_registry: OCIRegistry, header: str) -> None:
    """ACR-1: ``Content-Range: bytes 0-2/*`` (what .NET sends) is refused with ACR's detail; ``0-2`` is taken."""
    location = start(oci_registry)
    answer = exchange(oci_registry, "PATCH", location, {"Content-Range": header}, b"abc")
    assert wire(answer) == (
        "HTTP/1.1 416 Requested Range Not Satisfiable", JSON,
        b'{"errors":[{"code":"BLOB_UPLOAD_INVALID","message":"blob upload invalid","detail":{"Range":"'
        + header.strip().encode() + b'","Reason":"the Content-Range header format is invalid"}}]}',
    )
    assert patch(oci_registry, location, b"abc", at=0).status == 202
    final = put(oci_registry, location, digest_of(b"abcd"), b"d", **{"Content-Range": "bytes 3-3/4"})
    assert final.status == 416
    assert put(oci_registry, location, digest_of(b"abcd"), b"d", **{"Content-Range": "3-3"}).status == 201


INVALID = ("HTTP/1.1 404 Not Found", JSON, b'{"errors":[{"code":"BLOB_UPLOAD_INVALID","message":"blob upload invalid"}]}')


@pytest.mark.oci_registry(chunk_retry_invalidates=True)
def test_chunk_retry_invalidates(oci_registry: OCIRegistry) -> None:
    """ACR-2: a chunk sent again (its answer lost) ends the session: 404 ``BLOB_UPLOAD_INVALID`` to it and to every
    request after; a new POST starts over."""
    location = start(oci_registry)
    assert patch(oci_registry, location, b"abc", at=0).status == 202
    assert wire(patch(oci_registry, location, b"abc", at=0)) == INVALID
    assert wire(patch(oci_registry, location, b"def", at=3)) == INVALID
    assert wire(exchange(oci_registry, "GET", location)) == INVALID
    assert wire(put(oci_registry, location, digest_of(b"abc"))) == INVALID
    assert put_blob(oci_registry, "foo", b"abc") == digest_of(b"abc")


@pytest.mark.oci_registry(chunk_retry_invalidates=True)
def test_chunk_retry_invalidates_after_a_chunk_cut_short(oci_registry: OCIRegistry) -> None:
    """ACR-2: a chunk whose connection drops part-way leaves the session dead: the retry answers 404."""
    location = start(oci_registry)
    with socket.create_connection(("127.0.0.1", oci_registry.port), timeout=10) as sock:
        sock.sendall(f"PATCH {location} HTTP/1.1\r\nHost: x\r\nContent-Range: 0-9\r\nContent-Length: 10\r\n\r\n"
                     "abcde".encode())
        sock.shutdown(socket.SHUT_WR)
        sock.recv(65536)  # the answer to a body cut short, or nothing
    assert wire(patch(oci_registry, location, b"abcdefghij", at=0)) == INVALID


# Quay ----------------------------------------------------------------------------------------------------------------


@pytest.mark.oci_registry(quay_upload_range=True)
def test_quay_upload_range(oci_registry: OCIRegistry) -> None:
    """QUAY-2: a new session answers ``Range: bytes=0--1`` (a mount that falls back too); the status request
    answers one past the last byte, with no ``Location``; the PATCH answer is right."""
    posted = exchange(oci_registry, "POST", "/v2/foo/blobs/uploads/")
    assert (posted.status_line, posted.header("Range")) == ("HTTP/1.1 202 Accepted", "bytes=0--1")
    location = location_of(oci_registry, posted)
    fallback = exchange(oci_registry, "POST", f"/v2/foo/blobs/uploads/?mount={digest_of(b'no')}&from=bar")
    assert (fallback.status, fallback.header("Range")) == (202, "bytes=0--1")
    status = exchange(oci_registry, "GET", location)
    assert (status.status_line, status.header("Range"), status.header("Location")) == (
        "HTTP/1.1 204 No Content", "bytes=0-0", None)
    assert patch(oci_registry, location, b"abc", at=0).header("Range") == "0-2"
    status = exchange(oci_registry, "GET", location)
    assert (status.status, status.header("Range"), status.header("Location")) == (204, "bytes=0-3", None)
    strict = exchange(oci_registry, "PATCH", location, {"Content-Range": "bytes 3-5/*"}, b"def")
    assert wire(strict) == (
        "HTTP/1.1 400 Bad Request", JSON,
        b'{"errors":[{"code":"INVALID_REQUEST","message":"Invalid range header","detail":{}}]}',
    )
    skipped = patch(oci_registry, location, b"def", at=4)
    assert (skipped.status_line, skipped.header("Range"), skipped.header("Docker-Upload-UUID")) == (
        "HTTP/1.1 416 Requested Range Not Satisfiable", "0-3", location.rsplit("/", 1)[1])
    assert (location_of(oci_registry, skipped), skipped.header("Content-Length"), skipped.body) == (location, "0", b"")
    final = put(oci_registry, location, digest_of(b"abcdef"), b"def", **{"Content-Range": "2-4"})
    assert (final.status, final.header("Range"), final.body) == (416, "0-3", b"")
    assert put(oci_registry, location, digest_of(b"abc")).status == 201


@pytest.mark.parametrize("preset", ["quay", "ecr"])
def test_automatic_mount(oci_registry: OCIRegistry, preset: str) -> None:
    """QUAY-5: a hosted preset answers a mount without ``from`` with an upload session (202), mounting nothing."""
    oci_registry.options = PRESETS[preset]
    digest = put_blob(oci_registry, "src", b"x")
    answer = exchange(oci_registry, "POST", f"/v2/dst/blobs/uploads/?mount={digest}")
    assert (answer.status, answer.header("Docker-Content-Digest")) == (202, None)
    assert blob(oci_registry, "dst", digest) is None


# Harbor --------------------------------------------------------------------------------------------------------------


@pytest.mark.oci_registry(mount_missing_project_unauthorized=True)
def test_mount_missing_project_unauthorized(oci_registry: OCIRegistry) -> None:
    """HARBOR-5: a mount from a project that does not exist answers 401 with an empty challenge; from a project that
    exists, a repository that does not falls back to 202 as the spec says."""
    digest = put_blob(oci_registry, "library/app", b"x")
    answer = exchange(oci_registry, "POST", f"/v2/target/app/blobs/uploads/?mount={digest}&from=examplegroup/repo")
    assert answer.status_line == "HTTP/1.1 401 Unauthorized"
    assert (answer.header("Www-Authenticate"), answer.header("Content-Type"), answer.body) == (
        "", "application/json; charset=utf-8",
        (b'{"errors":[{"code":"UNAUTHORIZED","message":"project examplegroup not found: project examplegroup not'
         b' found"}]}'),
    )
    missing_repo = f"/v2/target/app/blobs/uploads/?mount={digest}&from=library/other"
    assert exchange(oci_registry, "POST", missing_repo).status == 202
    mounted = exchange(oci_registry, "POST", f"/v2/target/app/blobs/uploads/?mount={digest}&from=library/app")
    assert (mounted.status, mounted.header("Docker-Content-Digest")) == (201, digest)


# zot and Artifactory (historical: options only) -----------------------------------------------------------------------


@pytest.mark.oci_registry(chunk_upload_range=True)
def test_chunk_upload_range(oci_registry: OCIRegistry) -> None:
    """ZOT-1: each PATCH answers the range of its own chunk, so the second one's ``Range`` is not ``0-<end>``."""
    location = start(oci_registry)
    assert [patch(oci_registry, location, b"abcd", at=i).header("Range") for i in (0, 4)] == ["0-3", "4-7"]
    assert exchange(oci_registry, "GET", location).header("Range") == "0-7"
    assert put(oci_registry, location, digest_of(b"abcdabcd")).status == 201


@pytest.mark.oci_registry(put_body_needs_patch=True)
def test_put_body_needs_patch(oci_registry: OCIRegistry) -> None:
    """ART-4: POST then PUT with the blob as its body answers 404 ``BLOB_UNKNOWN``; POST, PATCH, empty PUT works."""
    location = start(oci_registry)
    assert wire(put(oci_registry, location, digest_of(b"abc"), b"abc")) == (
        "HTTP/1.1 404 Not Found", JSON, b'{"errors":[{"code":"BLOB_UNKNOWN","message":"blob unknown to registry"}]}',
    )
    assert blob(oci_registry, "foo", digest_of(b"abc")) is None
    assert exchange(oci_registry, "GET", location).header("Range") == "0-0"
    assert patch(oci_registry, location, b"abc").status == 202
    assert put(oci_registry, location, digest_of(b"abc")).status == 201
    assert blob(oci_registry, "foo", digest_of(b"abc")) == b"abc"


# The presets ----------------------------------------------------------------------------------------------------------


def test_the_ecr_preset_pushes_as_ecr(oci_registry: OCIRegistry) -> None:
    """``ecr``: chunk PATCHes answer 201 and a stale ``Range``; the empty upload is refused."""
    oci_registry.options = PRESETS["ecr"]
    location = start(oci_registry)
    answers = [patch(oci_registry, location, b"abcd", at=i) for i in (0, 4)]
    assert [(a.status, a.header("Range")) for a in answers] == [(201, "0-3"), (201, "0-3")]
    assert put(oci_registry, location, digest_of(b"abcdabcd")).status == 201
    assert put(oci_registry, start(oci_registry), EMPTY_DIGEST).status == 400


@pytest.mark.parametrize(
    ("preset", "status"), [("ghcr", 416), ("gar", 400), ("acr", 202), ("quay", 202), ("reference", 202)]
)
def test_a_large_chunk_under_each_preset(oci_registry: OCIRegistry, preset: str, status: int) -> None:
    """A 5 MiB chunk with ``Content-Range``: GHCR refuses it (416), Artifact Registry any chunk (400)."""
    oci_registry.options = PRESETS[preset]
    assert patch(oci_registry, start(oci_registry), b"z" * 5 * MIB, at=0).status == status
