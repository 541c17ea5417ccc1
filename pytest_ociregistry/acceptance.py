"""What a hosted registry refuses in a manifest the spec lets it store: media types off its list, fields it does not
take, too many layers. Pure checks of a manifest's JSON under the options in force; no state.

Each refusal is the answer of the registry whose quirk the option copies (see the options' documentation).
"""

from __future__ import annotations

import json
from typing import Any

from .errors import ErrorCode, RegistryError
from .manifest import ManifestInfo
from .options import Options


def check_manifest(data: bytes, info: ManifestInfo, options: Options) -> None:
    """Raise the refusal of the first rule ``options`` sets that the manifest (``data``, read as ``info``) breaks.
    Bytes that are not a JSON object are left to the manifest's own checks."""
    if not (options.unsupported_manifests or options.max_layers is not None or options.known_media_types
            or options.config_media_types):
        return
    try:
        doc = json.loads(data)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return
    if not isinstance(doc, dict):
        return
    refused = _unsupported(doc, info, options.unsupported_manifests)
    if refused:
        raise _ecr_invalid("Invalid JSON syntax")
    layers = _entries(doc, "layers")
    if options.max_layers is not None and len(layers) > options.max_layers:
        raise _ecr_invalid("Limit on number of layers per image exceeded")
    if options.known_media_types:
        for media_type in _media_types(doc, layers):
            if media_type not in options.known_media_types:
                raise RegistryError(ErrorCode.MANIFEST_INVALID, detail=f"unknown media type: {media_type}")
    config = doc.get("config")
    config_type = config.get("mediaType") if isinstance(config, dict) else None
    if options.config_media_types and isinstance(config_type, str) and config_type not in options.config_media_types:
        allowed = ", ".join(repr(t) for t in options.config_media_types)
        raise RegistryError(
            ErrorCode.MANIFEST_INVALID,
            detail={"message": "failed to parse manifest: manifest data does not match schema: "
                               f"{config_type!r} is not one of [{allowed}]"},
        )


def _unsupported(doc: dict[str, Any], info: ManifestInfo, kinds: tuple[str, ...]) -> bool:
    """Whether the manifest is of one of the ``unsupported_manifests`` kinds."""
    artifact_type = doc.get("artifactType")
    if "no_media_type" in kinds and "mediaType" not in doc and info.media_type.startswith("application/vnd.oci."):
        return True
    if "artifact_type" in kinds and artifact_type is not None:
        return True
    if "artifact_type_subject" in kinds and artifact_type is not None and doc.get("subject") is not None:
        return True
    if "media_type_parameters" in kinds:
        return any(";" in t for t in _media_types(doc, _entries(doc, "layers")))
    return False


def _entries(doc: dict[str, Any], key: str) -> list[dict[str, Any]]:
    value = doc.get(key)
    return [d for d in value if isinstance(d, dict)] if isinstance(value, list) else []


def _media_types(doc: dict[str, Any], layers: list[dict[str, Any]]) -> list[str]:
    """The media types a manifest names for what it is and holds: ``artifactType``, the config's, each layer's and
    each index entry's, in that order."""
    config = doc.get("config")
    named = [doc.get("artifactType"), config.get("mediaType") if isinstance(config, dict) else None]
    named += [d.get("mediaType") for d in layers]
    named += [d.get("mediaType") for d in _entries(doc, "manifests")]
    return [t for t in named if isinstance(t, str)]


def _ecr_invalid(constraint: str) -> RegistryError:
    """ECR's refusal of a manifest it does not take (405 ``UNSUPPORTED``)."""
    return RegistryError(
        ErrorCode.UNSUPPORTED,
        f"Invalid parameter at 'ImageManifest' failed to satisfy constraint: '{constraint}'",
        status=405,
    )
