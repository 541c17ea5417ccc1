"""``OCIRegistry``: the object the ``oci_registry`` fixture gives a test. A running registry server plus the
helpers that seed its store directly and look inside it."""

from __future__ import annotations

import json
from collections.abc import Mapping
from ssl import SSLContext
from typing import Any

from .api import RegistryApp
from .errors import ErrorCode, RegistryError
from .manifest import OCTET_STREAM
from .names import digest_of, is_digest, is_repository
from .options import Options
from .server import RegistryServer
from .store import Store


class OCIRegistry(RegistryServer):
    """An in-memory OCI Distribution registry served on a real socket.

    ``url`` is the base URL (``http://127.0.0.1:40123``) and ``host`` the ``host:port`` an image reference starts
    with. pytest-httpserver's expectations (``expect_request`` and friends) work on it and take precedence.
    """

    def __init__(
        self,
        options: Options | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        ssl_context: SSLContext | None = None,
    ) -> None:
        self.default_options = options or Options()
        self.store = Store(self.default_options)
        super().__init__(RegistryApp(self.store), host, port, ssl_context)

    def __repr__(self) -> str:
        return f"<OCIRegistry {self.url}>"

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
        """Empty the store, restore the default options, and clear pytest-httpserver's handlers and log."""
        self.store.reset()
        self.store.options = self.default_options
        self.clear()

    # Seeding, straight into the store, leaving the state the HTTP routes would ---------------------------------------

    def push_blob(self, repo: str, data: bytes) -> str:
        """Store a blob in ``repo``; returns its sha256 digest."""
        return self.store.put_blob(_repository(repo), [data], digest_of(data)).digest

    def push_manifest(self, repo: str, reference: str, body: bytes, media_type: str | None = None) -> str:
        """Store a manifest under a tag or digest, pushed with ``media_type`` (by default the body's own
        ``mediaType`` field, else ``application/octet-stream``); returns its digest."""
        if media_type is None:
            media_type = _declared_media_type(body)
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

        ``manifests`` are keyed ``repo/manifests/reference`` and stored as ``application/octet-stream``;
        ``blobs`` are keyed by digest (``repo/digest`` for another repository than ``repo``) and must match it;
        ``uploads`` are open upload streams keyed by upload id, in ``repo``.
        """
        for key, body in (manifests or {}).items():
            name, sep, reference = key.rpartition("/manifests/")
            if not sep:
                raise ValueError(f"a manifest key is repo/manifests/reference, not {key!r}")
            self.push_manifest(name, reference, _bytes(body), OCTET_STREAM)
        for key, body in (blobs or {}).items():
            name, _, digest = key.rpartition("/") if "/" in key else (repo, "", key)
            if not is_digest(digest):
                raise ValueError(f"not a digest: {digest!r}")
            self.store.put_blob(_repository(name), [_bytes(body)], digest)
        for upload_id, body in (uploads or {}).items():
            self.open_upload(repo, _bytes(body), upload_id)


def _repository(name: str) -> str:
    if not is_repository(name):
        raise RegistryError(ErrorCode.NAME_INVALID, f"invalid repository name {name!r}")
    return name


def _bytes(value: bytes | str) -> bytes:
    return value.encode() if isinstance(value, str) else value


def _declared_media_type(body: bytes) -> str:
    try:
        declared = json.loads(body).get("mediaType")
    except (ValueError, AttributeError, UnicodeDecodeError):
        return OCTET_STREAM
    return declared if isinstance(declared, str) and declared else OCTET_STREAM
