"""The HTTP API: a werkzeug ``Request`` in, a ``Response`` out. The URL is parsed once (:mod:`.routes`), then one
handler per route kind serves it from the :class:`~pytest_ociregistry.store.Store`.

:class:`RegistryApp` is also a plain WSGI application, to serve with no socket (``httpx.WSGITransport``,
werkzeug's test ``Client``) or under any WSGI server.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import re
import secrets
from collections.abc import Callable, Iterable, Iterator, Mapping
from types import MappingProxyType
from typing import Any
from urllib.parse import urlencode

from werkzeug.datastructures import Headers
from werkzeug.exceptions import ClientDisconnected
from werkzeug.wrappers import Request
from werkzeug.wrappers import Response as BaseResponse

from . import routes
from .auth import Access, EmptyCatalog, MixedScopes
from .body import Body
from .errors import (
    ChunkOutOfOrder,
    ContentRangeRequired,
    ErrorCode,
    ImmutableTag,
    ManifestTooLarge,
    PreconditionFailed,
    RegistryError,
)
from .manifest import DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, OCI_INDEX, OCI_TYPES, media_type_of, platform_manifest
from .names import digest_of, is_tag
from .options import Options
from .ranges import InvalidRange, UnsatisfiableRange, byte_ranges, multipart_byteranges
from .ratelimit import RateLimited, RateLimits
from .routes import Kind, Route
from .spill import BlobData, Spilled
from .status import status_line
from .store import Blob, Manifest, Store

log = logging.getLogger(__name__)

PULL_CHUNK_SIZE = 4 << 20
# Set by a server (our keep-alive handler) that writes memoryviews as they are: blob bodies are then not copied.
BUFFERS_OK_KEY = "ociregistry.buffers_ok"
API_VERSION = ("Docker-Distribution-API-Version", "registry/2.0")
HARBOR_JSON = {"Content-Type": "application/json; charset=utf-8"}  # Harbor's own errors (lib/http.SendError)
# Per-request facts the api leaves in the WSGI environ for the request log.
ERROR_KEY = "ociregistry.error"
IDENTITY_KEY = "ociregistry.identity"
_QVALUE = re.compile(r"0(?:\.[0-9]{0,3})?|1(?:\.0{0,3})?")  # RFC 9110 section 12.4.2
_REFERENCE_RANGE = re.compile(r"bytes=([0-9]{1,18})-([0-9]{0,18})")  # one range, as the reference reads it
_CONTENT_RANGE = re.compile(r"(?:bytes[ =])?([0-9]{1,18})-([0-9]{1,18})(?:/(?:[0-9]+|\*))?")
_BARE_CONTENT_RANGE = re.compile(r"([0-9]{1,18})-([0-9]{1,18})")  # bare_content_range: ACR's only form



class ResponseHeaders(Headers):
    """werkzeug's ``Headers``, whose ``in`` does not build and raise an HTTP exception for a name that is missing
    (werkzeug's does, and a response is asked for missing names several times)."""

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, str):
            return super().__contains__(key)  # type: ignore[operator]
        return _has_header(self, key)


class Response(BaseResponse):
    """A response with no Content-Type unless one is set (an empty 202 is not ``text/plain``), whose headers go
    out as set: every handler sets its own, so werkzeug's per-response rewriting is skipped."""

    default_mimetype = None

    def __init__(
        self,
        response: Any = None,
        status: int | str | None = None,
        headers: Any = None,
        content_type: str | None = None,
        **kwargs: Any,
    ) -> None:
        if kwargs:  # werkzeug's other arguments (direct_passthrough, mimetype): its constructor
            super().__init__(response, status, ResponseHeaders(headers), content_type=content_type, **kwargs)
            return
        # werkzeug's constructor, for what the api passes (a dict or pairs, bytes or an iterable, a content type),
        # without its per-field validation: the handler checks the header section it sends.
        fields = list(headers.items() if isinstance(headers, dict) else headers or ())
        if content_type is not None:
            _replace(fields, "Content-Type", content_type)
        if isinstance(response, str):
            response = response.encode()
        if isinstance(response, (bytes, bytearray)):
            _replace(fields, "Content-Length", str(len(response)))
            response = [response]
        self.headers = ResponseHeaders()
        self.headers._list = fields
        self._status, self._status_code = _status(200 if status is None else status)
        self.direct_passthrough = False
        self._on_close = []
        self.response = [] if response is None else response

    def get_wsgi_headers(self, environ: dict[str, Any]) -> Headers:
        if self._status_code in (204, 304):  # a bodiless status carries no length (RFC 9110)
            self.headers.pop("Content-Length", None)
        elif isinstance(self.response, list) and not _has_header(self.headers, "Content-Length"):
            self.headers._list.append(("Content-Length", str(sum(len(part) for part in self.response))))
        return self.headers

    def get_wsgi_response(self, environ: dict[str, Any]) -> tuple[Iterable[bytes], str, list[tuple[str, str]]]:
        """werkzeug's, without its copies of the header list through ``Headers``' own methods."""
        headers = self.get_wsgi_headers(environ)
        return self.get_app_iter(environ), self._status, headers._list[:]

    def get_app_iter(self, environ: dict[str, Any]) -> Iterable[bytes]:
        """The body to send: werkzeug wraps every body in a ``ClosingIterator``; a buffered one with nothing to call
        on close goes out as it is."""
        if type(self.response) is list and not self._on_close:
            code = self.status_code
            bodiless = environ["REQUEST_METHOD"] == "HEAD" or code in (204, 304) or code < 200
            return () if bodiless else self.response
        return super().get_app_iter(environ)


_NO_QUERY: Mapping[str, str] = MappingProxyType({})
_STATUSES: dict[int | str, tuple[str, int]] = {}


def _status(status: int | str) -> tuple[str, int]:
    """werkzeug's status text and code for ``status`` (what setting ``Response.status`` finds), found once."""
    known = _STATUSES.get(status)
    if known is None:
        probe = BaseResponse(status=status)
        known = probe.status, probe.status_code
        if len(_STATUSES) < 256:
            _STATUSES[status] = known
    return known


