"""Authentication as real registries do it: HTTP Basic, or Bearer tokens from a token endpoint, with per-repository
grants and anonymous pull.

An :class:`Auth` goes in the ``auth`` option. The api asks it to :meth:`~Auth.authorize` each request against the
:class:`Access` its route needs; with Bearer auth the same object serves the token endpoint and remembers the tokens it
issued, so two registries given the same ``Auth`` (a registry and a separate token server, as Docker Hub has) accept
each other's tokens, and no other server's.
"""

from __future__ import annotations

import base64
import binascii
import fnmatch
import hmac
import json
import secrets
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone

from werkzeug.wrappers import Request, Response

from .errors import ErrorCode, RegistryError

ACTIONS = ("pull", "push", "delete")
CATALOG = "registry:catalog:*"
ANONYMOUS = "anonymous"



def _actions(text: str) -> frozenset[str]:
    names = {a.strip() for a in text.replace(" ", ",").split(",") if a.strip()}
    return frozenset(ACTIONS) if "*" in names else frozenset(names)


@dataclass(frozen=True)
class User:
    """A user, its password, and what it may do: ``{"repo glob": "pull,push,delete" or "*"}``, plus the catalog."""

    name: str
    password: str
    grants: Mapping[str, str] = field(default_factory=lambda: {"*": "*"})
    catalog: bool = True


@dataclass(frozen=True)
class Access:
    """What a request needs: actions on repositories, or the catalog."""

    repositories: tuple[tuple[str, frozenset[str]], ...] = ()
    catalog: bool = False

    def scopes(self) -> list[str]:
        """As ``scope`` strings: ``repository:foo:pull,push``, ``registry:catalog:*``."""
        out = [f"repository:{repo}:{','.join(a for a in ACTIONS if a in actions)}" for repo, actions in self.repositories]
        return out + ([CATALOG] if self.catalog else [])


@dataclass
class _Token:
    identity: str
    access: Access
    expires: float


