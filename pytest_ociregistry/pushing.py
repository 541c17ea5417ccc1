"""Pushing built content: the image, index and artifact helpers any registry object offers on top of ``push``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from . import content
from .content import Content
from .manifest import Descriptor


class ContentPusher:
    """``push_image``, ``push_index`` and ``push_artifact``, for a class that can :meth:`push` built content."""

    def push(self, repo: str, built: Content, tag: str | None = None) -> Descriptor:
        """Push content made by :mod:`pytest_ociregistry.content` (blobs and child manifests first), by ``tag``, or
        by digest when there is none; returns its descriptor."""
        raise NotImplementedError

    def push_image(
        self,
        repo: str,
        tag: str | None = None,
        layers: Sequence[bytes] = (b"layer",),
        config: bytes | Mapping[str, Any] | None = None,
        *,
        platform: Mapping[str, Any] | None = None,
        annotations: Mapping[str, str] | None = None,
        compress: bool = True,
        docker: bool = False,
    ) -> Descriptor:
        """Push a valid image (see :func:`pytest_ociregistry.content.image`); returns its descriptor."""
        built = content.image(
            layers, config, platform=platform, annotations=annotations, compress=compress, docker=docker
        )
        return self.push(repo, built, tag)

    def push_index(
        self,
        repo: str,
        tag: str | None,
        manifests: Sequence[Content | Descriptor],
        *,
        annotations: Mapping[str, str] | None = None,
        docker: bool = False,
    ) -> Descriptor:
        """Push an index over images already pushed (descriptors) or built inline (``content.image(...)``)."""
        return self.push(repo, content.index(manifests, annotations=annotations, docker=docker), tag)

    def push_artifact(
        self,
        repo: str,
        artifact_type: str,
        blobs: Sequence[bytes] | Mapping[str, bytes] = (),
        *,
        subject: Descriptor | None = None,
        annotations: Mapping[str, str] | None = None,
        tag: str | None = None,
    ) -> Descriptor:
        """Push an OCI 1.1 artifact, with a ``subject`` so it shows in the referrers API; returns its descriptor."""
        built = content.artifact(artifact_type, blobs, subject=subject, annotations=annotations)
        return self.push(repo, built, tag)
