"""Each test starts from an empty registry, whatever the last one left running: a request in flight across
:meth:`OCIRegistry.reset` writes nothing into the next test's store, and a request sees one set of options."""

from __future__ import annotations

import http.client
import json
import sys
import threading
import time
from types import FrameType

import pytest
import requests

from pytest_ociregistry import OCIRegistry
from pytest_ociregistry.manifest import OCI_MANIFEST
from pytest_ociregistry.names import digest_of
from pytest_ociregistry.server import RegistryServer

MANIFEST = (
    b'{"schemaVersion":2,"mediaType":"' + OCI_MANIFEST.encode() + b'","config":{"mediaType":'
    b'"application/vnd.oci.empty.v1+json","digest":"' + digest_of(b"{}").encode() + b'","size":2},"layers":[]}'
)


def _serving(frame: FrameType | None) -> bool:
    while frame is not None:
        if frame.f_code is RegistryServer.application.__code__:
            return True
        frame = frame.f_back
    return False


def wait_in_flight(count: int = 1, timeout: float = 10.0) -> None:
    """Wait until ``count`` requests are inside :meth:`RegistryServer.application` (begun, not yet answered)."""
    deadline = time.monotonic() + timeout
    while sum(map(_serving, sys._current_frames().values())) < count:
        assert time.monotonic() < deadline, f"fewer than {count} requests in flight after {timeout} s"
        time.sleep(0.005)


Answer = tuple[int, dict[str, str], bytes]
"""A status, the headers, the body."""


