"""HTTP/1.1 on one connection, answered as Go's ``net/http`` answers (registries and their clients are mostly Go).

werkzeug's development handler, over ``http.server``, closes every connection after one response, answers a request
it cannot parse with an HTML page (with no status line at all when the request line is unreadable: its default
request version is HTTP/0.9), and frames chunked bodies loosely. This handler:

- reads the request line and header section itself, within Go's limit (1 MiB + 4 KiB), and answers what it cannot
  serve as Go does: a status line, a plain-text body (``400 Bad Request``, ``431``, ``501``, ``505``), then a
  lingering close, so the client reads the answer rather than a connection reset;
- keeps connections alive (HTTP/1.0 ones when asked): it counts what the application read of a body and discards
  the rest itself;
- frames request bodies per RFC 9112: ``Content-Length`` (strictly), or chunked, with extensions and trailer
  sections; a malformed chunked body raises :class:`MalformedBody` to the application, and closes the connection;
- sends ``100 Continue`` at most once, on HTTP/1.1, when the application first reads the body; a request answered
  without reading the body it was asked to wait for closes the connection instead;
- sends Go's reason phrases (``404 Not Found``), whatever werkzeug's status text (``404 NOT FOUND``).

The server may offer three hooks (``ConnectionServer`` in ``server.py`` does): ``idle(connection, waiting)``, told
when a connection starts and stops waiting for its next request (the server closes one that waits too long: the
socket itself stays blocking, so a request costs no mode switches); ``refused(method, target, status, fields)``, told of
each request answered here without the application; and ``respond(environ)``, the application's answer as a
werkzeug response object, which is then sent as its WSGI call would send it, without the WSGI round trip.
"""

from __future__ import annotations

import io
import logging
import re
import socket
import ssl
import sys
import time
from collections.abc import Callable
from email.utils import formatdate
from typing import Any, NoReturn, cast
from urllib.parse import unquote, urlsplit

from werkzeug.exceptions import ClientDisconnected
from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.serving import WSGIRequestHandler
from werkzeug.wrappers import Response

from .status import REASONS

log = logging.getLogger(__name__)

# The environ key saying this server writes memoryviews (pytest_ociregistry.api.BUFFERS_OK_KEY; not imported, so
# the handler stays independent of the api).
BUFFERS_OK = "ociregistry.buffers_ok"
# An application's body with this attribute, ``(fd, offset, count)``, is that range of a file: on a plain socket it is
# sent with sendfile(2) instead of iterated (pytest_ociregistry.api's spilled blobs).
FILE_RANGE = "file_range"
# A body left unread beyond this is not worth draining: the connection is closed instead.
MAX_DRAIN = 64 << 20
# A body up to this size is sent with the headers, in one write.
SMALL_BODY = 64 << 10
# The request line and header section together (Go: MaxHeaderBytes, 1 MiB, plus 4096); a trailer section too.
HEAD_LIMIT = (1 << 20) + 4096
# A chunk-size line, extensions included (Go's limit).
CHUNK_LINE_LIMIT = 4096
# After a refusal, how long what the client still sends is read and dropped before closing (Go: 500 ms).
LINGER = 0.5

RefusedHook = Callable[[str, str, int, "list[tuple[str, str]]"], None]
"""``refused(method, target, status, fields)``: a request answered by the HTTP layer itself."""
RespondHook = Callable[["dict[str, Any]"], Response]
"""``respond(environ)``: the application's answer, as a werkzeug response."""
IdleHook = Callable[[Any, bool], None]
"""``idle(connection, waiting)``: the connection waits for its next request (True), or has one (False)."""

_TOKEN = rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
_REQUEST_LINE = re.compile(rb"(" + _TOKEN + rb") ([^\x00-\x20\x7f]+) HTTP/(\d)\.(\d)\r?\n")
_FIELD_LINE = re.compile(rb"(" + _TOKEN + rb"):([^\x00-\x08\x0a-\x1f\x7f]*)\r?\n")
# Every field line of a head (decoded as latin-1) at once, the value without the whitespace around it: a head with
# as many matches as lines is well-formed (each match starts a line and ends with its line feed).
_FIELD_LINES = re.compile(
    _TOKEN.decode().join(("^(", r"):[ \t]*((?:[^\x00-\x08\x0a-\x1f\x7f]*[^\x00-\x20\x7f])?)[ \t]*\r?\n")), re.MULTILINE
)
_LINES = re.compile(rb"[^\n]*\n")
_CHUNK_SIZE = re.compile(rb"([0-9A-Fa-f]{1,16})[ \t]*(?:;[^\x00-\x08\x0a-\x1f\x7f]*)?\r?\n")
_ABSOLUTE_FORM = re.compile(rb"[A-Za-z][A-Za-z0-9+.\-]*:")
_FRAMING = frozenset(("host", "content-length", "transfer-encoding", "connection", "expect"))
_WHITESPACE = b" \t\r\n"
_ERROR_HEADERS = b"\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n"
_CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
_VERSIONS = {b"1": "HTTP/1.1", b"0": "HTTP/1.0"}

