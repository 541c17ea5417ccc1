"""A werkzeug request handler with HTTP/1.1 keep-alive.

werkzeug's development handler closes every connection after one response (it cannot tell how much of a request
body the application left unread). This one counts what the application read, discards the rest of the body
itself, and keeps the connection open, so clients on keep-alive sessions (requests, httpx, skopeo) reuse it.
"""

from __future__ import annotations

import io
import logging
import time
from typing import Any

from werkzeug.serving import WSGIRequestHandler

log = logging.getLogger(__name__)

# The environ key saying this server writes memoryviews (pytest_ociregistry.api.BUFFERS_OK_KEY; not imported, so
# the handler stays independent of the api).
BUFFERS_OK = "ociregistry.buffers_ok"
# A body left unread beyond this is not worth draining: the connection is closed instead.
MAX_DRAIN = 64 << 20
# A body up to this size is sent with the headers, in one write.
SMALL_BODY = 64 << 10
_date_cache: list[Any] = [0, ""]


class _CountingInput(io.RawIOBase):
    """Wraps the request body stream and counts the bytes the application reads."""

    def __init__(self, raw: Any) -> None:
        self.raw = raw
        self.consumed = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        readinto = getattr(self.raw, "readinto", None)
        if readinto is not None:  # straight from the socket into the caller's buffer: no copy under the GIL
            n = readinto(buffer) or 0
        else:
            data = self.raw.read(len(buffer))
            n = len(data)
            buffer[:n] = data
        self.consumed += n
        return n

    def read(self, size: int | None = -1) -> bytes:
        data = self.raw.read() if size is None or size < 0 else self.raw.read(size)
        self.consumed += len(data)
        return bytes(data)

    def readline(self, size: int | None = -1) -> bytes:
        data = self.raw.readline(-1 if size is None else size)
        self.consumed += len(data)
        return bytes(data)


class KeepAliveRequestHandler(WSGIRequestHandler):
    """Serves WSGI over HTTP/1.1 with persistent connections."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in separate writes: no 40 ms delayed-ACK stalls

    def run_wsgi(self) -> None:
        if self.headers.get("Expect", "").lower().strip() == "100-continue":
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        environ = self.environ = self.make_environ()
        body = environ["wsgi.input"] = _CountingInput(environ["wsgi.input"])
        environ[BUFFERS_OK] = True  # _send writes any buffer, so the app may hand out memoryviews
        started: list[Any] = []

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            if exc_info and started and started[0] is True:
                raise exc_info[1].with_traceback(exc_info[2])
            started[:] = [status, headers]
            return lambda data: None  # the legacy write() callable; not used by werkzeug responses

        try:
            app_iter = self.server.app(environ, start_response)
            try:
                self._send(environ, app_iter, started)
            finally:
                close = getattr(app_iter, "close", None)
                if close is not None:
                    close()
        except (ConnectionError, TimeoutError, OSError) as e:
            self.close_connection = True
            self.connection_dropped(e, environ)
            return
        except Exception:  # an application error (a user's handler raising, say): answer 500 if still possible
            log.exception("error serving %s %s", self.command, self.path)
            self.close_connection = True
            if not (started and started[0] is True):
                self.send_error(500)
            return
        if not self.close_connection:
            self._drain(environ, body)

    def _send(self, environ: dict[str, Any], app_iter: Any, started: list[Any]) -> None:
        chunks = iter(app_iter)
        first = next(chunks, b"")  # the status is only known once the application has produced something
        status, headers = started
        code = int(status.split(None, 1)[0])
        self.send_response(code, status.split(None, 1)[1] if " " in status else "")
        names = set()
        for name, value in headers:
            self.send_header(name, value)
            names.add(name.lower())
        bodiless = environ["REQUEST_METHOD"] == "HEAD" or code in (204, 304) or 100 <= code < 200
        chunked = not bodiless and "content-length" not in names
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        if self.close_connection:
            self.send_header("Connection", "close")
        if not bodiless and not chunked and 0 < len(first) <= SMALL_BODY:
            # A small body goes out in the same write as the headers: one send, not two, for most answers.
            self._headers_buffer.append(b"\r\n")  # what end_headers() adds
            self._headers_buffer.append(bytes(first))
            self.flush_headers()
            first = b""
        else:
            self.end_headers()
        started[0] = True  # headers are out: an error from here on can only drop the connection
        write = self.wfile.write
        if not bodiless:
            for data in _chain(first, chunks):
                if data and chunked:
                    write(b"%x\r\n%s\r\n" % (len(data), data))
                elif data:
                    write(data)
        if chunked:
            write(b"0\r\n\r\n")
        self.wfile.flush()

    def _drain(self, environ: dict[str, Any], body: _CountingInput) -> None:
        """Discard what the application left of the request body, or give up on the connection."""
        if environ.get("wsgi.input_terminated"):
            left = MAX_DRAIN
            while left > 0 and (data := body.read(min(left, 1 << 20))):
                left -= len(data)
            if left <= 0:
                self.close_connection = True
            return
        try:
            remaining = int(environ.get("CONTENT_LENGTH") or 0) - body.consumed
        except ValueError:
            self.close_connection = True
            return
        if remaining > MAX_DRAIN:
            self.close_connection = True
            return
        while remaining > 0 and (data := body.read(min(remaining, 1 << 20))):
            remaining -= len(data)
        if remaining > 0:
            self.close_connection = True

    def date_time_string(self, timestamp: float | None = None) -> str:
        """The Date header, formatted once a second rather than on every response."""
        if timestamp is not None:
            return super().date_time_string(timestamp)
        now = int(time.time())
        cached = _date_cache
        if cached[0] != now:
            cached[:] = [now, super().date_time_string(now)]
        return str(cached[1])

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Requests are recorded by the registry's own log, not printed."""

    def log_error(self, format: str, *args: Any) -> None:
        log.debug("http: " + format, *args)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("http: " + format, *args)


def _chain(first: bytes, rest: Any) -> Any:
    yield first
    yield from rest
