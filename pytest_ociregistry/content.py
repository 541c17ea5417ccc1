"""Building valid OCI (or Docker) images, indexes and artifacts as bytes. Pure: pushing them is the registry's job."""

from __future__ import annotations

import gzip
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .manifest import DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, OCI_INDEX, OCI_MANIFEST, Descriptor
from .names import digest_of

OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"
OCI_EMPTY = "application/vnd.oci.empty.v1+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip"
EMPTY_JSON = b"{}"


def _json(doc: Mapping[str, Any]) -> bytes:
    return json.dumps(doc, separators=(",", ":")).encode()


@dataclass(frozen=True)
class Content:
    """A manifest (its bytes and media type), the blobs it needs, and the child manifests it needs first."""

    manifest: bytes
    media_type: str
    blobs: Mapping[str, bytes] = field(default_factory=dict)
    children: Sequence[Content] = ()
    platform: Mapping[str, Any] | None = None
    artifact_type: str | None = None
    annotations: Mapping[str, str] | None = None

    @property
    def digest(self) -> str:
        return digest_of(self.manifest)

    @property
    def descriptor(self) -> Descriptor:
        """This manifest's descriptor, with its platform, artifact type and annotations."""
        return Descriptor(
            self.media_type,
            self.digest,
            len(self.manifest),
            annotations=dict(self.annotations) if self.annotations else None,
            artifact_type=self.artifact_type,
            platform=dict(self.platform) if self.platform else None,
        )


def _blob_descriptor(media_type: str, data: bytes) -> dict[str, Any]:
    return {"mediaType": media_type, "digest": digest_of(data), "size": len(data)}


def image(
    layers: Sequence[bytes] = (),
    config: bytes | Mapping[str, Any] | None = None,
    *,
    platform: Mapping[str, Any] | None = None,
    annotations: Mapping[str, str] | None = None,
    compress: bool = True,
    docker: bool = False,
) -> Content:
    """An image manifest over ``layers`` (each the bytes of a layer tar, gzipped unless ``compress`` is False).

    Without ``config`` a minimal valid config is written (architecture and os from ``platform``, default
    linux/amd64, and the layers' ``diff_ids``). ``docker`` writes Docker schema 2 media types instead of OCI's.
    """
    platform = dict(platform or {"architecture": "amd64", "os": "linux"})
    stored = [gzip.compress(layer, mtime=0) if compress or docker else layer for layer in layers]
    if config is None:
        config = {
            "architecture": platform.get("architecture", "amd64"),
            "os": platform.get("os", "linux"),
            "rootfs": {"type": "layers", "diff_ids": [digest_of(layer) for layer in layers]},
            "config": {},
        }
    config_bytes = config if isinstance(config, bytes) else _json(config)
    layer_type = DOCKER_LAYER_GZIP if docker else OCI_LAYER + ("+gzip" if compress else "")
    media_type = DOCKER_MANIFEST if docker else OCI_MANIFEST
    doc: dict[str, Any] = {
        "schemaVersion": 2,
        "mediaType": media_type,
        "config": _blob_descriptor(DOCKER_CONFIG if docker else OCI_CONFIG, config_bytes),
        "layers": [_blob_descriptor(layer_type, data) for data in stored],
    }
    if annotations:
        doc["annotations"] = dict(annotations)
    blobs = {digest_of(data): data for data in [config_bytes, *stored]}
    return Content(_json(doc), media_type, blobs, platform=platform, annotations=annotations)


def index(
    manifests: Sequence[Content | Descriptor],
    *,
    annotations: Mapping[str, str] | None = None,
    docker: bool = False,
) -> Content:
    """An index (a Docker manifest list with ``docker``) over images built inline or already pushed."""
    media_type = DOCKER_MANIFEST_LIST if docker else OCI_INDEX
    entries = []
    for item in manifests:
        descriptor = item.descriptor if isinstance(item, Content) else item
        entry = {"mediaType": descriptor.media_type, "digest": descriptor.digest, "size": descriptor.size}
        if descriptor.platform:
            entry["platform"] = descriptor.platform
        entries.append(entry)
    doc: dict[str, Any] = {"schemaVersion": 2, "mediaType": media_type, "manifests": entries}
    if annotations:
        doc["annotations"] = dict(annotations)
    children = [item for item in manifests if isinstance(item, Content)]
    return Content(_json(doc), media_type, {}, children, annotations=annotations)


def artifact(
    artifact_type: str,
    blobs: Sequence[bytes] | Mapping[str, bytes] = (),
    *,
    subject: Descriptor | None = None,
    annotations: Mapping[str, str] | None = None,
) -> Content:
    """An OCI 1.1 artifact: an image manifest with ``artifactType``, the empty config, and ``blobs`` as layers
    (a mapping gives each blob's media type: ``{media_type: data}``). With ``subject`` it shows in the referrers API.
    """
    typed = list(blobs.items()) if isinstance(blobs, Mapping) else [("application/octet-stream", b) for b in blobs]
    doc: dict[str, Any] = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "artifactType": artifact_type,
        "config": _blob_descriptor(OCI_EMPTY, EMPTY_JSON),
        "layers": [_blob_descriptor(media_type, data) for media_type, data in typed] or [
            _blob_descriptor(OCI_EMPTY, EMPTY_JSON)
        ],
    }
    if subject is not None:
        doc["subject"] = {"mediaType": subject.media_type, "digest": subject.digest, "size": subject.size}
    if annotations:
        doc["annotations"] = dict(annotations)
    stored = {digest_of(data): data for data in [EMPTY_JSON, *(data for _, data in typed)]}
    return Content(_json(doc), OCI_MANIFEST, stored, artifact_type=artifact_type, annotations=annotations)
