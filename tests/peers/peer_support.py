"""Running other projects' own test suites against a registry: their sdists, the registries they run against (this
project's command line, or Debian's ``docker-registry`` with a token server of ours), a suite run in a subprocess
with JUnit XML output, and the comparison of two runs' outcomes, test by test.

Imported by the outer tests (``test_*_suite.py``) and by the adapters that run inside the suites
(``oras_adapter.py``, ``dxf_conftest.py``): a registry is described by the environment variable ``PEER_REGISTRY``
(``ours:<preset>`` or ``docker-registry``) and started by :func:`start_registry`.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import fcntl
import os
import shutil
import socket
import subprocess
import sys
import tarfile
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

HERE = Path(__file__).parent
CACHE = Path(os.environ.get("PYTEST_OCIREGISTRY_PEERS", Path.home() / ".cache" / "pytest-ociregistry" / "peers"))
"""Where the sdists are kept (``.ci/run`` may fill it beforehand with ``pip download``)."""
DOCKER_REGISTRY = "docker-registry"


def missing(reason: str) -> None:
    """A component the peer suites need is missing: skip, saying which (under ``CI=true`` the suite's
    ``ci_skips`` plugin makes that a failure)."""
    pytest.skip(reason)


def require(*modules: str) -> None:
    """What every peer run needs, checked before starting: Debian's ``docker-registry``, the C library's bcrypt (for
    its htpasswd), and ``modules`` (trustme for TLS, each suite's own dependencies)."""
    if shutil.which(DOCKER_REGISTRY) is None:
        missing("docker-registry (CNCF distribution 2.8, Debian package docker-registry) is not installed")
    for module in modules:
        try:
            __import__(module)
        except ImportError:
            missing(f"{module} is not installed (the test and tls extras bring it)")
    bcrypt_hash("check")


# The sdists ------------------------------------------------------------------------------------------------------


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive lock on ``path`` (xdist workers share the cache and the baselines)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def sdist(requirement: str, filename: str) -> Path:
    """The sdist ``filename`` of ``requirement`` (``oras==0.2.43``) from the cache, downloaded from PyPI with pip
    the first time."""
    target = CACHE / filename
    with _locked(CACHE / ".lock"):
        if not target.is_file():
            command = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:",
                       "--dest", str(CACHE), requirement]
            done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
            if done.returncode != 0 or not target.is_file():
                missing(f"cannot download the sdist {requirement} from PyPI: {done.stderr.strip()[-500:]}")
    return target


def unpack(archive: Path, into: Path) -> Path:
    """Unpack an sdist; returns its top directory."""
    with tarfile.open(archive) as tar:
        tar.extractall(into, filter="data")
    [top] = [p for p in into.iterdir() if p.is_dir()]
    return top


# Registries ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AuthSetup:
    """The auth a suite's configuration wants: ``basic`` (distribution's htpasswd: any user may do everything) or
    ``token`` (a token server: the user may do everything, anonymous callers may list the catalog, as python-dxf's
    docker_auth configuration says)."""

    mode: str
    user: str
    password: str


@dataclass
class Registry:
    """A running registry: ``host`` is ``127.0.0.1:PORT``; ``ca_bundle`` the CA to trust with TLS."""

    kind: str
    host: str
    tls: bool
    ca_bundle: str | None
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    work: Path | None = None

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.host}"

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self.work is not None:
            shutil.rmtree(self.work, ignore_errors=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def start_registry(kind: str, work: Path, *, tls: bool = False, auth: AuthSetup | None = None) -> Registry:
    """Start ``ours:<preset>`` (``python -m pytest_ociregistry``) or ``docker-registry`` (in-memory storage, deletes
    on), with TLS and auth as asked; ``work`` is a directory of its own."""
    work.mkdir(parents=True, exist_ok=True)
    if kind.startswith("ours:"):
        return _start_ours(kind.removeprefix("ours:"), work, tls, auth)
    if kind == DOCKER_REGISTRY:
        return _start_docker_registry(work, tls, auth)
    raise ValueError(f"unknown registry kind {kind!r}")


def _start_ours(preset: str, work: Path, tls: bool, auth: AuthSetup | None) -> Registry:
    command = [sys.executable, "-m", "pytest_ociregistry", "--preset", preset]
    command += ["--tls"] if tls else []
    if auth is not None and auth.mode == "basic":
        command += ["--auth", f"basic:{auth.user}:{auth.password}"]
    elif auth is not None:
        command += ["--auth", f"bearer:{auth.user}:{auth.password}", "--anonymous-catalog"]
    stderr = (work / "stderr").open("wb")
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=stderr)
    assert process.stdout is not None
    url = process.stdout.readline().decode().strip()
    if not url:
        process.wait(10)
        raise RuntimeError(f"{' '.join(command)} exited: {(work / 'stderr').read_text()[-2000:]}")
    ca_bundle = None
    if tls:
        deadline = time.monotonic() + 10
        while "CA bundle: " not in (text := (work / "stderr").read_text()) and time.monotonic() < deadline:
            time.sleep(0.01)
        ca_bundle = text.split("CA bundle: ", 1)[1].splitlines()[0]
    return Registry(f"ours:{preset}", url.split("://", 1)[1], tls, ca_bundle, [process])


