"""``python -m pytest_ociregistry``: serve the registry until interrupted. The first stdout line is the base URL."""

from __future__ import annotations

import argparse
import ipaddress
import os
import signal
import sys
from collections.abc import Sequence
from types import FrameType

from .auth import Auth
from .layout import LayoutError, parse_load_spec
from .options import Options
from .presets import PRESETS
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


AUTH_HELP = """\
auth: --auth turns it on; the other auth arguments need it. Examples:
  --auth bearer:ci:secret                         one user, allowed everything
  --auth bearer --user alice:pw --user bob:pw --grant 'bob:team/*:pull' --no-catalog bob
  --auth bearer --user ci:pw --anonymous 'public/*:pull' --anonymous-catalog --auth-option realm=https://h/token
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m pytest_ociregistry",
        description=__doc__,
        epilog=AUTH_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port to listen on (default: 0, a free port)")
    parser.add_argument("--preset", choices=sorted(PRESETS), default="reference", help="behaviour preset")
    parser.add_argument("--no-delete", action="store_true", help="refuse every DELETE with 405 (delete_enabled=False)")
    parser.add_argument("--tls", action="store_true", help="serve HTTPS with a throw-away CA (needs the tls extra)")
    parser.add_argument(
        "--option",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="set a named option, e.g. --option max_page_size=100 (repeatable; - in NAME is _)",
    )
    auth = parser.add_argument_group("auth (see pytest_ociregistry.Auth)")
    auth.add_argument(
        "--auth",
        metavar="SCHEME[:USER:PASSWORD]",
        help="basic or bearer auth; with USER:PASSWORD, a user allowed everything",
    )
    auth.add_argument(
        "--user",
        action="append",
        default=[],
        metavar="NAME:PASSWORD",
        help="a user, allowed everything unless --grant names it (repeatable)",
    )
    auth.add_argument(
        "--grant",
        action="append",
        default=[],
        metavar="USER:GLOB:ACTIONS",
        help="what a user may do in the repositories GLOB matches: ACTIONS is pull,push,delete or * (repeatable; a "
        "user with grants has exactly those)",
    )
    auth.add_argument(
        "--no-catalog", action="append", default=[], metavar="USER", help="this user may not list the catalog"
    )
    auth.add_argument(
        "--anonymous",
        action="append",
        default=[],
        metavar="GLOB:ACTIONS",
        help="what callers without credentials may do, e.g. 'public/*:pull' (repeatable; with bearer they still "
        "fetch a token)",
    )
    auth.add_argument("--anonymous-catalog", action="store_true", help="callers without credentials may list the catalog")
    auth.add_argument(
        "--auth-option",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="another Auth setting: realm=URL (a separate token server), service, token_path, token_ttl, "
        "challenge_service, anonymous_catalog_empty, token_get_only (repeatable)",
    )
    parser.add_argument(
        "--load",
        action="append",
        default=[],
        metavar="PATH[=REPO]",
        help="serve the images of an OCI layout, oci-archive or docker save tarball, in REPO if given (repeatable)",
    )
    return parser


def parse_auth(args: argparse.Namespace) -> Auth | None:
    """The ``Auth`` the auth arguments describe; None without ``--auth``."""
    if args.auth is None:
        extra = [f"--{name.replace('_', '-')}" for name in _AUTH_ARGS if getattr(args, name)]
        if extra:
            raise ValueError(f"{', '.join(extra)} need(s) --auth SCHEME")
        return None
    return Auth.from_arguments(
        args.auth,
        args.user,
        args.grant,
        args.anonymous,
        anonymous_catalog=args.anonymous_catalog,
        no_catalog=args.no_catalog,
        settings=args.auth_option,
    )


_AUTH_ARGS = ("user", "grant", "no_catalog", "anonymous", "anonymous_catalog", "auth_option")


def parse_options(args: argparse.Namespace) -> Options:
    """The options named on the command line, over the chosen preset."""
    options = PRESETS[args.preset].replace_from_text(args.option)
    if args.no_delete:
        options = options.replace(delete_enabled=False)
    auth = parse_auth(args)
    return options.replace(auth=auth) if auth is not None else options


def _catch_termination_signals() -> int:
    """Make SIGINT and SIGTERM write a byte to a pipe, and return its read end.

    The C-level handler writes the byte (``signal.set_wakeup_fd``); the Python-level one does nothing, so a second
    signal, arriving at any bytecode (even inside the first one's handling), cannot deadlock or raise.
    """
    read_end, write_end = os.pipe()
    os.set_blocking(write_end, False)
    signal.set_wakeup_fd(write_end, warn_on_full_buffer=False)
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, _ignore)
    return read_end


def _ignore(signum: int, frame: FrameType | None) -> None:
    """A signal handler that does nothing: the wakeup fd carries the news."""


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
    # Before the URL is printed: whoever reads it may signal at once.
    wakeup = _catch_termination_signals()
    registry = OCIRegistry(options, host=args.host, port=args.port, tls=args.tls)
    try:
        for spec in args.load:
            registry.load(*parse_load_spec(spec))
    except LayoutError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    registry.start()
    print(registry.url, flush=True)
    if registry.ca_bundle is not None:
        print(f"CA bundle: {registry.ca_bundle}", file=sys.stderr, flush=True)
    os.read(wakeup, 1)  # returns once a signal has arrived; later signals change nothing
    registry.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