# WSGI status text (werkzeug's upper case, or already standard) -> the status line sent.
_STATUS_LINES: dict[str, bytes] = {
    status: f"HTTP/1.1 {code} {REASONS.get(code, text)}\r\n".encode("latin-1")
    for code, text in HTTP_STATUS_CODES.items()
    for status in (f"{code} {text.upper()}", f"{code} {text}", f"{code} {REASONS.get(code, text)}")
}
_date_cache: list[Any] = [0, b""]


def refusal(code: int, text: str = "", body: str | None = None) -> bytes:
    """Go's answer to a request it will not serve: ``HTTP/1.1 400 Bad Request: <text>``, a plain-text body repeating
    the status (or ``body``), and ``Connection: close``."""
    public = f"{code} {REASONS[code]}" + (f": {text}" if text else "")
    return b"HTTP/1.1 " + public.encode() + _ERROR_HEADERS + (public if body is None else body).encode()


def linger_close(sock: socket.socket) -> None:
    """End a connection after a refusal: stop sending, then read and drop what the client still sends (for up to
    ``LINGER`` seconds), so the close does not reset the connection before the client has read the answer."""
    try:
        sock.shutdown(socket.SHUT_WR)
        deadline = time.monotonic() + LINGER
        while (left := deadline - time.monotonic()) > 0:
            sock.settimeout(left)
            if not sock.recv(1 << 16):
                break
    except OSError:
        pass


def request_line_parts(line: bytes) -> tuple[str, str]:
    """The method and target of a request line, as far as they can be read (for the request log): ``("", "")``
    for a line that does not start with a method."""
    parts = line.split(b" ", 2)
    if not re.fullmatch(_TOKEN, parts[0]):
        return "", ""
    target = parts[1] if len(parts) > 1 and re.fullmatch(rb"[^\x00-\x20\x7f]+", parts[1]) else b""
    return parts[0].decode("ascii"), target.decode("latin-1")


class _Refusal(Exception):
    """A request the HTTP layer answers itself, with Go's wording."""

    def __init__(self, code: int, text: str = "", body: str | None = None, line: bytes = b"") -> None:
        super().__init__(code, text)
        self.code = code
        self.answer = refusal(code, text, body)
        self.line = line  # the request line, when it was read


class MalformedBody(ClientDisconnected):
    """A request body whose framing breaks RFC 9112 (a bad chunk size, no CRLF after a chunk): the message cannot be
    read to its end. A ``ClientDisconnected`` (a body ended early) to applications; the server answers
    ``400 Bad Request: <description>`` and closes the connection."""


