"""Hostile input: hypothesis-generated methods, paths, names, digests, headers and bodies, through the WSGI app,
never answer 500 (bar the reference-pinned ``invalid range [...]``) nor a traceback, and always a well-formed OCI
error body."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from reliability_support import (
    FIGURES,
    SCALE,
    Conn,
    Errors,
    assert_oci_error,
    check_invariants,
    image_manifest,
)
from werkzeug.test import EnvironBuilder, run_wsgi_app

from pytest_ociregistry import OCIRegistry
from pytest_ociregistry.api import RegistryApp
from pytest_ociregistry.manifest import OCI_INDEX, OCI_MANIFEST
from pytest_ociregistry.names import digest_of
from pytest_ociregistry.options import Options
from pytest_ociregistry.store import Store

# --------------------------------------------------------------------------------------------------------------------
# Hostile input, property-based, through the WSGI app

DIGEST_A = digest_of(b"hello")
MANIFEST_A = image_manifest(b"hello", [])
MANIFEST_A_DIGEST = digest_of(MANIFEST_A)
UPLOAD_ID = "seeded-upload"

SEGMENTS = [
    "v2",
    "foo",
    "bar",
    "foo/bar",
    "blobs",
    "uploads",
    "manifests",
    "tags",
    "list",
    "referrers",
    "_catalog",
    DIGEST_A,
    MANIFEST_A_DIGEST,
    "sha256:" + "0" * 64,
    "sha256:" + "A" * 64,
    "sha512:" + "1" * 128,
    "sha256:abc",
    "md5:" + "0" * 32,
    "latest",
    "v1",
    UPLOAD_ID,
    "..",
    ".",
    "%2F",
    "%2e%2e",
    "foo%2Fbar",
    "%2e%2e%2Fbar",
    "",
    "a" * 300,
    "a" * 256,
    "t" * 129,
    "Foo",
    "foo_bar",
    "foo__bar",
    "foo..bar",
    "-foo",
    "ünïcødé",
    "\u202e",
    "%00",
    "%ff",
    "%",
    "a%2",
    "~",
    "*",
    "?",
    "#",
]
METHODS = ["GET", "HEAD", "PUT", "POST", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT", "PROPFIND", "get", "X"]
QUERIES = [
    "",
    f"digest={DIGEST_A}",
    "digest=sha256:bad",
    "digest=",
    "n=2",
    "n=-1",
    "n=abc",
    "n=" + "9" * 30,
    "last=zzz",
    "n=0&last=",
    f"mount={DIGEST_A}&from=foo",
    f"mount={DIGEST_A}&from=..",
    "mount=x&from=foo",
    "artifactType=x",
    "digest=%00",
    "a=b&a=c",
    "%ff=%fe",
]
RANGES = [
    "bytes=0-1",
    "bytes=1-",
    "bytes=-2",
    "bytes=0-0",
    "bytes=4-4",
    "bytes=5-",
    "bytes=100-200",
    "bytes=2-1",
    "bytes=0-1,3-4",
    "bytes=-0",
    "bytes=",
    "items=0-1",
    "bytes=a-b",
    "bytes=99999999999999999999-",
    "0-1",
]
CONTENT_RANGES = [
    "0-4",
    "0-0",
    "5-9",
    "bytes 0-4/5",
    "bytes=0-4",
    "4-0",
    "0-99999999999999999999",
    "-1-3",
    "abc",
    "0-4/*",
    "bytes */5",
    "",
]
CONTENT_TYPES = [
    OCI_MANIFEST,
    OCI_INDEX,
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/json",
    "application/octet-stream",
    f"{OCI_MANIFEST}; charset=utf-8",
    "",
    ";",
    'text/plain; a="b',
]
ACCEPTS = [OCI_MANIFEST, OCI_INDEX, "*/*", "application/*", "text/html, application/json;q=0.5", ",,,", "", "*"]
BODIES = [
    b"",
    b"{",
    b"{}",
    b"[]",
    b"null",
    b"\xff\xfe\xfd",
    b'{"schemaVersion":2}',
    MANIFEST_A,
    b"hello",
    b'{"layers":"x"}',
    b'{"manifests":[{}]}',
    b'{"config":{"digest":"sha256:x"}}',
    b'{"subject":{"digest":1}}',
    b'{"layers":[{"mediaType":"x","digest":"' + DIGEST_A.encode() + b'","size":-1}]}',
    b"\x00" * 1000,
    b'"\\ud800"',
    b"1e99999",
    b"[" * 500 + b"]" * 500,  # deeper nesting is a known bug: see test_deeply_nested_manifest_json
]

text = st.text(max_size=40)
segment = st.one_of(st.sampled_from(SEGMENTS), text, st.text(alphabet="abz019._-/%2Fe", max_size=30))
repo_name = st.one_of(
    st.sampled_from(["foo", "foo", "foo/bar", "nothere", "a/b/c"]),
    st.sampled_from(["a" * 255, "a" * 256, "..", "foo/../bar", "foo/%2e%2e/bar", "foo%2Fbar", "Foo", "-x", ""]),
    st.text(alphabet="abc/._-%", min_size=1, max_size=20),
    text,
)
digest_like = st.one_of(
    st.sampled_from([DIGEST_A, DIGEST_A, MANIFEST_A_DIGEST, "sha256:" + "0" * 64, "sha512:" + "1" * 128]),
    st.builds(
        lambda a, h: f"{a}:{h}",
        st.sampled_from(["sha256", "sha384", "sha512", "md5", "SHA256", ""]),
        st.text(alphabet="0123456789abcdefABCDEF", max_size=130),
    ),
    segment,
)
reference = st.one_of(digest_like, st.sampled_from(["latest", "v1", "t" * 128, "t" * 129, "_x", ".x", "-x"]), text)
upload_id = st.one_of(st.just(UPLOAD_ID), st.sampled_from(["x", ".", "..", "a" * 256, "a" * 257, "%2F"]), text)
good_repo = st.sampled_from(["foo", "foo", "foo/bar", "nothere"])
good_digest = st.sampled_from([DIGEST_A, MANIFEST_A_DIGEST, "sha256:" + "0" * 64])
method = st.one_of(
    st.sampled_from(["GET", "GET", "HEAD", "PUT", "PUT", "POST", "PATCH", "DELETE"]),
    st.sampled_from(METHODS),
    st.text(min_size=1, max_size=8),
)
hostile_path = st.one_of(
    st.builds(lambda r, d: f"/v2/{r}/blobs/{d}", repo_name, digest_like),
    st.builds(lambda r, ref: f"/v2/{r}/manifests/{ref}", repo_name, reference),
    st.builds(lambda r, tail: f"/v2/{r}/blobs/uploads{tail}", repo_name, st.sampled_from(["", "/"])),
    st.builds(lambda r, u: f"/v2/{r}/blobs/uploads/{u}", repo_name, upload_id),
    st.builds(lambda r: f"/v2/{r}/tags/list", repo_name),
    st.builds(lambda r, d: f"/v2/{r}/referrers/{d}", repo_name, digest_like),
    st.sampled_from(["/v2/", "/v2", "/v2/_catalog", "/", "/v1/", "/v2/_catalog/x"]),
    st.lists(segment, max_size=7).map(lambda segs: "/v2/" + "/".join(segs)),
    text.map(lambda s: "/" + s),
)


def _route(methods: list[str], template: Callable[..., str], *parts: st.SearchStrategy[Any]) -> Any:
    return st.tuples(st.sampled_from(methods), st.builds(template, *parts))


good_repo = st.sampled_from(["foo", "foo", "foo/bar", "nothere"])
good_digest = st.sampled_from([DIGEST_A, DIGEST_A, MANIFEST_A_DIGEST, "sha256:" + "0" * 64])
requests_line = st.one_of(
    # Mostly requests that reach a handler, with hostile parts in one place at a time ...
    _route(["GET", "GET", "HEAD", "DELETE"], lambda r, d: f"/v2/{r}/blobs/{d}", good_repo, good_digest),
    _route(
        ["GET", "HEAD", "PUT", "PUT", "DELETE"],
        lambda r, ref: f"/v2/{r}/manifests/{ref}",
        good_repo,
        st.one_of(good_digest, st.sampled_from(["latest", "v1", "new"]), reference),
    ),
    _route(
        ["GET", "PATCH", "PATCH", "PUT", "DELETE"],
        lambda r, u: f"/v2/{r}/blobs/uploads/{u}",
        good_repo,
        st.one_of(st.just(UPLOAD_ID), upload_id),
    ),
    _route(["POST"], lambda r: f"/v2/{r}/blobs/uploads/", good_repo),
    _route(["GET"], lambda r: f"/v2/{r}/tags/list", good_repo),
    _route(["GET"], lambda r, d: f"/v2/{r}/referrers/{d}", good_repo, good_digest),
    _route(["GET"], lambda: "/v2/_catalog"),
    # ... then anything anywhere.
    st.tuples(method, st.one_of(hostile_path, st.builds(lambda r, d: f"/v2/{r}/blobs/{d}", good_repo, digest_like))),
)
headers = st.fixed_dictionaries(
    {},
    optional={
        "Range": st.one_of(st.sampled_from(RANGES), text),
        "Content-Range": st.one_of(st.sampled_from(CONTENT_RANGES), text),
        "Content-Type": st.one_of(st.sampled_from(CONTENT_TYPES), text),
        "Accept": st.lists(st.one_of(st.sampled_from(ACCEPTS), text), min_size=1, max_size=3),
        "Transfer-Encoding": st.sampled_from(["chunked", "gzip", "identity"]),
        "Expect": st.just("100-continue"),
    },
)
bodies = st.one_of(
    st.sampled_from(BODIES),
    st.binary(max_size=2000),
    st.text(max_size=200).map(str.encode),
    st.integers(1, 300).map(lambda k: b"x" * (k * 1024)),  # large
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=10),
        lambda inner: (
            st.lists(inner, max_size=4)
            | st.dictionaries(
                st.sampled_from(
                    [
                        "schemaVersion",
                        "mediaType",
                        "config",
                        "layers",
                        "manifests",
                        "subject",
                        "digest",
                        "size",
                        "annotations",
                        "artifactType",
                    ]
                ),
                inner,
                max_size=5,
            )
        ),
        max_leaves=15,
    ).map(lambda doc: json.dumps(doc).encode()),
)


def seeded_app(**options: Any) -> RegistryApp:
    store = Store()
    store.put_blob("foo", [b"hello"], DIGEST_A)
    store.put_manifest("foo", "latest", MANIFEST_A, OCI_MANIFEST)
    store.start_upload("foo", UPLOAD_ID)
    store.put_blob("foo/bar", [b"hello"], DIGEST_A)
    store.options = store.options.replace(**options)
    return RegistryApp(store)


def call(
    app: RegistryApp,
    method: str,
    target: str,
    headers: dict[str, Any] | None = None,
    body: bytes = b"",
) -> tuple[int, dict[str, str], bytes] | None:
    """One request through the WSGI app; None when the request cannot be expressed as a WSGI environ."""
    target, _, query = target.partition("?")
    header_list: list[tuple[str, str]] = []
    for name, value in (headers or {}).items():
        for v in value if isinstance(value, list) else [value]:
            header_list.append((name, v))
    try:
        builder = EnvironBuilder(path=target, method=method, query_string=query, headers=header_list, data=body)
        environ = builder.get_environ()
    except (ValueError, UnicodeError, TypeError):
        return None
    FIGURES.add("requests")
    app_iter, status, response_headers = run_wsgi_app(app, environ, buffered=True)
    return int(status.split()[0]), dict(response_headers), b"".join(app_iter)


def check_answer(method: str, request_headers: dict[str, Any], answer: tuple[int, dict[str, str], bytes]) -> None:
    """A success, or a well-formed OCI error; a 500 only as the reference's pinned ``invalid range``."""
    status, response_headers, body = answer
    assert b"Traceback" not in body and b"Traceback" not in json.dumps(response_headers).encode()
    assert status in (200, 201, 202, 204, 206) or 400 <= status < 600, status
    if method.upper() == "HEAD":
        assert body == b""
        assert status != 500
        return
    if status >= 400:
        error = assert_oci_error(status, body)
        assert response_headers.get("Content-Type") == "application/json"
        if status >= 500:
            assert "Range" in request_headers and error["code"] == "UNKNOWN", (status, body)
            assert error["message"].startswith("invalid range ["), body


