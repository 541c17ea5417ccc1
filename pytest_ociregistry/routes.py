"""Parsing a request's method and URL into a route, once, before any handler runs. Pure: no I/O, no state."""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from typing import NamedTuple

from .errors import ErrorCode, RegistryError, badly_formed_digest, method_not_allowed, page_not_found
from .names import is_digest, is_repository, is_tag
from .options import Options
from .presets import REFERENCE

_UPLOAD_ID = re.compile(r"(?!\.+$)[A-Za-z0-9._~=-]{1,256}")  # no "." or "..": they are path segments
# What distribution's router takes for a digest in a manifest URL (go-digest's DigestRegexp), valid or not.
_DIGEST_SHAPE = re.compile(r"[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+")


class Kind(enum.Enum):
    """What a request asks for. Each kind is served by the api handler ``handle_<kind in lower case>``."""

    PING = "ping"
    CATALOG = "catalog"
    BLOB_GET = "blob_get"
    BLOB_HEAD = "blob_head"
    BLOB_DELETE = "blob_delete"
    UPLOAD_START = "upload_start"
    UPLOAD_SINGLE_POST = "upload_single_post"
    UPLOAD_MOUNT = "upload_mount"
    UPLOAD_STATUS = "upload_status"
    UPLOAD_CHUNK = "upload_chunk"
    UPLOAD_COMPLETE = "upload_complete"
    UPLOAD_CANCEL = "upload_cancel"
    MANIFEST_GET = "manifest_get"
    MANIFEST_HEAD = "manifest_head"
    MANIFEST_PUT = "manifest_put"
    MANIFEST_DELETE = "manifest_delete"
    TAGS_LIST = "tags_list"
    REFERRERS = "referrers"


class Route(NamedTuple):
    """A parsed request: its kind and the names in its URL, each already validated."""

    kind: Kind
    repo: str = ""
    digest: str = ""
    tag: str = ""
    upload_id: str = ""
    from_repo: str = ""
    n: int | None = None
    last: str | None = None
    artifact_type: str | None = None

    @property
    def reference(self) -> str:
        """The manifest reference: the digest, or else the tag."""
        return self.digest or self.tag


_METHODS = {
    "blobs": {"GET": Kind.BLOB_GET, "HEAD": Kind.BLOB_HEAD, "DELETE": Kind.BLOB_DELETE},
    "uploads": {
        "GET": Kind.UPLOAD_STATUS,
        "PATCH": Kind.UPLOAD_CHUNK,
        "PUT": Kind.UPLOAD_COMPLETE,
        "DELETE": Kind.UPLOAD_CANCEL,
    },
    "manifests": {
        "GET": Kind.MANIFEST_GET,
        "HEAD": Kind.MANIFEST_HEAD,
        "PUT": Kind.MANIFEST_PUT,
        "DELETE": Kind.MANIFEST_DELETE,
    },
}


# Routes already parsed, for requests without a query: clients ask again and again for the same paths (a tag's
# manifest, the next chunk of an upload), and parsing is pure. Keyed by the options' identity, which the entry keeps.
_PARSED: dict[tuple[str, str, int], tuple[Options, Route]] = {}
_PARSED_LIMIT = 4096


def parse(method: str, path: str, query: Mapping[str, str], options: Options = REFERENCE) -> Route:
    """Parse a request into a :class:`Route`, in the reference's order, raising its parse errors (as ``options``
    word them)."""
    if query:
        return _parse(method, path, query, options)
    key = (method, path, id(options))
    known = _PARSED.get(key)
    if known is not None and known[0] is options:
        return known[1]
    route = _parse(method, path, query, options)
    if len(_PARSED) >= _PARSED_LIMIT:
        _PARSED.clear()
    _PARSED[key] = (options, route)
    return route


