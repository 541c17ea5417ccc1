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
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Literal

from werkzeug.wrappers import Request, Response

from .errors import ErrorCode, RegistryError
from .text import assignments, value_from_string

ACTIONS = ("pull", "push", "delete")
CATALOG = "registry:catalog:*"
ANONYMOUS = "anonymous"

ChallengeStyle = Literal["standard", "ecr", "gar", "harbor", "ghcr"]
CHALLENGE_STYLES: tuple[ChallengeStyle, ...] = typing.get_args(ChallengeStyle)
"""The hosted services whose challenges :meth:`Auth.authorize` can answer with (the ``auth_challenge`` option)."""
_SCHEMES: dict[str, str] = {"ecr": "basic", "gar": "bearer", "harbor": "bearer", "ghcr": "bearer"}
_BASIC_TOO = ("gar", "harbor")  # Bearer registries that also take Basic credentials on every request


def _harbor_reason(request: Request, needed: Access, held: Access) -> str:
    """Why Harbor refuses (``v2auth/auth.go``): the first access check that fails."""
    if needed == Access():
        return "unauthorized"
    if needed.catalog:
        return "unauthorized to list catalog"
    if not request.headers.get("Authorization") and request.method in ("GET", "HEAD"):
        return "authorize header needed to send HEAD to repository"
    missing = needed.without(held)
    repo, actions = (missing.repositories or needed.repositories)[0]
    action = next(a for a in ACTIONS if a in actions)
    return f"unauthorized to access repository: {repo}, action: {action}"



def _split_grant(text: str, parts: int, form: str) -> tuple[str, ...]:
    """``[NAME:]GLOB:ACTIONS`` split and checked: a glob, and actions among pull, push, delete and ``*``."""
    fields = tuple(text.split(":"))
    if len(fields) != parts or not all(fields):
        raise ValueError(f"{form}, not {text!r}")
    wrong = {a.strip() for a in fields[-1].split(",")} - {*ACTIONS, "*"}
    if wrong:
        raise ValueError(f"{text!r}: unknown action(s) {', '.join(sorted(wrong))} (pull, push, delete or *)")
    return fields


_SETTINGS = ("service", "realm", "token_path", "token_ttl", "challenge_service", "anonymous_catalog_empty",
             "token_get_only")


def _settings(items: Iterable[str]) -> dict[str, Any]:
    """``NAME=VALUE`` items for the scalar fields of :class:`Auth`, as values."""
    hints = typing.get_type_hints(Auth)
    found = assignments(items, "an auth setting")
    unknown = sorted(set(found) - set(_SETTINGS))
    if unknown:
        raise ValueError(f"unknown auth setting(s): {', '.join(unknown)} (known: {', '.join(_SETTINGS)})")
    return {name: value_from_string(text, hints[name]) for name, text in found.items()}