class RequestBody(io.RawIOBase):
    """A request body as RFC 9112 frames it: ``length`` bytes, or (``length`` None) a chunked body, decoded, its
    chunk extensions ignored and its trailer section read and dropped.

    A read fills the caller's buffer unless the body ends. The first read sends ``100 Continue`` when
    ``send_continue`` is given. ``consumed`` counts the bytes read; ``error`` says what was malformed, if anything.
    """

    def __init__(self, rfile: Any, length: int | None, send_continue: Callable[[], object] | None = None) -> None:
        self.rfile = rfile
        self.length = length
        self.left = length or 0  # of the body (Content-Length), or of the current chunk (chunked)
        self.done = length == 0
        self.consumed = 0
        self.error: str | None = None
        self._continue = None if self.done else send_continue
        self.awaiting_continue = self._continue is not None  # the client waits for 100 Continue to send the body

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self.done:
            return 0
        view = memoryview(buffer).cast("B")
        if not view.nbytes:
            return 0
        if self._continue is not None:
            send, self._continue = self._continue, None
            self.awaiting_continue = False
            send()
        try:
            n = self._read(view) if self.length is not None else self._read_chunked(view)
        except OSError as e:  # the connection failed under the body
            self.done = True
            raise ClientDisconnected() from e
        self.consumed += n
        return n

    def _read(self, view: memoryview) -> int:
        wanted = min(view.nbytes, self.left)
        n = self.rfile.readinto(view[:wanted])
        if n < wanted:
            self._ended_early()
        self.left -= n
        self.done = not self.left
        return int(n)

    def _read_chunked(self, view: memoryview) -> int:
        filled, size, rfile = 0, view.nbytes, self.rfile
        while filled < size:
            if not self.left:
                self.left = self._chunk_size()
                if not self.left:  # the last chunk
                    self._trailer_section()
                    self.done = True
                    break
            wanted = min(size - filled, self.left)
            n = rfile.readinto(view[filled : filled + wanted])
            if n < wanted:
                self._ended_early()
            filled += n
            self.left -= n
            if not self.left and rfile.readline(3) not in (b"\r\n", b"\n"):
                self._malformed("malformed chunked encoding")
        return filled

    def _chunk_size(self) -> int:
        line = self.rfile.readline(CHUNK_LINE_LIMIT + 1)
        match = _CHUNK_SIZE.fullmatch(line)
        if match is None:
            if not line.endswith(b"\n") and len(line) <= CHUNK_LINE_LIMIT:
                self._ended_early()
            self._malformed("chunk line too long" if len(line) > CHUNK_LINE_LIMIT else "invalid chunk size")
        return int(match[1], 16)

    def _trailer_section(self) -> None:
        budget = HEAD_LIMIT
        while (line := self.rfile.readline(budget + 1)) not in (b"\r\n", b"\n"):
            budget -= len(line)
            if budget < 0:
                self._malformed("trailer section too large")
            if not line.endswith(b"\n"):
                self._ended_early()
            if not (_FIELD_LINE.fullmatch(line) or line[:1] in (b" ", b"\t")):
                self._malformed("malformed trailer section")

    def _ended_early(self) -> NoReturn:
        self.done = True
        raise ClientDisconnected()

    def _malformed(self, what: str) -> NoReturn:
        self.done = True
        self.error = what
        raise MalformedBody(what)

    def response_started(self) -> None:
        """The final status is on its way: no ``100 Continue`` from now on."""
        self._continue = None

    def can_drain(self) -> bool:
        """Whether the rest of the body may be read and dropped to keep the connection."""
        if self.done:
            return self.error is None
        return not self.awaiting_continue and (self.length is None or self.left <= MAX_DRAIN)

    def drain(self) -> bool:
        """Read and drop the rest of the body (up to ``MAX_DRAIN`` bytes); False when the connection must close."""
        if self.done:  # the usual case: read to its end (no buffer to make)
            return self.error is None
        if not self.can_drain():
            return False
        buffer, budget = bytearray(1 << 16), MAX_DRAIN
        try:
            while not self.done and budget > 0:
                budget -= self.readinto(buffer)
        except ClientDisconnected:
            return False
        return self.done


class _NoBody(RequestBody):
    """The body of a request that has none: one instance for all of them, since it has no state to keep (a stream
    object costs more to make and finalize than the rest of a small request's parse)."""

    def __init__(self) -> None:
        super().__init__(None, 0)

    def close(self) -> None:
        """Shared: never closed."""


_NO_BODY = _NoBody()


