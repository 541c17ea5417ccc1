"""Reading manifests: which blobs and child manifests one references, and its subject. Pure functions, no state."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from .errors import ErrorCode, RegistryError
from .names import is_digest

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
OCTET_STREAM = "application/octet-stream"

IMAGE_TYPES = frozenset({OCI_MANIFEST, DOCKER_MANIFEST})
INDEX_TYPES = frozenset({OCI_INDEX, DOCKER_MANIFEST_LIST})
OCI_TYPES = frozenset({OCI_MANIFEST, OCI_INDEX})
# Layers whose content a registry need not hold (the spec's non-distributable layers, Docker's foreign layers).
NON_DISTRIBUTABLE_PREFIXES = (
    "application/vnd.oci.image.layer.nondistributable.",
    "application/vnd.docker.image.rootfs.foreign.",
)
# type "/" subtype, each an RFC 9110 token (already lower-cased).
_MEDIA_TYPE = re.compile(r"[!#$%&'*+.^_`|~0-9a-z-]+/[!#$%&'*+.^_`|~0-9a-z-]+")
DOCKER_FOREIGN_LAYER = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"
# The layer types whose ``urls`` distribution 2.8 checks against its allow list, per manifest type.
_URL_CHECKED = {
    OCI_MANIFEST: frozenset({
        "application/vnd.oci.image.layer.v1.tar",
        "application/vnd.oci.image.layer.v1.tar+gzip",
        "application/vnd.oci.image.layer.nondistributable.v1.tar",
        "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
    }),
    DOCKER_MANIFEST: frozenset({DOCKER_FOREIGN_LAYER}),
}


@dataclass(frozen=True)
class Descriptor:
    """An OCI content descriptor: what the referrers API lists and what the content builders return."""

    media_type: str
    digest: str
    size: int
    annotations: dict[str, str] | None = None
    artifact_type: str | None = None
    platform: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        """The descriptor as OCI JSON, keys in the order the Go reference writes them."""
        out: dict[str, Any] = {"mediaType": self.media_type, "digest": self.digest, "size": self.size}
        if self.annotations:
            out["annotations"] = self.annotations
        if self.platform:
            out["platform"] = self.platform
        if self.artifact_type:
            out["artifactType"] = self.artifact_type
        return out


@dataclass(frozen=True)
class ManifestInfo:
    """What the registry needs to know of a manifest's content: its media type and what it references."""

    media_type: str = OCTET_STREAM
    blobs: tuple[str, ...] = ()
    children: tuple[str, ...] = ()
    refused_urls: frozenset[int] = frozenset()
    """The positions in ``blobs`` of the descriptors a registry checking layer URLs as distribution does refuses."""
    subject: str | None = None
    artifact_type: str | None = None
    annotations: dict[str, str] | None = field(default=None)


def media_type_of(content_type: str | None) -> str:
    """The media type a Content-Type or Accept entry names: lower-cased (media types are case-insensitive),
    parameters dropped; ``application/octet-stream`` when absent or not a ``type/subtype``."""
    bare = (content_type or "").partition(";")[0].strip().lower()
    return bare if _MEDIA_TYPE.fullmatch(bare) else OCTET_STREAM


def inspect(
    data: bytes,
    content_type: str | None,
    *,
    strict: bool = False,
    known: str | None = None,
    layer_urls: bool = False,
) -> ManifestInfo:
    """Read a manifest pushed with ``content_type`` (None: the request had none).

    The manifest's media type belongs to its content: the body's own ``mediaType`` when it has one, else ``known``
    (the type these bytes were first stored with), else the pushed Content-Type. So a re-push of the same bytes with
    another Content-Type, or none, changes nothing.

    Like the reference, only OCI manifest and index types are read by default; any other type is stored as
    opaque bytes. With ``strict`` the Docker schema 2 types are read too, each must be well-formed JSON of its
    kind, and a ``mediaType`` that disagrees with the Content-Type is refused. A malformed manifest of a type that
    is read raises ``MANIFEST_INVALID``. With ``layer_urls`` the blobs a manifest needs are chosen by their ``urls``
    as distribution 2.8 chooses them (see :func:`_needed`).
    """
    doc: object = None
    error: str | None = None
    try:
        doc = json.loads(data)
    except (ValueError, UnicodeDecodeError) as e:
        error = f"invalid manifest JSON: {e}"
    except RecursionError:
        error = "invalid manifest JSON: nested too deeply"
    declared = _declared(doc)
    media_type = declared or known or media_type_of(content_type)
    readable = OCI_TYPES | (IMAGE_TYPES | INDEX_TYPES if strict else frozenset())
    if media_type not in readable:
        return ManifestInfo(media_type)
    if error is not None:
        raise _invalid(error)
    if not isinstance(doc, dict):
        raise _invalid("manifest is not a JSON object")
    if strict:
        _check_shape(doc, media_type, media_type_of(content_type) if content_type else None)
    refused_urls: frozenset[int] = frozenset()
    if media_type in INDEX_TYPES:
        blobs: tuple[str, ...] = ()
        children = tuple(_descriptor(d, f"manifests[{i}]")["digest"] for i, d in enumerate(_list(doc, "manifests")))
        artifact_type = doc.get("artifactType")
    else:
        config = doc.get("config")
        descs = ([("config", config)] if config is not None else []) + [
            (f"layers[{i}]", d) for i, d in enumerate(_list(doc, "layers"))
        ]
        checked = [_descriptor(d, where) for where, d in descs]
        if layer_urls:
            verdicts = [(d["digest"], verdict) for d in checked if (verdict := _needed(d, media_type))]
            blobs = tuple(digest for digest, _ in verdicts)
            refused_urls = frozenset(i for i, (_, verdict) in enumerate(verdicts) if verdict == "refused")
        else:
            blobs = tuple(
                d["digest"] for d in checked if not d["mediaType"].lower().startswith(NON_DISTRIBUTABLE_PREFIXES)
            )
        children = ()
        artifact_type = doc.get("artifactType") or (config.get("mediaType") if isinstance(config, dict) else None)
    subject = doc.get("subject")
    annotations = doc.get("annotations")
    return ManifestInfo(
        media_type=media_type,
        blobs=blobs,
        children=children,
        refused_urls=refused_urls,
        subject=_descriptor(subject, "subject")["digest"] if subject is not None else None,
        artifact_type=artifact_type if isinstance(artifact_type, str) and artifact_type else None,
        annotations=annotations if isinstance(annotations, dict) and annotations else None,
    )


