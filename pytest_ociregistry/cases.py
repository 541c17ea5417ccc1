"""Table-driven cases: a request, the content to seed first, and the answer wanted.

A :class:`Case` has the reference table's columns, plus a few for tables that must also run against real
registries (a wanted error code or JSON instead of exact bytes, upload sessions opened the way real clients open
them, the registries known to depart from a row). :func:`run_case` seeds over HTTP, as the reference's Go test
does, then sends the request to any registry by URL; :func:`check_case` lists every difference between the answer
and what the case wants; :func:`verify` turns that into a pass, a failure with a readable diff, or an expected
failure for a registry known to depart in the way its :class:`Departure` says.
"""

from __future__ import annotations

import dataclasses
import http.client
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

_UPLOAD_PLACEHOLDER = re.compile(r"\{upload:([^}]+)\}")
# A real registry's kind also answers for the departures of the preset that emulates it.
KIND_ALIASES = {"docker-registry": ("distribution",)}


@dataclass(frozen=True)
class Departure:
    """How a kind of registry answers a row instead, and why: ``status`` and the columns given, each as in
    :class:`Case` (a header wanted as ``""`` must be absent). The row's own wanted columns do not apply to it; an
    answer that differs from both is a failure, so a new difference is never taken for the known one."""

    reason: str
    status: int
    headers: Mapping[str, str] = field(default_factory=dict)
    body: str | bytes | None = None
    json: Any = None
    error: str | None = None

    def namespaced(self, prefix: str) -> Departure:
        """The same departure for a case moved under ``prefix/`` (see :meth:`Case.namespaced`)."""
        headers, body, json_body = _namespaced_wants(self.headers, self.body, self.json, prefix)
        return dataclasses.replace(self, headers=headers, body=body, json=json_body)


@dataclass(frozen=True)
class Case:
    """One row of a conformance table."""

    description: str
    method: str
    url: str
    """The request path. ``{upload:NAME}`` stands for the Location of the upload opened for NAME by ``uploads``."""
    want_status: int
    body: str | bytes = ""
    manifests: Mapping[str, str | bytes] = field(default_factory=dict)
    """Manifests to PUT first, keyed ``repo/manifests/reference``, as ``manifest_type``."""
    digests: Mapping[str, str | bytes] = field(default_factory=dict)
    """Blobs to push first into ``repo``, keyed by digest (a single POST; POST then PUT where that is refused)."""
    blob_stream: Mapping[str, str | bytes] = field(default_factory=dict)
    """Upload streams to open first in ``repo`` by PATCHing the id itself, keyed by upload id (the reference's way;
    only registries that open unknown ids accept it)."""
    uploads: Mapping[str, str | bytes] = field(default_factory=dict)
    """Upload sessions to open first in ``repo`` as clients do (POST, then PATCH the data to its Location), by name."""
    request_headers: Mapping[str, str] = field(default_factory=dict)
    want_headers: Mapping[str, str] = field(default_factory=dict)
    """Headers wanted with exactly this value."""
    want_header_names: tuple[str, ...] = ()
    """Headers wanted with any value."""
    want_body: str | bytes | None = ""
    """The exact body wanted; None: not checked."""
    want_json: Any = None
    """The body wanted, compared as JSON (formatting aside), when not None."""
    want_error: str | None = None
    """The OCI error code wanted in the body (``errors[0].code``), when not None."""
    repo: str = "foo"
    manifest_type: str = "application/octet-stream"
    skip: str | None = None
    """Why this row is skipped, or None."""
    departures: Mapping[str, Departure] = field(default_factory=dict)
    """Registries known to answer otherwise, by kind (a preset name or ``--oci-registry-kind``): what they answer,
    and why. ``docker-registry`` (real CNCF distribution 2.8) also takes the ``distribution`` preset's departures."""

    @property
    def id(self) -> str:
        """The test id: the description."""
        return self.description

    @property
    def global_state(self) -> bool:
        """Whether the row reads registry-wide state (the catalog), so it needs a registry of its own."""
        return self.url.startswith("/v2/_catalog")

    def namespaced(self, prefix: str) -> Case:
        """The same case with every repository moved under ``prefix/``, for a registry shared with other tests."""
        if not prefix:
            return self
        headers, body, want_json = _namespaced_wants(self.want_headers, self.want_body, self.want_json, prefix)
        url = re.sub(r"([?&]from=)([^&]+)", lambda m: f"{m[1]}{prefix}/{m[2]}", _prefix_path(self.url, prefix))
        return dataclasses.replace(
            self,
            url=url,
            manifests={f"{prefix}/{k}": v for k, v in self.manifests.items()},
            repo=f"{prefix}/{self.repo}",
            want_headers=headers,
            want_body=body,
            want_json=want_json,
            departures={kind: d.namespaced(prefix) for kind, d in self.departures.items()},
        )

    def departing(self, kind: str) -> Case:
        """This row as the ``kind`` of registry that departs from it answers it."""
        d = self.departures[kind]
        return dataclasses.replace(self, want_status=d.status, want_headers=d.headers, want_header_names=(),
                                   want_body=d.body, want_json=d.json, want_error=d.error, departures={})