class KeepAliveRequestHandler(WSGIRequestHandler):
    """Serves WSGI over HTTP/1.1 with persistent connections."""

    protocol_version = "HTTP/1.1"
    default_request_version = "HTTP/1.1"  # never HTTP/0.9: every answer has a status line
    disable_nagle_algorithm = True  # headers and body go out in separate writes: no 40 ms delayed-ACK stalls

    def setup(self) -> None:
        super().setup()
        self._idle: IdleHook | None = getattr(self.server, "idle", None)
        self._refused: RefusedHook | None = getattr(self.server, "refused", None)
        self._respond: RespondHook | None = getattr(self.server, "respond", None)
        self._connection_environ: dict[str, Any] | None = None
        self.fields: list[tuple[str, str]] = []
        """The request's header fields, in order, as sent (obs-folds joined)."""

    def handle(self) -> None:
        """Serve requests until the connection closes; a dropped connection is no error."""
        self.close_connection = False
        try:
            while not self.close_connection:
                self.handle_one_request()
        except OSError as e:  # reset, timed out, broken TLS
            self.connection_dropped(e)

    def handle_one_request(self) -> None:
        """Read one request, answer it; close on a request that cannot be served."""
        idle = self._idle
        if idle is not None:  # only while waiting for a request: a body or an answer may take their time
            idle(self.connection, True)
        try:
            head = self._read_head()
        except _Refusal as refused:
            self._refuse(refused, [])
            return
        finally:
            if idle is not None:
                idle(self.connection, False)
        if head is None:  # the client closed the connection
            self.close_connection = True
            return
        fields = self.fields = []
        try:
            length, send_continue = self._parse(*head, fields)
        except _Refusal as refused:
            refused.line = head[0].string
            self._refuse(refused, fields)
            return
        self.run_wsgi_body(length, send_continue)

    def _read_head(self) -> tuple[re.Match[bytes], bytes] | None:
        """The request line, parsed, and the head's field lines (each with its line ending, without the blank line
        that ends the head); None at a clean end of input. A request line that cannot be one is refused before any
        field is read (a TLS hello has no blank line to wait for)."""
        rfile = cast(io.BufferedReader, self.rfile)  # the socket's makefile("rb")
        buffered = rfile.peek(1)  # what has arrived (waiting for the first bytes)
        end = buffered.find(b"\r\n\r\n")
        if end > 0 and buffered[:1] not in b"\r\n" and buffered.count(b"\n", 0, end) == buffered.count(b"\r\n", 0, end):
            # the usual case: the whole head has arrived, its lines ending in CRLF (it fits the buffer: under
            # HEAD_LIMIT). One read, rather than a readline a line.
            head = rfile.read(end + 4)
            line_end = head.index(b"\n") + 1
            request_line = _REQUEST_LINE.fullmatch(head[:line_end])
            if request_line is None:
                raise _Refusal(400, line=head[:line_end])
            return request_line, head[line_end:-2]
        readline = rfile.readline
        budget = HEAD_LIMIT
        line = readline(budget + 1)
        while line in (b"\r\n", b"\n"):  # RFC 9112 section 2.2: empty lines before a request line are ignored
            budget -= len(line)
            line = readline(budget + 1)
        if not line:
            return None
        if len(line) > budget:
            raise _Refusal(431)
        request_line = _REQUEST_LINE.fullmatch(line)
        if request_line is None:
            raise _Refusal(400, line=line)
        lines: list[bytes] = []
        while True:
            budget -= len(line)
            if budget < 0:
                raise _Refusal(431, line=request_line.string)
            if not line.endswith(b"\n"):  # the input ended inside the head
                raise _Refusal(400, line=request_line.string)
            line = readline(budget + 1)
            if line in (b"\r\n", b"\n"):
                return request_line, b"".join(lines)
            lines.append(line)

    def _parse(
        self, request_line: re.Match[bytes], field_lines: bytes, fields: list[tuple[str, str]]
    ) -> tuple[int | None, Callable[[], object] | None]:
        """Check the head as RFC 9112 and Go have it; fill ``fields`` and the handler's request attributes. Returns
        the body length (None: chunked) and what sends ``100 Continue``, if the client waits for it."""
        method, target, major, minor = request_line.groups()
        if major != b"1":
            raise _Refusal(505, "unsupported protocol version")
        if not (target[:1] == b"/" or target == b"*" or _ABSOLUTE_FORM.match(target)):
            raise _Refusal(400)
        self.command, self.path = method.decode("ascii"), target.decode("latin-1")
        self.request_version = _VERSIONS.get(minor) or f"HTTP/1.{minor.decode()}"
        http11 = minor != b"0"

        parsed = _FIELD_LINES.findall(field_lines.decode("latin-1"))
        if len(parsed) == field_lines.count(b"\n"):  # the usual head: every line a field line
            fields += parsed
        else:
            _parse_lines(_LINES.findall(field_lines), fields)
        framing: dict[str, list[str]] = {}
        for name, value in fields:
            if (key := name.lower()) in _FRAMING:
                framing.setdefault(key, []).append(value)

        hosts = framing.get("host", [])
        if len(hosts) > 1:
            raise _Refusal(400, "too many Host headers")
        if http11 and not hosts:
            raise _Refusal(400, "missing required Host header")
        if "connection" in framing:
            connection = _tokens(framing["connection"])
            self.close_connection = "close" in connection or (not http11 and "keep-alive" not in connection)
        else:
            self.close_connection = not http11

        length: int | None = 0
        codings = framing.get("transfer-encoding")
        lengths = framing.get("content-length")
        if codings is not None:
            if not http11:  # RFC 9112 section 6.1: the framing of such a message is faulty
                raise _Refusal(400, "Transfer-Encoding in an HTTP/1.0 request")
            if len(codings) != 1 or codings[0].lower() != "chunked":
                raise _Refusal(501, body="Unsupported transfer encoding")
            length = None
            if lengths is not None:  # RFC 9112 section 6.3: chunked wins, and the connection closes after the answer
                self.close_connection = True
        elif lengths is not None:
            if len(set(lengths)) != 1 or not (lengths[0].isascii() and lengths[0].isdigit()):
                raise _Refusal(400)
            length = int(lengths[0])

        send_continue = None
        expect = framing.get("expect")
        if expect is not None:
            expectations = _tokens(expect) - {""}
            if expectations == {"100-continue"}:
                if http11:  # RFC 9110 section 10.1.1: never a 1xx to an HTTP/1.0 client
                    send_continue = self._send_continue
            elif expectations:
                raise _Refusal(417)
        return length, send_continue

    def make_environ(self) -> dict[str, Any]:
        """The WSGI environ of the request just parsed: what werkzeug's ``make_environ`` makes (the same keys and
        values), built from :attr:`fields`; the part that is the same for every request on the connection is made
        once."""
        base = self._connection_environ
        if base is None:
            base = self._connection_environ = self._make_connection_environ()
        environ = base.copy()
        target = self.path
        host = None
        if target[:1] == "/" and target[1:2] != "/":  # origin form, the usual case: what urlsplit would find
            path, _, query = target.partition("#")[0].partition("?")
        else:
            url = urlsplit(target)
            path = f"/{url.netloc}{url.path}" if not url.scheme and url.netloc else url.path
            query = url.query
            if url.scheme and url.netloc:  # absolute form: its authority is the host
                host = url.netloc
        if "%" in path:
            path = unquote(path)
        environ["wsgi.errors"] = sys.stderr
        environ["REQUEST_METHOD"] = self.command
        if target.isascii() and path.isascii():  # the usual case: WSGI's strings are the text itself
            environ["PATH_INFO"], environ["QUERY_STRING"] = path, query
            environ["REQUEST_URI"] = environ["RAW_URI"] = target
        else:
            environ["PATH_INFO"], environ["QUERY_STRING"] = _wsgi_str(path), _wsgi_str(query)
            environ["REQUEST_URI"] = environ["RAW_URI"] = _wsgi_str(target)
        environ["SERVER_PROTOCOL"] = self.request_version
        for name, value in self.fields:
            key = _ENVIRON_KEYS.get(name) or environ_key(name)
            if not key:  # werkzeug drops these (CGI could not tell them from a hyphen)
                continue
            if key in environ and key[0] == "H":  # HTTP_*: repeats are joined (Content-Type and -Length: the last)
                value = f"{environ[key]},{value}"
            environ[key] = value
        if host is not None:
            environ["HTTP_HOST"] = host
        return environ

    def _make_connection_environ(self) -> dict[str, Any]:
        """The environ keys every request on this connection shares (werkzeug's values)."""
        if not self.client_address:
            self.client_address = ("<local>", 0)
        elif isinstance(self.client_address, str):
            self.client_address = (self.client_address, 0)
        server: Any = self.server
        environ: dict[str, Any] = {
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http" if server.ssl_context is None else "https",
            "wsgi.input": self.rfile,
            "wsgi.multithread": server.multithread,
            "wsgi.multiprocess": server.multiprocess,
            "wsgi.run_once": False,
            "werkzeug.socket": self.connection,
            "SERVER_SOFTWARE": self.server_version,
            "SCRIPT_NAME": "",
            "REMOTE_ADDR": self.address_string(),
            "REMOTE_PORT": self.port_integer(),
            "SERVER_NAME": server.server_address[0],
            "SERVER_PORT": str(server.server_address[1]),
        }
        getpeercert = getattr(self.connection, "getpeercert", None)  # TLS only
        try:
            certificate = getpeercert(binary_form=True) if getpeercert is not None else None
        except ValueError:  # no handshake yet
            certificate = None
        if certificate is not None:
            environ["SSL_CLIENT_CERT"] = ssl.DER_cert_to_PEM_cert(certificate)
        return environ

    def _send_continue(self) -> None:
        self.wfile.write(_CONTINUE)

    def _refuse(self, refused: _Refusal, fields: list[tuple[str, str]]) -> None:
        self.close_connection = True
        if self._refused is not None:
            method, target = request_line_parts(_chomp(refused.line))
            self._refused(method, target, refused.code, fields)
        try:
            self.wfile.write(refused.answer)
        except OSError:
            return
        linger_close(self.connection)

    def run_wsgi(self) -> None:
        """werkzeug's entry point: the request has no body (``handle_one_request`` passes the body it parsed)."""
        self.run_wsgi_body(0, None)

    def run_wsgi_body(self, length: int | None, send_continue: Callable[[], object] | None) -> None:
        """Run the application on the parsed request, send its answer, and leave the connection ready for the next
        request (or marked to close)."""
        environ = self.environ = self.make_environ()
        body = environ["wsgi.input"] = _NO_BODY if length == 0 else RequestBody(self.rfile, length, send_continue)
        environ["wsgi.input_terminated"] = True  # the body stream ends where the body does
        if length is None:
            environ.pop("CONTENT_LENGTH", None)  # chunked framing overrides any Content-Length
        environ[BUFFERS_OK] = True  # _send writes any buffer, so the app may hand out memoryviews
        started: list[Any] = []
        try:
            if self._respond is not None:  # the server's shorter path: what the response's WSGI call would send
                app_iter, *started = self._respond(environ).get_wsgi_response(environ)
            else:
                app_iter = self._call_application(environ, started)
            try:
                self._send(environ, app_iter, started, body)
            finally:
                close = getattr(app_iter, "close", None)
                if close is not None:
                    close()
        except OSError as e:
            self.close_connection = True
            self.connection_dropped(e, environ)
            return
        except Exception:  # an application error: answer 500 if still possible
            log.exception("error serving %s %s", self.command, self.path)
            self.close_connection = True
            if not (started and started[0] is True):
                try:
                    self.wfile.write(refusal(500))
                except OSError:
                    pass
            return
        if not self.close_connection and not body.drain():
            self.close_connection = True
        if self.close_connection and (not body.done or body.error is not None):
            linger_close(self.connection)  # closing with input unread would reset the connection

    def _call_application(self, environ: dict[str, Any], started: list[Any]) -> Any:
        """The WSGI call; ``started`` receives the status and headers."""

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            if exc_info and started and started[0] is True:
                raise exc_info[1].with_traceback(exc_info[2])
            started[:] = [status, headers]
            return lambda data: None  # the legacy write() callable; not used by werkzeug responses

        return self.server.app(environ, start_response)

    def _send(self, environ: dict[str, Any], app_iter: Any, started: list[Any], body: RequestBody) -> None:
        # A body naming a range of a file (FILE_RANGE) goes out with sendfile(2) on a plain socket (TLS must encrypt).
        file_range = getattr(app_iter, FILE_RANGE, None) if started and type(self.connection) is socket.socket else None
        chunks = iter(() if file_range is not None else app_iter)
        first = next(chunks, b"")  # the status is only known once the application has produced something
        body.response_started()
        status, headers = started
        code = int(status[:3])
        out = [_STATUS_LINES.get(status) or f"HTTP/1.1 {status}\r\n".encode("latin-1"), _date()]
        fields = "".join([f"{name}: {value}\r\n" for name, value in headers])
        if fields.count("\n") != len(headers) or fields.count("\r") != len(headers):  # a name or value broke a line
            raise ValueError(f"a response header field holds a line break: {headers!r}")
        out.append(fields.encode("latin-1"))
        lowered = "\n" + fields.lower()  # each field's name follows a line feed
        if "\nconnection:" in lowered and any(n.lower() == "connection" and v.lower() == "close" for n, v in headers):
            self.close_connection = True
        bodiless = environ["REQUEST_METHOD"] == "HEAD" or code in (204, 304) or code < 200
        http11 = self.request_version != "HTTP/1.0"
        framed = bodiless or "\ncontent-length:" in lowered
        chunked = not framed and http11
        if not framed and not http11:  # an HTTP/1.0 client reads the body to the end of the connection
            self.close_connection = True
        if not body.can_drain():  # decided before the headers, so the client is told
            self.close_connection = True
        if body.error is not None:
            self.close_connection = True
        if chunked:
            out.append(b"Transfer-Encoding: chunked\r\n")
        if http11:
            if self.close_connection:
                out.append(b"Connection: close\r\n")
        elif not self.close_connection:
            out.append(b"Connection: keep-alive\r\n")
        out.append(b"\r\n")
        write = self.connection.sendall  # (wfile.write: the same sendall, through a Python wrapper)
        if not bodiless and not chunked and 0 < len(first) <= SMALL_BODY:
            out.append(first)  # a small body goes out in the same write as the headers: one send, not two
            first = b""
        write(b"".join(out))
        started[0] = True  # headers are out: an error from here on can only drop the connection
        if file_range is not None and not bodiless and not chunked:
            self._send_file(*file_range)
        elif not bodiless:
            rest = iter(app_iter) if file_range is not None else chunks
            for data in _chain(first, rest) if first else rest:
                if data and chunked:
                    write(b"%x\r\n%s\r\n" % (len(data), data))
                elif data:
                    write(data)
        if chunked:
            write(b"0\r\n\r\n")

    def _send_file(self, fd: int, offset: int, count: int) -> None:
        """``count`` bytes of the file ``fd`` from ``offset``, with sendfile(2) (the file's own position is left
        alone); a file that ends early drops the connection, as a body cut short must."""
        sent = self.connection.sendfile(_FileNumber(fd), offset, count)
        if sent != count:
            raise ConnectionAbortedError(f"sent {sent} of {count} bytes: the file ended")

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Requests are recorded by the registry's own log, not printed."""

    def log_error(self, format: str, *args: Any) -> None:
        log.debug("http: " + format, *args)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("http: " + format, *args)


