"""``OCIRegistry``: the object the ``oci_registry`` fixture gives a test. A running registry server, the helpers
that seed its store directly, and the ways to look inside it, inject faults and check what was requested."""

from __future__ import annotations

import os
import re
import ssl
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from . import layout
from .api import RegistryApp
from .cases import Answer, Case, run_case, verify
from .content import Content
from .errors import ErrorCode, RegistryError
from .faults import Fault
from .manifest import Descriptor
from .names import digest_of, is_digest, is_repository
from .options import Options
from .presets import PRESETS
from .pushing import ContentPusher
from .requestlog import RequestRecord
from .server import RegistryServer
from .store import Manifest, Snapshot, Store
from .tls import TLSFiles


class OCIRegistry(ContentPusher, RegistryServer):
    """An in-memory OCI Distribution registry served on a real socket.

    ``url`` is the base URL (``http://127.0.0.1:40123``) and ``host`` the ``host:port`` an image reference starts
    with. With ``tls=True`` it serves HTTPS with a throw-away CA: ``ca_bundle`` is its PEM file and ``ssl_context``
    a client context that trusts it. pytest-httpserver's expectations (``expect_request`` and friends) work on it
    and take precedence over the registry.
    """

    def __init__(
        self,
        options: Options | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        ssl_context: ssl.SSLContext | None = None,
        tls: bool = False,
    ) -> None:
        self.default_options = options or Options()
        self.store = Store(self.default_options)
        self.baseline: Snapshot | None = None
        """What :meth:`reset` goes back to (None: an empty registry); set it to a :meth:`snapshot`."""
        self.tls = TLSFiles() if tls else None
        if self.tls is not None and ssl_context is None:
            ssl_context = self.tls.server_context()
        super().__init__(RegistryApp(self.store), host, port, ssl_context)
        if self.tls is not None:
            self.client_ssl_context = self.tls.client_context()

    def __repr__(self) -> str:
        return f"<OCIRegistry {self.url}>"

    @property
    def ca_bundle(self) -> Path | None:
        """The CA certificate (PEM) that signed the server's certificate, with ``tls=True``; else None."""
        return self.tls.ca_bundle if self.tls else None

    @property
    def cert_dir(self) -> Path | None:
        """A directory holding the CA as ``ca.crt``, for skopeo's ``--cert-dir``, with ``tls=True``; else None."""
        return self.tls.cert_dir if self.tls else None

    # Behaviour ----------------------------------------------------------------------------------------------------

    @property
    def options(self) -> Options:
        """The behaviour in force. Assign an :class:`Options`, or call :meth:`configure`."""
        return self.store.options

    @options.setter
    def options(self, value: Options) -> None:
        self.store.options = value

    def configure(self, **changes: Any) -> Options:
        """Change named options (for this test; :meth:`reset` restores the defaults) and return the result."""
        self.options = self.options.replace(**changes)
        return self.options

    def reset(self) -> None:
        """Empty the store (or go back to the :attr:`baseline`), restore the default options, revoke the Bearer
        tokens issued so far (by the ``auth`` in force and the default one, even a module-level ``Auth`` that the next
        test uses again), refill the rate limit's budget, and clear the request log, the faults, and
        pytest-httpserver's handlers and log."""
        self.store.reset(self.baseline)
        self.app.rate_limits.reset()
        for auth in (self.options.auth, self.default_options.auth):
            if auth is not None:
                auth.revoke_tokens()
        self.store.options = self.default_options
        self.clear()

    # Seeding, straight into the store, leaving the state the HTTP routes would ---------------------------------------

    def push_blob(self, repo: str, data: bytes) -> str:
        """Store a blob in ``repo``; returns its sha256 digest."""
        return self.store.put_blob(_repository(repo), [data], digest_of(data)).digest

    def push_manifest(self, repo: str, reference: str, body: bytes, media_type: str | None = None) -> str:
        """Store a manifest under a tag or digest, pushed with Content-Type ``media_type`` (None: none); returns its
        digest. Its type is the body's own ``mediaType`` field when it has one, else ``media_type``, else
        ``application/octet-stream`` (see the documentation, "A manifest's media type")."""
        return self.store.put_manifest(_repository(repo), reference, body, media_type).digest

    def open_upload(self, repo: str, data: bytes = b"", upload_id: str | None = None) -> str:
        """Open an upload session in ``repo`` holding ``data``; returns its id."""
        upload = self.store.start_upload(_repository(repo), upload_id)
        self.store.write_upload(repo, upload.id, [data], start=0 if data else None)
        return upload.id

    def seed(
        self,
        manifests: Mapping[str, bytes | str] | None = None,
        blobs: Mapping[str, bytes | str] | None = None,
        uploads: Mapping[str, bytes | str] | None = None,
        *,
        repo: str = "foo",
    ) -> None:
        """Seed content as the reference table does.

        ``manifests`` are keyed ``repo/manifests/reference`` and pushed with no Content-Type (their type is their
        ``mediaType`` field, else ``application/octet-stream``);
        ``blobs`` are keyed by digest (``repo/digest`` for another repository than ``repo``) and must match it;
        ``uploads`` are open upload streams keyed by upload id, in ``repo``.
        """
        for key, body in (manifests or {}).items():
            name, sep, reference = key.rpartition("/manifests/")
            if not sep:
                raise ValueError(f"a manifest key is repo/manifests/reference, not {key!r}")
            self.push_manifest(name, reference, _bytes(body))
        for key, body in (blobs or {}).items():
            name, _, digest = key.rpartition("/") if "/" in key else (repo, "", key)
            if not is_digest(digest):
                raise ValueError(f"not a digest: {digest!r}")
            self.store.put_blob(_repository(name), [_bytes(body)], digest)
        for upload_id, body in (uploads or {}).items():
            self.open_upload(repo, _bytes(body), upload_id)

    def push(self, repo: str, built: Content, tag: str | None = None) -> Descriptor:
        """Push content made by :mod:`pytest_ociregistry.content` straight into the store (its blobs and child
        manifests first), by ``tag``, or by digest when there is none; returns its descriptor."""
        for child in built.children:
            self.push(repo, child)
        for digest, data in built.blobs.items():
            self.store.put_blob(_repository(repo), [data], digest)
        self.store.put_manifest(_repository(repo), tag or built.digest, built.manifest, built.media_type)
        return built.descriptor

    # Images in and out as files, and snapshots ---------------------------------------------------------------------

    def load(self, path: str | os.PathLike[str], repo: str | None = None) -> list[Descriptor]:
        """Store every image of an OCI image layout directory, an ``oci-archive`` tar (plain or gzip) or a ``docker
        save`` tarball, all or nothing, each blob verified as it is read; returns the descriptors of the top-level
        entries. Each goes into the repository and tag its name gives (``org.opencontainers.image.ref.name``, a
        docker save's ``RepoTags``); ``repo`` supplies or overrides the repository. Bad input raises
        :class:`~pytest_ociregistry.layout.LayoutError`, naming the file and the problem."""
        return layout.load(self.store, path, repo)

    def export(
        self, reference: str, path: str | os.PathLike[str], archive: bool = False, *, referrers: bool = False
    ) -> Descriptor:
        """Write ``repo:tag`` or ``repo@digest``, with everything it needs, as an OCI image layout at ``path`` (added
        to a layout already there), or with ``archive`` as an ``oci-archive`` tar (gzip if the name ends in ``.gz``);
        with ``referrers``, the artifacts that name it as subject too. skopeo, umoci and podman read it, and
        :meth:`load` puts it back byte for byte. Returns its descriptor."""
        return layout.export(self.store, reference, path, archive=archive, referrers=referrers)

    def snapshot(self) -> Snapshot:
        """The content now (repositories, tags, manifests, blobs; not open uploads), for :meth:`restore` or as the
        :attr:`baseline`. Cheap: stored content is immutable and shared, never copied."""
        return self.store.snapshot()

    def restore(self, snapshot: Snapshot) -> None:
        """Go back to a snapshot's content, in time independent of its size (options and logs are left alone)."""
        self.store.reset(snapshot)

    # Looking inside -----------------------------------------------------------------------------------------------

    def repositories(self) -> list[str]:
        """Every repository, sorted."""
        return self.store.repositories()[0]

    def tags(self, repo: str) -> list[str]:
        """A repository's tags, sorted."""
        return self.store.tags(repo)[0]

    def manifest(self, repo: str, reference: str) -> Manifest:
        """A stored manifest (``.data``, ``.media_type``, ``.digest``) by tag or digest."""
        return self.store.get_manifest(repo, reference)

    def blob(self, repo: str, digest: str) -> bytes:
        """A stored blob's bytes."""
        return bytes(self.store.get_blob(repo, digest).data)

    def referrers(self, repo: str, digest: str, artifact_type: str | None = None) -> list[Descriptor]:
        """The manifests whose subject is ``digest``, as the referrers API lists them."""
        return self.store.referrers(repo, digest, artifact_type)

    def uploads(self, repo: str) -> dict[str, int]:
        """The open upload sessions of a repository: id → bytes received."""
        return self.store.upload_sizes(repo)

    def __contains__(self, item: str) -> bool:
        """``"repo" in registry``, ``"repo:tag" in registry``, ``"repo@sha256:..." in registry`` (a manifest or a
        blob)."""
        name, at, digest = item.partition("@")
        if not at:
            name, colon, tag = item.rpartition(":") if ":" in item.rpartition("/")[2] else (item, "", "")
            if not colon:
                return self.store.has_repository(item)
            digest = tag
        try:
            self.store.get_manifest(name, digest)
            return True
        except RegistryError:
            pass
        try:
            self.store.get_blob(name, digest)
            return True
        except RegistryError:
            return False

    def token_for(self, user: str | None, scopes: Sequence[str] = ()) -> str:
        """A Bearer token for ``user`` (None: anonymous) with as much of ``scopes`` (``repository:foo:pull``,
        ``registry:catalog:*``) as the user holds, from the ``auth`` option in force."""
        if self.options.auth is None:
            raise RuntimeError("token_for needs the auth option")
        return self.options.auth.token_for(user, scopes)

    @property
    def kind(self) -> str | None:
        """The name of the preset in force, if the options are one (a table's ``departures`` are keyed by it)."""
        return next((name for name, preset in PRESETS.items() if preset == self.options), None)

    def run(self, case: Case, *, check: bool = True) -> Answer:
        """Send a table case (seeded over HTTP first) and, with ``check``, verify the answer: a failure lists each
        difference; a row this kind of registry is known to depart from is an expected failure."""
        if case.skip:
            pytest.skip(case.skip)
        answer = run_case(self.url, case, context=self.ssl_context)
        if check:
            verify(case, answer, self.kind)
        return answer

    # Requests and faults ------------------------------------------------------------------------------------------

    def assert_requested(
        self, method: str | None, path: str | re.Pattern[str], count: int | None = None, *, status: int | None = None
    ) -> list[RequestRecord]:
        """Assert the registry saw ``method path`` (``count`` times exactly, if given); the message lists what it saw.

        ``path`` is exact, or a compiled regex that must match the whole path.
        """
        return self.requests.assert_requested(method, path, count, status=status)

    def fail(
        self,
        method: str | None,
        path: str | re.Pattern[str],
        status: int | None = 503,
        *,
        times: int | None = 1,
        delay: float = 0.0,
        cut_after: int | None = None,
        corrupt: bool = False,
        retry_after: int | None = None,
        code: ErrorCode | None = None,
    ) -> Fault:
        """Inject a fault into requests matching ``method`` (any when None) and ``path`` (a regex matched against
        the whole path).

        By default the next matching request answers 503 with an OCI error body. ``times=None`` answers all of them;
        ``delay`` waits first; ``status=None`` lets the registry answer, and then ``cut_after`` drops the connection
        after that many body bytes, or ``corrupt`` flips bytes so the digest no longer matches. A 429 carries
        ``Retry-After`` (1 unless ``retry_after`` says otherwise) and ``TOOMANYREQUESTS``.
        """
        pattern = path if isinstance(path, re.Pattern) else re.compile(path)
        fault = Fault(method, pattern, status, times, delay, cut_after, corrupt, retry_after, code)
        return self.faults.add(fault)


def _repository(name: str) -> str:
    if not is_repository(name):
        raise RegistryError(ErrorCode.NAME_INVALID, f"invalid repository name {name!r}")
    return name


def _bytes(value: bytes | str) -> bytes:
    return value.encode() if isinstance(value, str) else value
