"""The machinery of the differential tests (``tests/test_distribution_differential*.py``): each sequence is a small
function that sends requests through a :class:`Side`. It runs once against a real ``docker-registry`` (CNCF
distribution 2.8, in-memory storage, delete enabled, on loopback) and once against ``OCIRegistry(DISTRIBUTION)``,
and the two lists of normalised responses must be equal, step by step: status, OCI error code, and the headers a
client acts on. What legitimately differs is normalised away: upload ids, the host of an absolute ``Location``, its
``_state`` query, charset parameters, whitespace and parameter order in ``Link``, error messages and the lengths of
error and list bodies.

The real registry cannot be reset, so every sequence works in its own fresh repository (``Side.repo``); the fake is
reset between sequences. A sequence where the fake knowingly differs has a :class:`Difference`: it is an expected
failure when the answers differ exactly there and so, and a failure when they differ otherwise or not at all.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import re
import shutil
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests

DOCKER_REGISTRY = shutil.which("docker-registry")

# Every differential test module sets ``pytestmark = needs_docker_registry``.
needs_docker_registry = pytest.mark.skipif(
    DOCKER_REGISTRY is None,
    reason="docker-registry (CNCF distribution 2.8, Debian package docker-registry) is not installed",
)

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"

CONFIG = b'{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}'
LAYER = b"layer bytes of the differential test"
BLOB = b"0123456789abcdefghij"  # 20 bytes


def digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


MISSING = digest(b"no such blob anywhere")


# One side of the comparison: sends requests and records what a client sees ---------------------------------------


class Side:
    """Sends a sequence's requests to one registry and records each response, normalised."""

    def __init__(self, base: str, repo: str) -> None:
        self.base = base
        self.repo = repo
        self.session = requests.Session()
        self.session.headers.pop("Accept", None)  # requests sends Accept: */* by default; a sequence chooses
        self.steps: list[dict[str, Any]] = []
        self._location: str | None = None

    def send(
        self,
        method: str,
        path: str,
        *,
        headers: dict[str, str] | list[tuple[str, str]] | None = None,
        data: bytes | None = None,
        body: Callable[[Any], Any] | bool = False,
    ) -> None:
        """Send ``method path`` (a path, or a Location from an earlier answer) and record the answer.

        ``headers`` as a list of pairs may repeat a name (several ``Accept`` lines); ``body`` records the JSON body
        too (``True``), or what the given function makes of it.
        """
        if path.startswith(("http://", "https://")):
            parts = urlsplit(path)
            path = parts.path + ("?" + parts.query if parts.query else "")
        if isinstance(headers, list):
            response: Any = _raw(self.base, method, path, headers, data)
        else:
            response = self.session.request(
                method, self.base + path, headers=headers, data=data, timeout=10, stream=True
            )
            try:
                response.content  # noqa: B018 - read the body now
            except requests.exceptions.ChunkedEncodingError:
                # distribution's 416 announces the blob's length and sends no body (Go's ServeContent after the
                # handler set Content-Length). A framing bug, not a behaviour to copy: only the body is lost.
                response._content = b""
        self.steps.append(self._summary(method, path, response, body))
        self._location = response.headers.get("Location") or self._location

    def location(self, query: str = "") -> str:
        """The latest Location answered (to follow it), with ``query`` (``digest=...``) appended if given.

        When an answer has no Location (an error), the one before it stays, so a sequence goes on and every step is
        still compared."""
        assert self._location, f"no Location answered yet: {self.steps}"
        if not query:
            return self._location
        return self._location + ("&" if "?" in self._location else "?") + query

    def _norm(self, text: str) -> str:
        return text.replace(self.repo, "<repo>")

    def _summary(self, method: str, path: str, response: Any, body: Callable[[Any], Any] | bool) -> dict[str, Any]:
        h = response.headers
        status = response.status_code
        out: dict[str, Any] = {"step": f"{method} {self._norm(_strip_state(path))}", "status": status}
        content = response.content
        try:
            doc = json.loads(content) if content else None
        except ValueError:
            doc = None
        if isinstance(doc, dict) and isinstance(doc.get("errors"), list) and doc["errors"]:
            out["code"] = doc["errors"][0].get("code")
        if "Location" in h:
            out["Location"] = _location_shape(self._norm(h["Location"]))
        for name in ("Docker-Content-Digest", "Range", "Content-Range"):
            if name in h:
                out[name] = h[name]
        if status < 300 and "Content-Length" in h and ("/blobs/" in path or "/manifests/" in path):
            out["Content-Length"] = h["Content-Length"]
        if status < 300 and h.get("Content-Type"):
            out["Content-Type"] = h["Content-Type"].split(";")[0].strip()
        if status == 405:
            out["Allow"] = h.get("Allow")
        for name in ("Docker-Upload-UUID", "OCI-Subject"):
            if name in h:
                out[name] = "<present>"
        if "Link" in h:
            out["Link"] = self._norm(_link_shape(h["Link"]))
        out["Docker-Distribution-API-Version"] = h.get("Docker-Distribution-API-Version")
        if body and status < 300:
            out["body"] = body(doc) if callable(body) else doc
        return out