def _ordered(actions: frozenset[str]) -> str:
    return ",".join(a for a in ACTIONS if a in actions)


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
        out = [f"repository:{repo}:{_ordered(actions)}" for repo, actions in self.repositories]
        return out + ([CATALOG] if self.catalog else [])

    def records(self) -> list[dict[str, str]] | None:
        """As distribution's error ``detail``: one ``{"Type", "Class", "Name", "Action"}`` per action; None (JSON
        ``null``) for no access at all, as for ``/v2/``."""
        out = [
            {"Type": "repository", "Class": "", "Name": repo, "Action": action}
            for repo, actions in self.repositories
            for action in ACTIONS
            if action in actions
        ]
        out += [{"Type": "registry", "Class": "", "Name": "catalog", "Action": "*"}] if self.catalog else []
        return out or None

    def without(self, held: Access) -> Access:
        """What of this access ``held`` lacks."""
        have = dict(held.repositories)
        missing = tuple(
            (repo, left) for repo, actions in self.repositories if (left := actions - have.get(repo, frozenset()))
        )
        return Access(missing, self.catalog and not held.catalog)


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

    @classmethod
    def from_arguments(
        cls,
        auth: str,
        users: Iterable[str] = (),
        grants: Iterable[str] = (),
        anonymous: Iterable[str] = (),
        *,
        anonymous_catalog: bool = False,
        no_catalog: Iterable[str] = (),
        settings: Iterable[str] = (),
    ) -> Auth:
        """An ``Auth`` from the command line's texts.

        ``auth`` is ``SCHEME`` or ``SCHEME:USER:PASSWORD`` (a user allowed everything); each of ``users`` is
        ``NAME:PASSWORD``, allowed everything unless ``grants`` name it, and then exactly what they grant; each grant
        is ``NAME:GLOB:ACTIONS`` and each ``anonymous`` grant ``GLOB:ACTIONS`` (ACTIONS: ``pull,push,delete`` or
        ``*``); users may list the catalog unless named in ``no_catalog``, anonymous callers only with
        ``anonymous_catalog``; ``settings`` are ``NAME=VALUE`` for the other fields (``realm=URL``, ``service``,
        ``token_path``, ``token_ttl``, ``challenge_service``, ``anonymous_catalog_empty``, ``token_get_only``).
        Raises ``ValueError`` naming what is wrong.
        """
        scheme, sep, first = auth.partition(":")
        credentials = [first] if sep else []
        passwords: dict[str, str] = {}
        for text in [*credentials, *users]:
            name, sep, password = text.partition(":")
            if not sep or not name:
                raise ValueError(f"a user is NAME:PASSWORD, not {text!r}")
            if name in passwords:
                raise ValueError(f"user {name!r} is given twice")
            passwords[name] = password
        granted: dict[str, dict[str, str]] = {}
        for text in grants:
            name, glob, actions = _split_grant(text, 3, "a grant is USER:GLOB:ACTIONS")
            if name not in passwords:
                raise ValueError(f"grant {text!r} names {name!r}, who is not a user")
            granted.setdefault(name, {})[glob] = actions
        public: dict[str, str] = {}
        for text in anonymous:
            glob, actions = _split_grant(text, 2, "an anonymous grant is GLOB:ACTIONS")
            public[glob] = actions
        closed = set(no_catalog)
        unknown = sorted(closed - set(passwords))
        if unknown:
            raise ValueError(f"no catalog for {', '.join(map(repr, unknown))}, who is not a user")
        made = tuple(
            User(name, password, granted.get(name, {"*": "*"}), catalog=name not in closed)
            for name, password in passwords.items()
        )
        return cls(scheme, made, public, anonymous_catalog, **_settings(settings))

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

    def authorize(
        self, request: Request, needed: Access, style: ChallengeStyle = "standard"
    ) -> tuple[str | None, RegistryError | None]:
        """Who makes ``request`` (None when unknown) and, unless they hold ``needed``, the error to answer, as
        distribution does: 401 ``UNAUTHORIZED`` with a challenge for no or wrong credentials (with Bearer:
        ``error="invalid_token"`` for an expired or foreign token, ``error="insufficient_scope"`` for a token
        without access its holder could get, anonymous included: logging in may give it); 403 ``DENIED``, saying
        why, only for a caller that can never get the access. ``style`` is the hosted service whose challenges and
        credentials these are (see :data:`CHALLENGE_STYLES`)."""
        sent, _, credentials = request.headers.get("Authorization", "").partition(" ")
        sent = sent.lower()
        scheme = _SCHEMES.get(style, self.scheme)
        if not sent or (sent == "basic" and credentials.strip() == "Og=="):
            # No credentials (skopeo sends empty Basic ones, "Og==", where it has none): anonymous.
            if needed.catalog and self.anonymous_catalog_empty:
                raise EmptyCatalog(self._challenge(request, needed, style=style))
            # Never for /v2/: a client decides from the ping's challenge whether to authenticate.
            if scheme == "basic" and needed != Access() and self._covers(self.grant(None, needed), needed):
                return ANONYMOUS, None
            return None, self._unauthorized(request, needed, style=style)
        if sent == "basic" and (scheme == "basic" or style in _BASIC_TOO):
            user = self._basic_user(credentials)
            if user is None:
                return None, self._unauthorized(request, needed, style=style)
            if self._covers(self.grant(user, needed), needed):
                return user.name, None
            return user.name, self._denied(request, user, needed, style)
        if sent == "basic" and style == "ghcr" and needed != Access():
            return None, RegistryError(ErrorCode.DENIED, "invalid token")  # GHCR: data endpoints take tokens only
        if scheme == "basic" or sent != "bearer":  # credentials the registry does not take: a token is required
            return None, self._unauthorized(request, needed, style=style)
        with self._lock:
            held = self._tokens.get(credentials.strip())
        if held is None or held.expires <= time.time():
            return None, self._unauthorized(request, needed, error="invalid_token", style=style)
        if self._covers(held.access, needed):
            return held.identity, None
        user = self._named(held.identity)
        if self._obtainable(user, needed):  # a new token would do: ask for one
            return held.identity, self._unauthorized(
                request, needed, error="insufficient_scope", style=style, held=held.access
            )
        return held.identity, self._denied(request, user, needed, style)

    def holds(self, request: Request, access: Access) -> bool:
        """Whether the credentials ``request`` carries (none: anonymous) hold ``access``: a token's own, a Basic
        user's grants."""
        sent, _, credentials = request.headers.get("Authorization", "").partition(" ")
        if sent.lower() == "bearer":
            with self._lock:
                held = self._tokens.get(credentials.strip())
            return held is not None and held.expires > time.time() and self._covers(held.access, access)
        user = self._basic_user(credentials) if sent.lower() == "basic" else None
        return self._covers(self.grant(user, access), access)

    def refuse(self, request: Request, needed: Access, style: ChallengeStyle = "standard") -> RegistryError:
        """The 401 for access the registry will not give whatever the credentials (Docker Hub's catalog, a
        repository that does not exist): a challenge for ``needed``, with ``error="insufficient_scope"`` when a
        Bearer token was sent."""
        sent = request.headers.get("Authorization", "").partition(" ")[0].lower()
        error = "insufficient_scope" if sent == "bearer" and _SCHEMES.get(style, self.scheme) == "bearer" else None
        return self._unauthorized(request, needed, error=error, style=style)

    def _named(self, identity: str) -> User | None:
        return next((u for u in self.users if u.name == identity), None) if identity != ANONYMOUS else None

    def _obtainable(self, user: User | None, needed: Access) -> bool:
        """Whether ``user`` could hold ``needed``; for an anonymous caller, whether anyone could (by logging in)."""
        holders = (user,) if user is not None else (None, *self.users)
        return any(self._covers(self.grant(holder, needed), needed) for holder in holders)

    def _denied(self, request: Request, user: User | None, needed: Access, style: ChallengeStyle) -> RegistryError:
        """403 ``DENIED``: the message says who lacks what, ``detail`` lists it as distribution lists access.
        Harbor refuses with 401 and a challenge instead."""
        if style == "harbor":
            return self._unauthorized(request, needed, style=style, held=self.grant(user, needed))
        missing = needed.without(self.grant(user, needed))
        lacks = [f"{_ordered(actions)} access to {repo}" for repo, actions in missing.repositories]
        lacks += ["access to the catalog"] if missing.catalog else []
        who = f"{user.name} has no" if user is not None else "no user has"
        message = f"{ErrorCode.DENIED.message}: {who} {' or '.join(lacks)}"
        return RegistryError(ErrorCode.DENIED, message, detail=missing.records())

    def _basic_user(self, credentials: str) -> User | None:
        try:
            decoded = base64.b64decode(credentials.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None
        name, sep, password = decoded.partition(":")
        return self._user(name, password) if sep else None

    def _challenge(
        self, request: Request, needed: Access, error: str | None = None, style: ChallengeStyle = "standard"
    ) -> str:
        if style == "ecr":
            return f'Basic realm="{request.host_url}",service="ecr.amazonaws.com"'
        if style == "harbor" and (request.headers.get("Authorization") or needed.catalog):
            return 'Basic realm="harbor"'
        if _SCHEMES.get(style, self.scheme) == "basic":
            return f'Basic realm="{self.service}"'
        realm = self.realm or request.host_url.rstrip("/") + self.token_path
        parts = [f'realm="{realm}"']
        if self.challenge_service and not (style == "gar" and needed == Access()):
            parts.append(f'service="{self.service}"')
        if needed.scopes():
            parts.append(f'scope="{" ".join(needed.scopes())}"')
        if error and style != "harbor":
            parts.append(f'error="{error}"')
        return "Bearer " + ",".join(parts)

    def _unauthorized(
        self,
        request: Request,
        needed: Access,
        error: str | None = None,
        style: ChallengeStyle = "standard",
        held: Access | None = None,
    ) -> RegistryError:
        challenge = {"WWW-Authenticate": self._challenge(request, needed, error, style)}
        if style == "harbor":
            reason = _harbor_reason(request, needed, held or Access())
            return RegistryError(ErrorCode.UNAUTHORIZED, f"{reason}: {reason}", headers=challenge)
        return RegistryError(ErrorCode.UNAUTHORIZED, headers=challenge, detail=needed.records())

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

    def revoke_tokens(self) -> None:
        """Forget every token and refresh token issued so far: they answer 401 ``invalid_token`` from now on.
        ``OCIRegistry.reset()`` calls it, so tokens belong to the test that got them."""
        with self._lock:
            self._tokens.clear()

    def handle_token(self, request: Request, *, refuse_delete: bool = False, same_type: bool = False) -> Response:
        """The token endpoint: GET with Basic credentials or none; POST with an OAuth2 password or refresh_token
        grant. Answers ``token``, ``access_token``, ``expires_in``, ``issued_at`` (and ``refresh_token`` when asked).
        ``refuse_delete``: a scope asking for ``delete`` is a 400 (Quay); ``same_type``: scopes of the registry and
        of repositories in one request are a 400 (Docker Hub)."""
        scopes = [s for text in request.values.getlist("scope") for s in text.split()]
        if refuse_delete:
            for scope in scopes:
                if "delete" in scope.rpartition(":")[2].split(","):
                    raise RegistryError(
                        ErrorCode.INVALID_REQUEST, f"Unable to decode repository and actions: {scope}", detail={}
                    )
        if same_type and len({scope.partition(":")[0] for scope in scopes}) > 1:
            raise MixedScopes()
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
            user = self._basic_user(credentials) if scheme.lower() == "basic" else None
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


class MixedScopes(Exception):
    """Docker Hub's token server refusing scopes of several resource types (not an OCI error body)."""

    def response(self) -> Response:
        return Response(
            b'{"details":"request scopes must be of the same resource type"}', 400, content_type="application/json"
        )


class EmptyCatalog(Exception):
    """Zot's quirk: an anonymous catalog request answers 200 with an empty list (and still a challenge)."""

    def __init__(self, challenge: str) -> None:
        super().__init__(challenge)
        self.challenge = challenge

    def response(self) -> Response:
        return Response(
            b'{"repositories":[]}', 200, content_type="application/json", headers={"WWW-Authenticate": self.challenge}
        )
