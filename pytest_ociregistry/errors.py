"""The OCI error codes, their HTTP status, and the one place their wire JSON is made."""

from __future__ import annotations

import enum
import json
from collections.abc import Iterable, Mapping
from typing import Any

NO_DETAIL: Any = object()
"""The ``detail`` of an error that has none: the field is left out of the body (``None`` sends ``"detail":null``)."""


class ErrorCode(enum.Enum):
    """An OCI Distribution error code: its HTTP status and its canonical message.

    The statuses are the reference registry's (cue-labs ``ociregistry``), which the reference table pins.
    """

    BLOB_UNKNOWN = (404, "blob unknown to registry")
    BLOB_UPLOAD_INVALID = (416, "blob upload invalid")
    BLOB_UPLOAD_UNKNOWN = (404, "blob upload unknown to registry")
    DIGEST_INVALID = (400, "provided digest did not match uploaded content")
    MANIFEST_BLOB_UNKNOWN = (404, "manifest references a manifest or blob unknown to registry")
    MANIFEST_INVALID = (400, "manifest invalid")
    MANIFEST_UNKNOWN = (404, "manifest unknown to registry")
    NAME_INVALID = (400, "invalid repository name")
    NAME_UNKNOWN = (404, "repository name not known to registry")
    SIZE_INVALID = (400, "provided length did not match content length")
    TAG_INVALID = (400, "manifest tag did not match URI")
    UNAUTHORIZED = (401, "authentication required")
    DENIED = (403, "requested access to the resource is denied")
    UNSUPPORTED = (400, "the operation is unsupported")
    TOOMANYREQUESTS = (429, "too many requests")
    RANGE_INVALID = (416, "invalid content range")
    UNAVAILABLE = (503, "service unavailable")
    PAGINATION_NUMBER_INVALID = (400, "invalid number of results requested")
    INVALID_REQUEST = (400, "Invalid request")  # Quay's token endpoint
    BAD_REQUEST = (400, "bad request")  # Harbor
    UNKNOWN = (500, "unknown error")
    # Codes of hosted registries, outside the spec (see the options that answer them).
    NOT_FOUND = (404, "not found")
    PRECONDITION = (412, "precondition failed")
    TAG_IMMUTABLE = (409, "tag is immutable and cannot be overwritten")
    REQUESTED_RANGE_NOT_SATISFIABLE = (416, "requested range not satisfiable")

    @property
    def status(self) -> int:
        """The HTTP status this code answers with."""
        return self.value[0]

    @property
    def message(self) -> str:
        """The canonical message of this code."""
        return self.value[1]

    @property
    def in_spec(self) -> bool:
        """Whether this is one of the 14 codes the OCI Distribution spec lists (code-1 ... code-14)."""
        return self.name in _SPEC_CODES


_SPEC_CODES = frozenset({
    "BLOB_UNKNOWN", "BLOB_UPLOAD_INVALID", "BLOB_UPLOAD_UNKNOWN", "DIGEST_INVALID", "MANIFEST_BLOB_UNKNOWN",
    "MANIFEST_INVALID", "MANIFEST_UNKNOWN", "NAME_INVALID", "NAME_UNKNOWN", "SIZE_INVALID", "UNAUTHORIZED", "DENIED",
    "UNSUPPORTED", "TOOMANYREQUESTS",
})


class RegistryError(Exception):
    """An error that the registry answers as an OCI error body.

    ``status`` overrides the code's own status; the reference does that only for ``UNKNOWN`` (for example
    "page not found" is 404 ``UNKNOWN``), and for the option-driven statuses that real registries use. ``detail``
    (any JSON value) goes into the body's ``detail`` field, as distribution sends it.
    """

    def __init__(
        self,
        code: ErrorCode,
        message: str | None = None,
        *,
        status: int | None = None,
        headers: Mapping[str, str] | None = None,
        detail: Any = NO_DETAIL,
        service: bool = False,
    ) -> None:
        self.code = code
        self.message = code.message if message is None else message
        self.status = code.status if status is None else status
        self.headers = dict(headers or {})
        self.detail = detail
        self.service = service
        """Whether this is a hosted service's own answer (an option copying a quirk): sent as it is, even where
        ``spec_error_codes`` rewrites the codes the spec does not list."""
        super().__init__(f"{code.name}: {self.message}")

    def body(self) -> bytes:
        """The wire form: ``{"errors":[{"code":...,"message":...}]}`` (and ``detail`` if any), compact as the
        reference writes it."""
        return error_body(self.code, self.message, self.detail)

    def answered(self, code: ErrorCode | None = None, *, status: int | None = None) -> RegistryError:
        """This error answered with another ``code`` or ``status`` (the rest kept)."""
        return RegistryError(
            code or self.code, self.message, status=status or self.status, headers=self.headers, detail=self.detail,
            service=self.service,
        )


