"""The hosted presets' client evidence: each real client's operations against each hosted preset (and ``reference``,
the control), and how each ends.

A test declares what it covers with :func:`evidence`, which is also its parametrization: it runs once per preset,
with that preset's expected :class:`Outcome` for each operation (:data:`EXPECTED`; "passes" unless listed there).
The test asserts that outcome: success, or the client's exact error text. ``python tests/clients/hosted.py`` prints
the matrix (``--write``: into docs/reference/hosted-clients.md); ``tests/clients/test_hosted_matrix.py`` checks
that the page shows it.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest
from matrix import Cell

from pytest_ociregistry import PRESETS, OCIRegistry, Options
from pytest_ociregistry.presets import HOSTED_PRESETS

HOSTED = tuple(HOSTED_PRESETS)
COLUMNS = ("reference", *HOSTED)  # reference: the control, where every operation passes
F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")
CLIENT_ORDER = ("skopeo", "podman", "docker", "ctr", "oras-py", "python-dxf")


@dataclass(frozen=True)
class HostedCell(Cell):
    """A :class:`Cell` with options set over the preset's (``overrides``: name, value pairs)."""

    overrides: tuple[tuple[str, Any], ...] = ()

    @property
    def id(self) -> str:
        extra = "".join(f"-{name}" for name, _ in self.overrides)
        return f"{self.preset}{'-https' if self.tls else ''}{'' if self.auth == 'none' else '-' + self.auth}{extra}"

    def options(self) -> dict[str, Any]:
        return {**super().options(), **dict(self.overrides)}


@dataclass(frozen=True)
class Outcome:
    """How one operation of one client ends against one preset: it passes (``error`` empty), possibly through
    the client's own workaround for the preset's quirk, or showing the quirk (``note`` says how), or fails,
    printing ``error``. ``quirk`` names the catalogue id(s), ``source`` the upstream report, bug or workaround."""

    error: str = ""
    quirk: str = ""
    source: str = ""
    note: str = ""

    @property
    def passes(self) -> bool:
        return not self.error

    def check(self, returncode: int, output: str, what: str = "") -> None:
        """Assert a command ended so: exit 0, or non-zero with ``error`` in its ``output`` (where a Go client's log
        line quotes it, ``\\"`` read as ``"``)."""
        if self.passes:
            assert returncode == 0, f"{what} failed ({returncode}):\n{output}"
        else:
            assert returncode != 0, f"{what} succeeded; expected: {self.error}\n{output}"
            assert self.printed_in(output.replace('\\"', '"')), output

    def printed_in(self, text: str) -> bool:
        """``error`` is in ``text``: each part of it between ``…`` (which stands for what varies), in order."""
        pattern = ".*?".join(re.escape(part) for part in self.error.split("…"))
        return re.search(pattern, text, re.DOTALL) is not None

    def call(self, run: Callable[..., T], *args: Any, printed: Callable[[], str] = str, **kwargs: Any) -> T | None:
        """Call ``run(*args, **kwargs)``; assert it returns (and return its result), or raises an exception whose
        message, or what it logged (``printed()``), holds ``error`` (and return None)."""
        if self.passes:
            return run(*args, **kwargs)
        with pytest.raises(Exception) as caught:
            run(*args, **kwargs)
        assert self.printed_in(f"{printed()}\n{caught.value}"), f"{printed()}\n{caught.value!r}"
        return None


PASSES = Outcome()


def fails(error: str, quirk: str, source: str) -> Outcome:
    """The client fails with ``error`` (text it prints) on the preset's ``quirk``; ``source``: the upstream link."""
    return Outcome(error=error, quirk=quirk, source=source)


def works_around(workaround: str, quirk: str, source: str) -> Outcome:
    """The client passes through its own ``workaround`` for the preset's ``quirk``."""
    return Outcome(quirk=quirk, source=source, note=f"through its workaround: {workaround}")


def shows(what: str, quirk: str, source: str) -> Outcome:
    """The client passes, and ``what`` it shows of the preset's ``quirk``."""
    return Outcome(quirk=quirk, source=source, note=what)


