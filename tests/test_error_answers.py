"""Error answers a client can provoke, over a socket: the spec's 14 codes under ``spec``, no 500 for anything a
client sends, the manifest size limit, the mount fallback, and the store's errors mapped by the api alone."""

from __future__ import annotations

import ast
import socket
from pathlib import Path

import pytest
from raw_http import exchange, put_blob

import pytest_ociregistry.store
from pytest_ociregistry import DISTRIBUTION, SPEC, OCIRegistry, Options
from pytest_ociregistry.errors import ContentRangeRequired, ErrorCode, ManifestTooLarge
from pytest_ociregistry.names import digest_of
from pytest_ociregistry.store import Store

SPEC_CODES = {
    "BLOB_UNKNOWN", "BLOB_UPLOAD_INVALID", "BLOB_UPLOAD_UNKNOWN", "DIGEST_INVALID", "MANIFEST_BLOB_UNKNOWN",
    "MANIFEST_INVALID", "MANIFEST_UNKNOWN", "NAME_INVALID", "NAME_UNKNOWN", "SIZE_INVALID", "UNAUTHORIZED", "DENIED",
    "UNSUPPORTED", "TOOMANYREQUESTS",
}
PRESETS = {"reference": Options(), "spec": SPEC, "distribution": DISTRIBUTION}
MiB = 1 << 20
HELLO = digest_of(b"hello world")


def test_the_spec_lists_these_14_codes() -> None:
    assert {code.name for code in ErrorCode if code.in_spec} == SPEC_CODES


def start_upload(registry: OCIRegistry, repo: str = "foo") -> str:
    answer = exchange(registry, "POST", f"/v2/{repo}/blobs/uploads/")
    location = answer.header("Location")
    assert answer.status == 202 and location, answer
    return location.removeprefix(registry.url)


# Under spec, each answer the reference gives with a code the spec does not list, and what spec answers instead.
# (method, target, headers, body) -> (status, code, message)
NON_SPEC_ANSWERS = [
    (("GET", "/v2/nothing/here", {}, b""), (404, "UNSUPPORTED", "page not found")),
    (("FOO", f"/v2/foo/blobs/{HELLO}", {}, b""), (405, "UNSUPPORTED", "method not allowed")),
    (("GET", "/v2/foo/tags/list?n=abc", {}, b""), (400, "UNSUPPORTED", "query parameter n is not a valid integer")),
    (("GET", "/v2/_catalog?n=-1", {}, b""), (400, "UNSUPPORTED", "query parameter n is not a valid integer")),
    (("PUT", "/v2/foo/manifests/.bad", {"Content-Type": "application/json"}, b"{}"),
     (400, "MANIFEST_INVALID", "invalid tag")),
    (("GET", f"/v2/foo/blobs/{HELLO}", {"Range": "bytes=20-30"}, b""), (416, "UNSUPPORTED", "range not satisfiable")),
]


@pytest.mark.parametrize(("request_", "wanted"), NON_SPEC_ANSWERS, ids=[r[0][0] + " " + r[0][1] for r in NON_SPEC_ANSWERS])
def test_spec_answers_every_error_with_one_of_its_codes(
    oci_registry: OCIRegistry, request_: tuple[str, str, dict[str, str], bytes], wanted: tuple[int, str, str]
) -> None:
    method, target, headers, body = request_
    oci_registry.options = SPEC
    put_blob(oci_registry, "foo", b"hello world")
    assert exchange(oci_registry, method, target, headers, body).error() == wanted
    oci_registry.options = oci_registry.default_options  # the reference keeps its own codes
    assert exchange(oci_registry, method, target, headers, body).error()[1] not in SPEC_CODES


def test_spec_answers_a_chunk_out_of_order_blob_upload_invalid(oci_registry: OCIRegistry) -> None:
    oci_registry.options = SPEC
    location = start_upload(oci_registry)
    answer = exchange(oci_registry, "PATCH", location, {"Content-Range": "0-2"}, b"abc")
    assert answer.status == 202
    answer = exchange(oci_registry, "PATCH", location, {"Content-Range": "1-2"}, b"bc")
    message = "cannot copy blob data: invalid offset 1 in resumed upload (actual offset 3): range invalid: invalid"
    assert answer.error() == (416, "BLOB_UPLOAD_INVALID", message + " content range")


# Requests whose numbers are not ASCII digits, or too long to be numbers: never a 500. In a target, ``{upload}`` is
# the Location of a fresh upload, ``{upload?}`` it with a ``?`` or ``&`` to add a query, ``{bare}`` it without query.
NUMBERS = [
    ("GET", "/v2/foo/tags/list?n=%C2%B2", {}),  # n=² (a digit to str.isdigit, not to int())
    ("GET", "/v2/foo/tags/list?n=%D9%A3", {}),  # n=٣ (an Arabic-Indic digit)
    ("GET", "/v2/_catalog?n=%C2%B2", {}),
    ("PATCH", "{upload}", {"Content-Range": "0-\u00b2"}),
    ("PATCH", "{upload}", {"Content-Range": "0-" + "9" * 5000}),
    ("PATCH", "{upload}", {"Content-Range": "9" * 5000 + "-" + "9" * 5000}),
    ("PUT", "{upload?}digest=" + digest_of(b"abc"), {"Content-Range": "0-" + "9" * 30}),
    ("PATCH", "{bare}?_state=%C2%B2.x", {}),
    ("PATCH", "{bare}?_state=" + "9" * 5000 + ".x", {}),
]


