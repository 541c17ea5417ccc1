"""The presets: whole registries in one word, each a value for every option.

``BASE_PRESETS`` are the registries the project is proven against (the reference table, the spec's text, CNCF
distribution 2.8). ``HOSTED_PRESETS`` are hosted and self-hosted services as clients meet them, built from the
catalogue of registry personalities (``docs/reference/hosted-presets.md``): each is the spec-compliant baseline
(:data:`SPEC` without its automatic mount) with the service's well-evidenced quirks switched on, one option each.
An option's docstring ends with the catalogue id(s) and source of the quirk it models, e.g. ``(ECR-1:
containers-roadmap#2831, 2026-06; regclient 71eee12b)``; ``CATALOGUE_IDS`` says which ids belong to which preset.
"""

from __future__ import annotations

from .options import Options

REFERENCE = Options()
"""The reference registry's behaviour (the default)."""

SPEC = Options(
    spec_error_codes=True,
    automatic_mount=True,
    validate_manifests=True,
    strict_upload_ids=True,
    require_content_range=True,
    digest_invalid_code=True,
    range_not_satisfiable=True,
    spec_referrers_list=True,
    referrers_method_status=400,
)
"""OCI Distribution v1.1 as its text reads, strictest where the spec allows a choice."""

DISTRIBUTION = Options(
    referrers_enabled=False,
    single_post_upload=False,
    validate_manifests=True,
    strict_upload_ids=True,
    upload_state=True,
    range_not_satisfiable=True,
    api_version_header=True,
    upload_uuid_header=True,
    absolute_location=True,
    distribution_accept=True,
    max_manifest_size=4 * 1024 * 1024,
    oversize_manifest_invalid=True,
    tag_query=False,
    distribution_layer_urls=True,
    digest_algorithms=("sha256",),
    digest_shaped_tags=True,
    distribution_range_errors=True,
    digest_invalid_code=True,
    name_unknown_for_content=False,
    manifest_blob_unknown_status=400,
    delete_tags=False,
    tag_pagination=False,
    null_empty_tags=True,
    max_page_size=1000,
    distribution_pagination=True,
    catalog_default_page_size=100,
    catalog_lists_blob_repositories=True,
    tags_list_needs_tag=True,
    plain_router_errors=True,
    ping_json=True,
)
"""CNCF distribution 2.8 (Debian's ``docker-registry``), except where it corrupts data."""

HOSTED_BASELINE = SPEC.replace(automatic_mount=False, spec_error_codes=False)
"""What every hosted preset starts from: the spec, where a mount names its ``from`` (no service in the catalogue is
known to mount a blob from wherever it finds one), and whose error codes are the registry's own (no service keeps
to the spec's fourteen: GHCR's ``REQUESTED_RANGE_NOT_SATISFIABLE``, Quay's ``TAG_IMMUTABLE`` ...)."""

ECR_PAGE_SIZE_MESSAGE = (
    "Invalid parameter at 'maxResults' failed to satisfy constraint: "
    "'Member must have value less than or equal to {max}'"
)
"""ECR's refusal of an ``n`` over its cap (ECR-5), for ``max_page_size_message``."""

DOCKERHUB_PULL_BUDGET = 10_000
"""The ``dockerhub`` preset's ``rate_limit``: manifest GETs per six hours. Docker Hub's is 100 anonymous, 200 signed
in; this one is high enough that no ordinary test spends it (the fixture's budget is whole again before every test),
so the preset shows the headers without failing a suite. Set ``rate_limit`` lower to meet the 429."""

ECR = HOSTED_BASELINE.replace(
    max_page_size=1000,
    max_page_size_message=ECR_PAGE_SIZE_MESSAGE,
    tag_get_digest=False,
    auth_challenge="ecr",
    rate_limit_style="ecr",
    chunk_status=201,
    stale_upload_range=True,
    empty_upload_refused=True,
    mount_requires_manifest=True,
)
"""Amazon ECR (private, ``<account>.dkr.ecr.<region>.amazonaws.com``)."""