@dataclass(frozen=True)
class Expect:
    """``client``'s ``operation`` ends with ``outcome`` against a registry whose options satisfy ``when``."""

    client: str
    operation: str
    when: Callable[[Options], bool]
    outcome: Outcome


ORAS_CONFIG, ORAS_LAYER = "application/vnd.unknown.config.v1+json", "application/vnd.oci.image.layer.v1.tar"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"


def refuses(option: str, *media_types: str) -> Callable[[Options], bool]:
    """Whether the registry's ``option`` (``known_media_types``, ``config_media_types``: a config's only) refuses
    a manifest naming ``media_types`` (its config's first)."""

    def check(options: Options) -> bool:
        listed: tuple[str, ...] = getattr(options, option)
        named = media_types[:1] if option == "config_media_types" else media_types
        return bool(listed) and any(t not in listed for t in named)

    return check


MIB = 1024 * 1024
CHUNKED = ("chunked push (4 MiB chunks)", "chunked push (16 MiB chunks, its default)")
GAR_1 = "https://github.com/dotnet/sdk-container-builds/pull/287"
GHCR_3 = "https://github.com/podman-container-tools/skopeo/issues/1880"
DH_7 = "https://docs.docker.com/reference/api/registry/latest/operations/DeleteImageManifest/"
ORAS_403 = "https://github.com/oras-project/oras-py/blob/0.2.43/oras/provider.py#L1016"
DXF_DIGEST = "https://github.com/davedoesdev/dxf/blob/v12.1.1/dxf/__init__.py#L611"
# The outcome of each client operation that a quirk changes, by the option that turns the quirk on: a preset's
# cells follow from its options, whichever preset sets them. The first match wins; no match: it passes.
EXPECTED: list[Expect] = [
    # Deletes: refused (GHCR-3), refused while tagged (DH-7), or the digest missing from GET (ECR-3).
    Expect("skopeo", "delete", lambda o: not o.delete_enabled, fails(
        '{"errors":[{"code":"UNSUPPORTED","message":"The operation is unsupported."}]} (405 Method Not Allowed)',
        "GHCR-3", GHCR_3)),
    Expect("oras-py", "delete", lambda o: not o.delete_enabled, fails(
        "Delete was not successful: {'errors': [{'code': 'UNSUPPORTED', 'message': 'The operation is unsupported.'}]}",
        "GHCR-3", GHCR_3)),
    Expect("python-dxf", "delete", lambda o: not o.delete_enabled, fails(
        "405 Client Error: Method Not Allowed", "GHCR-3", GHCR_3)),
    Expect("skopeo", "delete", lambda o: o.delete_untagged_only, fails(
        '{"errors":[{"code":"DENIED","message":"requested access to the resource is denied"}]} (403 Forbidden)',
        "DH-7", DH_7)),
    Expect("oras-py", "delete", lambda o: o.delete_untagged_only, fails(
        "Cannot respond to request for authentication.", "DH-7; oras-py takes any 403 for an auth challenge",
        ORAS_403)),
    Expect("python-dxf", "delete", lambda o: o.delete_untagged_only, fails(
        "403 Client Error: Forbidden", "DH-7", DH_7)),
    Expect("skopeo", "delete", lambda o: not o.tag_get_digest, works_around(
        "it digests the manifest GET returned, which has no `Docker-Content-Digest`", "ECR-3, ECR-13",
        "https://github.com/containers/image/pull/1497")),
    Expect("python-dxf", "delete", lambda o: not o.tag_get_digest, works_around(
        "it hashes the manifest GET returned, which has no `Docker-Content-Digest`", "ECR-3", DXF_DIGEST)),
    # Manifests refused: without mediaType (ECR-6), immutable tags (ECR-12, QUAY-7, HARBOR-2).
    Expect("skopeo", "push an OCI manifest without mediaType", lambda o: "no_media_type" in o.unsupported_manifests,
           works_around('after the 405 `UNSUPPORTED` "Invalid JSON syntax" it converts the image to Docker schema 2 '
                        "and pushes that", "ECR-6", "https://github.com/containers/image/pull/584")),
    Expect("docker", "push the same tag again", lambda o: o.immutable_tags and o.immutable_tag_refusal == "ecr", fails(
        "tag invalid: The image tag 'v1' already exists in the 'foo/app' repository and cannot be overwritten "
        "because the repository is immutable.", "ECR-12", "https://github.com/aws/containers-roadmap/issues/862")),
    # docker 20.10 knows neither TAG_IMMUTABLE nor PRECONDITION: "unknown", then the message.
    Expect("docker", "push the same tag again", lambda o: o.immutable_tags and o.immutable_tag_refusal == "quay", fails(
        "unknown: tag is immutable and cannot be overwritten", "QUAY-7",
        "https://github.com/quay/quay/blob/ffba0c70e2d8d522290a4fbbaa704dbf2fc37f34/endpoints/v2/manifest.py")),
    Expect("docker", "push the same tag again", lambda o: o.immutable_tags and o.immutable_tag_refusal == "harbor", fails(
        "unknown: Failed to process request due to 'app:v1' configured as immutable.", "HARBOR-2",
        "https://github.com/goharbor/harbor/pull/9427")),
    # Media types refused: any unknown one (GITLAB-1), or a config type not listed (QUAY-4).
    *(Expect(client, op, refuses(option, *types), fails(text, quirk, source))
      for option, quirk, source in (
          ("known_media_types", "GITLAB-1", "https://github.com/fluxcd/flux2/issues/3724"),
          ("config_media_types", "QUAY-4", "https://github.com/oras-project/oras/issues/738"))
      for client, op, types, text in (
          ("oras-py", "push", (ORAS_CONFIG, ORAS_LAYER), "manifest invalid…Bad Request"),
          ("python-dxf", "push", (DOCKER_CONFIG, "application/octet-stream"), "400 Client Error: Bad Request for url"),
          *(("docker", op, (DOCKER_CONFIG, DOCKER_LAYER), "manifest invalid: manifest invalid")
            for op in ("push", "push and pull with credentials")))),
    *(Expect("oras-py", "push with an OCI image config",
             lambda o, option=option: refuses(option, ORAS_CONFIG)(o) and not refuses(option, OCI_CONFIG, ORAS_LAYER)(o),
             works_around("an `application/vnd.oci.image.config.v1+json` config in place of its own "
                          "`application/vnd.unknown.config.v1+json`", quirk, source))
      for option, quirk, source in (
          ("known_media_types", "GITLAB-1", "https://github.com/ocx-sh/ocx/issues/480"),
          ("config_media_types", "QUAY-4", "https://github.com/containers/omlmd/pull/25"))),
    # Referrers: an attached artifact where the referrers API is missing (GHCR-1, ART-1), or says otherwise (DH-6).
    Expect("oras-py", "attach (push with a subject)", lambda o: not o.referrers_enabled and o.oci_subject_without_referrers,
           shows("but the push answers `OCI-Subject` though the referrers API answers 404, a header a client must not "
                 "trust (oras-py 0.2 reads neither)", "DH-6, ECR-7", "https://github.com/sigstore/sigstore-js/pull/1183")),
    Expect("oras-py", "attach (push with a subject)", lambda o: not o.referrers_enabled and o.referrers_disabled_status == 406,
           shows("but the referrers API answers 406 and the push no `OCI-Subject`: a client must fall back to the tag "
                 "schema, which oras-py 0.2 does not write", "ART-1", "https://github.com/google/go-containerregistry/pull/2026")),
    Expect("oras-py", "attach (push with a subject)", lambda o: not o.referrers_enabled,
           shows("but the referrers API answers 404 and the push no `OCI-Subject`: a client must fall back to the tag "
                 "schema, which oras-py 0.2 does not write", "GHCR-1; Docker Hub's missing referrers API",
                 "https://github.com/dataaxiom/ghcr-cleanup-action/issues/13")),
    # Chunked uploads refused (GAR-1; the answer is this registry's, GAR's is not captured), over 4 MiB (GHCR-2),
    # answered 201 with a Range that stops (ECR-1, ECR-2).
    *(Expect("oras-py", op, lambda o: not getattr(o, "chunked_uploads", True), fails(
        "chunked uploads are not supported: use a monolithic upload…Bad Request", "GAR-1", GAR_1)) for op in CHUNKED),
    Expect("oras-py", "push", lambda o: not getattr(o, "chunked_uploads", True), shows(
        "with its default upload, monolithic (POST, then PUT with the body), all Artifact Registry takes", "GAR-1",
        GAR_1)),
    Expect("oras-py", CHUNKED[1], lambda o: (getattr(o, "max_chunk_size", None) or MIB * 16) < 5 * MIB, fails(
        "the request body is too large and exceeds the maximum permissible limit of 4.00MiB…Requested Range Not "
        "Satisfiable", "GHCR-2", "https://github.com/oras-project/rust-oci-client/issues/35")),
    Expect("oras-py", CHUNKED[0], lambda o: getattr(o, "max_chunk_size", None) is not None, works_around(
        "chunks of 4 MiB, within the limit, as rust-oci-client's fix sends", "GHCR-2",
        "https://github.com/oras-project/rust-oci-client/pull/37")),
    *(Expect("oras-py", op, lambda o: getattr(o, "chunk_status", 202) == 201 or getattr(o, "stale_upload_range", False),
             works_around("it takes any 2xx for a PATCH and counts the offset itself, never reading `Range`",
                          "ECR-1, ECR-2", "https://github.com/oras-project/oras-py/blob/0.2.43/oras/provider.py#L603"))
      for op in CHUNKED),
    # A HEAD of a missing tag answers 403 (ART-2): containerd checks the tag before a push and stops.
    *(Expect("ctr", op, lambda o: o.missing_tag_head_status == 403, fails(
        "ctr: unexpected status: 403 Forbidden", "ART-2; containerd declines to read a 403 as absent",
        "https://github.com/containerd/containerd/pull/6684")) for op in ("push", "push and pull with credentials")),
    # The catalog token granted, the catalog still refused (DH-4): python-dxf asks for a token once, then stops.
    Expect("python-dxf", "catalog with credentials", lambda o: getattr(o, "catalog_insufficient_scope", False),
           fails("unauthorized", "DH-4", "https://github.com/docker/hub-feedback/issues/2094")),
    # The untagged manifest named in the tag list by its digest (ART-3).
    Expect("skopeo", "tag list", lambda o: o.tags_list_digests, shows(
        "and lists the untagged image's digest among the tags (skopeo 1.9 checks no tag; 1.15.1 failed with "
        "`registry returned invalid tag`, 1.15.2 skips digests)", "ART-3",
        "https://github.com/containers/skopeo/issues/2346")),
]  # fmt: skip