@pytest.mark.parametrize("preset", list(PRESETS))
@pytest.mark.parametrize("request_", NUMBERS, ids=[f"{m} {t} {h}"[:70] for m, t, h in NUMBERS])
def test_numbers_are_ascii_digits_and_never_a_500(
    oci_registry: OCIRegistry, preset: str, request_: tuple[str, str, dict[str, str]]
) -> None:
    method, target, headers = request_
    oci_registry.options = PRESETS[preset]
    location = start_upload(oci_registry)
    target = (
        target.replace("{upload?}", location + ("&" if "?" in location else "?"))
        .replace("{upload}", location)
        .replace("{bare}", location.partition("?")[0])
    )
    answer = exchange(oci_registry, method, target, {**headers, "Content-Type": "application/octet-stream"}, b"abc")
    assert answer.status < 500, answer  # a success where the number is not read (distribution ignores a bad n)
    if answer.status >= 400:
        code = answer.error()[1]
        assert code in SPEC_CODES or preset != "spec", answer


def too_large(preset: str, size: int) -> tuple[int, str, str]:
    """The refusal of a manifest of ``size`` bytes over the default limit, as each preset answers it."""
    if preset == "distribution":  # oversize_manifest_invalid: distribution 2.8's answer
        return 400, "MANIFEST_INVALID", "http: request body too large"
    return 413, "SIZE_INVALID", f"manifest too large ({size} bytes, max 4194304)"


@pytest.mark.parametrize("preset", list(PRESETS))
def test_a_manifest_over_the_limit_is_refused_with_its_real_size(oci_registry: OCIRegistry, preset: str) -> None:
    oci_registry.options = PRESETS[preset]
    assert oci_registry.options.max_manifest_size == 4 * MiB
    body = b'{"a":"' + b"x" * (4 * MiB - 7) + b'"}'
    assert len(body) == 4 * MiB + 1
    answer = exchange(oci_registry, "PUT", "/v2/foo/manifests/big", {"Content-Type": "application/json"}, body)
    assert answer.error() == too_large(preset, 4194305)
    exact = body[:-3] + b'"}'
    answer = exchange(oci_registry, "PUT", "/v2/foo/manifests/exact", {"Content-Type": "application/json"}, exact)
    assert answer.status == 201, answer


def test_a_chunked_manifest_over_the_limit_is_buffered_no_further(oci_registry: OCIRegistry) -> None:
    oci_registry.configure(max_manifest_size=1000)
    chunk = b"x" * 600
    frame = b"%x\r\n%s\r\n" % (len(chunk), chunk)
    answer = exchange(
        oci_registry, "PUT", "/v2/foo/manifests/big", {"Transfer-Encoding": "chunked"}, frame * 3 + b"0\r\n\r\n",
        length=False,
    )
    assert answer.error() == (413, "SIZE_INVALID", "manifest too large (1800 bytes, max 1000)")


@pytest.mark.parametrize("preset", list(PRESETS))
def test_an_announced_length_over_the_limit_is_refused_unread(oci_registry: OCIRegistry, preset: str) -> None:
    """1 GiB announced and not one byte sent: the answer comes at once (the body is never buffered)."""
    oci_registry.options = PRESETS[preset]
    with socket.create_connection(("127.0.0.1", oci_registry.port), timeout=5) as sock:
        sock.sendall(
            b"PUT /v2/foo/manifests/big HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 1073741824\r\n\r\n"
        )
        head = sock.recv(65536)
    status, code, message = too_large(preset, 1073741824)
    assert head.startswith(b"HTTP/1.1 %d " % status), head
    assert head.endswith(b'{"errors":[{"code":"%s","message":"%s"}]}' % (code.encode(), message.encode())), head


@pytest.mark.parametrize("preset", list(PRESETS))
@pytest.mark.parametrize("source", ["Bad..Name", "UPPER", "-x", "a" * 300, "%2Fetc"])
def test_a_mount_from_an_invalid_name_is_an_ordinary_upload(oci_registry: OCIRegistry, preset: str, source: str) -> None:
    oci_registry.options = PRESETS[preset]
    digest = put_blob(oci_registry, "src", b"layer")
    answer = exchange(oci_registry, "POST", f"/v2/foo/blobs/uploads/?mount={digest}&from={source}")
    assert (answer.status, answer.header("Range")) == (202, "0-0"), answer
    location = answer.header("Location")
    assert location is not None and "/v2/foo/blobs/uploads/" in location
    assert answer.body == b""


def test_the_store_raises_domain_errors_and_chooses_no_status() -> None:
    """Issue 18: statuses are chosen by the api (as the reference's server does), never in store.py."""
    source = Path(pytest_ociregistry.store.__file__).read_text()
    calls = [node for node in ast.walk(ast.parse(source)) if isinstance(node, ast.Call)]
    assert not [c for c in calls for k in c.keywords if k.arg == "status"], "store.py passes a status="
    store = Store(Options(max_manifest_size=10, require_content_range=True))
    with pytest.raises(ManifestTooLarge) as refused:
        store.put_manifest("foo", "v1", b"x" * 11)
    assert (refused.value.limit, refused.value.size, refused.value.status) == (10, 11, 400)
    upload = store.start_upload("foo")
    store.write_upload("foo", upload.id, [b"abc"])
    with pytest.raises(ContentRangeRequired):
        store.write_upload("foo", upload.id, [b"def"])


def test_the_api_answers_them_with_the_status_the_spec_wants(oci_registry: OCIRegistry) -> None:
    oci_registry.options = SPEC
    location = start_upload(oci_registry)
    assert exchange(oci_registry, "PATCH", location, {"Content-Range": "0-2"}, b"abc").status == 202
    answer = exchange(oci_registry, "PATCH", location, {}, b"def")
    assert answer.error() == (400, "BLOB_UPLOAD_INVALID", "a chunk after the first needs a Content-Range")