def _parse_lines(lines: list[bytes], fields: list[tuple[str, str]]) -> None:
    """Fill ``fields`` from field lines one by one (a head with an obs-fold, or one to refuse: ``fields`` then holds
    those before the faulty line)."""
    for raw in lines:
        if raw[:1] in (b" ", b"\t"):  # obs-fold: RFC 9112 section 5.2 lets a server replace it with a space
            if not fields:
                raise _Refusal(400)
            name, value = fields[-1]
            fields[-1] = (name, value + " " + raw.strip(_WHITESPACE).decode("latin-1"))
            continue
        field = _FIELD_LINE.fullmatch(raw)
        if field is None:
            raise _Refusal(400)
        fields.append((field[1].decode("ascii"), field[2].strip(b" \t").decode("latin-1")))


def _date() -> bytes:
    """The Date header, formatted once a second rather than on every response. (No Server header: Go sends none.)"""
    now = int(time.time())
    cached = _date_cache
    if cached[0] != now:
        cached[:] = [now, f"Date: {formatdate(now, usegmt=True)}\r\n".encode()]
    line: bytes = cached[1]
    return line


def _tokens(values: list[str]) -> set[str]:
    """The comma-separated tokens of a field's values, lower-case (``Connection``, ``Expect``)."""
    return {token.strip().lower() for value in values for token in value.split(",")}


