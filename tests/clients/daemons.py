"""The daemons the heavyweight clients need, each started with private directories, sockets and configuration, so
tests never touch the machine's own Docker, containerd or containers storage: Docker Engine 20.10 (``dockerd``,
driven by ``/usr/bin/docker``), containerd 1.6 (driven by ``ctr``), and the files podman and buildah read.

Each daemon writes its pid to ``<root>/<name>.pid``; ``ci/heavy-clients.sh stop ROOT`` kills what a crashed run
left behind. A daemon also dies with the process that started it (``setpriv --pdeathsig``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

# docker.io ships its own CLI; /usr/local/bin/docker (a newer one) may come first in PATH.
DOCKER = "/usr/bin/docker"


class DaemonError(RuntimeError):
    """A daemon did not start; the message has the tail of its log."""


def _die_with_parent(argv: list[str]) -> list[str]:
    """``argv`` under ``setpriv --pdeathsig TERM`` (util-linux), when there is one."""
    setpriv = shutil.which("setpriv")
    return [setpriv, "--pdeathsig", "TERM", "--", *argv] if setpriv else argv


class Daemon:
    """A daemon process with a log in ``root``."""

    def __init__(self, name: str, argv: list[str], root: Path, ready: Callable[[], bool]) -> None:
        self.name = name
        self.root = root
        self.log = root / f"{name}.log"
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                _die_with_parent(argv), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        (root / f"{name}.pid").write_text(f"{self.process.pid}\n")
        deadline = time.monotonic() + 60
        while not ready():
            if self.process.poll() is not None:
                raise DaemonError(f"{name} exited with {self.process.returncode}:\n{self.tail()}")
            if time.monotonic() > deadline:
                self.stop()
                raise DaemonError(f"{name} did not become ready in 60 s:\n{self.tail()}")
            time.sleep(0.1)

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]

    def stop(self) -> None:
        """SIGTERM (dockerd then stops its own containerd), SIGKILL after 30 s."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        (self.root / f"{self.name}.pid").unlink(missing_ok=True)


def _answers(argv: list[str], env: dict[str, str]) -> Callable[[], bool]:
    def ready() -> bool:
        done = subprocess.run(argv, env={**os.environ, **env}, capture_output=True, timeout=30, check=False)
        return done.returncode == 0

    return ready


def start_dockerd(root: Path) -> tuple[Daemon, dict[str, str]]:
    """``dockerd`` with its data root, exec root, pid file and socket under ``root``; no bridge, no iptables (so
    containers run with ``--network none``). Returns it and the environment its CLI needs."""
    root.mkdir(parents=True, exist_ok=True)
    env = {"DOCKER_HOST": f"unix://{root}/docker.sock"}
    argv = [
        "dockerd", "--storage-driver", "overlay2", "--iptables=false", "--ip6tables=false", "--bridge=none",
        "--ip-masq=false", "--data-root", str(root / "data"), "--exec-root", str(root / "exec"),
        "--pidfile", str(root / "dockerd-own.pid"), "--host", env["DOCKER_HOST"],
    ]  # fmt: skip
    return Daemon("dockerd", argv, root, _answers([DOCKER, "version"], env)), env


CONTAINERD_CONFIG = """\
version = 2
root = "{root}/root"
state = "{root}/state"
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.devmapper"]
[grpc]
  address = "{root}/containerd.sock"
[ttrpc]
  address = "{root}/containerd.sock.ttrpc"
[debug]
  address = "{root}/debug.sock"
[plugins."io.containerd.internal.v1.opt"]
  path = "{root}/opt"
"""


def start_containerd(root: Path) -> tuple[Daemon, dict[str, str]]:
    """A standalone ``containerd`` with its root, state, sockets and config under ``root`` (no CRI). Returns it and
    the environment ``ctr`` needs."""
    root.mkdir(parents=True, exist_ok=True)
    config = root / "config.toml"
    config.write_text(CONTAINERD_CONFIG.format(root=root))
    env = {"CONTAINERD_ADDRESS": str(root / "containerd.sock")}
    argv = ["containerd", "--config", str(config)]
    return Daemon("containerd", argv, root, _answers(["ctr", "version"], env)), env


STORAGE_CONF = """\
[storage]
driver = "vfs"
runroot = "{root}/run"
graphroot = "{root}/graph"
"""

# Without CAP_SYS_RESOURCE runc cannot raise rlimits to podman's defaults ("error setting rlimit type 7").
CONTAINERS_CONF = """\
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "{root}/events.log"
tmp_dir = "{root}/tmp"
"""


def containers_storage(root: Path) -> dict[str, str]:
    """Private storage (vfs) and engine configuration for podman and buildah under ``root``; returns the
    environment that points them there. (Each test adds its own ``registries.conf``.)"""
    for sub in ("run", "graph", "tmp"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    (root / "storage.conf").write_text(STORAGE_CONF.format(root=root))
    (root / "containers.conf").write_text(CONTAINERS_CONF.format(root=root))
    return {"CONTAINERS_STORAGE_CONF": str(root / "storage.conf"), "CONTAINERS_CONF": str(root / "containers.conf")}