def _parse(method: str, path: str, query: Mapping[str, str], options: Options) -> Route:
    if path in ("/v2", "/v2/"):
        return Route(Kind.PING)
    if not path.startswith("/v2/"):
        raise page_not_found()
    rest = path[len("/v2/") :]
    if rest == "_catalog":
        _only(method, "GET")
        return Route(Kind.CATALOG, n=_n(query, options), last=query.get("last") or None)
    for suffix in ("/blobs/uploads/", "/blobs/uploads"):
        if rest.endswith(suffix):
            return _upload_start(method, rest[: -len(suffix)], query, options)
    segments = rest.split("/")
    if len(segments) >= 4 and segments[-3:-1] == ["blobs", "uploads"]:
        repo, upload_id = _repository("/".join(segments[:-3])), segments[-1]
        if not _UPLOAD_ID.fullmatch(upload_id):
            raise RegistryError(ErrorCode.BLOB_UPLOAD_UNKNOWN)
        kind = _kind("uploads", method)
        digest = ""
        if kind is Kind.UPLOAD_COMPLETE:
            digest = _digest(query.get("digest", ""), options)
        return Route(kind, repo, digest=digest, upload_id=upload_id)
    if len(segments) < 3 or not all(segments[:-2]):
        raise page_not_found()
    name, section, last = "/".join(segments[:-2]), segments[-2], segments[-1]
    if section == "blobs":
        digest = _digest(last, options)
        return Route(_kind("blobs", method), _repository(name), digest=digest)
    if section == "manifests":
        kind = _kind("manifests", method)
        if is_digest(last):
            digest, tag = last, ""
        elif is_tag(last):
            digest, tag = "", last
        elif options.digest_shaped_tags and _DIGEST_SHAPE.fullmatch(last):
            return _digest_shaped_tag(kind, _repository(name), last)
        elif kind is not Kind.MANIFEST_PUT or not last:
            raise page_not_found()  # nothing can be stored under it: not found (the reference, the conformance suite)
        elif ":" in last:
            _digest(last, options)
        else:
            raise RegistryError(ErrorCode.TAG_INVALID, "invalid tag")
        return Route(kind, _repository(name), digest=digest, tag=tag)
    if section == "tags" and last == "list":
        n = _n(query, options) if options.tag_pagination else None
        _only(method, "GET")
        after = query.get("last") or None if options.tag_pagination else None
        return Route(Kind.TAGS_LIST, _repository(name), n=n, last=after)
    if section == "referrers":
        digest = _digest(last, options)
        if method != "GET":
            raise RegistryError(
                ErrorCode.UNKNOWN, "method not allowed", status=options.referrers_method_status, headers={"Allow": "GET"}
            )
        artifact_type = query.get("artifactType") or None  # an empty one is no filter
        return Route(Kind.REFERRERS, _repository(name), digest=digest, artifact_type=artifact_type)
    raise page_not_found()


def _upload_start(method: str, name: str, query: Mapping[str, str], options: Options) -> Route:
    repo = _repository(name)
    _only(method, "POST")
    if "mount" in query and ("from" in query or options.automatic_mount):
        mount, source = query["mount"], query.get("from", "")
        if not is_digest(mount):
            raise RegistryError(ErrorCode.DIGEST_INVALID, "invalid digest in mount")
        if source and not is_repository(source):
            return Route(Kind.UPLOAD_START, repo)  # no blob can come from there: the spec's fallback, an upload
        return Route(Kind.UPLOAD_MOUNT, repo, digest=mount, from_repo=source)
    if "digest" in query:
        return Route(Kind.UPLOAD_SINGLE_POST, repo, digest=_digest(query["digest"], options))
    return Route(Kind.UPLOAD_START, repo)


def _digest_shaped_tag(kind: Kind, repo: str, reference: str) -> Route:
    """A digest-shaped reference that is no valid digest, taken for a tag as distribution 2.8 does: its storage
    cannot hold such a tag (500 ``UNKNOWN``), except that a PUT stores the manifest first (the api raises after),
    and a DELETE asks for a digest."""
    if kind is Kind.MANIFEST_DELETE:
        raise RegistryError(ErrorCode.DIGEST_INVALID)
    if kind is not Kind.MANIFEST_PUT:
        raise unstorable_tag(reference)
    return Route(kind, repo, tag=reference)


def unstorable_tag(tag: str) -> RegistryError:
    """distribution 2.8's answer to a tag its storage cannot hold (with ``digest_shaped_tags``)."""
    return RegistryError(ErrorCode.UNKNOWN, f"unknown error: no tag can be named {tag!r}", status=500)


def _kind(section: str, method: str) -> Kind:
    kind = _METHODS[section].get(method)
    if kind is None:
        raise method_not_allowed(_METHODS[section])
    return kind


def _only(method: str, allowed: str) -> None:
    if method != allowed:
        raise method_not_allowed([allowed])


def _repository(name: str) -> str:
    if not is_repository(name):
        raise RegistryError(ErrorCode.NAME_INVALID)
    return name


def _digest(value: str, options: Options) -> str:
    """A digest in the URL, or the error ``options`` answer an invalid one with."""
    if not is_digest(value):
        if options.digest_invalid_code:
            raise RegistryError(ErrorCode.DIGEST_INVALID, "invalid digest")
        raise badly_formed_digest()
    return value


def _n(query: Mapping[str, str], options: Options) -> int | None:
    """The page size asked for (``n``); an invalid one is ignored with ``distribution_pagination``."""
    raw = query.get("n")
    if raw is None or raw == "":
        return None
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 18:
        if options.distribution_pagination:
            return None
        raise RegistryError(ErrorCode.UNKNOWN, "query parameter n is not a valid integer", status=400)
    return int(raw)
