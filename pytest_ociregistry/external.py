"""A registry reached by URL (``--oci-registry-url``): the ``oci_registry`` fixture's stand-in when the tests run
against a real registry. It seeds over HTTP, works in a repository namespace of its own per test (a real registry
cannot be reset), and skips, with the reason, what needs the in-process registry."""

from __future__ import annotations

import ssl
import uuid
from collections.abc import Mapping
from typing import Any, NoReturn
from urllib.parse import urlsplit

import pytest

from .cases import Answer, Case, SetupError, run_case, seed_case, verify
from .content import Content
from .manifest import OCTET_STREAM, Descriptor
from .names import digest_of
from .pushing import ContentPusher

IN_PROCESS_ONLY = (
    "store",
    "requests",
    "fail",
    "faults",
    "configure",
    "options",
    "assert_requested",
    "repositories",
    "tags",
    "manifest",
    "blob",
    "referrers",
    "uploads",
    "expect_request",
    "expect_oneshot_request",
    "expect_ordered_request",
    "token_for",
)


class ExternalRegistry(ContentPusher):
    """A real registry at ``url``, used through the ``oci_registry`` API where that can be done over HTTP.

    Every repository a test names is moved under ``namespace/`` (unique per test), so tests never see each other's
    content. ``kind`` names the registry for the tables' ``departures`` (for example ``distribution``).
    """

    def __init__(self, url: str, *, kind: str | None = None, namespace: str | None = None,
                 ssl_context: ssl.SSLContext | None = None) -> None:
        self.url = url.rstrip("/")
        self.host = urlsplit(self.url).netloc
        self.kind = kind
        self.ssl_context = ssl_context
        self.namespace = namespace if namespace is not None else _fresh_namespace()

    def __repr__(self) -> str:
        return f"<ExternalRegistry {self.url} namespace={self.namespace}>"

    def __getattr__(self, name: str) -> NoReturn:
        if name in IN_PROCESS_ONLY:
            pytest.skip(f"oci_registry.{name} needs the in-process registry, not one given by --oci-registry-url")
        raise AttributeError(name)

    def repo(self, name: str) -> str:
        """Where repository ``name`` of this test lives in the real registry."""
        return f"{self.namespace}/{name}" if self.namespace else name

    def reset(self) -> None:
        """A fresh namespace: the content of earlier tests stays in the registry but out of sight."""
        self.namespace = _fresh_namespace()

    def _seed(self, **columns: Any) -> dict[str, str]:
        case = Case("seed", "GET", "/v2/", 200, **columns)
        return seed_case(self.url, case, self.ssl_context)

    def push_blob(self, repo: str, data: bytes) -> str:
        digest = digest_of(data)
        self._seed(digests={digest: data}, repo=self.repo(repo))
        return digest

    def push_manifest(self, repo: str, reference: str, body: bytes, media_type: str | None = None) -> str:
        self._seed(manifests={f"{self.repo(repo)}/manifests/{reference}": body}, manifest_type=media_type or OCTET_STREAM)
        return digest_of(body)

    def open_upload(self, repo: str, data: bytes = b"", upload_id: str | None = None) -> str:
        """Open an upload as clients do; returns its Location (a real registry picks the id)."""
        if upload_id is not None:
            raise SetupError("a real registry picks its own upload ids")
        return self._seed(uploads={"upload": data}, repo=self.repo(repo))["upload"]

    def seed(
        self,
        manifests: Mapping[str, bytes | str] | None = None,
        blobs: Mapping[str, bytes | str] | None = None,
        uploads: Mapping[str, bytes | str] | None = None,
        *,
        repo: str = "foo",
    ) -> None:
        case = Case("seed", "GET", "/v2/", 200, manifests=dict(manifests or {}), digests=dict(blobs or {}),
                    blob_stream=dict(uploads or {}), repo=repo).namespaced(self.namespace)
        seed_case(self.url, case, self.ssl_context)

    def push(self, repo: str, built: Content, tag: str | None = None) -> Descriptor:
        for child in built.children:
            self.push(repo, child)
        for data in built.blobs.values():
            self.push_blob(repo, data)
        self.push_manifest(repo, tag or built.digest, built.manifest, built.media_type)
        return built.descriptor

    def run(self, case: Case, *, check: bool = True) -> Answer:
        """Send a table case in this test's namespace; see :meth:`OCIRegistry.run`."""
        if case.skip:
            pytest.skip(case.skip)
        if case.global_state:
            pytest.skip("this row reads the whole registry (the catalog): it needs a registry of its own")
        namespaced = case.namespaced(self.namespace)
        answer = run_case(self.url, namespaced, context=self.ssl_context)
        if check:
            verify(namespaced, answer, self.kind)
        return answer


def _fresh_namespace() -> str:
    return f"t{uuid.uuid4().hex[:12]}"