def _namespaced_wants(
    headers: Mapping[str, str], body: str | bytes | None, json_body: Any, prefix: str
) -> tuple[dict[str, str], str | bytes | None, Any]:
    """Wanted headers, body and JSON with the repository names in them moved under ``prefix/``."""
    if isinstance(body, str):
        body = re.sub(r'"name":"([^"]+)"', lambda m: f'"name":"{prefix}/{m[1]}"', body)
    if isinstance(json_body, dict) and "name" in json_body:
        json_body = {**json_body, "name": f"{prefix}/{json_body['name']}"}
    return {k: _prefix_path(v, prefix) for k, v in headers.items()}, body, json_body


def _prefix_path(value: str, prefix: str) -> str:
    """``/v2/<repo>/<section>/<x>`` becomes ``/v2/<prefix>/<repo>/...``; other values are left alone."""
    match = re.match(r"(https?://[^/]+)?/v2/([^?]*)", value)
    if match is None or match[2].startswith(("_catalog", "{")) or match[2].count("/") < 2:
        return value
    start = match.start(2)
    return value[:start] + prefix + "/" + value[start:]


@dataclass(frozen=True)
class Answer:
    """A registry's answer to a case's request."""

    status: int
    headers: http.client.HTTPMessage
    body: bytes


def _bytes(value: str | bytes) -> bytes:
    return value.encode() if isinstance(value, str) else value


class SetupError(AssertionError):
    """Seeding a case's content did not get the status the reference answers."""


def _send(
    base: str,
    method: str,
    path: str,
    body: bytes | Iterator[bytes] = b"",
    headers: Mapping[str, str] | None = None,
    context: Any = None,
) -> Answer:
    parts = urlsplit(base)
    if parts.scheme == "https":
        conn: http.client.HTTPConnection = http.client.HTTPSConnection(parts.netloc, timeout=30, context=context)
    else:
        conn = http.client.HTTPConnection(parts.netloc, timeout=30)
    if path.startswith(("http://", "https://")):  # an absolute Location
        path = path.split("/", 3)[3] if path.count("/") >= 3 else "/"
        path = "/" + path
    try:
        chunked = not isinstance(body, bytes)
        conn.request(method, parts.path.rstrip("/") + path, body=body, headers=dict(headers or {}), encode_chunked=chunked)
        response = conn.getresponse()
        try:
            body = response.read()
        except http.client.IncompleteRead as e:  # distribution's 416 announces a length it never sends
            body = e.partial
        return Answer(response.status, response.headers, body)
    finally:
        conn.close()


def _expect(answer: Answer, wanted: tuple[int, ...], what: str) -> Answer:
    if answer.status not in wanted:
        raise SetupError(f"seeding {what}: got {answer.status}, want {' or '.join(map(str, wanted))}: {answer.body!r}")
    return answer


def _join(location: str, query: str) -> str:
    return location + ("&" if "?" in location else "?") + query


def seed_case(base_url: str, case: Case, context: Any = None) -> dict[str, str]:
    """Seed a case's content over HTTP, as the reference's Go test does (falling back to what strict registries
    accept); returns the Location of each upload in ``uploads``. Raises :class:`SetupError` on a failure."""

    def send(method: str, path: str, body: bytes | Iterator[bytes] = b"", headers: Mapping[str, str] | None = None,
             ) -> Answer:
        return _send(base_url, method, path, body, headers, context)

# Blobs first: the manifests may reference them (no reference-table row has both).
    for digest, content in case.digests.items():
        path = f"/v2/{case.repo}/blobs/uploads/?digest={digest}"
        answer = _expect(send("POST", path, _bytes(content)), (201, 202), f"POST {path}")
        if answer.status == 202:  # no single-POST upload here: finish it as clients do
            _expect(send("PUT", _join(answer.headers["Location"], f"digest={digest}"), _bytes(content)), (201,),
                    f"PUT {digest}")
    for key, content in case.manifests.items():
        answer = send("PUT", f"/v2/{key}", _bytes(content), {"Content-Type": case.manifest_type})
        _expect(answer, (201,), f"PUT /v2/{key}")
    for upload_id, content in case.blob_stream.items():
        data = _bytes(content)
        headers = {"Content-Range": f"0-{len(data) - 1}"}
        path = f"/v2/{case.repo}/blobs/uploads/{upload_id}"
        _expect(send("PATCH", path, iter([data]), headers), (202,), f"PATCH {path}")
    locations = {}
    for name, content in case.uploads.items():
        answer = _expect(send("POST", f"/v2/{case.repo}/blobs/uploads/"), (202,), "POST upload")
        location = answer.headers["Location"]
        data = _bytes(content)
        if data:
            headers = {"Content-Range": f"0-{len(data) - 1}", "Content-Type": "application/octet-stream"}
            location = _expect(send("PATCH", location, data, headers), (202,), "PATCH upload").headers["Location"]
        locations[name] = urlsplit(location)._replace(scheme="", netloc="").geturl()
    return locations