class _RawResponse:
    def __init__(self, status: int, headers: http.client.HTTPMessage, content: bytes) -> None:
        self.status_code = status
        self.headers = requests.structures.CaseInsensitiveDict(headers.items())
        self.content = content


def _raw(base: str, method: str, path: str, headers: list[tuple[str, str]], data: bytes | None) -> _RawResponse:
    """A request with repeatable header lines, which ``requests`` cannot send."""
    parts = urlsplit(base)
    connection = http.client.HTTPConnection(parts.netloc, timeout=10)
    try:
        connection.putrequest(method, path, skip_accept_encoding=True)
        for name, value in headers:
            connection.putheader(name, value)
        connection.putheader("Content-Length", str(len(data or b"")))
        connection.endheaders(data or b"")
        response = connection.getresponse()
        return _RawResponse(response.status, response.headers, response.read())
    finally:
        connection.close()


_UPLOAD_ID = re.compile(r"(/blobs/uploads/)[^/?]+")


def _strip_state(path: str) -> str:
    """A path with its upload id replaced by a placeholder and its ``_state`` query dropped."""
    path = _UPLOAD_ID.sub(r"\1<id>", path)
    path = re.sub(r"_state=[^&]*&?", "", path)
    return path[:-1] if path.endswith(("?", "&")) else path


def _location_shape(location: str) -> str:
    """``http://host/v2/x/blobs/uploads/<uuid>?_state=...`` -> ``<absolute>/v2/x/blobs/uploads/<id>``."""
    parts = urlsplit(location)
    prefix = "<absolute>" if parts.scheme else ""
    return prefix + _UPLOAD_ID.sub(r"\1<id>", parts.path)


def _link_shape(link: str) -> str:
    """``</v2/x/tags/list?n=1&last=a>; rel="next"`` with its query sorted, so parameter order does not count."""
    match = re.fullmatch(r"<([^>]*)>(.*)", link.strip())
    if match is None:
        return link
    parts = urlsplit(match[1])
    query = "&".join(f"{k}={v}" for k, v in sorted(parse_qsl(parts.query)))
    prefix = "<absolute>" if parts.scheme else ""
    params = re.sub(r"\s*;\s*", "; ", match[2])  # `;rel="next"` and `; rel="next"` are the same (RFC 8288 OWS)
    return f"<{prefix}{parts.path}?{query}>{params}"


# Building blocks of the sequences ------------------------------------------------------------------------------------


def push_blob(c: Side, data: bytes, repo: str | None = None) -> str:
    """POST then monolithic PUT."""
    repo = repo or c.repo
    c.send("POST", f"/v2/{repo}/blobs/uploads/")
    c.send("PUT", c.location(f"digest={digest(data)}"), data=data)
    return digest(data)


def oci_manifest(layers: list[bytes] = [LAYER], *, config: bytes = CONFIG, **extra: Any) -> bytes:  # noqa: B006
    doc: dict[str, Any] = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": digest(config), "size": len(config)},
        "layers": [{"mediaType": OCI_LAYER, "digest": digest(x), "size": len(x)} for x in layers],
    }
    doc.update(extra)
    return json.dumps(doc).encode()


def docker_manifest(layers: list[bytes] = [LAYER], *, config: bytes = CONFIG) -> bytes:  # noqa: B006
    return json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": DOCKER_MANIFEST,
            "config": {"mediaType": DOCKER_CONFIG, "digest": digest(config), "size": len(config)},
            "layers": [{"mediaType": DOCKER_LAYER, "digest": digest(x), "size": len(x)} for x in layers],
        }
    ).encode()


