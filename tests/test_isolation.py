"""Each test starts from an empty registry, whatever the last one left running: a request in flight across
:meth:`OCIRegistry.reset` writes nothing into the next test's store, and a request sees one set of options."""

from __future__ import annotations

import http.client
import sys
import time
from types import FrameType

import requests

from pytest_ociregistry import OCIRegistry
from pytest_ociregistry.api import RegistryApp
from pytest_ociregistry.manifest import OCI_MANIFEST
from pytest_ociregistry.names import digest_of

MANIFEST = (
    b'{"schemaVersion":2,"mediaType":"' + OCI_MANIFEST.encode() + b'","config":{"mediaType":'
    b'"application/vnd.oci.empty.v1+json","digest":"' + digest_of(b"{}").encode() + b'","size":2},"layers":[]}'
)


def _serving(frame: FrameType | None) -> bool:
    while frame is not None:
        if frame.f_code is RegistryApp.handle.__code__:
            return True
        frame = frame.f_back
    return False


def wait_in_flight(count: int = 1, timeout: float = 10.0) -> None:
    """Wait until ``count`` requests are inside :meth:`RegistryApp.handle` (begun and not yet answered)."""
    deadline = time.monotonic() + timeout
    while sum(map(_serving, sys._current_frames().values())) < count:
        assert time.monotonic() < deadline, f"fewer than {count} requests in flight after {timeout} s"
        time.sleep(0.005)


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

    def finish(self) -> http.client.HTTPResponse:
        """Send the rest of the body; the response, read in full."""
        self.conn.send(self.rest)
        response = self.conn.getresponse()
        response.read()
        self.conn.close()
        return response


# One snapshot of the options -----------------------------------------------------------------------------------


def test_a_request_sees_the_options_it_began_with(oci_registry: OCIRegistry) -> None:
    """configure() while a manifest PUT is in flight does not reach it: the api read the size cap before the body,
    the store read it again after, and the Location's form was read last."""
    oci_registry.push_blob("foo", b"{}")
    put = Straddler(oci_registry, "PUT", "/v2/foo/manifests/v1", MANIFEST, {"Content-Type": OCI_MANIFEST})
    oci_registry.configure(max_manifest_size=10, absolute_location=True)
    response = put.finish()
    assert (response.status, response.getheader("Location")) == (201, f"/v2/foo/manifests/{digest_of(MANIFEST)}")
    # The next request sees the new options.
    answer = requests.put(f"{oci_registry.url}/v2/foo/manifests/v2", MANIFEST, headers={"Content-Type": OCI_MANIFEST})
    assert answer.status_code == 413