@dataclass(frozen=True)
class Row:
    """A test's claim: ``client`` does ``operations`` against each of ``cells``."""

    client: str
    operations: tuple[str, ...]
    cells: tuple[HostedCell, ...]
    test: str  # module.function
    outcomes: dict[str, tuple[Outcome, ...]] = field(default_factory=dict)  # operation → outcome per cell


ROWS: list[Row] = []


@contextlib.contextmanager
def accepting(registry: OCIRegistry) -> Iterator[OCIRegistry]:
    """``registry`` with its rules on what manifests it takes lifted, to store what a client was refused (so a pull
    can still be tried)."""
    saved = registry.options
    registry.options = saved.replace(unsupported_manifests=(), known_media_types=(), config_media_types=())
    try:
        yield registry
    finally:
        registry.options = saved


def expect(*rules: Expect) -> None:
    """Add ``rules`` to :data:`EXPECTED` (a test module with outcomes of its own, before its tests are declared)."""
    EXPECTED.extend(rules)


def expected(cell: HostedCell, client: str, operation: str) -> Outcome:
    """What ``client``'s ``operation`` does against ``cell``'s registry (its preset's options and its overrides)."""
    options = PRESETS[cell.preset].replace(**dict(cell.overrides))
    found = [e.outcome for e in EXPECTED if (e.client, e.operation) == (client, operation) and e.when(options)]
    return found[0] if found else PASSES