def run_case(base_url: str, case: Case, *, seed: bool = True, context: Any = None) -> Answer:
    """Seed a case's content (unless ``seed`` is False: the caller seeded it another way), then send its request to
    the registry at ``base_url``; returns the answer."""
    locations = seed_case(base_url, case, context) if seed else {}
    url = _UPLOAD_PLACEHOLDER.sub(lambda m: locations[m[1]], case.url)
    if url.count("?") > 1:  # a Location with its own query, then the case's
        first = url.index("?")
        url = url[: first + 1] + url[first + 1 :].replace("?", "&")
    return _send(base_url, case.method, url, _bytes(case.body), case.request_headers, context)


def check_case(case: Case, answer: Answer) -> list[str]:
    """Every way ``answer`` differs from what ``case`` wants."""
    problems = []
    if answer.status != case.want_status:
        problems.append(f"status: got {answer.status}, want {case.want_status}")
    for name, wanted in case.want_headers.items():
        got = answer.headers.get(name, "")
        if got != wanted:
            problems.append(f"header {name}: got {got!r}, want {wanted!r}")
    for name in case.want_header_names:
        if name not in answer.headers:
            problems.append(f"header {name}: missing")
    if case.want_body is not None and answer.body != _bytes(case.want_body):
        problems.append(f"body:\n  got:  {answer.body!r}\n  want: {_bytes(case.want_body)!r}")
    if case.want_json is not None or case.want_error is not None:
        try:
            doc = json.loads(answer.body)
        except ValueError:
            problems.append(f"body: not JSON: {answer.body[:200]!r}")
        else:
            if case.want_json is not None and doc != case.want_json:
                problems.append(f"JSON body:\n  got:  {doc!r}\n  want: {case.want_json!r}")
            if case.want_error is not None:
                code = _error_code(doc)
                if code != case.want_error:
                    problems.append(f"error code: got {code!r}, want {case.want_error!r}")
    return problems


def _error_code(doc: Any) -> str | None:
    try:
        return str(doc["errors"][0]["code"])
    except (KeyError, IndexError, TypeError):
        return None


def verify(case: Case, answer: Answer, kind: str | None = None) -> None:
    """Pass, fail with the list of differences, or, for a registry of a ``kind`` the case names in
    ``departures``, xfail when it answers as its :class:`Departure` says (and fail if it answers otherwise, or no
    longer departs)."""
    problems = check_case(case, answer)
    kinds = (kind, *KIND_ALIASES.get(kind, ())) if kind else ()
    departing = next((k for k in kinds if k in case.departures), None)
    if departing is not None:
        reason = case.departures[departing].reason
        if not problems:
            pytest.fail(f"{case.id}: {kind} was expected to depart ({reason}) but answered as wanted", pytrace=False)
        otherwise = check_case(case.departing(departing), answer)
        if otherwise:
            raise AssertionError(
                f"{case.method} {case.url}: {kind} was expected to depart ({reason}), but answered otherwise:\n"
                + "\n".join(otherwise)
                + "\nand differs from the row:\n"
                + "\n".join(problems)
            )
        pytest.xfail(f"{kind} departs: {reason}")
    if problems:
        raise AssertionError(f"{case.method} {case.url}:\n" + "\n".join(problems))


def assert_case(base_url: str, case: Case, kind: str | None = None) -> Answer:
    """Run a case and verify its answer (see :func:`verify`)."""
    answer = run_case(base_url, case)
    verify(case, answer, kind)
    return answer


def load_table(path: str | Path) -> list[Case]:
    """A table from a JSON or YAML file: a list of objects with :class:`Case`'s fields (YAML needs PyYAML)."""
    text = Path(path).read_text()
    if str(path).endswith((".yaml", ".yml")):
        import yaml  # type: ignore[import-untyped]  # optional: the ``yaml`` extra

        rows = yaml.safe_load(text)
    else:
        rows = json.loads(text)
    names = {f.name for f in dataclasses.fields(Case)}
    cases = []
    for i, row in enumerate(rows):
        unknown = set(row) - names
        if unknown:
            raise ValueError(f"{path}: row {i} has unknown columns {sorted(unknown)}")
        if "want_header_names" in row:
            row = {**row, "want_header_names": tuple(row["want_header_names"])}
        if "departures" in row:
            row = {**row, "departures": {k: _departure(path, i, k, d) for k, d in row["departures"].items()}}
        cases.append(Case(**row))
    return cases


def _departure(path: str | Path, row: int, kind: str, value: Any) -> Departure:
    if not isinstance(value, dict):
        raise TypeError(f"{path}: row {row}: the departure of {kind!r} says what it answers: "
                         "{reason, status, and any of headers, body, json, error}")
    return Departure(**value)
