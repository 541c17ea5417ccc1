"""A throw-away certificate authority for serving HTTPS that clients can verify. Needs the ``tls`` extra
(``pip install pytest-ociregistry[tls]``, which brings ``trustme``)."""

from __future__ import annotations

import os
import shutil
import ssl
import tempfile
import weakref
from pathlib import Path
from typing import Any


class TLSFiles:
    """A CA and a server certificate for 127.0.0.1, localhost and ::1, with the files clients need.

    ``ca_bundle`` is the CA as a PEM file (requests ``verify=``, python-dxf ``tlsverify=``); ``cert_dir`` holds it as
    ``ca.crt`` (skopeo ``--cert-dir``); :meth:`server_context` and :meth:`client_context` are ready SSL contexts.
    """

    def __init__(self, directory: str | os.PathLike[str] | None = None) -> None:
        try:
            import trustme
        except ImportError as e:  # pragma: no cover - depends on the environment
            raise RuntimeError("TLS needs the 'tls' extra: pip install 'pytest-ociregistry[tls]'") from e
        self._ca = trustme.CA()
        self._cert = self._ca.issue_cert("127.0.0.1", "localhost", "::1")
        self._remove: weakref.finalize[Any, Any] | None = None
        if directory is None:
            self.cert_dir = Path(tempfile.mkdtemp(prefix="oci-registry-tls-"))
            # removed with this object, or by remove()
            self._remove = weakref.finalize(self, shutil.rmtree, self.cert_dir, ignore_errors=True)
        else:
            self.cert_dir = Path(directory)
            self.cert_dir.mkdir(parents=True, exist_ok=True)
        self.ca_bundle = self.cert_dir / "ca.crt"
        self._ca.cert_pem.write_to_path(str(self.ca_bundle))

    def server_context(self) -> ssl.SSLContext:
        """The server side: presents the certificate."""
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._cert.configure_cert(context)
        return context

    def remove(self) -> None:
        """Remove the directory of the CA files now, if this object made it (else it goes with the object)."""
        if self._remove is not None:
            self._remove()

    def client_context(self) -> ssl.SSLContext:
        """The client side: trusts the CA (httpx ``verify=``, ``urllib``)."""
        context = ssl.create_default_context()
        self._ca.configure_trust(context)
        return context