# Domain errors: what went wrong, in the store's terms. The api chooses how each is answered (status, code, wording)
# under the options in force; the defaults here are what the reference answers.


class ManifestTooLarge(RegistryError):
    """A manifest over ``limit`` bytes (``size``: its length, when known)."""

    def __init__(self, limit: int, size: int | None = None) -> None:
        self.limit = limit
        self.size = size
        length = f"{size} bytes" if size is not None else f"more than {limit} bytes"
        super().__init__(ErrorCode.SIZE_INVALID, f"manifest too large ({length}, max {limit})")


class PreconditionFailed(RegistryError):
    """A request whose ``If-Match`` or ``If-None-Match`` condition is false (RFC 9110 section 13): nothing done."""

    def __init__(self, header: str) -> None:
        super().__init__(ErrorCode.DENIED, f"requested access to the resource is denied: {header} does not hold")


class ImmutableTag(RegistryError):
    """A push to, or a delete of, a tag that is immutable (``delete``: a delete; ``tag``: the tag). Answered as
    the ``immutable_tag_refusal`` option says; by default 403 ``DENIED`` with ``message``."""

    def __init__(self, repo: str, tag: str, message: str, *, delete: bool = False) -> None:
        self.repo = repo
        self.tag = tag
        self.delete = delete
        super().__init__(ErrorCode.DENIED, message)


class ChunkOutOfOrder(RegistryError):
    """A chunk that does not start where the upload ends (``size``: the bytes it holds)."""

    def __init__(self, start: int, size: int) -> None:
        self.size = size
        super().__init__(
            ErrorCode.RANGE_INVALID,
            f"cannot copy blob data: invalid offset {start} in resumed upload (actual offset {size}): "
            "range invalid: invalid content range",
        )


class ChunkTooLarge(RegistryError):
    """A chunk over the ``max_chunk_size`` limit (in bytes), refused unstored, as GHCR words it."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        super().__init__(
            ErrorCode.REQUESTED_RANGE_NOT_SATISFIABLE,
            "the request body is too large and exceeds the maximum permissible limit of "
            f"{limit / (1 << 20):.2f}MiB",
        )


class InsufficientStorage(RegistryError):
    """Bytes a spilled upload could not write to its file (``blob_spill_size``: a full disk, a file size limit;
    ``reason``: the system's words), answered 507 (RFC 4918): the chunk is rolled back, nothing is stored."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(ErrorCode.UNKNOWN, f"insufficient storage: cannot write the blob to disk: {reason}", status=507)


class ChunkedUploadRefused(RegistryError):
    """A chunk with a ``Content-Range`` sent where uploads take none (``chunked_uploads`` off)."""

    def __init__(self) -> None:
        super().__init__(ErrorCode.UNSUPPORTED, "chunked uploads are not supported: use a monolithic upload")


class EmptyUpload(RegistryError):
    """An upload completed with no bytes received, as ECR refuses it (``empty_upload_refused``)."""

    def __init__(self, repo: str, upload_id: str) -> None:
        super().__init__(
            ErrorCode.BLOB_UPLOAD_INVALID,
            f"The upload with id '{upload_id}' in the repository with name '{repo}' in registry with id "
            f"'{ECR_REGISTRY_ID}' cannot be completed because it does not have any parts.",
            status=400,
        )


ECR_REGISTRY_ID = "123456789012"
"""The AWS account an ECR-like answer names as its registry (AWS's documentation example account)."""


class UploadInvalidated(RegistryError):
    """An upload a retried or broken chunk has ended (``chunk_retry_invalidates``): it must start again."""

    def __init__(self) -> None:
        super().__init__(ErrorCode.BLOB_UPLOAD_INVALID, status=404)


class ContentRangeRequired(RegistryError):
    """A chunk without ``Content-Range`` sent to an upload that already holds data, where one is required."""

    def __init__(self) -> None:
        super().__init__(ErrorCode.BLOB_UPLOAD_INVALID, "a chunk after the first needs a Content-Range")


def error_body(code: ErrorCode, message: str, detail: Any = NO_DETAIL) -> bytes:
    """Encode one OCI error as compact JSON."""
    error: dict[str, Any] = {"code": code.name, "message": message}
    if detail is not NO_DETAIL:
        error["detail"] = detail
    return json.dumps({"errors": [error]}, separators=(",", ":")).encode()


# The reference's parse errors, pinned to the byte by its table.
def page_not_found() -> RegistryError:
    return RegistryError(ErrorCode.UNKNOWN, "page not found", status=404)


def badly_formed_digest() -> RegistryError:
    return RegistryError(ErrorCode.UNKNOWN, "badly formed digest", status=400)


def method_not_allowed(allowed: Iterable[str] = ()) -> RegistryError:
    """405, with the ``Allow`` header HTTP asks for."""
    headers = {"Allow": ", ".join(sorted(allowed))} if allowed else None
    return RegistryError(ErrorCode.UNKNOWN, "method not allowed", status=405, headers=headers)