def _declared(doc: object) -> str | None:
    """The media type a manifest body declares in its ``mediaType`` field, if it declares a well-formed one."""
    value = doc.get("mediaType") if isinstance(doc, dict) else None
    if not isinstance(value, str):
        return None
    media_type = value.strip().lower()
    return media_type if _MEDIA_TYPE.fullmatch(media_type) else None


def _needed(desc: dict[str, Any], manifest_type: str) -> str:
    """Whether distribution 2.8 (no URL allow list configured) needs a descriptor's blob: "refused" (its ``urls``
    are checked and none is allowed; a Docker foreign layer must have some), "" (it has ``urls``: not looked for),
    or "present"."""
    urls = desc.get("urls")
    media_type = desc["mediaType"].lower()
    checked = media_type in _URL_CHECKED.get(manifest_type, ())
    if checked and (urls or media_type == DOCKER_FOREIGN_LAYER):
        return "refused"
    return "" if urls else "present"


def platform_manifest(data: bytes, os: str, architecture: str) -> str | None:
    """The digest of the first manifest an index lists for ``os``/``architecture``; None if it lists none."""
    try:
        doc = json.loads(data)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    entries = doc.get("manifests") if isinstance(doc, dict) else None
    for entry in entries if isinstance(entries, list) else ():
        platform = entry.get("platform") if isinstance(entry, dict) else None
        if isinstance(platform, dict) and (platform.get("os"), platform.get("architecture")) == (os, architecture):
            digest = entry.get("digest")
            return digest if isinstance(digest, str) else None
    return None


def _invalid(message: str) -> RegistryError:
    return RegistryError(ErrorCode.MANIFEST_INVALID, message)


def _list(doc: dict[str, Any], key: str) -> list[Any]:
    value = doc.get(key, [])
    if value is None:
        return []
    if not isinstance(value, list):
        raise _invalid(f"{key} is not a list")
    return value


def _descriptor(desc: Any, where: str) -> dict[str, Any]:
    """Check one descriptor as the reference does: a valid digest, a media type, and a size."""
    if not isinstance(desc, dict):
        raise _invalid(f"bad descriptor in {where}: not an object")
    digest = desc.get("digest")
    if not isinstance(digest, str) or not is_digest(digest):
        raise _invalid(f"bad descriptor in {where}: invalid digest {digest!r}")
    if where != "subject":
        if not isinstance(desc.get("mediaType"), str) or not desc["mediaType"]:
            raise _invalid(f"bad descriptor in {where}: no media type")
        size = desc.get("size")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise _invalid(f"bad descriptor in {where}: invalid size {size!r}")
    return desc


def _check_shape(doc: dict[str, Any], media_type: str, claimed: str | None) -> None:
    """The checks of a strict registry: schema version 2 (when given), a ``mediaType`` that is a media type and
    matches the Content-Type ``claimed`` (when there was one), the required fields."""
    if doc.get("schemaVersion", 2) != 2:
        raise _invalid("schemaVersion must be 2")
    declared = doc.get("mediaType")
    if declared is not None and _declared(doc) is None:
        raise _invalid(f"mediaType {declared!r} is not a media type")
    if declared is not None and claimed is not None and _declared(doc) != claimed:
        raise _invalid(f"mediaType {declared!r} does not match Content-Type {claimed!r}")
    if media_type in INDEX_TYPES:
        if not isinstance(doc.get("manifests"), list):
            raise _invalid("an index needs a manifests list")
    elif not isinstance(doc.get("config"), dict) or not isinstance(doc.get("layers"), list):
        raise _invalid("an image manifest needs a config and a layers list")