def _chomp(line: bytes) -> bytes:
    """A line without its CRLF (or bare LF: RFC 9112 section 2.2 lets a recipient accept it); a bare CR stays, and
    fails the grammar."""
    return line[:-2] if line.endswith(b"\r\n") else line[:-1] if line.endswith(b"\n") else line


class _FileNumber:
    """A file descriptor as ``socket.sendfile`` takes it; with no ``seek``, so the file's position is not moved."""

    def __init__(self, fd: int) -> None:
        self._fd = fd

    def fileno(self) -> int:
        return self._fd


_ENVIRON_KEYS: dict[str, str] = {}


def environ_key(name: str) -> str:
    """The WSGI environ key of a header field name (``HTTP_ACCEPT``, ``CONTENT_TYPE``), remembered for the next
    request; ``""`` for a name with an underscore (werkzeug drops those)."""
    key = "" if "_" in name else name.upper().replace("-", "_")
    if key and key not in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        key = "HTTP_" + key
    if len(_ENVIRON_KEYS) < 1024:  # the names clients send are few; a client making up names does not grow it
        _ENVIRON_KEYS[name] = key
    return key


def _wsgi_str(text: str) -> str:
    """A string as WSGI carries it: its UTF-8 bytes, each as one character (werkzeug's encoding dance)."""
    return text if text.isascii() else text.encode().decode("latin-1")


def _chain(first: bytes, rest: Any) -> Any:
    yield first
    yield from rest