def _replace(fields: list[tuple[str, str]], name: str, value: str) -> None:
    """``Headers.set`` on a list of fields: the first field ``name`` takes ``value``, any others go; or it is added."""
    lower = name.lower()
    found = [i for i, (key, _) in enumerate(fields) if key.lower() == lower] if fields else None
    if not found:
        fields.append((name, value))
        return
    fields[found[0]] = (name, value)
    for i in reversed(found[1:]):
        del fields[i]


def _set_default(headers: Headers, name: str, value: str) -> None:
    """``headers.setdefault(name, value)`` without its cost: werkzeug's builds and raises an HTTP exception when the
    header is missing, the usual case here."""
    if not _has_header(headers, name):
        headers._list.append((name, value))  # (add() would check the value: the handler checks what it sends)


def _has_header(headers: Headers, name: str) -> bool:
    """Whether ``headers`` has a field ``name`` (a plain loop: a generator would cost more than the walk)."""
    lower = name.lower()
    for key, _ in headers._list:
        if key.lower() == lower:
            return True
    return False


Handler = Callable[[Request, Route], Response]

_WRITES = {Kind.UPLOAD_START, Kind.UPLOAD_SINGLE_POST, Kind.UPLOAD_MOUNT, Kind.UPLOAD_STATUS, Kind.UPLOAD_CHUNK,
           Kind.UPLOAD_COMPLETE, Kind.UPLOAD_CANCEL, Kind.MANIFEST_PUT}
_DELETES = {Kind.BLOB_DELETE, Kind.MANIFEST_DELETE}
_READS = {Kind.BLOB_GET, Kind.BLOB_HEAD, Kind.MANIFEST_GET, Kind.MANIFEST_HEAD, Kind.TAGS_LIST, Kind.REFERRERS}
_UPLOADS = {Kind.UPLOAD_CHUNK, Kind.UPLOAD_COMPLETE}