def bcrypt_hash(password: str) -> str:
    """A bcrypt hash for an htpasswd file (distribution takes bcrypt only), from the C library's ``crypt``."""
    name = ctypes.util.find_library("crypt")
    if name is None:
        missing("libcrypt (for a bcrypt htpasswd) is not available")
    lib = ctypes.CDLL(name)
    lib.crypt_gensalt.restype = ctypes.c_char_p
    lib.crypt.restype = ctypes.c_char_p
    salt = lib.crypt_gensalt(b"$2y$", 5, None, 0)
    hashed = lib.crypt(password.encode(), salt) if salt else None
    if not hashed or not hashed.startswith(b"$2"):
        missing("the C library's crypt() cannot make bcrypt hashes")
    return bytes(hashed).decode()


def _start_docker_registry(work: Path, tls: bool, auth: AuthSetup | None) -> Registry:
    executable = shutil.which(DOCKER_REGISTRY)
    if executable is None:
        missing("docker-registry (CNCF distribution 2.8, Debian package docker-registry) is not installed")
    port = free_port()
    config = ["version: 0.1", "log: {level: error}", "storage: {inmemory: {}, delete: {enabled: true}}",
              "http:", f"  addr: 127.0.0.1:{port}"]
    processes: list[subprocess.Popen[bytes]] = []
    ca_bundle = None
    if tls or auth is not None and auth.mode == "token":
        from token_server import TLSMaterial

        material = TLSMaterial(work)
        ca_bundle = str(material.ca_bundle)
        if tls:
            config += ["  tls:", f"    certificate: {material.cert}", f"    key: {material.key}"]
    if auth is not None and auth.mode == "basic":
        (work / "htpasswd").write_text(f"{auth.user}:{bcrypt_hash(auth.password)}\n")
        config += ["auth:", "  htpasswd:", "    realm: Registry Realm", f"    path: {work / 'htpasswd'}"]
    elif auth is not None:
        from token_server import start_token_server

        token = start_token_server(work, material, {auth.user: auth.password})
        processes.append(token.process)
        config += ["auth:", "  token:", f"    realm: {token.realm}", f"    service: {token.service}",
                   f"    issuer: {token.issuer}", f"    rootcertbundle: {token.root_cert}"]
    (work / "config.yml").write_text("\n".join(config) + "\n")
    log = (work / "registry.log").open("wb")
    processes.insert(0, subprocess.Popen([executable, "serve", str(work / "config.yml")], stdout=log,
                                         stderr=subprocess.STDOUT))
    registry = Registry(DOCKER_REGISTRY, f"127.0.0.1:{port}", tls, ca_bundle, processes)
    deadline = time.monotonic() + 30
    while True:
        try:
            if requests.get(f"{registry.url}/v2/", timeout=1, verify=ca_bundle or True).status_code in (200, 401):
                return registry
        except requests.ConnectionError:
            pass
        if processes[0].poll() is not None or time.monotonic() > deadline:
            registry.stop()
            raise RuntimeError(f"docker-registry did not start: {(work / 'registry.log').read_text()[-2000:]}")
        time.sleep(0.05)


# Running a suite and comparing runs ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """One test's outcome (``passed``, ``failed``, ``error``, ``skipped``) and the first line of its message."""

    status: str
    message: str = ""

    def __str__(self) -> str:
        return f"{self.status} ({self.message})" if self.message else self.status


