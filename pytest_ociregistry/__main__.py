"""``python -m pytest_ociregistry``: serve the registry until interrupted. The first stdout line is the base URL."""

from __future__ import annotations

import argparse
import ipaddress
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType

from .options import PRESETS, Options
from .registry import OCIRegistry


def listen_warning(host: str) -> str | None:
    """A warning when ``host`` is not a loopback address: the registry has no auth by default."""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if loopback:
        return None
    return f"warning: listening on {host}, reachable from other machines"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m pytest_ociregistry", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port to listen on (default: 0, a free port)")
    parser.add_argument("--preset", choices=sorted(PRESETS), default="reference", help="behaviour preset")
    parser.add_argument("--no-delete", action="store_true", help="refuse every DELETE with 405 (delete_enabled=False)")
    parser.add_argument("--auth", metavar="SCHEME:USER:PASSWORD", help="basic or bearer auth for one user")
    parser.add_argument("--tls", action="store_true", help="serve HTTPS with a throw-away CA (needs the tls extra)")
    parser.add_argument(
        "--option",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="set a named option, e.g. --option max_page_size=100 (repeatable)",
    )
    return parser


def parse_options(args: argparse.Namespace) -> Options:
    """The options named on the command line, over the chosen preset."""
    options = PRESETS[args.preset]
    changes: dict[str, str] = {}
    if args.no_delete:
        changes["delete_enabled"] = "false"
    if args.auth:
        changes["auth"] = args.auth
    for item in args.option:
        name, sep, value = item.partition("=")
        if not sep:
            raise SystemExit(f"--option takes NAME=VALUE, not {item!r}")
        changes[name.replace("-", "_")] = value
    return options.replace_from_strings(**changes) if changes else options


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        options = parse_options(args)
    except (TypeError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    warning = listen_warning(args.host)
    if warning:
        print(warning, file=sys.stderr)
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    # Before the URL is printed: whoever reads it may signal at once.
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    registry = OCIRegistry(options, host=args.host, port=args.port, tls=args.tls)
    registry.start()
    print(registry.url, flush=True)
    if registry.ca_bundle is not None:
        print(f"CA bundle: {registry.ca_bundle}", file=sys.stderr, flush=True)
    stop.wait()
    registry.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
