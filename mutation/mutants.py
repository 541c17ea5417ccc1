"""The fixed list of mutants, and the tests each module's behaviour is pinned by.

A mutant is an exact piece of a module's source (it must occur once) and what it becomes: one plausible regression.
``equivalent`` gives the reason a mutant cannot be told apart from the original by any client or test, when that
is so; it is then expected to survive. When the code moves on, a mutant whose source no longer matches is reported
as stale: update it here.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Mutant:
    module: str
    """The module of ``pytest_ociregistry`` it changes (``store`` for ``pytest_ociregistry/store.py``)."""
    name: str
    original: str
    mutated: str
    equivalent: str | None = None
    tests: tuple[str, ...] = ()
    """Tests to run instead of the module's own selection (``MODULE_TESTS``)."""


_TABLES = ("tests/test_reference_table.py", "tests/test_spec_tables.py")
MODULE_TESTS: dict[str, tuple[str, ...]] = {
    "store": ("tests/test_store.py", "tests/test_isolation.py", "tests/test_registry.py", "tests/test_api.py",
              "tests/test_options.py", "tests/test_repository_existence.py", *_TABLES,
              "tests/reliability/test_reliability_concurrency.py::test_a_patch_racing_the_commit_of_its_upload_does_not_corrupt_the_blob"),
    "api": ("tests/test_api.py", "tests/test_options.py", "tests/test_isolation.py", "tests/test_error_answers.py",
            "tests/test_auth.py", *_TABLES),
    "routes": ("tests/test_routes.py", "tests/test_api.py", "tests/test_options.py", "tests/test_error_answers.py",
               *_TABLES),
    "auth": ("tests/test_auth.py", "tests/test_options.py", "tests/test_main.py"),
    "handler": ("tests/test_handler.py", "tests/test_server.py", "tests/test_isolation.py"),
    "ranges": ("tests/test_blob_ranges.py", "tests/test_api.py", *_TABLES),
    "requestlog": ("tests/test_requestlog.py",),
}


def _m(module: str, name: str, original: str, mutated: str, equivalent: str | None = None,
       tests: tuple[str, ...] = ()) -> Mutant:
    return Mutant(module, name, original, mutated, equivalent, tests)