GHCR = HOSTED_BASELINE.replace(
    referrers_enabled=False,
    delete_enabled=False,
    auth_challenge="ghcr",
    rate_limit_style="ghcr",
    max_chunk_size=4 * 1024 * 1024,
)
"""GitHub Container Registry (``ghcr.io``)."""

DOCKERHUB = HOSTED_BASELINE.replace(
    referrers_enabled=False,
    rate_limit=DOCKERHUB_PULL_BUDGET,
    catalog_insufficient_scope=True,
    missing_repository_unauthorized=True,
    token_rejects_mixed_scopes=True,
)
"""Docker Hub (``registry-1.docker.io``)."""

GAR = HOSTED_BASELINE.replace(
    auth_challenge="gar",
    chunked_uploads=False,
)
"""Google Artifact Registry (``<region>-docker.pkg.dev``, and ``gcr.io`` served by it)."""

ACR = HOSTED_BASELINE.replace(
    bare_content_range=True,
    chunk_retry_invalidates=True,
)
"""Azure Container Registry (``<name>.azurecr.io``)."""

QUAY = HOSTED_BASELINE.replace(
    max_page_size=100,
    page_size_clamp=True,
    catalog_page_token=True,
    token_refuses_delete=True,
    quay_upload_range=True,
    upload_uuid_header=True,
)
"""Quay.io and Project Quay."""

HARBOR = HOSTED_BASELINE.replace(
    auth_challenge="harbor",
    catalog_last_must_exist=True,
    mount_missing_project_unauthorized=True,
)
"""Harbor (self-hosted, CNCF)."""

ARTIFACTORY = HOSTED_BASELINE
"""JFrog Artifactory."""

GITLAB = HOSTED_BASELINE.replace(
    catalog_insufficient_scope=True,
)
"""The GitLab container registry (gitlab.com and self-managed)."""

ZOT = HOSTED_BASELINE
"""zot (project-zot)."""

BASE_PRESETS: dict[str, Options] = {"reference": REFERENCE, "spec": SPEC, "distribution": DISTRIBUTION}
"""The presets the project's own tables and differential tests are proven against."""

HOSTED_PRESETS: dict[str, Options] = {
    "ecr": ECR,
    "ghcr": GHCR,
    "dockerhub": DOCKERHUB,
    "gar": GAR,
    "acr": ACR,
    "quay": QUAY,
    "harbor": HARBOR,
    "artifactory": ARTIFACTORY,
    "gitlab": GITLAB,
    "zot": ZOT,
}
"""Hosted and self-hosted services, as the catalogue of registry personalities describes them."""

PRESETS: dict[str, Options] = {**BASE_PRESETS, **HOSTED_PRESETS}
"""Every preset by name, as ``--oci-registry-preset``, ini ``oci_registry_preset``, the marker's ``preset=`` and
``python -m pytest_ociregistry --preset`` take it."""

CATALOGUE_IDS: dict[str, tuple[str, ...]] = {
    "ecr": ("ECR", "ECRP"),
    "ghcr": ("GHCR",),
    "dockerhub": ("DH",),
    "gar": ("GAR", "GCR"),
    "acr": ("ACR",),
    "quay": ("QUAY",),
    "harbor": ("HARBOR",),
    "artifactory": ("ART",),
    "gitlab": ("GITLAB",),
    "zot": ("ZOT",),
}
"""The catalogue's quirk-id prefixes of each hosted preset (``ECR-1`` is ECR's, ``ECRP-2`` ECR Public's)."""


def preset(name: str) -> Options:
    """The preset called ``name``; an unknown name raises ``ValueError`` listing them."""
    try:
        return PRESETS[name]
    except KeyError:
        raise ValueError(f"oci_registry_preset must be one of {', '.join(sorted(PRESETS))}, not {name!r}") from None