@dataclass(frozen=True, eq=False)
class Auth:
    """Who may do what, and how they prove it.

    ``scheme`` is ``"basic"`` or ``"bearer"``. ``anonymous`` grants access without credentials (``{"public/*":
    "pull"}``). With Bearer, 401 answers carry ``WWW-Authenticate: Bearer realm=...,service=...,scope=...`` for exactly
    the access the request needs, and ``realm`` (by default ``/token`` on the same server) issues tokens that last
    ``token_ttl`` seconds. The quirk switches reproduce real registries: no ``service`` in the challenge
    (``challenge_service=False``), an anonymous catalog answering 200 and an empty list (zot), a token endpoint that
    only takes GET.
    """

    scheme: str = "bearer"
    users: tuple[User, ...] = ()
    anonymous: Mapping[str, str] = field(default_factory=dict)
    anonymous_catalog: bool = False
    service: str = "pytest-ociregistry"
    realm: str | None = None
    token_path: str = "/token"
    token_ttl: float = 300.0
    challenge_service: bool = True
    anonymous_catalog_empty: bool = False
    token_get_only: bool = False
    _tokens: dict[str, _Token] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        if self.scheme not in ("basic", "bearer"):
            raise ValueError(f"auth scheme must be 'basic' or 'bearer', not {self.scheme!r}")

    @classmethod
    def from_string(cls, text: str) -> Auth:
        """``basic:USER:PASSWORD`` or ``bearer:USER:PASSWORD`` (one user allowed everything), as ini and the command
        line give it."""
        scheme, _, rest = text.partition(":")
        name, sep, password = rest.partition(":")
        if not sep or not name:
            raise ValueError(f"auth takes SCHEME:USER:PASSWORD, not {text!r}")
        return cls(scheme, users=(User(name, password),))

    # Granting -----------------------------------------------------------------------------------------------------

    def _user(self, name: str, password: str) -> User | None:
        found = None
        for user in self.users:  # compare every user, in constant time, so timing tells nothing
            if hmac.compare_digest(user.name.encode(), name.encode()) & hmac.compare_digest(
                user.password.encode(), password.encode()
            ):
                found = user
        return found

    def _allowed(self, user: User | None, repo: str, actions: frozenset[str]) -> frozenset[str]:
        grants = user.grants if user else self.anonymous
        allowed: set[str] = set()
        for pattern, granted in grants.items():
            if fnmatch.fnmatchcase(repo, pattern):
                allowed |= _actions(granted)
        return frozenset(allowed) & actions

    def grant(self, user: User | None, access: Access) -> Access:
        """The part of ``access`` that ``user`` (None: anonymous) holds; never more."""
        repositories = tuple(
            (repo, allowed) for repo, actions in access.repositories if (allowed := self._allowed(user, repo, actions))
        )
        catalog = access.catalog and (user.catalog if user else self.anonymous_catalog)
        return Access(repositories, catalog)

    def _covers(self, held: Access, needed: Access) -> bool:
        have = dict(held.repositories)
        return all(actions <= have.get(repo, frozenset()) for repo, actions in needed.repositories) and (
            held.catalog or not needed.catalog
        )

    # Checking requests --------------------------------------------------------------------------------------------

    def authorize(self, request: Request, needed: Access) -> tuple[str | None, RegistryError | None]:
        """Who makes ``request`` (None when unknown) and, unless they hold ``needed``, the error to answer: 401
        ``UNAUTHORIZED`` for no or wrong credentials or an expired or foreign token, 403 ``DENIED`` for valid
        credentials without the access."""
        scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
        if not scheme or (self.scheme == "basic" and _empty_basic(scheme, credentials)):
            # Anonymous access, never for /v2/: a client decides from the ping's challenge whether to authenticate
            # (skopeo then sends empty Basic credentials where it has none: those are anonymous too).
            pinged = not (needed.repositories or needed.catalog)
            if self.scheme == "basic" and not pinged and self._covers(self.grant(None, needed), needed):
                return ANONYMOUS, None
            if needed.catalog and self.anonymous_catalog_empty:
                raise EmptyCatalog(self._challenge(request, needed))
            return None, self._unauthorized(request, needed)
        if self.scheme == "basic":
            user = self._basic_user(scheme, credentials) if scheme.lower() == "basic" else None
            if user is None:
                return None, self._unauthorized(request, needed)
            return user.name, None if self._covers(self.grant(user, needed), needed) else RegistryError(ErrorCode.DENIED)
        with self._lock:
            held = self._tokens.get(credentials.strip()) if scheme.lower() == "bearer" else None
        if held is None or held.expires <= time.time():
            return None, self._unauthorized(request, needed, error="invalid_token")
        if self._covers(held.access, needed):
            return held.identity, None
        user = next((u for u in self.users if u.name == held.identity), None)
        if self._covers(self.grant(user, needed), needed):  # a new token would do: ask for one
            return held.identity, self._unauthorized(request, needed, error="insufficient_scope")
        return held.identity, RegistryError(ErrorCode.DENIED)

    def _basic_user(self, scheme: str, credentials: str) -> User | None:
        try:
            decoded = base64.b64decode(credentials.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None
        name, sep, password = decoded.partition(":")
        return self._user(name, password) if sep else None

    def _challenge(self, request: Request, needed: Access, error: str | None = None) -> str:
        if self.scheme == "basic":
            return f'Basic realm="{self.service}"'
        realm = self.realm or request.host_url.rstrip("/") + self.token_path
        parts = [f'realm="{realm}"']
        if self.challenge_service:
            parts.append(f'service="{self.service}"')
        if needed.scopes():
            parts.append(f'scope="{" ".join(needed.scopes())}"')
        if error:
            parts.append(f'error="{error}"')
        return "Bearer " + ",".join(parts)

    def _unauthorized(self, request: Request, needed: Access, error: str | None = None) -> RegistryError:
        return RegistryError(ErrorCode.UNAUTHORIZED, headers={"WWW-Authenticate": self._challenge(request, needed, error)})

    # Tokens -------------------------------------------------------------------------------------------------------

    def issue(self, identity: str, access: Access, ttl: float | None = None) -> tuple[str, float]:
        """A new token carrying ``access`` for ``identity``; returns it and its lifetime in seconds."""
        ttl = self.token_ttl if ttl is None else ttl
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._tokens[token] = _Token(identity, access, time.time() + ttl)
        return token, ttl

    def token_for(self, user: str | None, scopes: Iterable[str]) -> str:
        """A token for ``user`` (None: anonymous) with as much of ``scopes`` as the user holds."""
        holder = next((u for u in self.users if u.name == user), None) if user else None
        if user and holder is None:
            raise ValueError(f"no such user: {user!r}")
        return self.issue(user or ANONYMOUS, self.grant(holder, parse_scopes(scopes)))[0]

    def handle_token(self, request: Request) -> Response:
        """The token endpoint: GET with Basic credentials or none; POST with an OAuth2 password or refresh_token
        grant. Answers ``token``, ``access_token``, ``expires_in``, ``issued_at`` (and ``refresh_token`` when asked)."""
        if request.method == "POST" and not self.token_get_only:
            form = request.form
            grant_type = form.get("grant_type", "")
            scopes = form.getlist("scope")
            if grant_type == "password":
                user = self._user(form.get("username", ""), form.get("password", ""))
                if user is None:
                    raise RegistryError(ErrorCode.UNAUTHORIZED, "invalid username or password")
            elif grant_type == "refresh_token":
                user = self._refresh_user(form.get("refresh_token", ""))
            else:
                raise RegistryError(ErrorCode.UNSUPPORTED, f"unsupported grant_type {grant_type!r}")
            return self._token_response(user, scopes, refresh=True)
        if request.method != "GET":
            raise RegistryError(ErrorCode.UNSUPPORTED, "the token endpoint takes GET only", status=405)
        user = None
        if request.authorization is not None or request.headers.get("Authorization"):
            scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
            user = self._basic_user(scheme, credentials) if scheme.lower() == "basic" else None
            if user is None:
                raise RegistryError(ErrorCode.UNAUTHORIZED, "invalid username or password")
        offline = request.args.get("offline_token", "").lower() == "true"
        return self._token_response(user, request.args.getlist("scope"), refresh=offline and user is not None)

    def _refresh_user(self, refresh_token: str) -> User:
        with self._lock:
            held = self._tokens.get("refresh:" + refresh_token)
        user = next((u for u in self.users if held and u.name == held.identity), None)
        if user is None:
            raise RegistryError(ErrorCode.UNAUTHORIZED, "invalid refresh token")
        return user

    def _token_response(self, user: User | None, scopes: list[str], *, refresh: bool) -> Response:
        access = self.grant(user, parse_scopes(scopes))
        identity = user.name if user else ANONYMOUS
        token, ttl = self.issue(identity, access)
        doc: dict[str, object] = {
            "token": token,
            "access_token": token,
            "expires_in": int(ttl),
            "issued_at": datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z"),
        }
        if refresh and user is not None:
            refresh_token = secrets.token_urlsafe(32)
            with self._lock:
                self._tokens["refresh:" + refresh_token] = _Token(identity, Access(), float("inf"))
            doc["refresh_token"] = refresh_token
        return Response(json.dumps(doc), 200, content_type="application/json")


def _empty_basic(scheme: str, credentials: str) -> bool:
    """Whether this is ``Basic`` with an empty user and password (``Og==``)."""
    return scheme.lower() == "basic" and credentials.strip() == "Og=="


def parse_scopes(scopes: Iterable[str]) -> Access:
    """``repository:NAME:ACTIONS`` and ``registry:catalog:*`` scopes (several per string, space-separated)."""
    repositories: dict[str, frozenset[str]] = {}
    catalog = False
    for scope in (s for text in scopes for s in text.split()):
        kind, _, rest = scope.partition(":")
        name, _, actions = rest.rpartition(":")
        if kind == "repository" and name:
            repositories[name] = repositories.get(name, frozenset()) | _actions(actions)
        elif scope == CATALOG:
            catalog = True
    return Access(tuple(repositories.items()), catalog)


class EmptyCatalog(Exception):
    """Zot's quirk: an anonymous catalog request answers 200 with an empty list (and still a challenge)."""

    def __init__(self, challenge: str) -> None:
        super().__init__(challenge)
        self.challenge = challenge

    def response(self) -> Response:
        return Response(
            b'{"repositories":[]}', 200, content_type="application/json", headers={"WWW-Authenticate": self.challenge}
        )