def push_image(c: Side, tag: str = "latest", media_type: str = OCI_MANIFEST, repo: str | None = None) -> bytes:
    """Push the config, the layer and a manifest of ``media_type`` under ``tag``; returns the manifest."""
    repo = repo or c.repo
    push_blob(c, CONFIG, repo)
    push_blob(c, LAYER, repo)
    body = oci_manifest() if media_type == OCI_MANIFEST else docker_manifest()
    c.send("PUT", f"/v2/{repo}/manifests/{tag}", headers={"Content-Type": media_type}, data=body)
    return body



# Running a sequence on both sides -----------------------------------------------------------------------------------

Sequence = Callable[[Side], None]


def repo_for(name: str) -> str:
    """A fresh repository name. A catalog sequence's name sorts after every repository made before it (``zz`` and
    the time, fixed width), so listing the real registry's catalog after it shows only its own repositories."""
    if name.startswith("catalog"):
        return f"zz{time.time_ns()}-{name}"
    return f"diff-{name}-{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class Difference:
    """Where the fake knowingly answers a sequence otherwise than distribution 2.8: why, and exactly what differs,
    as ``{step index: {key: (distribution's value, the fake's value)}}`` (a key one side lacks has the value None)."""

    reason: str
    steps: dict[int, dict[str, tuple[Any, Any]]]


def params(sequences: dict[str, Sequence], differences: dict[str, Difference]) -> list[Any]:
    """The sequences as pytest params ``(sequence, its Difference or None)`` by id."""
    return [pytest.param(sequence, differences.get(name), id=name) for name, sequence in sequences.items()]


def run_both(sequence: Sequence, real_url: str, fake_url: str, name: str) -> tuple[Side, Side]:
    """Run ``sequence`` on the real registry and on the fake, in one fresh repository name."""
    repo = repo_for(name)
    real, fake = Side(real_url, repo), Side(fake_url, repo)
    sequence(real)
    sequence(fake)
    return real, fake


def compare(
    sequence: Sequence, real_url: str, fake_url: str, name: str, difference: Difference | None = None
) -> None:
    """Run ``sequence`` on both sides and assert that a client saw the same answers, or, with a ``difference``,
    answers that differ exactly as it says (then the test is an expected failure)."""
    real, fake = run_both(sequence, real_url, fake_url, name)
    found = differences(real.steps, fake.steps)
    if difference is None:
        assert not found, "distribution 2.8 and the fake differ:\n" + _diff(real.steps, fake.steps)
        return
    if not found:
        pytest.fail(f"expected to differ ({difference.reason}), but distribution 2.8 and the fake answer alike")
    assert found == difference.steps, (
        f"expected to differ as documented ({difference.reason}), but they differ otherwise:\n"
        + _diff(real.steps, fake.steps)
    )
    pytest.xfail(difference.reason)


def differences(real: list[dict[str, Any]], fake: list[dict[str, Any]]) -> dict[int, dict[str, tuple[Any, Any]]]:
    """Each step where the two sides differ: ``{index: {key: (distribution's value, the fake's value)}}``."""
    found = {}
    for i in range(max(len(real), len(fake))):
        r = real[i] if i < len(real) else {}
        f = fake[i] if i < len(fake) else {}
        keys = [key for key in dict.fromkeys([*r, *f]) if r.get(key) != f.get(key)]
        if keys:
            found[i] = {key: (r.get(key), f.get(key)) for key in keys}
    return found


def _diff(real: list[dict[str, Any]], fake: list[dict[str, Any]]) -> str:
    lines = []
    for i in range(max(len(real), len(fake))):
        r = real[i] if i < len(real) else {}
        f = fake[i] if i < len(fake) else {}
        if r == f:
            lines.append(f"  step {i}: {r.get('step')}: same")
            continue
        lines.append(f"  step {i}: {r.get('step') or f.get('step')}: DIFFERS")
        for key in dict.fromkeys([*r, *f]):
            if r.get(key) != f.get(key):
                lines.append(f"      {key}: distribution={r.get(key)!r} fake={f.get(key)!r}")
    return "\n".join(lines)


def sequence_test(sequences: dict[str, Sequence], differences: dict[str, Difference]) -> Callable[..., None]:
    """The test that sends each of ``sequences`` to both registries and compares them (a module assigns it to
    ``test_sequence``); a sequence in ``differences`` is expected to differ exactly so."""

    @pytest.mark.parametrize(("sequence", "difference"), params(sequences, differences))
    def test_sequence(
        sequence: Sequence, difference: Difference | None, real_registry: str, fake_registry: str,
        request: pytest.FixtureRequest,
    ) -> None:
        compare(sequence, real_registry, fake_registry, request.node.callspec.id, difference)

    return test_sequence