MUTANTS: list[Mutant] = [
    # store: the fence of reset() -------------------------------------------------------------------------------------
    _m("store", "fence-off", "bound.generation != self._generation", "False"),
    _m("store", "reset-keeps-generation", "            self._generation += 1\n", ""),
    _m("store", "commit-unfenced",
       "            self._fence(ErrorCode.NAME_UNKNOWN if upload_id is None else ErrorCode.BLOB_UPLOAD_UNKNOWN)\n", ""),
    _m("store", "manifest-put-unfenced",
       "            self._fence()\n            repo = self._repos.get(name) or Repository()",
       "            repo = self._repos.get(name) or Repository()"),
    _m("store", "manifest-delete-unfenced",
       "            self._fence()\n            repo = self._repo(name)\n            if is_tag(reference):",
       "            repo = self._repo(name)\n            if is_tag(reference):"),
    _m("store", "blob-delete-unfenced",
       "            self._fence()\n            repo = self._repo(name)\n            if self.options.immutable_tags",
       "            repo = self._repo(name)\n            if self.options.immutable_tags"),
    _m("store", "get-upload-unfenced",
       "            self._fence(ErrorCode.BLOB_UPLOAD_UNKNOWN)\n            repo = self._get(name)\n"
       "            upload = repo.uploads.get(upload_id) if repo else None\n            if upload is None and create",
       "            repo = self._get(name)\n"
       "            upload = repo.uploads.get(upload_id) if repo else None\n            if upload is None and create"),
    _m("store", "chunk-unfenced",
       "            self._fence(ErrorCode.BLOB_UPLOAD_UNKNOWN)  # the upload written to is gone with the reset\n", ""),
    _m("store", "retired-ids-reopen", "create and upload_id not in self._retired", "create"),
    _m("store", "no-ids-retired", "if u.made_up)", "if not u.made_up)"),
    _m("store", "inner-request-rebinds", "if bound is not None and bound.store is self:\n            yield",
       "if False:\n            yield"),
    _m("store", "options-not-snapshot",
       "return bound[1] if bound is not None and bound[0] is self else self._options", "return self._options"),
    # store: the lock, referrers, content -------------------------------------------------------------------------
    _m("store", "manifest-put-unlocked",
       "        with self._lock:\n            self._fence()\n            repo = self._repos.get(name) or Repository()",
       "        with threading.Lock():\n            self._fence()\n            repo = self._repos.get(name) or Repository()"),
    _m("store", "referrers-of-every-repository",
       "found = [m for m in self._repo(name).manifests.values() if m.info.subject == digest]",
       "found = [m for r in self._repos.values() if self._repo(name) for m in r.manifests.values() "
       "if m.info.subject == digest]"),
    _m("store", "referrers-unsorted", "for m in sorted(found, key=lambda m: m.digest)", "for m in found"),
    _m("store", "referrers-unfiltered", 'if wanted is None or (m.info.artifact_type or "").lower() == wanted',
       "if True"),
    _m("store", "digest-unchecked", "if buffer.digest(algorithm_of(digest)) != digest:", "if False:"),
    _m("store", "length-unchecked", "if length is not None and self.size - mark != length:", "if False:"),
    _m("store", "offset-unchecked", "if start is not None and start != self.size:", "if False:"),
    _m("store", "partial-chunk-kept", "            self.truncate(mark)\n            raise\n", "            raise\n"),
    _m("store", "mount-from-anywhere",
       "sources = [self._repos.get(from_name)] if from_name else list(self._repos.values())",
       "sources = list(self._repos.values())"),
    _m("store", "cancel-leaves-open", "        with upload.lock:  # after any chunk in flight\n            upload.closed = True",
       "        with upload.lock:  # after any chunk in flight\n            pass"),
    _m("store", "closed-upload-written", "            upload.check_open()\n            upload.buffer.write(\n",
       "            upload.buffer.write(\n"),
    _m("store", "page-more-off-by-one", "start + n < len(items)", "start + n <= len(items)"),
    _m("store", "page-last-inclusive", "bisect.bisect_right(items, last) if last else 0",
       "bisect.bisect_left(items, last) if last else 0"),
    _m("store", "untag-on-delete-ignored", "            if self.options.untag_on_delete:\n", "            if False:\n"),
    # store: immutable_tags -------------------------------------------------------------------------------------------
    _m("store", "immutable-overwrite-allowed", "if repo.tags.get(t, digest) != digest:", "if False:"),
    _m("store", "immutable-ignores-query-tags", "for t in all_tags if options.immutable_tags else ()",
       "for t in all_tags[:1] if options.immutable_tags else ()"),
    _m("store", "immutable-tag-deletable",
       "                if immutable:\n                    raise RegistryError(ErrorCode.DENIED, \"requested access to the "
       "resource is denied: tag is immutable\")",
       "                if False:\n                    raise RegistryError(ErrorCode.DENIED, \"requested access to the "
       "resource is denied: tag is immutable\")"),
    _m("store", "immutable-tagged-manifest-deletable", "if immutable and tags:", "if False:"),
    _m("store", "immutable-blob-in-use-deletable", "digest in m.info.blobs for m in self._tagged_manifests(repo)",
       "digest in m.info.children for m in self._tagged_manifests(repo)"),

    # api ---------------------------------------------------------------------------------------------------------------
    _m("api", "no-request-snapshot", "        with self.store.request():\n            return self._serve(request)",
       "        return self._serve(request)"),
    _m("ranges", "suffix-range-unclamped", "ranges.append((max(size - length, 0), size))",
       "ranges.append((size - length, size))"),
    _m("ranges", "range-end-unclamped", "size if last is None else min(last + 1, size)", "size if last is None else last + 1"),
    _m("ranges", "range-start-at-end-served", "        if first >= size:\n            past_end = True",
       "        if first > size:\n            past_end = True"),
    _m("api", "filters-applied-always", "        if filtering:\n            response.headers[\"OCI-Filters-Applied\"]",
       "        if True:\n            response.headers[\"OCI-Filters-Applied\"]"),
    _m("api", "filter-ignored", "route.artifact_type if filtering else None", "None"),
    _m("api", "filtering-option-ignored", "filtering = self.options.referrers_filtering and route.artifact_type",
       "filtering = route.artifact_type"),
    _m("api", "state-unverified", "        if not signed:\n            raise", "        if False:\n            raise"),
    _m("api", "state-unbound", 'f"{repo}/{upload_id}/{size}".encode()', 'f"{size}".encode()'),
    _m("api", "state-offset-unchecked", "if self.store.get_upload(route.repo, route.upload_id).size != int(offset):",
       "if False:"),
    _m("api", "link-without-more", "if more and self.options.link_header and items:",
       "if self.options.link_header and items:"),
    _m("api", "page-cap-off-by-one", "route.n is not None and route.n > cap", "route.n is not None and route.n >= cap"),
    _m("api", "delete-always-enabled", "        if not self.options.delete_enabled:\n", "        if False:\n"),
    _m("api", "subject-header-without-referrers", "if manifest.info.subject and self.options.referrers_enabled:",
       "if manifest.info.subject:"),
    _m("api", "tag-get-digest-always", "if not with_body or route.digest or self.options.tag_get_digest:", "if True:"),
    _m("api", "accept-no-type-wildcard", 'specificity = {wanted: 3, wanted.partition("/")[0] + "/*": 2, "*/*": 1}',
       'specificity = {wanted: 3, "*/*": 1}'),
    _m("api", "content-range-length-unchecked", "if length is not None and end - start + 1 != length:", "if False:"),
    _m("api", "content-range-backwards", "        if end < start:\n", "        if end < start - 1:\n"),
    _m("api", "mount-needs-no-source-pull", "if route.kind is Kind.UPLOAD_MOUNT and route.from_repo:", "if False:"),
    _m("api", "delete-needs-push", 'return Access(((route.repo, frozenset({"delete"})),))',
       'return Access(((route.repo, frozenset({"push"})),))'),
    _m("api", "warnings-dropped", "        for text in options.warnings:\n", "        for text in ():\n"),
    _m("api", "name-unknown-not-reworded", "if error.code is ErrorCode.NAME_UNKNOWN and not options.name_unknown_for_content:",
       "if False:"),
    _m("api", "single-post-option-ignored", "        if not self.options.single_post_upload:\n", "        if False:\n"),
    _m("api", "chunked-manifest-uncapped", "            if cap is not None and len(data) > cap:\n", "            if False:\n",
       equivalent="the store refuses the same manifest with the same 413 and message; the api's cap only bounds "
       "the memory a chunked body takes while it is read (the rest is read and counted either way)"),
    _m("api", "location-always-relative",
       'return request.host_url.rstrip("/") + path if self.options.absolute_location else path', "return path"),

    # routes ------------------------------------------------------------------------------------------------------------
    _m("routes", "dot-upload-ids", r'_UPLOAD_ID = re.compile(r"(?!\.+$)[A-Za-z0-9._~=-]{1,256}")',
       r'_UPLOAD_ID = re.compile(r"[A-Za-z0-9._~=-]{1,256}")',
       tests=("tests/test_routes.py", "tests/reliability/test_reliability_limits.py::test_dot_segment_upload_ids_are_refused")),
    _m("routes", "empty-segments", "if len(segments) < 3 or not all(segments[:-2]):", "if len(segments) < 3:"),
    _m("routes", "catalog-any-method", '        _only(method, "GET")\n        return Route(Kind.CATALOG',
       "        return Route(Kind.CATALOG"),
    _m("routes", "referrers-any-method", '        if method != "GET":\n            raise RegistryError(\n'
       "                ErrorCode.UNKNOWN, \"method not allowed\", status=options.referrers_method_status",
       '        if False:\n            raise RegistryError(\n'
       "                ErrorCode.UNKNOWN, \"method not allowed\", status=options.referrers_method_status"),
    _m("routes", "mount-without-from", 'if "mount" in query and ("from" in query or automatic_mount):',
       'if "mount" in query:'),
    _m("routes", "complete-digest-unchecked", 'digest = digest_of_url(query.get("digest", ""))',
       'digest = query.get("digest", "")'),
    _m("routes", "tag-pagination-ignored", "n = n_of(query) if options.tag_pagination else None", "n = n_of(query)"),
    _m("routes", "bad-n-accepted", "if not (raw.isascii() and raw.isdigit()) or len(raw) > 18:",
       "if not raw.isdigit():"),
    _m("routes", "ping-without-slash", 'if path in ("/v2", "/v2/"):', 'if path == "/v2/":'),
    _m("routes", "invalid-tag-put-not-found", "elif kind is not Kind.MANIFEST_PUT or not last:", "elif not last:"),
    _m("routes", "upload-id-unchecked", "        if not _UPLOAD_ID.fullmatch(upload_id):\n", "        if False:\n"),
    _m("routes", "repository-unchecked", "    if not is_repository(name):\n        raise RegistryError(ErrorCode.NAME_INVALID)",
       "    if False:\n        raise RegistryError(ErrorCode.NAME_INVALID)"),

    # auth --------------------------------------------------------------------------------------------------------------
    _m("auth", "post-scope-ignored", '            scopes = form.getlist("scope")\n', "            scopes = []\n"),
    _m("auth", "any-refresh-token-is-the-first-user",
       "user = next((u for u in self.users if held and u.name == held.identity), None)",
       "user = next((u for u in self.users if not held or u.name == held.identity), None)"),
    _m("auth", "grant-more-than-held", "        return frozenset(allowed) & actions\n", "        return actions\n"),
    _m("auth", "catalog-not-checked", "held.catalog or not needed.catalog", "True"),
    _m("auth", "tokens-never-expire", "if held is None or held.expires <= time.time():", "if held is None:"),
    _m("auth", "password-unchecked", "hmac.compare_digest(user.name.encode(), name.encode()) & hmac.compare_digest(\n"
       "                user.password.encode(), password.encode()\n            )",
       "hmac.compare_digest(user.name.encode(), name.encode())"),
    _m("auth", "wrong-password-post-accepted",
       '                if user is None:\n                    raise RegistryError(ErrorCode.UNAUTHORIZED, "invalid '
       'username or password")\n            elif',
       '                if user is None:\n                    user = self.users[0]\n            elif'),
    _m("auth", "anonymous-ping-allowed", "and needed != Access() and self._covers", "and self._covers"),
    _m("auth", "insufficient-scope-is-denied", "        if self._obtainable(user, needed):  # a new token would do",
       "        if False:  # a new token would do"),
    _m("auth", "tokens-survive-reset", "            self._tokens.clear()\n", "            pass\n"),
    _m("auth", "challenge-without-scope", "        if needed.scopes():\n            parts.append(",
       "        if False:\n            parts.append("),

    # handler -----------------------------------------------------------------------------------------------------------
    _m("handler", "no-crlf-after-chunk", 'if not self.left and rfile.readline(3) not in (b"\\r\\n", b"\\n"):',
       "if False:"),
    _m("handler", "short-body-accepted", "        if n < wanted:\n            self._ended_early()\n        self.left -= n",
       "        self.left -= n"),
    _m("handler", "head-has-a-body", 'bodiless = environ["REQUEST_METHOD"] == "HEAD" or code in (204, 304)',
       "bodiless = code in (204, 304)"),
    _m("handler", "no-chunked-answers", "        chunked = not framed and http11\n", "        chunked = False\n"),
    _m("handler", "undrained-body-kept", "        if not self.close_connection and not body.drain():",
       "        if False:"),
    _m("handler", "two-hosts-accepted", "        if len(hosts) > 1:\n", "        if False:\n"),
    _m("handler", "no-host-accepted", "        if http11 and not hosts:\n", "        if False:\n"),
    _m("handler", "conflicting-lengths-accepted", "if len(set(lengths)) != 1 or not", "if not"),
    _m("handler", "other-codings-accepted", 'if len(codings) != 1 or codings[0].lower() != "chunked":', "if False:"),
    _m("handler", "no-100-continue", "                    send_continue = self._send_continue\n",
       "                    send_continue = None\n"),
    _m("handler", "expectation-unchecked", "            elif expectations:\n                raise _Refusal(417)",
       "            elif False:\n                raise _Refusal(417)"),
    _m("handler", "connection-close-ignored",
       'self.close_connection = "close" in connection or (not http11 and "keep-alive" not in connection)',
       "self.close_connection = not http11 and \"keep-alive\" not in connection"),
    _m("handler", "one-write-for-small-bodies", "0 < len(first) <= SMALL_BODY", "0 < len(first) < 0",
       equivalent="the small-body path only saves a write: the bytes on the wire are the same"),

    # requestlog (assert_requested) -----------------------------------------------------------------------------------
    _m("requestlog", "status-ignored", "if status is None or r.status == status", "if True"),
]