class Straddler:
    """A request sent in two halves: its headers and the first part of its body, then (``finish``) the rest."""

    def __init__(
        self, registry: OCIRegistry, method: str, path: str, body: bytes, headers: dict[str, str] | None = None
    ) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", registry.port, timeout=10)
        self.conn.putrequest(method, path, skip_accept_encoding=True)
        for name, value in {"Content-Length": str(len(body)), **(headers or {})}.items():
            self.conn.putheader(name, value)
        self.conn.endheaders()
        self.rest = body[len(body) // 2 :]
        self.conn.send(body[: len(body) // 2])
        wait_in_flight()

    def finish(self) -> Answer:
        """Send the rest of the body; the answer."""
        self.conn.send(self.rest)
        response = self.conn.getresponse()
        body = response.read()
        self.conn.close()
        return response.status, dict(response.getheaders()), body


# One snapshot of the options -----------------------------------------------------------------------------------


def test_a_request_sees_the_options_it_began_with(oci_registry: OCIRegistry) -> None:
    """configure() while a manifest PUT is in flight does not reach it: the api read the size cap before the body,
    the store read it again after, and the Location's form was read last."""
    oci_registry.push_blob("foo", b"{}")
    put = Straddler(oci_registry, "PUT", "/v2/foo/manifests/v1", MANIFEST, {"Content-Type": OCI_MANIFEST})
    oci_registry.configure(max_manifest_size=10, absolute_location=True)
    status, headers, _ = put.finish()
    assert (status, headers["Location"]) == (201, f"/v2/foo/manifests/{digest_of(MANIFEST)}")
    # The next request sees the new options.
    answer = requests.put(f"{oci_registry.url}/v2/foo/manifests/v2", MANIFEST, headers={"Content-Type": OCI_MANIFEST})
    assert answer.status_code == 413


# reset() fences the store ---------------------------------------------------------------------------------------

BLOB = bytes(range(256)) * 8
STALE = "the registry was reset while this request was in flight"


def assert_fenced(answer: Answer | requests.Response, code: str) -> None:
    """The answer to a request of an earlier generation: 404 with ``code`` and a message that says why."""
    if isinstance(answer, requests.Response):
        answer = answer.status_code, dict(answer.headers), answer.content
    status, headers, body = answer
    messages = {
        "NAME_UNKNOWN": "repository name not known to registry",
        "BLOB_UPLOAD_UNKNOWN": "blob upload unknown to registry",
    }
    assert (status, headers["Content-Type"]) == (404, "application/json"), body
    assert json.loads(body) == {"errors": [{"code": code, "message": f"{messages[code]}: {STALE}"}]}


def start_upload(registry: OCIRegistry) -> str:
    answer = requests.post(f"{registry.url}/v2/foo/blobs/uploads/")
    assert answer.status_code == 202
    return answer.headers["Location"]


def test_a_single_post_across_a_reset_stores_nothing(oci_registry: OCIRegistry) -> None:
    post = Straddler(oci_registry, "POST", f"/v2/foo/blobs/uploads/?digest={digest_of(BLOB)}", BLOB)
    oci_registry.reset()
    assert_fenced(post.finish(), "NAME_UNKNOWN")
    assert oci_registry.repositories() == []


def test_a_monolithic_put_across_a_reset_stores_nothing(oci_registry: OCIRegistry) -> None:
    location = start_upload(oci_registry)
    put = Straddler(oci_registry, "PUT", f"{location}?digest={digest_of(BLOB)}", BLOB)
    oci_registry.reset()
    assert_fenced(put.finish(), "BLOB_UPLOAD_UNKNOWN")
    assert oci_registry.repositories() == []


def test_a_chunked_upload_across_a_reset_stores_nothing(oci_registry: OCIRegistry) -> None:
    location = start_upload(oci_registry)
    patch = Straddler(oci_registry, "PATCH", location, BLOB, {"Content-Range": f"0-{len(BLOB) - 1}"})
    oci_registry.reset()
    assert_fenced(patch.finish(), "BLOB_UPLOAD_UNKNOWN")
    # The rest of the push comes after the reset, to an upload id the registry made up before it: never reopened.
    answer = requests.put(f"{oci_registry.url}{location}?digest={digest_of(BLOB)}")
    assert (answer.status_code, answer.json()["errors"][0]["code"]) == (404, "BLOB_UPLOAD_UNKNOWN")
    assert oci_registry.repositories() == []


@pytest.mark.parametrize("strict_upload_ids", [False, True])
def test_an_upload_opened_before_a_reset_is_gone(oci_registry: OCIRegistry, strict_upload_ids: bool) -> None:
    """Even where an unknown upload id opens an upload (the reference's leniency), one handed out before the reset
    answers 404 ``BLOB_UPLOAD_UNKNOWN``."""
    location = start_upload(oci_registry)
    opened = oci_registry.open_upload("foo", b"seeded")
    oci_registry.reset()
    oci_registry.configure(strict_upload_ids=strict_upload_ids)
    for path in (location, f"/v2/foo/blobs/uploads/{opened}"):
        answer = requests.patch(f"{oci_registry.url}{path}", BLOB)
        assert (answer.status_code, answer.json()["errors"][0]["code"]) == (404, "BLOB_UPLOAD_UNKNOWN")
        answer = requests.put(f"{oci_registry.url}{path}?digest={digest_of(BLOB)}", BLOB)
        assert (answer.status_code, answer.json()["errors"][0]["code"]) == (404, "BLOB_UPLOAD_UNKNOWN")
    assert oci_registry.repositories() == []


def test_an_upload_id_a_test_chose_is_its_own_to_reuse(oci_registry: OCIRegistry) -> None:
    """Only ids the registry made up are retired: a table seeding ``uploads={"upload": ...}`` in every case keeps
    the reference's leniency for that id."""
    oci_registry.seed(uploads={"upload": b"seeded"})
    oci_registry.reset()
    answer = requests.patch(f"{oci_registry.url}/v2/foo/blobs/uploads/upload", b"abc")
    assert (answer.status_code, answer.headers["Range"]) == (202, "0-2")


def test_a_manifest_put_across_a_reset_leaves_the_next_tests_tag_alone(oci_registry: OCIRegistry) -> None:
    put = Straddler(oci_registry, "PUT", "/v2/foo/manifests/v1", b'{"old":true}', {"Content-Type": "text/plain"})
    oci_registry.reset()
    oci_registry.push_manifest("foo", "v1", b'{"new":true}')
    assert_fenced(put.finish(), "NAME_UNKNOWN")
    assert oci_registry.manifest("foo", "v1").data == b'{"new":true}'


@pytest.mark.parametrize("what", ["manifests/v1", "blobs/" + digest_of(BLOB)])
def test_a_delete_across_a_reset_leaves_the_next_tests_content_alone(oci_registry: OCIRegistry, what: str) -> None:
    """A DELETE begun before the reset (held up here by an injected delay) deletes nothing the next test pushed."""
    oci_registry.fail("DELETE", f"/v2/foo/{what}", None, delay=1.5)
    answers: list[requests.Response] = []
    delete = threading.Thread(target=lambda: answers.append(requests.delete(f"{oci_registry.url}/v2/foo/{what}")))
    delete.start()
    wait_in_flight()
    oci_registry.reset()
    oci_registry.push_blob("foo", BLOB)
    oci_registry.push_manifest("foo", "v1", b"{}")
    delete.join(10)
    assert_fenced(answers[0], "NAME_UNKNOWN")
    assert "foo:v1" in oci_registry and f"foo@{digest_of(BLOB)}" in oci_registry


def test_a_chunk_held_up_across_a_reset_opens_no_upload_in_the_next_test(oci_registry: OCIRegistry) -> None:
    """A PATCH begun before the reset but looking its upload up after it (held up here by an injected delay) is
    refused, even to an id a test chose, which the reference's leniency would open in the new store."""
    oci_registry.seed(uploads={"chosen": b"ab"})
    oci_registry.fail("PATCH", "/v2/foo/blobs/uploads/chosen", None, delay=1.5)
    answers: list[requests.Response] = []
    url = f"{oci_registry.url}/v2/foo/blobs/uploads/chosen"
    patch = threading.Thread(target=lambda: answers.append(requests.patch(url, b"cd")))
    patch.start()
    wait_in_flight()
    oci_registry.reset()
    patch.join(10)
    assert_fenced(answers[0], "BLOB_UPLOAD_UNKNOWN")
    assert oci_registry.uploads("foo") == {}


def test_reset_forgets_the_tests_options_faults_and_expectations(oci_registry: OCIRegistry) -> None:
    oci_registry.configure(delete_enabled=False, warnings=("configured",))
    oci_registry.fail(None, "/v2/", 503, times=None)
    oci_registry.expect_request("/v2/foo/tags/list").respond_with_data("mine", status=418)
    oci_registry.expect_oneshot_request("/v2/_catalog").respond_with_data("mine", status=418)
    oci_registry.expect_ordered_request("/v2/foo/manifests/v1", "DELETE").respond_with_data("mine", status=418)
    oci_registry.reset()
    assert oci_registry.options == oci_registry.default_options
    ping = requests.get(f"{oci_registry.url}/v2/")
    assert (ping.status_code, ping.headers.get("Warning")) == (200, None)
    assert requests.get(f"{oci_registry.url}/v2/foo/tags/list").status_code == 404
    assert requests.get(f"{oci_registry.url}/v2/_catalog").json() == {"repositories": []}
    oci_registry.push_manifest("foo", "v1", b"{}")
    assert requests.delete(f"{oci_registry.url}/v2/foo/manifests/v1").status_code == 202
    assert [(r.path, r.handler) for r in oci_registry.requests] == [
        ("/v2/", "registry"), ("/v2/foo/tags/list", "registry"), ("/v2/_catalog", "registry"),
        ("/v2/foo/manifests/v1", "registry"),
    ]
    assert oci_registry.log == []