HYPOTHESIS = settings(
    max_examples=250 * SCALE,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
        HealthCheck.function_scoped_fixture,  # logged_errors collects over all the examples, as meant
    ],
)


@pytest.fixture(scope="module")
def fuzz_app() -> RegistryApp:
    return seeded_app()


@given(line=requests_line, query=st.one_of(st.sampled_from(QUERIES), text), request_headers=headers, body=bodies)
@HYPOTHESIS
def test_fuzz_any_request(
    fuzz_app: RegistryApp,
    logged_errors: Errors,
    line: tuple[str, str],
    query: str,
    request_headers: dict[str, Any],
    body: bytes,
) -> None:
    FIGURES.add("inputs")
    method, target = line
    store = fuzz_app.store  # state carries over between examples; the seed comes back if a DELETE took it
    store.put_blob("foo", [b"hello"], DIGEST_A)
    if not store.has_repository("foo") or MANIFEST_A_DIGEST not in store._repos["foo"].manifests:
        store.put_manifest("foo", "latest", MANIFEST_A, OCI_MANIFEST)
    answer = call(fuzz_app, method, f"{target}?{query}" if query else target, request_headers, body)
    assume(answer is not None)
    assert answer is not None
    check_answer(method, request_headers, answer)
    assert not logged_errors.records, logged_errors.records[0].getMessage()
    check_invariants(fuzz_app.store)


