"""A token server for CNCF distribution's token auth, so that ``docker-registry`` can run the peer suites'
Bearer configurations as they run upstream (python-dxf's CI uses cesanta/docker_auth): GET ``/auth`` with Basic
credentials or none, ``service`` and ``scope`` in the query; it answers ES256-signed JWTs whose ``kid`` is the
libtrust key id of the certificate in distribution's ``rootcertbundle``. The user may do everything asked for;
anonymous callers get only ``registry:catalog:*``, as python-dxf's docker_auth configuration grants.

Started as a subprocess (``python token_server.py WORK PORT``) by :func:`start_token_server`.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import http.server
import json
import secrets
import socket
import ssl
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

ISSUER = "peer-token-server"
SERVICE = "docker-registry"


class TLSMaterial:
    """A throw-away CA and a server certificate for 127.0.0.1 and localhost, as PEM files in ``work``."""

    def __init__(self, work: Path) -> None:
        import trustme

        ca = trustme.CA()
        issued = ca.issue_cert("127.0.0.1", "localhost")
        self.ca_bundle, self.cert, self.key = work / "ca.pem", work / "server.pem", work / "server-key.pem"
        ca.cert_pem.write_to_path(str(self.ca_bundle))
        issued.cert_chain_pems[0].write_to_path(str(self.cert))
        for pem in issued.cert_chain_pems[1:]:
            pem.write_to_path(str(self.cert), append=True)
        issued.private_key_pem.write_to_path(str(self.key))


@dataclass
class TokenServer:
    process: subprocess.Popen[bytes]
    realm: str
    root_cert: Path
    service: str = SERVICE
    issuer: str = ISSUER


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def libtrust_key_id(der_public_key: bytes) -> str:
    """docker/libtrust's key id: SHA-256 of the DER public key, 240 bits in base32, in groups of four."""
    encoded = base64.b32encode(hashlib.sha256(der_public_key).digest()[:30]).decode().rstrip("=")
    return ":".join(encoded[i : i + 4] for i in range(0, len(encoded), 4))


def start_token_server(work: Path, material: TLSMaterial, users: dict[str, str]) -> TokenServer:
    """Make the signing key and its certificate (distribution's ``rootcertbundle``), then serve on a free port."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, ISSUER)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    root_cert = work / "token-root.pem"
    root_cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (work / "token-key.pem").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    (work / "token-users.json").write_text(json.dumps(users))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = (work / "token-server.log").open("wb")
    process = subprocess.Popen([sys.executable, __file__, str(work), str(port)], stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 15
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the token server did not start: {(work / 'token-server.log').read_text()}")
            time.sleep(0.02)
    return TokenServer(process, f"https://127.0.0.1:{port}/auth", root_cert)


def _serve(work: Path, port: int) -> None:
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

    key = serialization.load_pem_private_key((work / "token-key.pem").read_bytes(), None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    der = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    header = _b64(json.dumps({"typ": "JWT", "alg": "ES256", "kid": libtrust_key_id(der)}).encode())
    users: dict[str, str] = json.loads((work / "token-users.json").read_text())

    def sign(claims: dict[str, object]) -> str:
        signing_input = f"{header}.{_b64(json.dumps(claims).encode())}"
        r, s = decode_dss_signature(key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256())))
        return f"{signing_input}.{_b64(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            query = parse_qs(urlsplit(self.path).query)
            user = ""
            scheme, _, credentials = self.headers.get("Authorization", "").partition(" ")
            if scheme.lower() == "basic":
                name, _, password = base64.b64decode(credentials).decode().partition(":")
                if users.get(name) != password:
                    return self._answer(401, {"details": "invalid username or password"})
                user = name
            access = []
            for scope in (s for text in query.get("scope", []) for s in text.split()):
                kind, _, rest = scope.partition(":")
                target, _, actions = rest.rpartition(":")
                if user:  # the user may do everything asked for
                    access.append({"type": kind, "name": target, "actions": actions.split(",")})
                elif scope == "registry:catalog:*":
                    access.append({"type": "registry", "name": "catalog", "actions": ["*"]})
            now = int(time.time())
            token = sign({"iss": ISSUER, "sub": user, "aud": query.get("service", [SERVICE])[0], "exp": now + 900,
                          "nbf": now - 10, "iat": now, "jti": secrets.token_hex(8), "access": access})
            issued = datetime.datetime.fromtimestamp(now, datetime.timezone.utc).isoformat()
            self._answer(200, {"token": token, "access_token": token, "expires_in": 900, "issued_at": issued})

        def _answer(self, status: int, doc: dict[str, object]) -> None:
            body = json.dumps(doc).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(work / "server.pem"), str(work / "server-key.pem"))
    server.socket = context.wrap_socket(server.socket, server_side=True)
    server.serve_forever()


if __name__ == "__main__":
    _serve(Path(sys.argv[1]), int(sys.argv[2]))
