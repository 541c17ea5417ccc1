"""Fault injection: answer matching requests with an error, late, cut short, or with corrupted bytes."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from werkzeug.wrappers import Request, Response

from .errors import ErrorCode, RegistryError

# The OCI error code an injected status answers with.
_CODES = {
    400: ErrorCode.UNSUPPORTED,
    401: ErrorCode.UNAUTHORIZED,
    403: ErrorCode.DENIED,
    404: ErrorCode.NAME_UNKNOWN,
    416: ErrorCode.RANGE_INVALID,
    429: ErrorCode.TOOMANYREQUESTS,
    503: ErrorCode.UNAVAILABLE,
}


@dataclass
class Fault:
    """One injected fault. Made by :meth:`OCIRegistry.fail <pytest_ociregistry.OCIRegistry.fail>`."""

    method: str | None
    path: re.Pattern[str]
    status: int | None = 503
    """The error status to answer with; None lets the registry answer (to cut or corrupt its body)."""
    times: int | None = 1
    """How many requests it answers; None: all of them."""
    delay: float = 0.0
    """Seconds to wait before answering."""
    cut_after: int | None = None
    """Cut the connection after this many bytes of the response body."""
    corrupt: bool = False
    """Flip the bits of the response body's first byte (the length stays right, the digest does not)."""
    retry_after: int | None = None
    """The ``Retry-After`` header (429 answers get 1 by default)."""
    code: ErrorCode | None = None
    """The OCI error code of the answer (by default the usual one for ``status``)."""
    hits: int = field(default=0, init=False)

    def matches(self, request: Request) -> bool:
        if self.method is not None and request.method != self.method.upper():
            return False
        return self.path.fullmatch(request.path) is not None

    def describe(self) -> str:
        parts = [str(self.status)] if self.status is not None else []
        parts += [f"delay {self.delay}s"] if self.delay else []
        parts += [f"cut after {self.cut_after} bytes"] if self.cut_after is not None else []
        parts += ["corrupt"] if self.corrupt else []
        return ", ".join(parts)

    def error(self) -> RegistryError:
        assert self.status is not None
        code = self.code or _CODES.get(self.status, ErrorCode.UNKNOWN)
        headers = {}
        retry_after = self.retry_after if self.retry_after is not None else (1 if self.status == 429 else None)
        if retry_after is not None:
            headers["Retry-After"] = str(retry_after)
        return RegistryError(code, f"injected fault ({self.describe()})", status=self.status, headers=headers)

    def mangle(self, response: Response) -> Response:
        """The registry's response with its body cut short or corrupted."""
        if not (self.cut_after is not None or self.corrupt):
            return response
        response.direct_passthrough = False  # let werkzeug hand out the body as bytes
        body = _mangled(response.iter_encoded(), self.cut_after, self.corrupt)
        return Response(body, response.status, headers=list(response.headers.items()), direct_passthrough=True)


class Faults:
    """The faults in force, matched in the order they were added."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()

    def add(self, fault: Fault) -> Fault:
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self._faults = []

    def take(self, request: Request) -> Fault | None:
        """The first fault matching ``request`` that has answers left, counted as used."""
        if not self._faults:  # the common case, without the lock
            return None
        with self._lock:
            for fault in self._faults:
                if fault.matches(request) and (fault.times is None or fault.hits < fault.times):
                    fault.hits += 1
                    break
            else:
                return None
        if fault.delay:
            time.sleep(fault.delay)
        return fault


def _mangled(chunks: Iterator[bytes], cut_after: int | None, corrupt: bool) -> Iterator[bytes]:
    sent = 0
    for chunk in map(bytes, chunks):  # the registry may hand out memoryviews
        if corrupt and sent == 0 and chunk:
            chunk = bytes([chunk[0] ^ 0xFF]) + chunk[1:]
        if cut_after is not None and sent + len(chunk) >= cut_after:
            yield chunk[: cut_after - sent]
            raise ConnectionAbortedError("injected fault: connection cut")
        sent += len(chunk)
        yield chunk
    if cut_after is not None:
        raise ConnectionAbortedError("injected fault: connection cut")