def _json(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


def body_chunks(request: Request) -> Body:
    """The request body, to iterate in chunks as it arrives (``Transfer-Encoding: chunked`` bodies included) or to
    read in place (see :class:`~pytest_ociregistry.body.Body`)."""
    length = _content_length(request)
    return Body(_body_stream(request) if length != 0 else None, length)


def _body_stream(request: Request) -> Any:
    """The body's stream, with ``readinto``: a server that ends the stream where the body ends
    (``wsgi.input_terminated``, as ours does) is read as it is, as werkzeug's ``request.stream`` would return it
    without the cost of building its wrapper; otherwise werkzeug's ``LimitedStream``."""
    environ = request.environ
    if "wsgi.input_terminated" in environ and request.max_content_length is None:
        return environ["wsgi.input"]
    return request.stream


def _content_length(request: Request) -> int | None:
    """The announced body length; None for a chunked body (werkzeug's ``content_length``, read from the environ)."""
    environ = request.environ
    coding = environ.get("HTTP_TRANSFER_ENCODING")
    if coding is not None and "chunked" in coding.lower():
        return None
    length = environ.get("CONTENT_LENGTH")
    if length is not None and length.isascii() and length.isdigit():
        return int(length)
    return request.content_length or 0


class RegistryApp:
    """The registry's HTTP behaviour over a store. ``options`` are the store's, as the current request sees them."""

    def __init__(self, store: Store | None = None) -> None:
        self.store = store or Store()
        self._secret = secrets.token_bytes(16)
        self.rate_limits = RateLimits()
        self._handlers: dict[Kind, Handler] = {kind: getattr(self, f"handle_{kind.value}") for kind in Kind}

    @property
    def options(self) -> Options:
        return self.store.options

    # Entry points -------------------------------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        """The WSGI entry point."""
        response = self.handle(Request(environ))
        response.status = status_line(response.status_code)  # Go's reason phrases, not werkzeug's upper case
        return response(environ, start_response)

    def handle(self, request: Request) -> BaseResponse:
        """Serve one request. Never raises: every failure is an OCI error body. The request sees the options as
        they were when it began, even if they change while it is served."""
        with self.store.request():
            return self.serve(request)

    def serve(self, request: Request) -> BaseResponse:
        """:meth:`handle`, inside a ``store.request()`` block its caller has entered (as the server does)."""
        options = self.options
        auth = options.auth
        response: BaseResponse
        route: Route | None = None
        counted: list[tuple[str, str]] = []  # the rate limit's headers, on whatever the request is answered
        try:
            if auth is not None and request.path == auth.token_path:
                token = auth.handle_token(
                    request, refuse_delete=options.token_refuses_delete, same_type=options.token_rejects_mixed_scopes
                )
                return self._decorate(request, token, options)
            try:
                query = request.args if request.environ.get("QUERY_STRING") else _NO_QUERY  # none: nothing to parse
                route = routes.parse(request.method, request.path, query, options)
            except RegistryError as e:
                response = self._parse_error(request, e)
            else:
                if auth is not None:
                    needed = required_access(route)
                    style = options.auth_challenge
                    request.environ[IDENTITY_KEY], refusal = auth.authorize(request, needed, style)
                    if refusal is not None or self._never_granted(request, route):
                        raise refusal or auth.refuse(request, needed, style)
                counted = self.rate_limits.take(options, request, route)
                try:
                    response = self._handlers[route.kind](request, route)
                except RegistryError as e:
                    raise self._reworded(route, e) from None
        except ClientDisconnected:
            # The body ended before its Content-Length: the client is gone, and nothing was stored.
            response = self._error(request, RegistryError(ErrorCode.SIZE_INVALID, "request body ended early"))
        except (EmptyCatalog, MixedScopes) as e:
            response = e.response()
        except RateLimited as e:
            response = e.response
        except RegistryError as e:
            response = self._error(request, e, route)
        except Exception:
            log.exception("registry error on %s %s", request.method, request.path)
            response = self._error(request, RegistryError(ErrorCode.UNKNOWN, "internal server error"))
        for name, value in counted:
            _set_default(response.headers, name, value)
        return self._decorate(request, response, options)

    def _never_granted(self, request: Request, route: Route) -> bool:
        """Whether, with auth, the options refuse ``route`` whatever the credentials: Docker Hub's catalog, and
        reading a repository that does not exist there unless one may push to it (one's own namespace)."""
        options = self.options
        auth = options.auth
        if route.kind is Kind.CATALOG:
            return options.catalog_insufficient_scope
        if not options.missing_repository_unauthorized or route.kind not in _READS or auth is None:
            return False
        pushes = Access(((route.repo, frozenset({"push"})),))
        return not self.store.has_repository(route.repo) and not auth.holds(request, pushes)

    def _parse_error(self, request: Request, error: RegistryError) -> Response:
        if self.options.plain_router_errors:
            # distribution's router: no OCI body for what it cannot route
            if error.status == 405:
                return Response(b"Method not allowed\n", 405, headers=error.headers, content_type="text/plain; charset=utf-8")
            if error.status == 404 or error.code in (ErrorCode.NAME_INVALID, ErrorCode.TAG_INVALID):
                return Response(b"404 page not found\n", 404, content_type="text/plain; charset=utf-8")
        response = self._error(request, error)
        _set_default(response.headers, *API_VERSION)
        return response

    def _reworded(self, route: Route, error: RegistryError) -> RegistryError:
        """An error from the store (or a handler), as the options answer it: the store raises what went wrong, and
        this is where its status and wording are chosen."""
        options = self.options
        if isinstance(error, ManifestTooLarge):
            if options.oversize_manifest_invalid:
                return RegistryError(ErrorCode.MANIFEST_INVALID, "http: request body too large")
            return error.answered(status=413)  # the spec: 413 Payload Too Large
        if isinstance(error, ContentRangeRequired):
            return error.answered(status=400)
        if isinstance(error, PreconditionFailed):
            return error.answered(status=412)  # RFC 9110 section 15.5.13
        if isinstance(error, ImmutableTag):
            return _immutable_tag_refusal(error, options.immutable_tag_refusal)
        manifest_read = route.kind in (Kind.MANIFEST_GET, Kind.MANIFEST_HEAD)
        unknown = error.code in (ErrorCode.MANIFEST_UNKNOWN, ErrorCode.NAME_UNKNOWN)
        if route.kind is Kind.MANIFEST_HEAD and unknown and route.tag and options.missing_tag_head_status != 404:
            return error.answered(status=options.missing_tag_head_status)
        if manifest_read and unknown and options.artifact_not_found:
            if error.code is ErrorCode.NAME_UNKNOWN:
                return _harbor(ErrorCode.NOT_FOUND, f"repository {route.repo} not found")
            where = f"{route.repo}:{route.tag}" if route.tag else f"{route.repo}@{route.digest}"
            return _harbor(ErrorCode.NOT_FOUND, f"artifact {where} not found")
        if error.code is ErrorCode.NAME_UNKNOWN and not options.name_unknown_for_content:
            if route.kind in (Kind.BLOB_GET, Kind.BLOB_HEAD, Kind.BLOB_DELETE):
                return RegistryError(ErrorCode.BLOB_UNKNOWN)
            if route.kind in (Kind.MANIFEST_GET, Kind.MANIFEST_HEAD, Kind.MANIFEST_DELETE):
                return RegistryError(ErrorCode.MANIFEST_UNKNOWN)
        if error.code is ErrorCode.MANIFEST_BLOB_UNKNOWN:
            return RegistryError(error.code, error.message, status=options.manifest_blob_unknown_status)
        return error

    def _error(self, request: Request, error: RegistryError, route: Route | None = None) -> Response:
        if self.options.spec_error_codes and not error.service:
            error = _in_spec(error, route)
        request.environ[ERROR_KEY] = error.code.name
        return self.error_response(error)

    def error_response(self, error: RegistryError) -> Response:
        """An OCI error body with the error's status."""
        response = Response(error.body(), error.status, content_type="application/json")
        response.headers.update(error.headers)
        return response

    def _decorate(self, request: Request, response: BaseResponse, options: Options) -> BaseResponse:
        # Every /v2/ answer says which API it speaks, auth refusals included: the docker CLI checks it on the 401
        # to GET /v2/ ("unsupported registry version" without it).
        if options.api_version_header or request.path == "/v2" or request.path.startswith("/v2/"):
            _set_default(response.headers, *API_VERSION)
        for text in options.warnings:
            response.headers.add("Warning", f'299 - "{text}"')
        return response

    # Helpers ------------------------------------------------------------------------------------------------------

    def _location(self, request: Request, path: str, options: Options) -> str:
        return request.host_url.rstrip("/") + path if options.absolute_location else path

    def _upload_state(self, repo: str, upload_id: str, size: int) -> str:
        """A token naming the upload and its offset, signed so that a client cannot make one up."""
        mac = hmac.new(self._secret, f"{repo}/{upload_id}/{size}".encode(), hashlib.sha256).hexdigest()[:32]
        return f"{size}.{mac}"

    def _check_upload_state(self, request: Request, route: Route, options: Options) -> None:
        """With ``upload_state``: the request must carry a token this registry signed for the upload's current
        offset (404 ``BLOB_UPLOAD_INVALID`` otherwise; ``BLOB_UPLOAD_UNKNOWN`` once the upload is gone)."""
        if not options.upload_state:
            return
        state = request.args.get("_state", "")
        offset = state.partition(".")[0]
        signed = offset.isascii() and offset.isdigit() and len(offset) <= 18 and hmac.compare_digest(
            state, self._upload_state(route.repo, route.upload_id, int(offset))
        )
        if not signed:
            raise RegistryError(ErrorCode.BLOB_UPLOAD_INVALID, status=404)
        if self.store.get_upload(route.repo, route.upload_id).size != int(offset):
            raise RegistryError(ErrorCode.BLOB_UPLOAD_INVALID, status=404)

    def _upload_response(
        self, request: Request, route: Route, upload_id: str, size: int, status: int, options: Options,
        *, range_value: str | None = None, location: bool = True,
    ) -> Response:
        """An upload's answer: its ``Location`` (unless not ``location``) and ``Range`` (the bytes received, unless
        ``range_value`` says otherwise)."""
        headers = [("Content-Length", "0")]  # an empty body's, first, as werkzeug sets it (a 204 drops it)
        if location:
            path = f"/v2/{route.repo}/blobs/uploads/{upload_id}"
            if options.upload_state:
                path += f"?_state={self._upload_state(route.repo, upload_id, size)}"
            headers.append(("Location", self._location(request, path, options)))
        headers.append(("Range", range_value or (f"0-{size - 1}" if size else "0-0")))
        if options.upload_uuid_header:
            headers.append(("Docker-Upload-UUID", upload_id))
        return Response(None, status, headers=headers)

    def _blob_created(self, request: Request, route: Route, blob: Blob) -> Response:
        response = Response(b"", 201)
        response.headers["Location"] = self._location(request, f"/v2/{route.repo}/blobs/{blob.digest}", self.options)
        response.headers["Docker-Content-Digest"] = blob.digest
        return response

    def _list_response(
        self, request: Request, key: str, items: list[str], more: bool, null_if_empty: bool, **extra: str
    ) -> Response:
        doc: dict[str, Any] = dict(extra)
        doc[key] = items if items or not null_if_empty else None
        response = Response(_json(doc), 200, content_type="application/json")
        if more and self.options.link_header and items:
            query = dict(request.args.items())
            query["last"] = items[-1]
            query["n"] = str(len(items))
            response.headers["Link"] = f'<{request.path}?{urlencode(sorted(query.items()))}>;rel="next"'
        return response

    def _page_size(self, route: Route, default: int | None = None) -> int | None:
        options = self.options
        cap = options.max_page_size
        if cap is not None and options.page_size_clamp:
            return cap if route.n is None else min(max(route.n, 1), cap)
        if cap is not None and route.n is not None and route.n > cap:
            if options.distribution_pagination:
                raise RegistryError(ErrorCode.PAGINATION_NUMBER_INVALID)
            message = f"query parameter n is too large (n={route.n}, max={cap})"
            if options.max_page_size_message is not None:
                message = options.max_page_size_message.replace("{max}", str(cap))
            raise RegistryError(ErrorCode.UNSUPPORTED, message)
        return default if route.n is None else route.n

    def _page_token(self, last: str) -> str:
        """An opaque ``next_page`` token for a catalog page after ``last`` (Quay's), signed so it cannot be made up."""
        mac = hmac.new(self._secret, last.encode(), hashlib.sha256).digest()[:12]
        return base64.urlsafe_b64encode(mac + last.encode()).decode().rstrip("=")

    def _page_after(self, token: str | None) -> str | None:
        """The ``last`` a :meth:`_page_token` names; None (the first page) for anything else, as Quay reads it."""
        try:
            raw = base64.urlsafe_b64decode((token or "") + "=" * (-len(token or "") % 4))
            last = raw[12:].decode()
        except (ValueError, UnicodeDecodeError):
            return None
        return last if token and hmac.compare_digest(token, self._page_token(last)) else None

    def _check_delete(self) -> None:
        if not self.options.delete_enabled:
            raise RegistryError(ErrorCode.UNSUPPORTED, "The operation is unsupported.", status=405)

    def _chunk_range(self, request: Request, length: int | None, options: Options) -> tuple[int | None, int | None]:
        """The chunk's start offset from ``Content-Range`` (None without one) and its length: the body's announced
        ``length`` (None: not announced), or the range's."""
        header = request.environ.get("HTTP_CONTENT_RANGE")  # request.headers.get("Content-Range")
        if header is None:
            return None, length
        if options.quay_upload_range and _BARE_CONTENT_RANGE.fullmatch(header) is None:
            raise RegistryError(ErrorCode.INVALID_REQUEST, "Invalid range header", detail={})
        if options.bare_content_range and _BARE_CONTENT_RANGE.fullmatch(header) is None:
            raise RegistryError(
                ErrorCode.BLOB_UPLOAD_INVALID,
                detail={"Range": header, "Reason": "the Content-Range header format is invalid"},
            )
        match = _CONTENT_RANGE.fullmatch(header.strip())
        if match is None:
            raise RegistryError(ErrorCode.UNSUPPORTED, "we don't understand your Content-Range")
        start, end = int(match[1]), int(match[2])
        if end < start:
            raise RegistryError(ErrorCode.RANGE_INVALID, f"invalid Content-Range {header!r}")
        if length is not None and end - start + 1 != length:
            raise RegistryError(
                ErrorCode.UNSUPPORTED,
                f"Content-Range implies a length of {end - start + 1} but Content-Length is {length}",
            )
        return start, end - start + 1

    # Handlers, one per route kind ---------------------------------------------------------------------------------

    def handle_ping(self, request: Request, route: Route) -> Response:
        if self.options.ping_json:
            return Response(b"{}", 200, headers=[API_VERSION], content_type="application/json; charset=utf-8")
        return Response(b"", 200, headers=[API_VERSION])

    def handle_catalog(self, request: Request, route: Route) -> Response:
        options = self.options
        n = self._page_size(route, options.catalog_default_page_size)
        last = route.last
        if options.catalog_last_must_exist and last is not None and not self.store.has_repository(last):
            raise RegistryError(ErrorCode.BAD_REQUEST, f"the last: {last} should be a valid repository name.")
        if options.catalog_page_token:
            last = self._page_after(request.args.get("next_page", request.args.get("last")))
        items, more = self.store.repositories(n, last, with_blobs=options.catalog_lists_blob_repositories)
        response = self._list_response(request, "repositories", items, more, options.null_empty_catalog)
        if options.catalog_page_token and "Link" in response.headers:
            query = urlencode({"n": len(items), "next_page": self._page_token(items[-1])})
            response.headers["Link"] = f'<{request.host_url}v2/_catalog?{query}>; rel="next"'
        return response

    def handle_tags_list(self, request: Request, route: Route) -> Response:
        items, more = self.store.tags(route.repo, self._page_size(route), route.last)
        return self._list_response(request, "tags", items, more, self.options.null_empty_tags, name=route.repo)

    def handle_blob_head(self, request: Request, route: Route) -> Response:
        blob = self.store.get_blob(route.repo, route.digest)
        headers = {"Docker-Content-Digest": blob.digest, "ETag": _etag(blob.digest)}
        if _not_modified(request, blob.digest):
            return Response([], 304, headers=headers)
        headers.update({"Content-Length": str(blob.size), "Content-Type": blob.media_type, "Accept-Ranges": "bytes"})
        return Response([], 200, headers=headers)

    def handle_blob_get(self, request: Request, route: Route) -> Response:
        blob = self.store.get_blob(route.repo, route.digest)
        size = blob.size
        if _not_modified(request, blob.digest):
            return Response([], 304, headers={"Docker-Content-Digest": blob.digest, "ETag": _etag(blob.digest)})
        headers = {
            "Docker-Content-Digest": blob.digest, "ETag": _etag(blob.digest), "Accept-Ranges": "bytes",
            "Content-Type": blob.media_type,
        }
        zero_copy = bool(request.environ.get(BUFFERS_OK_KEY))

        def slices(start: int, end: int) -> Iterator[bytes]:
            return _slices(blob.data, start, end, zero_copy)

        try:
            ranges = self._blob_ranges(request, blob)
        except RegistryError as e:
            if e.status != 416 or not self.options.distribution_range_errors:
                raise
            return _go_range_error(blob, overlap=e.code is ErrorCode.RANGE_INVALID)
        if len(ranges) > 1:
            content_type, length, body = multipart_byteranges(slices, ranges, blob.media_type, size)
            headers.update({"Content-Type": content_type, "Content-Length": str(length)})
            return Response(body, 206, headers=headers, direct_passthrough=True)
        start, end, status = 0, size, 200
        if ranges:
            (start, end), status = ranges[0], 206
            headers["Content-Range"] = f"bytes {start}-{end - 1}/{size}"
        headers["Content-Length"] = str(end - start)
        data = blob.data
        whole: Iterable[bytes] = _FileBody(data, start, end, zero_copy) if isinstance(data, Spilled) else slices(start, end)
        return Response(whole, status, headers=headers, direct_passthrough=True)

    def _blob_ranges(self, request: Request, blob: Blob) -> list[tuple[int, int]]:
        """The ranges of ``blob`` a GET asks for (none: the whole blob). A ``Range`` that does not parse, or whose
        ``If-Range`` does not match the blob, is ignored (RFC 9110: MUST ignore an unknown unit, MAY ignore an
        invalid range); one that overlaps nothing answers 416. Under ``distribution_range_errors``, read as Go does:
        one that does not parse answers 416 too."""
        header = request.headers.get("Range")
        if header is None or not _if_range_matches(request, blob):
            return []
        options = self.options
        size = blob.size
        go = options.distribution_range_errors
        try:
            return byte_ranges(header, size, go=go)
        except InvalidRange:
            if go:
                raise RegistryError(ErrorCode.UNKNOWN, "invalid range", status=416) from None
            return []
        except UnsatisfiableRange:
            pinned = _REFERENCE_RANGE.fullmatch(header)
            if not options.range_not_satisfiable and pinned and int(pinned[1]) > size:
                # The reference answers 500 to a single range starting past the end, and its table pins that.
                start, end = int(pinned[1]), size if not pinned[2] else min(int(pinned[2]) + 1, size)
                raise RegistryError(ErrorCode.UNKNOWN, f"invalid range [{start}, {end}]; have [0, {size}]") from None
            raise RegistryError(
                ErrorCode.RANGE_INVALID, "range not satisfiable", status=416, headers={"Content-Range": f"bytes */{size}"}
            ) from None

    def handle_blob_delete(self, request: Request, route: Route) -> Response:
        self._check_delete()
        if not self.options.blob_delete_enabled:
            raise RegistryError(ErrorCode.UNSUPPORTED, "The operation is unsupported.", status=405, detail={})
        self.store.delete_blob(route.repo, route.digest)
        return Response(b"", 202)

    def handle_upload_start(self, request: Request, route: Route) -> Response:
        upload = self.store.start_upload(route.repo)
        options = self.options
        quay = "bytes=0--1" if options.quay_upload_range else None  # Quay renders 0 bytes as "0 to -1"
        return self._upload_response(request, route, upload.id, 0, 202, options, range_value=quay)

    def handle_upload_single_post(self, request: Request, route: Route) -> Response:
        if not self.options.single_post_upload:
            return self.handle_upload_start(request, route)
        blob = self.store.put_blob(route.repo, body_chunks(request), route.digest, _content_length(request))
        return self._blob_created(request, route, blob)

    def handle_upload_mount(self, request: Request, route: Route) -> Response:
        project = route.from_repo.partition("/")[0]
        if route.from_repo and self.options.mount_missing_project_unauthorized and not self.store.has_project(project):
            raise RegistryError(
                ErrorCode.UNAUTHORIZED, f"project {project} not found: project {project} not found",
                headers={"Www-Authenticate": "", **HARBOR_JSON},
            )
        blob = self.store.mount_blob(route.repo, route.from_repo, route.digest)
        if blob is None:  # the spec's fallback: an ordinary upload
            return self.handle_upload_start(request, route)
        return self._blob_created(request, route, blob)

    def handle_upload_status(self, request: Request, route: Route) -> Response:
        options = self.options
        self._check_upload_state(request, route, options)
        upload = self.store.get_upload(route.repo, route.upload_id)
        if options.quay_upload_range:  # one past the last byte, and no Location
            return self._upload_response(
                request, route, upload.id, upload.size, 204, options, range_value=f"bytes=0-{upload.size}",
                location=False,
            )
        return self._upload_response(request, route, upload.id, upload.size, 204, options)

    def handle_upload_chunk(self, request: Request, route: Route) -> Response:
        options = self.options
        self._check_upload_state(request, route, options)
        body = body_chunks(request)
        start, length = self._chunk_range(request, body.length, options)
        try:
            size = self.store.write_upload(route.repo, route.upload_id, body, start, length)
        except ChunkOutOfOrder as e:
            return self._out_of_order(request, route, e)
        shown = None
        if options.stale_upload_range or options.chunk_upload_range:
            upload = self.store.get_upload(route.repo, route.upload_id)
            if options.stale_upload_range and upload.first_chunk_end:
                shown = f"0-{upload.first_chunk_end - 1}"
            elif options.chunk_upload_range and size > upload.last_chunk_start:
                shown = f"{upload.last_chunk_start}-{size - 1}"
        return self._upload_response(
            request, route, route.upload_id, size, options.chunk_status, options, range_value=shown
        )

    def handle_upload_complete(self, request: Request, route: Route) -> Response:
        options = self.options
        self._check_upload_state(request, route, options)
        body = body_chunks(request)
        start, length = self._chunk_range(request, body.length, options)
        try:
            blob = self.store.commit_upload(route.repo, route.upload_id, route.digest, body, start, length)
        except ChunkOutOfOrder as e:
            return self._out_of_order(request, route, e)
        return self._blob_created(request, route, blob)

    def _out_of_order(self, request: Request, route: Route, error: ChunkOutOfOrder) -> Response:
        """A chunk out of place: an error (raised), or with ``quay_upload_range`` Quay's bare 416, whose ``Range``
        ends one past the last byte."""
        if not self.options.quay_upload_range:
            raise error
        headers = {"Location": self._location(request, request.path, self.options), "Range": f"0-{error.size}",
                   "Docker-Upload-UUID": route.upload_id}
        return Response(b"", 416, headers=headers)

    def handle_upload_cancel(self, request: Request, route: Route) -> Response:
        self._check_upload_state(request, route, self.options)
        self.store.cancel_upload(route.repo, route.upload_id)
        response = Response(b"", 204)
        if self.options.upload_uuid_header:
            response.headers["Docker-Upload-UUID"] = route.upload_id
        return response

    def handle_manifest_get(self, request: Request, route: Route) -> Response:
        return self._manifest_response(request, route, with_body=True)

    def handle_manifest_head(self, request: Request, route: Route) -> Response:
        return self._manifest_response(request, route, with_body=False)

    def _manifest_response(self, request: Request, route: Route, *, with_body: bool) -> Response:
        manifest = self.store.get_manifest(route.repo, route.reference)
        options = self.options
        if options.accept_check and not _accepts(request, manifest.media_type):
            raise RegistryError(
                ErrorCode.MANIFEST_UNKNOWN, f"manifest of type {manifest.media_type} is not in the Accept list"
            )
        if options.distribution_accept:
            manifest = self._distribution_negotiate(request, route, manifest)
        headers = {"Content-Type": manifest.media_type, "Content-Length": str(manifest.size)}
        if not with_body or route.digest or options.tag_get_digest:
            headers["Docker-Content-Digest"] = manifest.digest
        headers["ETag"] = _etag(manifest.digest)
        if _not_modified(request, manifest.digest):
            del headers["Content-Type"], headers["Content-Length"]
            return Response([], 304, headers=headers)
        return Response([manifest.data] if with_body else [], 200, headers=headers)  # Content-Length is set

    def _distribution_negotiate(self, request: Request, route: Route, manifest: Manifest) -> Manifest:
        """distribution 2.8's negotiation (``distribution_accept``): the manifest to serve, or its refusal. A
        Docker manifest list asked for by tag without its type in ``Accept`` is answered by its linux/amd64
        manifest (distribution's default platform, that of the machine it was built for)."""
        accepted = _accept_list(request)
        _distribution_accepts(accepted, route, manifest.media_type)
        if manifest.media_type != DOCKER_MANIFEST_LIST or not route.tag or DOCKER_MANIFEST_LIST in accepted:
            return manifest
        child = platform_manifest(manifest.data, "linux", "amd64")
        if child is None:
            raise RegistryError(ErrorCode.MANIFEST_UNKNOWN, "manifest unknown: the list has no linux/amd64 manifest")
        chosen = self.store.get_manifest(route.repo, child)
        if chosen.media_type == DOCKER_MANIFEST and DOCKER_MANIFEST not in accepted:
            raise RegistryError(ErrorCode.MANIFEST_INVALID, "Schema 2 manifest not supported by client")
        return chosen

    def _manifest_body(self, request: Request) -> bytes:
        """A manifest PUT's body, buffered no further than the size limit: an announced length over it is refused
        unread; a chunked body over it is counted (and discarded) to say its size."""
        cap = self.options.max_manifest_size
        length = _content_length(request)
        if cap is not None and length is not None and length > cap:
            raise ManifestTooLarge(cap, length)
        data = bytearray()
        for chunk in body_chunks(request):
            data += chunk
            if cap is not None and len(data) > cap:
                raise ManifestTooLarge(cap, _body_size(request, len(data)))
        return bytes(data)

    def handle_manifest_put(self, request: Request, route: Route) -> Response:
        data = self._manifest_body(request)
        if route.tag and not is_tag(route.tag):  # a digest-shaped tag (digest_shaped_tags): stored, then refused
            self.store.put_manifest(
                route.repo, digest_of(data, self.options.digest_algorithms[0]), data, request.headers.get("Content-Type")
            )
            raise routes.unstorable_tag(route.tag)
        tags = request.args.getlist("tag") if route.digest and self.options.tag_query else []
        manifest = self.store.put_manifest(
            route.repo, route.reference, data, request.headers.get("Content-Type"), tags,
            precondition=_write_precondition(request),
        )
        response = Response(b"", 201)
        for tag in tags:
            response.headers.add("OCI-Tag", tag)
        location = f"/v2/{route.repo}/manifests/{manifest.digest}"
        response.headers["Location"] = self._location(request, location, self.options)
        response.headers["Docker-Content-Digest"] = manifest.digest
        if manifest.info.subject and (self.options.referrers_enabled or self.options.oci_subject_without_referrers):
            response.headers["OCI-Subject"] = manifest.info.subject
        return response

    def handle_manifest_delete(self, request: Request, route: Route) -> Response:
        self._check_delete()
        if route.tag and self.options.tag_delete_unsupported:
            raise _harbor(ErrorCode.UNSUPPORTED, f"unsupported digest {route.tag}: invalid checksum digest format")
        if route.tag and not self.options.delete_tags:
            raise RegistryError(ErrorCode.DIGEST_INVALID, "deleting by tag is not supported: name a digest")
        self.store.delete_manifest(route.repo, route.reference)
        return Response(b"", 202)

    def handle_referrers(self, request: Request, route: Route) -> Response:
        options = self.options
        if not options.referrers_enabled:
            disabled = RegistryError(
                ErrorCode.UNKNOWN, "referrers API has been disabled", status=options.referrers_disabled_status
            )
            return self._parse_error(request, disabled)
        if (options.referrers_unknown_subject_invalid and self.store.has_repository(route.repo)
                and not self.store.has_manifest(route.repo, route.digest)):
            raise RegistryError(ErrorCode.MANIFEST_INVALID, detail="")
        filtering = self.options.referrers_filtering and route.artifact_type is not None
        spec = self.options.spec_referrers_list
        if spec and not self.store.has_repository(route.repo):
            found = []
        else:
            found = self.store.referrers(route.repo, route.digest, route.artifact_type if filtering else None)
        manifests = [d.to_json() for d in found] if found or spec else None
        body = _json({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": manifests})
        response = Response(body, 200, content_type=OCI_INDEX)
        if filtering:
            response.headers["OCI-Filters-Applied"] = "artifactType"
        return response


def required_access(route: Route) -> Access:
    """The access a route needs (reads need pull, writes pull and push, deletes delete; a mount pulls its source)."""
    if route.kind is Kind.PING:
        return Access()
    if route.kind is Kind.CATALOG:
        return Access(catalog=True)
    if route.kind in _WRITES:
        needed = [(route.repo, frozenset({"pull", "push"}))]
        if route.kind is Kind.UPLOAD_MOUNT and route.from_repo:
            needed.append((route.from_repo, frozenset({"pull"})))
        return Access(tuple(needed))
    if route.kind in _DELETES:
        return Access(((route.repo, frozenset({"delete"})),))
    return Access(((route.repo, frozenset({"pull"})),))



def _immutable_tag_refusal(error: ImmutableTag, style: str) -> RegistryError:
    """A refused push to (or delete of) an immutable tag, as the ``immutable_tag_refusal`` style answers it."""
    if style == "quay":
        return RegistryError(
            ErrorCode.TAG_IMMUTABLE, detail={"message": f"tag '{error.tag}' is immutable"}, service=True
        )
    if style == "harbor":
        if error.delete:
            message = f"the tag {error.tag} configured as immutable, cannot be deleted"
        else:  # Harbor names the repository without its project
            message = f"Failed to process request due to '{error.repo.partition('/')[2] or error.repo}:{error.tag}' " \
                      "configured as immutable."
        return _harbor(ErrorCode.PRECONDITION, message)
    if style == "ecr" and not error.delete:
        return RegistryError(
            ErrorCode.TAG_INVALID,
            f"The image tag '{error.tag}' already exists in the '{error.repo}' repository and cannot be overwritten "
            "because the repository is immutable.",
            service=True,
        )
    return error


def _harbor(code: ErrorCode, message: str) -> RegistryError:
    """An error as Harbor's ``lib/http.SendError`` writes it (its own codes, ``charset=utf-8``)."""
    return RegistryError(code, message, headers=HARBOR_JSON, service=True)


def _in_spec(error: RegistryError, route: Route | None) -> RegistryError:
    """``error`` as the spec lets a 4xx answer say it: with one of its 14 codes, the status kept (a code it does not
    list becomes ``UNSUPPORTED``; a chunk out of order ``BLOB_UPLOAD_INVALID``; an invalid tag ``MANIFEST_INVALID``)."""
    if error.code.in_spec or error.status >= 500:
        return error
    if error.code is ErrorCode.RANGE_INVALID and route is not None and route.kind in _UPLOADS:
        return error.answered(ErrorCode.BLOB_UPLOAD_INVALID)
    if error.code is ErrorCode.TAG_INVALID:
        return error.answered(ErrorCode.MANIFEST_INVALID)
    return error.answered(ErrorCode.UNSUPPORTED)


def _body_size(request: Request, read: int) -> int:
    """The whole request body's length, of which ``read`` bytes were read: announced, or counted by reading the
    rest (discarded)."""
    length = _content_length(request)
    if length is not None:
        return length
    return read + sum(len(chunk) for chunk in body_chunks(request))


def _go_range_error(blob: Blob, *, overlap: bool) -> Response:
    """distribution 2.8's 416 (``distribution_range_errors``): Go's ``ServeContent`` error text, under the
    ``Content-Length`` of the whole blob the registry had already set; the body stops short (Go writes no more
    than announced), so the connection cannot be reused."""
    text = b"invalid range: failed to overlap\n" if overlap else b"invalid range\n"
    body = text[: blob.size]
    headers = {
        "Content-Type": "text/plain; charset=utf-8",
        "Docker-Content-Digest": blob.digest,
        "ETag": _etag(blob.digest),
        "Content-Length": str(blob.size),
    }
    if overlap:
        headers["Content-Range"] = f"bytes */{blob.size}"
    if len(body) < blob.size:
        headers["Connection"] = "close"
    return Response([body], 416, headers=headers)


def _etag(digest: str) -> str:
    """The entity tag of a blob or manifest: its quoted digest (as distribution sends it)."""
    return f'"{digest}"'


def _entity_tags(value: str) -> list[str]:
    """The entity tags of an ``If-Match`` or ``If-None-Match`` list (``*`` included), weak ones as ``W/"..."``."""
    return [tag.strip() for tag in value.split(",") if tag.strip()]


def _not_modified(request: Request, digest: str) -> bool:
    """Whether a GET or HEAD is answered 304 (RFC 9110 section 13.1.2): its ``If-None-Match`` is ``*`` or lists the
    content's entity tag (weak comparison)."""
    condition = request.environ.get("HTTP_IF_NONE_MATCH")  # (request.headers.get costs a KeyError when absent)
    if condition is None:
        return False
    tags = _entity_tags(condition)
    return "*" in tags or any(tag.removeprefix("W/") == _etag(digest) for tag in tags)


def _write_precondition(request: Request) -> Callable[[str | None], None] | None:
    """The ``If-Match`` / ``If-None-Match`` check of a manifest PUT (RFC 9110 section 13.1), given what the URL
    names now: ``If-Match`` needs it to exist and (unless ``*``) to be a listed entity tag, strongly compared;
    ``If-None-Match`` needs it not to match (``*``: not to exist). None without either header."""
    if_match, if_none_match = request.headers.get("If-Match"), request.headers.get("If-None-Match")
    if if_match is None and if_none_match is None:
        return None

    def check(current: str | None) -> None:
        if if_match is not None:
            tags = _entity_tags(if_match)
            if current is None or ("*" not in tags and _etag(current) not in tags):
                raise PreconditionFailed("If-Match")
        if if_none_match is not None and current is not None:
            tags = _entity_tags(if_none_match)
            if "*" in tags or any(tag.removeprefix("W/") == _etag(current) for tag in tags):
                raise PreconditionFailed("If-None-Match")

    return check


def _if_range_matches(request: Request, blob: Blob) -> bool:
    """Whether a Range may be served: without ``If-Range``, or with the blob's entity tag (``"<digest>"``, compared
    strongly). A date or another tag cannot match (the registry sends no Last-Modified): the whole blob is sent."""
    condition = request.headers.get("If-Range")
    return condition is None or condition.strip() == f'"{blob.digest}"'


def _accepts(request: Request, media_type: str) -> bool:
    """Whether the request's Accept list (all its header lines) admits ``media_type``, as RFC 9110 section 12.5.1
    has it: the most specific media range that matches it (``type/subtype``, then ``type/*``, then ``*/*``; compared
    case-insensitively) gives its weight, and ``q=0`` means "not acceptable". No Accept, or none that parses, admits
    all."""
    ranges = _accept_ranges(request)
    if not ranges:
        return True
    wanted = media_type_of(media_type)
    specificity = {wanted: 3, wanted.partition("/")[0] + "/*": 2, "*/*": 1}
    matching = [(specificity[media_range], q) for media_range, q in ranges if media_range in specificity]
    if not matching:
        return False
    most_specific = max(s for s, _ in matching)
    return max(q for s, q in matching if s == most_specific) > 0


def _accept_ranges(request: Request) -> list[tuple[str, float]]:
    """The media ranges of every ``Accept`` line, each with its weight (``q``, 1 when absent or malformed)."""
    ranges = []
    for value in request.headers.getlist("Accept"):
        for part in value.split(","):
            media_range, *params = part.split(";")
            bare = media_range.strip().lower()
            if not bare or media_type_of(bare) != bare:
                continue  # not a media range
            q = 1.0
            for param in params:
                name, _, weight = param.partition("=")
                if name.strip().lower() == "q":
                    match = _QVALUE.fullmatch(weight.strip())
                    q = float(match[0]) if match else 1.0
                    break
            ranges.append((bare, q))
    return ranges


def _accept_list(request: Request) -> set[str]:
    """The media types of every ``Accept`` line, parameters dropped."""
    return {media_type_of(part) for value in request.headers.getlist("Accept") for part in value.split(",")}


def _distribution_accepts(accepted: set[str], route: Route, media_type: str) -> None:
    """distribution 2.8's negotiation: OCI types must be named exactly; Docker schema 2 by tag likewise."""
    wanted = media_type_of(media_type)
    if wanted in OCI_TYPES and wanted not in accepted:
        raise RegistryError(
            ErrorCode.MANIFEST_UNKNOWN, "OCI manifest found, but accept header does not support OCI manifests"
        )
    if wanted == DOCKER_MANIFEST and route.tag and wanted not in accepted:
        raise RegistryError(ErrorCode.MANIFEST_INVALID, "Schema 2 manifest not supported by client")


class _FileBody:
    """``data[start:end]`` of a spilled blob: iterated, the chunks of :func:`_slices`; a server that sends files
    reads ``file_range`` (``(fd, offset, count)``) instead, as our handler does on a plain socket (``sendfile(2)``:
    the bytes go from the page cache to the socket, never through this process)."""

    def __init__(self, data: Spilled, start: int, end: int, zero_copy: bool) -> None:
        self.data, self.start, self.end, self.zero_copy = data, start, end, zero_copy

    @property
    def file_range(self) -> tuple[int, int, int]:
        return self.data.file_range(self.start, self.end)

    def __iter__(self) -> Iterator[bytes]:
        return _slices(self.data, self.start, self.end, self.zero_copy)


def _slices(data: BlobData, start: int, end: int, zero_copy: bool = False) -> Iterator[bytes]:
    """``data[start:end]`` in bounded chunks, so a large blob is never copied whole. A server that takes buffers
    (``BUFFERS_OK_KEY`` in the environ) gets views of the stored bytes, copied by nothing but the socket; WSGI
    asks for bytes elsewhere."""
    view = memoryview(data)
    for offset in range(start, end, PULL_CHUNK_SIZE):
        piece = view[offset : min(offset + PULL_CHUNK_SIZE, end)]
        yield piece if zero_copy else bytes(piece)  # type: ignore[misc]