upload_step = st.tuples(
    st.sampled_from(["PATCH", "PATCH", "PUT", "GET", "DELETE"]),
    st.one_of(st.none(), st.sampled_from(CONTENT_RANGES), text),
    st.one_of(st.sampled_from([b"", b"hello", b"x" * 70_000]), st.binary(max_size=300)),
    st.one_of(st.sampled_from([DIGEST_A, "sha256:" + "0" * 64, "", "bad"]), st.none()),
)


def option_sets(**choices: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    """Any subset of these options (those the registry has: option names change as it grows)."""
    known = {f.name for f in dataclasses.fields(Options)}
    return st.fixed_dictionaries({}, optional={k: v for k, v in choices.items() if k in known})


UPLOAD_OPTIONS = option_sets(
    strict_upload_ids=st.booleans(), require_content_range=st.booleans(), strict_uploads=st.booleans()
)


@given(steps=st.lists(upload_step, min_size=1, max_size=5), options=UPLOAD_OPTIONS, fresh=st.booleans())
@HYPOTHESIS
def test_fuzz_upload_sessions(logged_errors: Errors, steps: list[Any], options: dict[str, Any], fresh: bool) -> None:
    """Random sequences of PATCH/PUT/GET/DELETE on one upload with random Content-Range, bodies and digests.

    The upload's size always equals the bytes the answers say were accepted, and a 201 stores exactly the bytes
    sent, under their digest."""
    FIGURES.add("inputs")
    app = seeded_app(**options)
    if fresh:
        status, response_headers, _ = call(app, "POST", "/v2/foo/blobs/uploads/")  # type: ignore[misc]
        location = response_headers["Location"]
    else:
        location = f"/v2/foo/blobs/uploads/{UPLOAD_ID}"
    sent = b""
    for method, content_range, body, digest in steps:
        request_headers = {} if content_range is None else {"Content-Range": content_range}
        target = location if method != "PUT" or digest is None else f"{location}?digest={digest}"
        answer = call(app, method, target, request_headers, body)
        if answer is None:
            continue
        check_answer(method, request_headers, answer)
        status, response_headers, _ = answer
        if method == "PATCH" and status == 202:
            sent += body
            assert response_headers["Range"] == f"0-{max(len(sent) - 1, 0)}"
        elif method == "PUT" and status == 201:
            sent += body
            assert digest == digest_of(sent)
            assert bytes(app.store.get_blob("foo", digest).data) == sent
            sent = b""
        elif method == "DELETE" and status == 204:
            sent = b""
        check_invariants(app.store)
    assert not logged_errors.records, logged_errors.records[0].getMessage()


@given(
    ref=st.one_of(st.sampled_from(["v1", "latest", "t" * 128, "t" * 129, "-x", DIGEST_A, MANIFEST_A_DIGEST]), text),
    content_type=st.one_of(st.sampled_from(CONTENT_TYPES), text),
    body=bodies,
    accept=st.lists(st.one_of(st.sampled_from(ACCEPTS), text), max_size=3),
    options=option_sets(
        validate_manifests=st.booleans(),
        check_references=st.booleans(),
        accept_check=st.booleans(),
        distribution_accept=st.booleans(),
        max_manifest_size=st.sampled_from([None, 10, 1024]),
    ),
)
@HYPOTHESIS
def test_fuzz_manifest_pushes(
    logged_errors: Errors, ref: str, content_type: str, body: bytes, accept: list[str], options: dict[str, Any]
) -> None:
    """Random manifest bodies and types: a 201 stores the exact bytes under their digest, readable back."""
    FIGURES.add("inputs")
    app = seeded_app(**options)
    request_headers = {"Content-Type": content_type} if content_type else {}
    answer = call(app, "PUT", f"/v2/foo/manifests/{ref}", request_headers, body)
    assume(answer is not None)
    assert answer is not None
    check_answer("PUT", request_headers, answer)
    status, response_headers, _ = answer
    if status == 201:
        digest = response_headers["Docker-Content-Digest"]
        assert digest == digest_of(body, digest.partition(":")[0])
        got = call(app, "GET", f"/v2/foo/manifests/{digest}", {"Accept": accept} if accept else {})
        if got is None:  # an Accept value no WSGI environ can carry (a newline): read it back without
            got = call(app, "GET", f"/v2/foo/manifests/{digest}")
        assert got is not None
        check_answer("GET", {}, got)
        if got[0] == 200:
            assert got[2] == body
    check_invariants(app.store)
    assert not logged_errors.records, logged_errors.records[0].getMessage()


@pytest.mark.parametrize(
    "media_type, body",
    [
        (OCI_MANIFEST, b"[" * 1000 + b"]" * 1000),
        (OCI_INDEX, b'{"a":' * 5000 + b"1" + b"}" * 5000),
    ],
    ids=["manifest-1000-arrays", "index-5000-objects"],
)
def test_deeply_nested_manifest_json_is_manifest_invalid(
    oci_registry: OCIRegistry, media_type: str, body: bytes
) -> None:
    """Found by test_fuzz_manifest_pushes (OCI_STRESS_SCALE=5): never a 500. Where Python's JSON parser gives up
    (a RecursionError) the answer is 400 MANIFEST_INVALID and nothing is stored; where it parses (Python 3.13 takes
    5,000 levels of objects) the document is a JSON object the default options accept as is."""
    conn = Conn(oci_registry)
    status, _, answer = conn.request("PUT", "/v2/foo/manifests/v1", body, {"Content-Type": media_type})
    conn.close()
    print(f"\nPUT of a {len(body)}-byte nested {media_type} answered {status} {answer!r}")
    if status == 201:
        assert oci_registry.store.get_manifest("foo", "v1").data == body
    else:
        assert oci_registry.store._repos.get("foo") is None
        assert_oci_error(status, answer, code="MANIFEST_INVALID")