def run_suite(command: list[str], cwd: Path, env: dict[str, str], junit: Path, timeout: float) -> dict[str, Outcome]:
    """Run a suite (``pytest`` arguments) in a subprocess; its outcomes by test id, from its JUnit XML."""
    done = subprocess.run([sys.executable, "-m", "pytest", f"--junitxml={junit}", *command], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout, check=False)
    if not junit.is_file() or done.returncode not in (0, 1):
        raise AssertionError(f"the suite did not run (exit {done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return outcomes(junit)


def outcomes(junit: Path) -> dict[str, Outcome]:
    """Each test case of a JUnit XML file by ``classname::name``."""
    found: dict[str, Outcome] = {}
    for case in ET.parse(junit).getroot().iter("testcase"):
        test_id = f"{case.get('classname')}::{case.get('name')}"
        status, message = "passed", ""
        for tag in ("error", "failure", "skipped"):
            element = case.find(tag)
            if element is not None:
                status = {"failure": "failed"}.get(tag, tag)
                message = (element.get("message") or "").strip().splitlines()[0][:200] if element.get("message") else ""
                if tag != "skipped":
                    break
        if test_id in found and found[test_id].status == "passed":  # a teardown error comes as a second case
            found[test_id] = Outcome(status, message)
        else:
            found.setdefault(test_id, Outcome(status, message))
    return found


def counts(results: dict[str, Outcome]) -> str:
    """``12 passed, 3 skipped``."""
    tally: dict[str, int] = {}
    for outcome in results.values():
        tally[outcome.status] = tally.get(outcome.status, 0) + 1
    return ", ".join(f"{n} {status}" for status, n in sorted(tally.items())) or "nothing"


@dataclass(frozen=True)
class Known:
    """A documented difference: a test (any configuration) that ``us`` and ``them`` answer differently, for
    ``reason``; our failure message starts with ``message``. Any other difference, or this one gone, fails."""

    us: str
    them: str
    message: str
    reason: str


def unexplained(
    ours: dict[str, Outcome], theirs: dict[str, Outcome], known: dict[str, Known], theirs_name: str = DOCKER_REGISTRY
) -> list[str]:
    """One line per test whose outcome differs (a skip's reason counts: it says what the suite found) unless
    ``known`` (by test id without its ``[configuration]``) explains it, and one per known difference that no longer
    happens."""
    lines, seen = [], set()
    for test_id in sorted(set(ours) | set(theirs)):
        a, b = ours.get(test_id), theirs.get(test_id)
        if a is not None and b is not None and a.status == b.status and (a.status != "skipped" or a == b):
            continue
        name = test_id.split("[")[0]
        entry = known.get(name)
        if entry and a and b and (a.status, b.status) == (entry.us, entry.them) and a.message.startswith(entry.message):
            seen.add(name)
            continue
        lines.append(f"{test_id}:\n    us: {a or 'not run'}\n    {theirs_name}: {b or 'not run'}")
    lines += [f"{name}: known to differ ({entry.reason}), but answered alike" for name, entry in known.items()
              if name not in seen]
    return lines


def baseline(name: str, base: Path, run: Callable[[Path], dict[str, Outcome]]) -> dict[str, Outcome]:
    """The outcomes of ``run()`` (a callable writing a JUnit file and returning its outcomes), computed once for
    all xdist workers: the first worker runs it, the others read its JUnit file."""
    junit = base / f"{name}.xml"
    with _locked(base / f"{name}.lock"):
        if junit.is_file():
            return outcomes(junit)
        return run(junit)


@dataclass(frozen=True)
class Suite:
    """Another project's own test suite, as its sdist ships it, and how it is run here.

    ``deselect`` and ``ignore`` map node ids and paths (relative to the sdist) to the reason they are left out;
    ``plugins`` are adapter modules of this directory loaded with ``-p``; ``conftest`` is an adapter copied in as the
    suite's ``conftest.py``."""

    name: str
    requirement: str
    filename: str
    tests: str
    deselect: dict[str, str] = field(default_factory=dict)
    ignore: dict[str, str] = field(default_factory=dict)
    plugins: tuple[str, ...] = ()
    conftest: str | None = None
    timeout: float = 600

    def run(self, work: Path, env: dict[str, str], junit: Path) -> dict[str, Outcome]:
        """Unpack a fresh copy into ``work`` (the suites write files beside their tests) and run it there, with
        ``env`` added to the environment and a ``TMPDIR`` of its own (removed after it: the suites, and the clients
        they test, leave temporary directories behind); the outcomes by test id."""
        top = unpack(sdist(self.requirement, self.filename), work)
        if self.conftest is not None:
            shutil.copy(HERE / self.conftest, top / self.tests / "conftest.py")
        (top / "peer.ini").write_text("[pytest]\naddopts =\n")
        command = ["-c", str(top / "peer.ini"), "--rootdir", str(top), "-q", "-p", "no:randomly", "-p", "no:xdist",
                   "-p", "no:cacheprovider", "-p", "no:oci_registry"]
        for plugin in self.plugins:
            command += ["-p", plugin]
        for node in self.deselect:
            command += ["--deselect", node]
        for path in self.ignore:
            command += ["--ignore", path]
        paths = os.pathsep.join([str(top), str(HERE), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)
        tmp = work / "tmp"
        tmp.mkdir()
        full_env = {**os.environ, **env, "PYTHONPATH": paths, "PYTHONDONTWRITEBYTECODE": "1", "TMPDIR": str(tmp)}
        full_env.pop("PYTEST_ADDOPTS", None)
        full_env.pop("PYTEST_XDIST_WORKER", None)
        try:
            return run_suite([*command, self.tests], top, full_env, junit, self.timeout)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def left_out(self) -> str:
        """What is left out and why, one line each."""
        return "\n".join(f"  {what}: {why}" for what, why in {**self.deselect, **self.ignore}.items())


def shared_dir(factory: pytest.TempPathFactory) -> Path:
    """A directory all xdist workers of this run share (the baselines are computed once there)."""
    base = factory.getbasetemp()
    shared = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "peer-baselines"
    shared.mkdir(exist_ok=True)
    return shared
