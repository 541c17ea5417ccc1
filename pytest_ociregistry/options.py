"""The named behaviours of the registry: one option per quirk of a real registry."""

from __future__ import annotations

import dataclasses
import functools
import typing
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from .auth import Auth, ChallengeStyle
from .names import ALGORITHMS
from .text import assignments, value_from_string

UNSUPPORTED_MANIFESTS = ("no_media_type", "artifact_type", "artifact_type_subject", "media_type_parameters")
"""The kinds of manifest the ``unsupported_manifests`` option can refuse."""
IMMUTABLE_TAG_REFUSALS = ("denied", "ecr", "quay", "harbor")
"""The values of the ``immutable_tag_refusal`` option."""


@dataclass(frozen=True)
class Options:
    """How the registry behaves. The defaults are the reference registry (cue-labs ``ociserver`` + ``ocimem``)
    where its table pins a behaviour, and the OCI Distribution spec v1.1 elsewhere.

    Each field is one behaviour a client can see.
    """

    delete_enabled: bool = True
    """False: every DELETE answers 405 ``UNSUPPORTED`` "The operation is unsupported." (distribution's default;
    GHCR-3: GHCR's answer to a manifest DELETE, skopeo#1880, 2023)."""

    blob_delete_enabled: bool = True
    """False: a blob DELETE answers 405 ``UNSUPPORTED`` "The operation is unsupported." with ``"detail":{}``;
    manifests can still be deleted (Quay: ``endpoints/v2/blob.py`` @ ``ffba0c70``, the catalogue's Quay profile,
    which gives it no quirk id)."""

    delete_untagged_only: bool = False
    """True: a DELETE of a manifest by digest that a tag names, or an index in the repository lists, answers 403
    ``DENIED`` and deletes nothing (DH-7: Docker Hub's registry API docs, since 2025-05)."""

    tag_delete_unsupported: bool = False
    """True: a DELETE of a manifest by tag answers 400 ``UNSUPPORTED`` "unsupported digest <tag>: invalid checksum
    digest format" (``Content-Type: application/json; charset=utf-8``) and keeps the tag (HARBOR-7: harbor
    PR#11971; ``src/server/registry/manifest.go`` @ ``c50c7ddd``)."""

    referrers_enabled: bool = True
    """False: the referrers API answers 404, as a pre-1.1 registry does, so clients fall back to the tag schema, and
    a push with a ``subject`` answers no ``OCI-Subject`` (GHCR-1: ghcr-cleanup-action#13, 2024; rtvkiz/minimal#7,
    2026; DH-6: docker/roadmap#724, 2024-09; ART-1: Artifactory before 7.90.1, ggcr PR#2026, 2024)."""

    referrers_disabled_status: int = 404
    """The status of the referrers API when ``referrers_enabled`` is False, the body unchanged (ART-1: 406,
    Artifactory before 7.90.1, ggcr PR#2026, 2024; HARBOR-3: 401, Harbor before 2.8, regclient ``9ea54d98``)."""

    oci_subject_without_referrers: bool = False
    """True: a push with a ``subject`` answers ``OCI-Subject`` even when ``referrers_enabled`` is False, so a client
    that trusts the header skips the tag schema and the referrer is lost (DH-6: hub-feedback#2372, 2024-03; ECR-7:
    sigstore-js PR#1183, 2024-06)."""

    referrers_unknown_subject_invalid: bool = False
    """True: the referrers of a digest the repository holds no manifest under answer 400 ``MANIFEST_INVALID``
    "manifest invalid" with ``"detail":""`` instead of an empty list (QUAY-1: ``endpoints/v2/referrers.py`` @
    ``ffba0c70``, since quay PR#3071, 2024-07)."""

    referrers_duplicate_on_tag: bool = False
    """True: a referrer is listed once for each tag that names it, and once more if it was pushed by digest, so a
    referrer pushed by digest and then tagged is listed twice (ZOT-4: zot#2506, 2024-07, v2.0.1, open)."""

    referrers_artifact_type: bool = True
    """False: referrers-list entries carry no ``artifactType`` (ACR-3, uncertain: Azure/acr#784, 2024-10, registries
    encrypted with a customer-managed key)."""

    referrers_filtering: bool = True
    """False: ``?artifactType=`` is ignored and no ``OCI-Filters-Applied`` header is sent."""

    single_post_upload: bool = True
    """False: ``POST /blobs/uploads/?digest=`` ignores the digest and starts an upload (202)."""

    unsupported_manifests: tuple[str, ...] = ()
    """The manifests refused with 405 ``UNSUPPORTED`` "Invalid parameter at 'ImageManifest' failed to satisfy
    constraint: 'Invalid JSON syntax'", any of: ``no_media_type`` (an OCI manifest or index without a top-level
    ``mediaType``), ``artifact_type`` (any with ``artifactType``), ``artifact_type_subject`` (any with both
    ``artifactType`` and ``subject``), ``media_type_parameters`` (an ``artifactType`` or descriptor media type with
    ``;`` parameters, answered the same way: the sources do not quote ECR's answer) (ECR-6: containers/image PR#584,
    2019; oras#1133, 2023; containers-roadmap#2783, 2026-03. ECR-9: containers-roadmap#2306, sigstore-js PR#1058,
    2024)."""

    max_layers: int | None = None
    """A manifest with more layers than this answers 405 ``UNSUPPORTED`` "Invalid parameter at 'ImageManifest'
    failed to satisfy constraint: 'Limit on number of layers per image exceeded'" (ECR-11: tart#890, 2024; ECR's
    limit is not stated there). None: no limit."""

    known_media_types: tuple[str, ...] = ()
    """When set, the only media types a manifest may name for its ``artifactType``, its config, its layers and its
    index entries; another answers 400 ``MANIFEST_INVALID`` "manifest invalid" with ``"detail":"unknown media type:
    <type>"`` (GITLAB-1: ocx#480, 2026-09; flux2#3724, 2023; the list is GitLab's ``supported-media-types.md``)."""

    config_media_types: tuple[str, ...] = ()
    """When set, the only config media types a manifest may name; another answers 400 ``MANIFEST_INVALID`` with
    ``"detail":{"message":"failed to parse manifest: manifest data does not match schema: '<type>' is not one of
    [...]"}`` (QUAY-4: deckhouse-cli PR#55, 2024-11, an older Project Quay; Quay's own source takes any type since
    2024-06)."""

    max_page_size: int | None = None
    """Tag and catalog lists refuse ``n`` above this with 400 ``UNSUPPORTED`` (ECR-5: go-containerregistry#1091,
    2021-07; ggcr 11a80c25), or, clamped, send at most this many (QUAY profile: quay
    ``endpoints/v2/__init__.py`` ``paginate`` @ ffba0c70)."""

    max_page_size_message: str | None = None
    """The message of the refusal of an ``n`` over ``max_page_size``, ``{max}`` standing for the cap; None: "query
    parameter n is too large (n=<n>, max=<cap>)". ECR's: "Invalid parameter at 'maxResults' failed to satisfy
    constraint: 'Member must have value less than or equal to {max}'" (ECR-5: go-containerregistry#1091,
    2021-07)."""

    page_size_clamp: bool = False
    """True: tag and catalog lists never send more than ``max_page_size`` entries and never refuse an ``n``: a
    larger one, or none, gets ``max_page_size`` entries (and a ``Link`` to the rest), one under 1 gets one, as
    Quay's 100 (QUAY profile: quay ``endpoints/v2/__init__.py`` ``paginate`` @ ffba0c70)."""

    link_header: bool = True
    """False: a truncated tag or catalog list sends no ``Link`` header."""

    tag_get_digest: bool = True
    """False: a manifest GET by tag sends no ``Docker-Content-Digest``; HEAD still does (ECR-3:
    Docker.Registry.DotNet#34, 2025-10; containers-roadmap#1931)."""

    immutable_tags: bool = False
    """True: pushing other content to an existing tag, or deleting a tag, answers 403 ``DENIED``."""

    immutable_tag_patterns: tuple[str, ...] = ()
    """When set, ``immutable_tags`` applies only to the tags matching one of these shell patterns (``v*``,
    ``release-?``), as Harbor's and ECR's immutability rules select tags."""

    immutable_tag_refusal: str = "denied"
    """How a push to an immutable tag is refused: ``denied`` (403 ``DENIED``; the same content again is a no-op),
    or as a service answers it, the same content refused too: ``ecr`` (400 ``TAG_INVALID`` "The image tag '<tag>'
    already exists in the '<repo>' repository and cannot be overwritten because the repository is immutable.";
    ECR-12: containers-roadmap#862, #2380; the status is not shown there), ``quay`` (409 ``TAG_IMMUTABLE`` "tag is
    immutable and cannot be overwritten", ``"detail":{"message":"tag '<tag>' is immutable"}``, deletes too; QUAY-7:
    ``endpoints/v2/manifest.py`` @ ``ffba0c70``), ``harbor`` (412 ``PRECONDITION`` "Failed to process request due
    to '<repository without project>:<tag>' configured as immutable.", a delete "the tag <tag> configured as
    immutable, cannot be deleted"; HARBOR-2: ``middleware/immutable`` @ ``c50c7ddd``)."""

    tags_list_digests: bool = False
    """True: the tag list also names each manifest no tag names, by its digest (ART-3: skopeo#2346; containers/image
    ``7d50f743``, 2024)."""

    missing_tag_head_status: int = 404
    """The status of a manifest HEAD by a tag that does not exist (ART-2: 403, Artifactory virtual repositories;
    ggcr ``a927d7c9``, 2023)."""

    artifact_not_found: bool = False
    """True: a manifest that does not exist answers 404 ``NOT_FOUND`` "artifact <repo>:<tag> not found" (by digest
    "artifact <repo>@<digest> not found"; a repository that does not exist "repository <repo> not found") with
    ``Content-Type: application/json; charset=utf-8`` (HARBOR-4: containers/image ``23d7e701``, 2024, Harbor
    2.10.2)."""

    absolute_location: bool = False
    """True: ``Location`` headers are absolute URLs (``http://host/v2/...``) instead of paths."""

    warnings: tuple[str, ...] = ()
    """Each entry is sent on every response as ``Warning: 299 - "<text>"``."""

    api_version_header: bool = False
    """True: ``Docker-Distribution-API-Version: registry/2.0`` on every response, the token endpoint's included, as
    distribution's router sends it. Every answer under ``/v2/`` carries it either way."""

    upload_uuid_header: bool = False
    """True: upload responses carry ``Docker-Upload-UUID: <id>``, as distribution sends (QUAY-2: Quay too,
    ``endpoints/v2/blob.py`` @ ``ffba0c70``)."""

    validate_manifests: bool = False
    """True: manifests pushed with an OCI or Docker manifest/index media type must be well-formed JSON of that kind
    (400 ``MANIFEST_INVALID``). Off, only OCI types are read, as the reference does."""

    check_references: bool = True
    """True: every blob and child manifest an OCI manifest or index references must exist in the repository
    (404 ``MANIFEST_BLOB_UNKNOWN``). The subject may dangle either way."""

    automatic_mount: bool = False
    """True: ``POST /blobs/uploads/?mount=<digest>`` without ``from`` mounts the blob from any repository holding
    it (201), as the spec allows. Off, it starts an ordinary upload (202), as the reference does, and as the hosted
    presets do (QUAY-5: Quay falls back so, ``endpoints/v2/blob.py`` @ ``ffba0c70``; go-containerregistry sends
    ``mount`` only with ``from`` because of it)."""

    strict_upload_ids: bool = False
    """True: a PATCH or PUT to an upload id never handed out answers 404 ``BLOB_UPLOAD_UNKNOWN``. Off, as the
    reference table pins, it opens that upload."""

    require_content_range: bool = False
    """True: a chunk without ``Content-Range`` after data was sent is refused (400 ``BLOB_UPLOAD_INVALID``). Off, it
    is appended (a streamed upload, as docker pushes)."""

    chunk_status: int = 202
    """The status of a PATCH that stores a chunk, its headers unchanged: ECR answers 201, which clients that want
    the spec's 202 refuse (ECR-1: tart#273, 2022-10; containers-roadmap#2831, 2026-06; mise PR#11376, 2026-07;
    regclient ``71eee12b``)."""

    stale_upload_range: bool = False
    """True: once an upload holds a chunk, each PATCH answers the ``Range`` of that first chunk
    (``0-<its last byte>``), though every chunk is stored; a client that resumes from ``Range`` sends a chunk at the
    wrong offset and meets 416 (ECR-2: containers-roadmap#2831, 2026-06-24, byte-verified; chalk PR#682;
    regclient ``scheme/reg/blob.go``)."""

    chunk_upload_range: bool = False
    """True: a PATCH answers the ``Range`` of the chunk it stored (``<first byte>-<last byte>``) instead of the
    upload's, so a client that checks ``Range`` against what it sent stops (``chunkStart != blobStart``); the exact
    form zot sent is not quoted (ZOT-1: regclient#961, 2025-07; fixed by mid-2025, distribution-spec PR#581)."""

    max_chunk_size: int | None = None
    """A PATCH with a ``Content-Range`` whose body is over this many bytes answers 416
    ``REQUESTED_RANGE_NOT_SATISFIABLE`` "the request body is too large and exceeds the maximum permissible limit of
    4.00MiB" (the limit in MiB) once its body passes the limit, none of it stored; a PATCH without one (docker's streamed push) has no limit
    (GHCR-2: wash-archive#268, 2022-05; rust-oci-client#35, 2022-05; ocx PR#237, 2026-07). None: no limit."""

    chunked_uploads: bool = True
    """False: a PATCH with a ``Content-Range`` answers 400 ``UNSUPPORTED`` "chunked uploads are not supported: use a
    monolithic upload", unread; a single streamed PATCH (no ``Content-Range``), a PUT with the body and a single
    POST still work. The status and body are this registry's: the service's are not captured (GAR-1: Artifact
    Registry docs quoted in dotnet/sdk-container-builds PR#287, 2023-01)."""

    bare_content_range: bool = False
    """True: a ``Content-Range`` on a PATCH or PUT must be the bare ``<start>-<end>``; another form (RFC 9110's
    ``bytes 0-84521/*``) answers 416 ``BLOB_UPLOAD_INVALID`` "blob upload invalid" with ``"detail":{"Range":"<the
    header>","Reason":"the Content-Range header format is invalid"}``; the status and code are not quoted, the
    detail is (ACR-1: dotnet/sdk-container-builds PR#258, 2022-11)."""

    chunk_retry_invalidates: bool = False
    """True: a chunk that starts before the upload's end (a retry of one already stored), or any request to an
    upload after a chunk failed part-way (its body cut short), answers 404 ``BLOB_UPLOAD_INVALID`` "blob upload
    invalid": the session is dead, the client must start again with a POST (ACR-2: azure-sdk-for-js#25448, 2023-04;
    azure-sdk-for-net#35322)."""

    empty_upload_refused: bool = False
    """True: completing an upload that received no bytes (the empty blob, with no PATCH) answers 400
    ``BLOB_UPLOAD_INVALID`` "The upload with id '<id>' in the repository with name '<repo>' in registry with id
    '123456789012' cannot be completed because it does not have any parts."; the upload stays open (ECR-4:
    radius#7855, 2024-08; radius PR#7887)."""

    quay_upload_range: bool = False
    """True: upload ``Range`` headers as Quay renders them: a new upload session (POST, a mount that falls back)
    answers ``Range: bytes=0--1``, and the upload status (GET) ``Range: bytes=0-<bytes received>`` (one past the
    last byte) with no ``Location``; PATCH answers stay right. A ``Content-Range`` not of the bare ``<start>-<end>``
    form answers 400 ``INVALID_REQUEST`` "Invalid range header" with ``"detail":{}``, and a chunk out of place 416
    with no body, its ``Location``, ``Docker-Upload-UUID`` and ``Range: 0-<bytes received>`` (QUAY-2:
    ``endpoints/v2/blob.py``, ``errors.py`` @ ``ffba0c70``)."""

    mount_requires_manifest: bool = False
    """True: a mount succeeds (201) only for a blob that a manifest of the ``from`` repository references; another
    blob there falls back to an upload session (202), as ECR mounts (ECR-8: containers-roadmap#2860, 2026-08)."""

    mount_missing_project_unauthorized: bool = False
    """True: a mount ``from`` a project (the first part of a repository name) no repository is in answers 401
    ``UNAUTHORIZED`` "project <p> not found: project <p> not found" with an empty ``Www-Authenticate`` and
    ``Content-Type: application/json; charset=utf-8``, not the spec's 202 (HARBOR-5: harbor#17097, 2022-06;
    go-containerregistry#1393; ``v2auth/access.go`` @ ``c50c7ddd``)."""

    put_body_needs_patch: bool = False
    """True: a PUT that completes an upload no PATCH wrote to, carrying the blob in its body, answers 404
    ``BLOB_UNKNOWN`` "blob unknown to registry" and stores nothing; POST, PATCH, then an empty PUT works. Historical
    (ART-4: docker/buildx#196, 2019-11; containerd#3533, 2019-08)."""

    upload_state: bool = False
    """True: upload ``Location`` headers carry ``?_state=<token>`` bound to the upload's offset, and a request
    without the current token answers 404 ``BLOB_UPLOAD_INVALID`` (distribution), so clients must follow each
    ``Location``."""

    range_not_satisfiable: bool = False
    """True: a blob Range starting past the end answers 416 with ``Content-Range: bytes */<size>``. Off, it answers
    500 ``UNKNOWN`` "invalid range [a, b]; have [0, size]" as the reference table pins."""

    null_empty_tags: bool = False
    """True: an empty tag list is ``null`` (the reference, distribution). Off, ``[]`` (the spec)."""

    null_empty_catalog: bool = False
    """True: an empty catalog is ``null`` (the reference). Off, ``[]``."""

    spec_referrers_list: bool = False
    """True: an empty referrers list is ``[]``, and a repository that does not exist has an empty list too (the
    spec: a registry that supports referrers never answers them 404). Off, ``null`` and 404 ``NAME_UNKNOWN`` as the
    reference table pins."""

    untag_on_delete: bool = True
    """True: deleting a manifest by digest removes the tags pointing at it (the spec, distribution). False: the tags
    are left dangling, as the reference does."""

    accept_check: bool = False
    """True: a manifest GET or HEAD whose ``Accept`` list excludes the stored media type answers 404
    ``MANIFEST_UNKNOWN`` (as distribution does for OCI manifests). Several ``Accept`` lines count as one list; media
    types are compared case-insensitively, wildcards count, and ``q=0`` excludes."""

    max_manifest_size: int | None = 4 * 1024 * 1024
    """A manifest larger than this many bytes is refused with 413 ``SIZE_INVALID``, the message giving its size, its
    body read no further (the spec: a registry SHOULD enforce a limit, of at least 4 MiB; distribution's is 4 MiB).
    None: no limit."""

    oversize_manifest_invalid: bool = False
    """True: a manifest over ``max_manifest_size`` answers 400 ``MANIFEST_INVALID`` "http: request body too large"
    (distribution 2.8) instead of 413 ``SIZE_INVALID``."""

    spec_error_codes: bool = False
    """True: every 4xx error body uses one of the 14 codes the spec lists (it says MUST), the status kept: the
    reference's ``UNKNOWN`` (page not found, method not allowed, a bad ``n``, an unsatisfiable Range),
    ``PAGINATION_NUMBER_INVALID`` and ``RANGE_INVALID`` become ``UNSUPPORTED``, except a chunk out of order,
    ``BLOB_UPLOAD_INVALID``; ``TAG_INVALID`` becomes ``MANIFEST_INVALID``."""

    referrers_method_status: int = 405
    """The status of a non-GET request to the referrers API (the reference: 405; a strict registry: 400)."""

    digest_invalid_code: bool = False
    """True: a malformed digest in a URL or query answers 400 ``DIGEST_INVALID``. Off, 400 ``UNKNOWN`` "badly formed
    digest", as the reference table pins."""

    name_unknown_for_content: bool = True
    """True: a blob or manifest of a repository that does not exist answers ``NAME_UNKNOWN`` (the reference). False:
    ``BLOB_UNKNOWN`` or ``MANIFEST_UNKNOWN`` (distribution)."""

    distribution_accept: bool = False
    """True: manifest GET and HEAD negotiate as distribution 2.8 does: an OCI manifest or index needs its type in
    ``Accept`` (no header or ``*/*`` is not enough: 404 ``MANIFEST_UNKNOWN``); a Docker schema 2 manifest asked
    for by tag without its type answers 400 ``MANIFEST_INVALID``; a Docker manifest list asked for by tag without
    its type answers its linux/amd64 manifest (its own type and digest; 404 ``MANIFEST_UNKNOWN`` if it lists none,
    400 ``MANIFEST_INVALID`` if that is a schema 2 manifest ``Accept`` does not name)."""

    tag_query: bool = True
    """False: a manifest PUT by digest ignores ``?tag=`` (nothing is tagged, no ``OCI-Tag`` answers), as
    distribution 2.8 does."""

    distribution_layer_urls: bool = False
    """True: layer ``urls`` are checked as distribution 2.8 checks them with no allow list configured: a manifest
    whose OCI layer (``tar``, ``tar+gzip``, their non-distributable kinds) names ``urls``, or whose Docker foreign
    layer names them or not, is refused with 500 ``UNKNOWN``; a non-distributable layer without ``urls`` must be
    present like any other, and any other descriptor with ``urls`` need not be. Off, non-distributable and foreign
    layers need not be present and ``urls`` are not read."""

    digest_algorithms: tuple[str, ...] = ("sha256", "sha384", "sha512")
    """The digest algorithms content is stored under. A blob pushed under a digest of another supported algorithm
    is checked against it, then stored and answered (``Location``, ``Docker-Content-Digest``) under its digest in
    the first of these, the pushed digest staying an alias in that repository; a mount by such an alias answers 201
    but links nothing; a manifest pushed by such a digest is refused with 400 ``DIGEST_INVALID``. Distribution 2.8:
    ``sha256``."""

    digest_shaped_tags: bool = False
    """True: a manifest reference shaped like a digest (``algorithm:encoded``) that is not a valid one is taken for
    a tag no tag can be: GET, HEAD and PUT answer 500 ``UNKNOWN`` (a PUT stores the manifest by digest first), and
    DELETE 400 ``DIGEST_INVALID``, as distribution 2.8 does. Off, such a reference is not found (404)."""

    distribution_range_errors: bool = False
    """True: a blob Range that does not parse or starts past the end answers as distribution 2.8 (Go's
    ``ServeContent``) does: 416 ``text/plain`` "invalid range" (": failed to overlap", with ``Content-Range: bytes
    */<size>``, past the end) and ``Docker-Content-Digest``, announcing the whole blob's ``Content-Length`` but
    sending only that line, then closing the connection: the client sees the body cut short."""

    manifest_blob_unknown_status: int = 404
    """The status of ``MANIFEST_BLOB_UNKNOWN`` (the reference: 404; distribution: 400)."""

    delete_tags: bool = True
    """False: DELETE of a manifest by tag answers 400 ``DIGEST_INVALID`` and keeps the tag (distribution 2.8; DH-7:
    Docker Hub deletes by digest only, its registry API docs, 2025-05, which do not give the refusal)."""

    tag_pagination: bool = True
    """False: the tag list ignores ``n`` and ``last`` and sends the whole list (distribution 2.8; GITLAB-2: GitLab's
    repositories not migrated to its metadata database, gitlab MR!98215)."""

    distribution_pagination: bool = False
    """True: an ``n`` that is not a number is ignored, and one over ``max_page_size`` answers 400
    ``PAGINATION_NUMBER_INVALID`` (distribution)."""

    catalog_default_page_size: int | None = None
    """The catalog's page size when the request names no ``n`` (distribution: 100)."""

    catalog_page_token: bool = False
    """True: the catalog's ``Link`` is absolute and carries an opaque ``next_page`` token instead of ``last``
    (``<http://host/v2/_catalog?n=<n>&next_page=<token>>; rel="next"``); a ``last`` is read as a token, does not
    decode, and the list starts from the beginning again, as Quay's does (QUAY profile: quay
    ``endpoints/v2/__init__.py`` ``paginate`` @ ffba0c70)."""

    catalog_last_must_exist: bool = False
    """True: a catalog ``last`` that names no repository answers 400 ``BAD_REQUEST`` "the last: <last> should be a
    valid repository name." instead of listing what sorts after it, as Harbor does (HARBOR profile: harbor
    ``src/server/registry/catalog.go`` @ c50c7ddd)."""

    catalog_lists_blob_repositories: bool = False
    """True: the catalog lists a repository once a blob was pushed to it (distribution 2.8). Off, once a manifest
    was. An upload alone never makes a repository."""

    tags_list_needs_tag: bool = False
    """True: the tag list answers 404 ``NAME_UNKNOWN`` until a tag was pushed to the repository (distribution 2.8:
    blobs or untagged manifests are not enough). Off, until a manifest was. Once listed, a repository stays listed,
    with an empty list when its tags are gone."""

    plain_router_errors: bool = False
    """True: a URL no route matches (bad names and tags included) answers 404 ``404 page not found`` as text/plain,
    and a method no route takes 405 ``Method not allowed``, as distribution's router does."""

    ping_json: bool = False
    """True: ``GET /v2/`` answers ``{}`` as ``application/json`` (distribution) instead of an empty body."""

    idle_timeout: float = 60.0
    """Seconds a kept-alive connection may wait for its next request (or a TLS client for its handshake) before the
    server closes it, as Go's ``IdleTimeout`` does. No client that means to reuse a connection waits that long."""

    blob_spill_size: int | None = None
    """Blob bytes past this many go to an unlinked temporary file (in ``$TMPDIR``) instead of memory, so memory
    stays flat through a push of many GiB, or a ``load`` of a layout that holds them. Clients see no difference:
    content is verified and immutable either way (over plain HTTP it is sent with ``sendfile``), and the disk space
    is freed when the blob is (a reset, the end of the process). A write the disk refuses (full, or a file size
    limit) is answered 507 ``UNKNOWN`` "insufficient storage": its chunk is dropped, nothing is stored."""

    rate_limit_window: int = 21600
    """The rate limit's window, in seconds: it opens at the first counted request (Docker Hub's ``w=21600``, six
    hours)."""

    rate_limit_style: Literal["dockerhub", "dockerhub_unauthenticated", "dockerhub_hap429", "ghcr", "ecr"] = (
        "dockerhub")
    """Which requests the rate limit counts and how it refuses. ``dockerhub``: manifest GETs count, a HEAD is free,
    and every manifest GET or HEAD answer carries ``ratelimit-limit: <limit>;w=<window>``, ``ratelimit-remaining:
    <left>;w=<window>`` and ``docker-ratelimit-source: <client address>`` (DH-1); the 429 is ``TOOMANYREQUESTS``
    "You have reached your pull rate limit. You may increase the limit by authenticating and upgrading:
    https://www.docker.com/increase-rate-limit"; ``dockerhub_unauthenticated``: the same, "You have reached your
    unauthenticated pull rate limit. https://www.docker.com/increase-rate-limit" (DH-2: hub-feedback#2464,
    2025-05). The others count every request and send no headers: ``dockerhub_hap429``, the abuse limit's
    ``text/plain`` "Too Many Requests (HAP429)." that JSON clients fail to parse (DH-2: hub-feedback#1907, 2020-05,
    Docker staff); ``ghcr``, ``TOOMANYREQUESTS`` "retry-after: <Go duration>, allowed: <limit>/minute" (GHCR-4:
    falcosecurity/plugins#1069, 2025-11); ``ecr``, ``TOOMANYREQUESTS`` "Rate exceeded" (ECR profile: mitogen
    PR#790, 2021-01)."""

    rate_limit: int | None = None
    """How many requests the registry serves per ``rate_limit_window`` before it answers 429 as
    ``rate_limit_style`` says; None: no limit. One budget for the whole registry (every client, every user),
    whole again when the window ends or at a reset. (DH-1: docker/docs PR#11707, 2020-11, Docker staff)"""

    auth: Auth | None = None
    """Who may do what and how they prove it: Basic or Bearer token auth (see :class:`~pytest_ociregistry.Auth`).
    None: no auth. As text (ini, command line): ``basic:USER:PASSWORD`` or ``bearer:USER:PASSWORD``."""

    auth_challenge: ChallengeStyle = "standard"
    """With ``auth``: whose challenges and credentials the registry uses. ``standard``: distribution's and Docker
    Hub's, the ``auth``'s own scheme (``Bearer realm=...,service=...,scope=...``). The others decide the scheme:
    ``ecr``, Basic only, challenged ``Basic realm="<registry URL>",service="ecr.amazonaws.com"``, which token-only
    clients fail to parse (ECR profile: mayflower/docker-ls#28, 2018-08); ``gar``, Bearer (Basic credentials taken
    too) whose ``/v2/`` challenge has no ``service`` while repository challenges do (GAR-2: apple/container#2274,
    2026-09); ``harbor``, Bearer (Basic credentials taken too) but ``Basic realm="harbor"`` whenever the request
    carried an ``Authorization`` header or asks for the catalog, every refusal a 401 ``UNAUTHORIZED`` saying why
    twice ("unauthorized to list catalog: unauthorized to list catalog") (HARBOR-1: harbor ``v2auth/auth.go`` @
    c50c7ddd; harbor#22194, 2025-07); ``ghcr``, Bearer, where Basic credentials on any endpoint but ``/v2/`` answer
    403 ``DENIED`` "invalid token" (GHCR profile: argocd-image-updater#303, #276, 2021)."""

    catalog_insufficient_scope: bool = False
    """True, with ``auth``: the catalog is never served. The token endpoint grants ``registry:catalog:*``, yet every
    catalog request answers 401 ``UNAUTHORIZED`` challenging for that scope, with ``error="insufficient_scope"``
    once a token is sent: clients that fetch a token and retry loop (DH-4: hub-feedback#2094, 2021-04; GITLAB
    profile: gitlab#22635, gitlab.com)."""

    missing_repository_unauthorized: bool = False
    """True, with ``auth``: reading a repository that does not exist answers 401 ``UNAUTHORIZED`` challenging for
    its pull scope (``error="insufficient_scope"`` with a token) instead of 404 ``NAME_UNKNOWN``, unless the
    credentials may push to it (a new repository in one's own namespace), as Docker Hub, whose token server grants
    tokens for any repository, does (DH-5: hub-feedback#1771, 2019-03; containers/image
    docker/errors_test.go, 2021-08)."""

    token_rejects_mixed_scopes: bool = False
    """True, with Bearer ``auth``: a token request naming scopes of both the registry (catalog) and repositories
    answers 400 ``{"details":"request scopes must be of the same resource type"}`` (DH-4: OctopusDeploy/Issues#8126)."""

    token_refuses_delete: bool = False
    """True, with Bearer ``auth``: a token request whose scope asks for ``delete`` is refused with 400
    ``INVALID_REQUEST`` "Unable to decode repository and actions: <scope>", so no client can delete (QUAY-3:
    containers/image e43b2716, 2018-08; quay ``endpoints/v2/v2auth.py`` @ ffba0c70)."""

    def __post_init__(self) -> None:
        unknown = [a for a in self.digest_algorithms if a not in ALGORITHMS]
        if not self.digest_algorithms or unknown:
            raise TypeError(f"oci_registry option digest_algorithms takes some of {', '.join(ALGORITHMS)}, "
                            f"not {self.digest_algorithms!r}")
        if not set(self.unsupported_manifests) <= set(UNSUPPORTED_MANIFESTS):
            raise TypeError(f"oci_registry option unsupported_manifests takes some of "
                            f"{', '.join(UNSUPPORTED_MANIFESTS)}, not {self.unsupported_manifests!r}")
        if self.immutable_tag_refusal not in IMMUTABLE_TAG_REFUSALS:
            raise TypeError(f"oci_registry option immutable_tag_refusal takes one of "
                            f"{', '.join(IMMUTABLE_TAG_REFUSALS)}, not {self.immutable_tag_refusal!r}")

    def replace(self, **changes: Any) -> Options:
        """A copy with ``changes`` applied. An unknown name, or a value of the wrong type, raises ``TypeError``
        naming the option."""
        hints = _hints()
        unknown = sorted(set(changes) - set(hints))
        if unknown:
            raise TypeError(f"unknown oci_registry option(s): {', '.join(unknown)}")
        for name, value in changes.items():
            if not _is_instance(value, hints[name]):
                raise TypeError(f"oci_registry option {name} takes {hints[name]}, not {value!r}")
        return dataclasses.replace(self, **changes)

    def replace_from_strings(self, **changes: str) -> Options:
        """Like :meth:`replace`, with each value given as text (``true``, ``1000``, ``none``, ``a,b``), as on a
        command line or in an ini file."""
        hints = _hints()
        return self.replace(**{name: _from_string(value, hints.get(name)) for name, value in changes.items()})

    def replace_from_text(self, items: Iterable[str]) -> Options:
        """Like :meth:`replace_from_strings`, from ``NAME=VALUE`` items (``-`` in a name is ``_``), as
        ``--option`` and ini ``oci_registry_options`` give them."""
        return self.replace_from_strings(**assignments(items, "an oci_registry option"))


@functools.cache
def _hints() -> dict[str, Any]:
    return typing.get_type_hints(Options)


def _is_instance(value: Any, hint: Any) -> bool:
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint == int | None:
        return value is None or _is_instance(value, int)
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if hint is str:
        return isinstance(value, str)
    if hint == tuple[str, ...]:
        return isinstance(value, tuple) and all(isinstance(v, str) for v in value)
    if hint == str | None:
        return value is None or isinstance(value, str)
    if typing.get_origin(hint) is typing.Literal:  # one of named values: Literal["a", "b"]
        return value in typing.get_args(hint)
    if hint == Auth | None:
        return value is None or isinstance(value, Auth)
    raise AssertionError(f"no check for {hint}")  # pragma: no cover - every field's type is listed above


def _from_string(text: str, hint: Any) -> Any:
    if hint == Auth | None:
        return None if text.strip().lower() in ("", "none") else Auth.from_string(text.strip())
    if typing.get_origin(hint) is typing.Literal:
        return text.strip()
    return value_from_string(text, hint)  # an unknown name (hint None) comes back as text: replace() reports it
