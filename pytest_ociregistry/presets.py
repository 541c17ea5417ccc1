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
    unsupported_manifests=("no_media_type", "artifact_type_subject", "media_type_parameters"),
    immutable_tag_refusal="ecr",
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
    oci_subject_without_referrers=True,
    delete_untagged_only=True,
    delete_tags=False,
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
    referrers_unknown_subject_invalid=True,
    immutable_tag_refusal="quay",
)
"""Quay.io and Project Quay."""

HARBOR = HOSTED_BASELINE.replace(
    auth_challenge="harbor",
    catalog_last_must_exist=True,
    mount_missing_project_unauthorized=True,
    immutable_tag_refusal="harbor",
    artifact_not_found=True,
    tag_delete_unsupported=True,
)
"""Harbor (self-hosted, CNCF)."""

ARTIFACTORY = HOSTED_BASELINE.replace(
    referrers_enabled=False,
    referrers_disabled_status=406,
    missing_tag_head_status=403,
    tags_list_digests=True,
)
"""JFrog Artifactory."""

GITLAB_MEDIA_TYPES: tuple[str, ...] = (
    "/application/vnd.acme.rocket.config",
    "application/json",
    "application/octet-stream",
    "application/sap-cnudie+tar",
    "application/spdx+json",
    "application/tar+gzip",
    "application/vnd.acme.rocket.config",
    "application/vnd.acme.rocket.docs.layer.v1+tar",
    "application/vnd.ansible.collection",
    "application/vnd.aquasec.trivy.config.v1+json",
    "application/vnd.aquasec.trivy.db.layer.v1.tar+gzip",
    "application/vnd.buildkit.cacheconfig.v0",
    "application/vnd.cnab.bundle.config.v1+json",
    "application/vnd.cnab.config.v1+json",
    "application/vnd.cncf.artifacthub.config.v1+yaml",
    "application/vnd.cncf.artifacthub.repository-metadata.layer.v1.yaml",
    "application/vnd.cncf.falco.plugin.config.v1+json",
    "application/vnd.cncf.falco.plugin.layer.v1+tar.gz",
    "application/vnd.cncf.falco.rulesfile.config.v1+json",
    "application/vnd.cncf.falco.rulesfile.layer.v1+tar.gz",
    "application/vnd.cncf.flux.config.v1+json",
    "application/vnd.cncf.flux.content.v1.tar+gzip",
    "application/vnd.cncf.helm.chart.content.layer.v1+tar",
    "application/vnd.cncf.helm.chart.content.v1.tar+gzip",
    "application/vnd.cncf.helm.chart.meta.layer.v1+json",
    "application/vnd.cncf.helm.chart.provenance.v1.prov",
    "application/vnd.cncf.helm.config.v1+json",
    "application/vnd.cncf.openpolicyagent.config.v1+json",
    "application/vnd.cncf.openpolicyagent.data.layer.v1+json",
    "application/vnd.cncf.openpolicyagent.manifest.layer.v1+json",
    "application/vnd.cncf.openpolicyagent.policy.layer.v1+rego",
    "application/vnd.cue.module.v1+json",
    "application/vnd.cue.modulefile.v1",
    "application/vnd.cyclonedx",
    "application/vnd.cyclonedx+json",
    "application/vnd.cyclonedx+xml",
    "application/vnd.dev.cosign.artifact.sbom.v1+json",
    "application/vnd.dev.cosign.artifact.sig.v1+json",
    "application/vnd.dev.cosign.simplesigning.v1+json",
    "application/vnd.dev.sigstore.bundle.v0.3+json",
    "application/vnd.devcontainers",
    "application/vnd.devcontainers.layer.v1+tar",
    "application/vnd.docker.attestation.manifest.v1+json",
    "application/vnd.docker.compose.config.empty.v1+json",
    "application/vnd.docker.compose.envfile",
    "application/vnd.docker.compose.file+yaml",
    "application/vnd.docker.compose.project",
    "application/vnd.docker.container.image.rootfs.diff+x-gtar",
    "application/vnd.docker.container.image.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.docker.distribution.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v1+prettyjws",
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.image.rootfs.diff.tar",
    "application/vnd.docker.image.rootfs.diff.tar.gzip",
    "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
    "application/vnd.docker.plugin.v1+json",
    "application/vnd.dsse.envelope.v1+json",
    "application/vnd.gardener.cloud.cnudie.component-descriptor.v2+json",
    "application/vnd.gardener.cloud.cnudie.component-descriptor.v2+yaml+tar",
    "application/vnd.gardener.cloud.cnudie.component.config.v1+json",
    "application/vnd.gardener.landscaper.blueprint.v1+tar+gzip",
    "application/vnd.gardener.landscaper.componentdefinition.v1+json",
    "application/vnd.gitlab.packages.npm.config.v2+json",
    "application/vnd.in-toto+json",
    "application/vnd.module.wasm.config.v1+json",
    "application/vnd.module.wasm.content.layer.v1+wasm",
    "application/vnd.oci.empty.v1+json",
    "application/vnd.oci.image.config.v1+json",
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.oci.image.layer.nondistributable.v1.tar",
    "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
    "application/vnd.oci.image.layer.v1.tar",
    "application/vnd.oci.image.layer.v1.tar+encrypted",
    "application/vnd.oci.image.layer.v1.tar+gzip",
    "application/vnd.oci.image.layer.v1.tar+gzip+encrypted",
    "application/vnd.oci.image.layer.v1.tar+zstd",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.opentofu.modulepkg",
    "application/vnd.opentofu.provider",
    "application/vnd.opentofu.provider-target",
    "application/vnd.oras.config.v1+json",
    "application/vnd.spack.package",
    "application/vnd.syft+json",
    "application/vnd.sylabs.sif.config.v1",
    "application/vnd.sylabs.sif.config.v1+json",
    "application/vnd.sylabs.sif.layer.v1.sif",
    "application/vnd.timoni.config.v1+json",
    "application/vnd.timoni.content.v1.tar+gzip",
    "application/vnd.unknown.config.v1+json",
    "application/vnd.vivsoft.enbuild.config.v1+json",
    "application/vnd.wasm.config.v1+json",
    "application/vnd.wasm.content.layer.v1+wasm",
    "application/vnd.zarf.config.v1+json",
    "application/vnd.zarf.layer.v1.blob",
    "application/x-yaml",
    "appliciation/vnd.sylabs.sif.layer.tar",
    "binary/octet-stream",
    "text/html; charset=utf-8",
    "text/plain; charset=utf-8",
    "text/spdx",
    "text/spdx+json",
    "text/spdx+xml",
)
"""The media types the GitLab container registry takes (its ``docs/supported-media-types.md``, the rows of its
``media_types`` table, odd ones included; as mirrored in tigrisdata/container-registry @ ``0611355b``)."""

GITLAB = HOSTED_BASELINE.replace(
    known_media_types=GITLAB_MEDIA_TYPES,
    catalog_insufficient_scope=True,
)
"""The GitLab container registry (gitlab.com and self-managed)."""

ZOT = HOSTED_BASELINE.replace(
    referrers_duplicate_on_tag=True,
)
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