def evidence(
    client: str,
    operations: Sequence[str],
    presets: Sequence[str] = COLUMNS,
    *,
    auth: str = "none",
    tls: bool = False,
    overrides: Sequence[tuple[str, Any]] = (),
) -> Callable[[F], F]:
    """Parametrize a test over ``presets`` (arguments ``cell``, a :class:`HostedCell`, and ``outcomes``, each
    operation's :class:`Outcome` there) and record it in the matrix."""
    cells = tuple(HostedCell(p, tls, auth, tuple(overrides)) for p in presets if p in PRESETS)
    table = {op: tuple(expected(c, client, op) for c in cells) for op in operations}

    def mark(test: F) -> F:
        ROWS.append(Row(client, tuple(operations), cells, f"{test.__module__}.{test.__name__}", table))
        params = [(c, {op: table[op][i] for op in operations}) for i, c in enumerate(cells)]
        marked = pytest.mark.parametrize(("cell", "outcomes"), params, ids=[c.id for c in cells])(test)
        return marked  # type: ignore[no-any-return]

    return mark


def _cell(outcome: Outcome, note: int) -> str:
    if outcome.passes:
        return f"✓ ({note})" if outcome.note else "✓"
    return f"**✗** ({note})"


def render(rows: Sequence[Row]) -> str:
    """The matrix as Markdown: a line per client and operation, a column per preset (✓ passes, ✗ fails), and a
    numbered note for each cell that is not a plain pass (the error text, or how it passes, with the quirk and its
    source)."""
    lines = [f"| client | operation | {' | '.join(COLUMNS)} |", "|---" * (len(COLUMNS) + 2) + "|"]
    notes: list[str] = []
    for row in rows:
        for op in row.operations:
            shown = {c.preset: outcome for c, outcome in zip(row.cells, row.outcomes[op])}
            cells = []
            for preset in COLUMNS:
                outcome = shown.get(preset)
                if outcome is None:
                    cells.append("")
                    continue
                if outcome != PASSES:
                    what = f"passes {outcome.note}" if outcome.passes \
                        else f"fails with `{outcome.error}`"  # fmt: skip
                    notes.append(f"{len(notes) + 1}. {preset}, {row.client} {op}: {what} ({outcome.quirk}; "
                                 f"<{outcome.source}>)")  # fmt: skip
                cells.append(_cell(outcome, len(notes)))
            first = row.cells[0] if row.cells else None
            label = op + ("".join(f" ({n}={v!r})" for n, v in first.overrides) if first else "")
            label += " (HTTPS)" if first and first.tls else ""
            lines.append(f"| {row.client} | {label} | {' | '.join(cells)} |")
    return "\n".join(lines) + ("\n\n" + "\n".join(notes) if notes else "")


def load_all() -> list[Row]:
    """Import every hosted-client test module and return the rows they declare (by client, then as declared)."""
    import importlib

    for path in sorted(Path(__file__).parent.glob("test_hosted_*.py")):
        importlib.import_module(path.stem)
    order = {client: i for i, client in enumerate(CLIENT_ORDER)}
    return sorted(ROWS, key=lambda row: order.get(row.client, len(order)))


PAGE = Path(__file__).parent.parent.parent / "docs" / "reference" / "hosted-clients.md"
BEGIN, END = (
    "<!-- hosted client matrix: generated by python tests/clients/hosted.py -->\n",
    "<!-- end of hosted client matrix -->",
)


def page_with(table: str) -> str:
    """docs/reference/hosted-clients.md with ``table`` between its markers."""
    text = PAGE.read_text()
    start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
    return f"{text[:start]}{table}\n{text[end:]}"


if __name__ == "__main__":
    import sys

    import hosted  # the module the test modules register in, not this __main__ copy

    table = hosted.render(hosted.load_all())
    if sys.argv[1:] == ["--write"]:
        PAGE.write_text(page_with(table))
    else:
        print(table)
