"""umoci 0.4.7 with the registry, in each preset and over HTTPS with Bearer auth: an image umoci builds offline (from
busybox-static) goes in and comes back out through skopeo digest for digest, and umoci unpacks what came back into
the very files it packed. (umoci works on OCI layouts only; skopeo is its transport.)"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from client_support import (
    BUSYBOX,
    Skopeo,
    Tool,
    assert_same_content,
    busybox_layer,
    read_layout,
    read_registry,
    require,
)
from matrix import PRESETS_AND_TLS, Cell, covers

from pytest_ociregistry import OCIRegistry


class Umoci(Tool):
    name = "umoci"
    containers_image = False
    # Not root: umoci must not try to chown or mknod.
    prefix = () if os.geteuid() == 0 else ("--rootless",)


@covers("umoci", ("build a layout (init, new, insert, config)", "push it (skopeo)", "pull it back (skopeo)",
                  "unpack"), PRESETS_AND_TLS)  # fmt: skip
def test_umoci_image_round_trip(cell: Cell, registry: OCIRegistry, skopeo: Skopeo, tmp_path: Path) -> None:
    """umoci builds a busybox image; skopeo pushes it (the store holds exactly the layout's bytes) and pulls it
    into a new layout (the same again); umoci unpacks that into busybox and the label file, and stats it."""
    busybox_layer()  # skips (fails under CI) without busybox-static
    umoci = Umoci(require("umoci", "umoci"), tmp_path / "umoci-home")
    layout, rootfs = tmp_path / "layout", tmp_path / "rootfs"
    (rootfs / "bin").mkdir(parents=True)
    shutil.copy(BUSYBOX, rootfs / "bin" / "busybox")
    (rootfs / "label.txt").write_text("umoci")
    umoci("init", "--layout", str(layout))
    umoci("new", "--image", f"{layout}:v1")
    umoci("insert", "--image", f"{layout}:v1", str(rootfs), "/")
    umoci("config", "--image", f"{layout}:v1", "--os", "linux", "--architecture", "amd64",
          "--config.cmd", "/bin/busybox", "--config.cmd", "cat", "--config.cmd", "/label.txt")  # fmt: skip
    built = read_layout(layout, "v1")

    remote = f"docker://{registry.host}/foo/umoci:v1"
    skopeo("copy", "--preserve-digests", *skopeo.flags(registry, cell, "dest"), f"oci:{layout}:v1", remote)
    assert_same_content(read_registry(registry, "foo/umoci", "v1"), built)
    pulled = tmp_path / "pulled"
    skopeo("copy", "--preserve-digests", *skopeo.flags(registry, cell, "src"), remote, f"oci:{pulled}:v1")
    assert_same_content(read_layout(pulled, "v1"), built)

    bundle = tmp_path / "bundle"
    umoci("unpack", "--image", f"{pulled}:v1", str(bundle))
    assert (bundle / "rootfs" / "bin" / "busybox").read_bytes() == BUSYBOX.read_bytes()
    assert (bundle / "rootfs" / "label.txt").read_text() == "umoci"
    config = json.loads((bundle / "config.json").read_text())
    assert config["process"]["args"] == ["/bin/busybox", "cat", "/label.txt"]
    [layer] = json.loads(built.manifest)["layers"]
    history = json.loads(umoci("stat", "--image", f"{pulled}:v1", "--json"))["history"]
    assert [h["layer"]["digest"] for h in history if h["layer"]] == [layer["digest"]]
