"""``python -m benchmarks.httpfloor --port N``: the standard library's ``http.server`` doing nothing, in a process of
its own, as the registries out of process run: the floor the issue's small-request and chunked-upload targets are
ratios to.

It answers every request at once with an empty body, keeping the connection (HTTP/1.1), after reading and dropping
the request body: ``POST`` 202 and ``PATCH`` 202 with a ``Location`` (so the benchmark's chunked upload runs against
it unchanged), ``PUT`` 201, anything else 200.

With ``--answers FILE`` (JSON: ``{"HEAD /v2/...": "<the answer's bytes as latin-1 text>"}``) it answers those
requests with those bytes instead, its ``Date`` value refreshed: a do-nothing server sending a registry's own answer,
byte for byte, so the client's cost of that answer is measured without the registry's (:data:`DATE` marks the value).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

READ_CHUNK = 1 << 20
STATUS = {"POST": 202, "PATCH": 202, "PUT": 201}
UPLOAD = "/v2/floor/blobs/uploads/floor"
DATE = b"@DATE@"
"""Where a replayed answer's ``Date`` value goes."""


class DoNothing(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    answers: ClassVar[dict[str, bytes]] = {}
    """Canned answers by ``"METHOD target"`` (``--answers``)."""

    def handle_one_request(self) -> None:
        try:
            self.raw_requestline = self.rfile.readline(65537)
        except ConnectionResetError:  # wrk ends its connections with a reset: the end of the connection, quietly
            self.raw_requestline = b""
        if not self.raw_requestline:
            self.close_connection = True
            return
        if not self.parse_request():
            return
        left = int(self.headers.get("Content-Length") or 0)
        while left > 0:
            left -= len(self.rfile.read(min(left, READ_CHUNK)))
        answer = self.answers.get(f"{self.command} {self.path}")
        if answer is not None:
            self.wfile.write(answer.replace(DATE, self.date_time_string().encode("ascii"), 1))
            self.wfile.flush()
            return
        self.send_response(STATUS.get(self.command, 200))
        if self.command in ("POST", "PATCH"):
            self.send_header("Location", UPLOAD)
        self.send_header("Content-Length", "0")
        self.end_headers()
        self.wfile.flush()

    def log_message(self, format: str, *args: object) -> None:
        pass


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.httpfloor", description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--answers", help="a JSON file of answers to send byte for byte, by request line")
    args = parser.parse_args(argv)
    if args.answers:
        with open(args.answers, encoding="utf-8") as file:
            DoNothing.answers = {line: text.encode("latin-1") for line, text in json.load(file).items()}
    server = ThreadingHTTPServer(("127.0.0.1", args.port), DoNothing)
    server.daemon_threads = True
    print(f"http://127.0.0.1:{args.port}", flush=True)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
