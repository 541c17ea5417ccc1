"""The workload groups. Each measures the registry servers and the baselines its ratios need, adding rows."""

from __future__ import annotations

import hashlib
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from functools import partial

from pytest_ociregistry import OCIRegistry, Options
from pytest_ociregistry import content as builders
from pytest_ociregistry.cases import assert_case
from pytest_ociregistry.tables import REFERENCE

from . import baselines, wrk
from .baselines import FLOORS, HTTP_SERVER, KEEPALIVE, REPLAY, WERKZEUG
from .client import (
    OCI_MANIFEST,
    BenchmarkError,
    Connection,
    Content,
    Image,
    cancel_upload,
    get_manifest,
    head_manifest,
    list_pages,
    make_image,
    mount_image,
    on_threads,
    payload,
    pull,
    pull_hashed,
    pull_range,
    push_chunked,
    push_image,
    push_post_put,
    push_single,
    push_stream,
    put_manifest,
    requests_per_second,
    start_upload,
)
from .config import Config, MiB, size_label
from .httpfloor import UPLOAD
from .pytestrun import pytest_run
from .servers import DIST_FS, DIST_MEM, OURS, OURS_PROC, Pool, registry_names, starter
from .serving import Server, fits, free_port, peak_rss, spawned
from .stats import MB, Key, Results, Row, Stat, interleaved, millis, rate, runs, timed

SHA256 = "sha256"
LOOPBACK = "loopback"
SEED_THREADS = 8
CATALOG_PAGE = 1000
"""The largest ``n`` distribution accepts on _catalog (it answers 400 PAGINATION_NUMBER_INVALID above)."""


@dataclass
class Context:
    config: Config
    pool: Pool
    results: Results

    def servers(self) -> list[Server]:
        return self.pool.all()

    def add(
        self,
        bench: str,
        server: str,
        stat: Stat,
        unit: str,
        *,
        higher: bool,
        baseline: Key | None = None,
        note: str = "",
    ) -> None:
        self.results.add(Row(bench, server, stat, unit, higher, baseline, note))
        print(f"  {bench:<28} {server:<10} {stat.median:>12.3f} {unit}", flush=True)

    def hash_baseline(self, blob: Content) -> Key:
        """sha256 over ``blob`` (in MB/s), measured once per size."""
        return self._per_size_baseline("hash", SHA256, blob, baselines.sha256_seconds)

    def copy_baseline(self, blob: Content) -> Key:
        """A loopback TCP copy of ``blob`` (in MB/s), measured once per size."""
        return self._per_size_baseline("copy", LOOPBACK, blob, baselines.loopback_copy_seconds)

    def _per_size_baseline(self, prefix: str, name: str, blob: Content, seconds_for: Callable[[bytes], float]) -> Key:
        data = blob.data
        key = (f"{prefix}.{size_label(len(data))}", name)
        if self.results.get(*key) is None:
            count = self.config.per_sample(len(data))
            seconds = runs(self.config.reps_for(len(data)), lambda: sum(seconds_for(data) for _ in range(count)))
            self.add(key[0], name, rate(len(data) * count, seconds.samples), "MB/s", higher=True)
        return key


def throughput(cfg: Config, size: int, action: Callable[[], object]) -> Stat:
    """MB/s of ``action`` moving ``size`` bytes, repeated within each run when small."""
    count = cfg.per_sample(size)
    seconds = runs(cfg.reps_for(size), lambda: timed(lambda: [action() for _ in range(count)]))
    return rate(size * count, seconds.samples)


def split(items: list, parts: int) -> list[list]:  # type: ignore[type-arg]
    return [items[i::parts] for i in range(parts)]


# Fixture ------------------------------------------------------------------------------------------------------------


def fixture(ctx: Context) -> None:
    cfg = ctx.config

    def enter_seconds(factory: Callable[[], object]) -> float:
        manager = factory()
        start = timed(manager.__enter__)  # type: ignore[attr-defined]
        manager.__exit__(None, None, None)  # type: ignore[attr-defined]
        return start

    floor_start = runs(
        cfg.fixture_reps, lambda: enter_seconds(lambda: baselines.floor_server(baselines.FLOORS[WERKZEUG]))
    )
    ctx.add(
        "fixture.start", WERKZEUG, millis(floor_start), "ms", higher=False, note="make_server + thread, do-nothing app"
    )
    ours_start = runs(cfg.fixture_reps, lambda: enter_seconds(starter(OURS)))
    ctx.add(
        "fixture.start",
        OURS,
        millis(ours_start),
        "ms",
        higher=False,
        baseline=("fixture.start", WERKZEUG),
        note="OCIRegistry() + start()",
    )

    with baselines.floor_server(baselines.FLOORS[KEEPALIVE]) as url, Connection(url) as conn:
        requests = 200
        one = runs(
            cfg.fixture_reps, lambda: timed(lambda: [conn.request("GET", "/") for _ in range(requests)]) / requests
        )
    ctx.add(
        "fixture.request", KEEPALIVE, millis(one), "ms", higher=False, note="one keep-alive request, do-nothing app"
    )

    registry = OCIRegistry()
    registry.start()
    try:

        def reset_seconds() -> float:
            seed_objects(registry, cfg.reset_objects)
            return timed(registry.reset)

        reset = runs(cfg.fixture_reps, reset_seconds)
        ctx.add(
            f"fixture.reset.{cfg.reset_objects}",
            OURS,
            millis(reset),
            "ms",
            higher=False,
            baseline=("fixture.request", KEEPALIVE),
            note="ratio: in do-nothing requests",
        )

        cases = [case for case in REFERENCE if not case.skip]

        def table_seconds() -> float:
            def run() -> None:
                for case in cases:
                    registry.reset()
                    assert_case(registry.url, case)

            return timed(run)

        table = runs(cfg.big_reps, table_seconds)
    finally:
        registry.stop()
    requests = sum(len(c.manifests) + len(c.digests) + len(c.blob_stream) + 1 for c in cases)
    with baselines.floor_server(baselines.FLOORS[WERKZEUG]) as url:

        def fresh_requests() -> float:
            def run() -> None:
                for _ in range(requests):
                    with Connection(url) as conn:
                        conn.request("GET", "/")

            return timed(run)

        floor = runs(cfg.big_reps, fresh_requests)
    ctx.add(
        "fixture.reference",
        WERKZEUG,
        millis(floor),
        "ms",
        higher=False,
        note=f"{requests} requests on fresh connections, do-nothing app",
    )
    ctx.add(
        "fixture.reference",
        OURS,
        millis(table),
        "ms",
        higher=False,
        baseline=("fixture.reference", WERKZEUG),
        note=f"{len(cases)} cases, {requests} requests",
    )


def seed_objects(registry: OCIRegistry, count: int, blob_size: int = 0) -> None:
    """``count`` objects straight into the store: half blobs (at least ``blob_size`` bytes), half tagged manifests,
    over ten repositories."""
    for i in range(count // 2):
        repo = f"bench/reset{i % 10}"
        registry.push_blob(repo, (b"blob %d " % i).ljust(blob_size, b"."))
        registry.push_manifest(repo, f"t{i}", b'{"schemaVersion":2,"n":%d}' % i)


# Small requests -----------------------------------------------------------------------------------------------------


REPLAYED = {"head": "HEAD", "get": "GET"}
"""The small operations whose answers the replaying floor sends (by method)."""


def small_servers(ctx: Context, image: Image, repo: str) -> tuple[list[Server], Server, dict[str, str]]:
    """The registries with ``image`` pushed as ``repo:latest``; the one whose answers are replayed (ours-proc, else
    ours); and those answers to the manifest's HEAD and GET, by request line (:func:`baselines.capture`). Replayed
    byte for byte by a do-nothing ``http.server``, they show what a server no costlier than the floor makes sending
    them to the client measuring (the floor answers a ping with three header lines)."""
    servers = ctx.servers()
    for server in servers:
        with Connection(server.url) as conn:
            push_image(conn, repo, image)
    by_name = {server.name: server for server in servers}
    ours = by_name.get(OURS_PROC) or by_name[OURS]
    manifest = f"/v2/{repo}/manifests/latest"
    answers = {
        f"{method} {manifest}": baselines.capture(ours.url, method, manifest, {"Accept": OCI_MANIFEST})
        for method in REPLAYED.values()
    }
    return servers, ours, answers


def floor_note(name: str, baseline: Key | None, ours: Server) -> str:
    """A small-request row's note: what each floor is (a row with no baseline is one); none for a server's row."""
    if name == REPLAY:
        return f"do-nothing http.server sending {ours.name}'s answer"
    if baseline is not None:
        return ""
    return "do-nothing, own process" if name == HTTP_SERVER else "do-nothing app"


def small(ctx: Context) -> None:
    """Requests per second (ping, manifest HEAD and GET) against do-nothing servers answering pings, in interleaved
    rounds: before each operation's servers, each floor for as long as each server (a shorter run measures fewer
    requests per second on 8 threads: their start and end take a larger share of it), its sample the mean of the
    three."""
    cfg = ctx.config
    image, repo = make_image(), "bench/small"
    operations: dict[str, Callable[[Connection], object]] = {
        "ping": lambda conn: conn.request("GET", "/v2/"),
        "head": lambda conn: head_manifest(conn, repo, "latest", image.digest),
        "get": lambda conn: get_manifest(conn, repo, "latest", image.digest),
    }
    seconds = cfg.small_seconds

    def measure(url: str, threads: int, work: Callable[[Connection], object]) -> Callable[[], float]:
        return lambda: requests_per_second(url, threads, seconds, work)

    servers, ours, answers = small_servers(ctx, image, repo)
    plan: list[tuple[tuple[str, str, Key | None], Callable[[], float]]] = []  # keys: (bench, server, baseline)
    with ExitStack() as stack:
        floors = {name: stack.enter_context(baselines.floor_server(handler)) for name, handler in FLOORS.items()}
        floors[HTTP_SERVER] = stack.enter_context(baselines.http_server_floor())
        replay = stack.enter_context(baselines.http_server_floor(answers))
        for threads in cfg.small_threads:
            floor = f"small.floor.t{threads}"
            for op, work in operations.items():
                for name, url in floors.items():
                    plan.append(((floor, name, None), measure(url, threads, operations["ping"])))
                bench = f"small.{op}.t{threads}"
                for server in servers:
                    plan.append(((bench, server.name, (floor, KEEPALIVE)), measure(server.url, threads, work)))
                if op in REPLAYED:
                    plan.append(((bench, REPLAY, (floor, KEEPALIVE)), measure(replay, threads, work)))
        stats = interleaved("small", cfg.small_reps, plan)
    for (bench, name, baseline), stat in stats.items():
        ctx.add(bench, name, stat, "req/s", higher=True, baseline=baseline, note=floor_note(name, baseline, ours))


def server_bound(ctx: Context) -> None:
    """Ping and manifest GET per second as wrk measures them (:mod:`benchmarks.wrk`), on 1 and 8 connections, and
    PATCHes of the smallest chunk size on one, in interleaved rounds beside the do-nothing ``http.server`` (and its
    replay of ours): the servers' own rates, with almost nothing of the client's in them."""
    if (why := wrk.missing()) is not None:
        print(f"(wrk: skipped, {why})")
        return
    cfg = ctx.config
    image, repo = make_image(), "bench/small"
    servers, ours, answers = small_servers(ctx, image, repo)
    paths = {"ping": ("/v2/", {}), "get": (f"/v2/{repo}/manifests/latest", {"Accept": OCI_MANIFEST})}
    chunk = min(cfg.chunk_sizes)

    def measure(url: str, connections: int, op: str) -> Callable[[], float]:
        path, headers = paths[op]
        return lambda: wrk.requests_per_second(url + path, connections, cfg.small_seconds, headers)

    def patches(url: str) -> float:  # to a fresh upload, cancelled after
        with Connection(url) as conn:
            location = start_upload(conn, repo)
            try:
                return wrk.chunk_rate(url + location, chunk, cfg.small_seconds)
            finally:
                cancel_upload(conn, location)

    plan: list[tuple[tuple[str, str, Key | None], Callable[[], float]]] = []
    with baselines.http_server_floor() as floor_url, baselines.http_server_floor(answers) as replay:
        for connections in cfg.small_threads:
            floor = (f"wrk.floor.c{connections}", HTTP_SERVER)
            for op in paths:
                plan.append(((*floor, None), measure(floor_url, connections, "ping")))
                bench = f"wrk.{op}.c{connections}"
                plan += [((bench, s.name, floor), measure(s.url, connections, op)) for s in servers]
                if op in REPLAYED:
                    plan.append(((bench, REPLAY, floor), measure(replay, connections, op)))
        uploads = (f"wrk.chunked.{size_label(chunk)}", HTTP_SERVER)
        plan.append(((*uploads, None), lambda: wrk.chunk_rate(floor_url + UPLOAD, chunk, cfg.small_seconds)))
        plan += [((uploads[0], s.name, uploads), partial(patches, s.url)) for s in servers]
        stats = interleaved("wrk", cfg.small_reps, plan)
    for (bench, name, baseline), stat in stats.items():
        unit = "MB/s" if bench.startswith("wrk.chunked.") else "req/s"
        ctx.add(bench, name, stat, unit, higher=True, baseline=baseline, note=floor_note(name, baseline, ours))


# Push and pull ------------------------------------------------------------------------------------------------------


def push(ctx: Context) -> None:
    cfg = ctx.config
    repo = "bench/push"
    for size in cfg.blob_sizes:
        blob, label = payload(size), size_label(size)
        base = ctx.hash_baseline(blob)
        for server in ctx.servers():
            if not fits(server, size):
                continue
            with Connection(server.url) as conn:
                if server.single_post:
                    stat = throughput(cfg, size, lambda: push_single(conn, repo, blob))
                    ctx.add(f"push.single.{label}", server.name, stat, "MB/s", higher=True, baseline=base)
                stat = throughput(cfg, size, lambda: push_post_put(conn, repo, blob))
                ctx.add(f"push.post_put.{label}", server.name, stat, "MB/s", higher=True, baseline=base)


def pull_group(ctx: Context) -> None:
    cfg = ctx.config
    repo = "bench/pull"
    blobs = [payload(size) for size in cfg.blob_sizes]
    largest = blobs[-1]
    offset = (largest.size - cfg.range_size) // 2
    for server in ctx.servers():
        with Connection(server.url) as conn:
            for blob in blobs:
                if fits(server, blob.size):
                    push_post_put(conn, repo, blob)
    for blob in blobs:
        base = ctx.copy_baseline(blob)
        for server in ctx.servers():
            if not fits(server, blob.size):
                continue
            with Connection(server.url) as conn:
                stat = throughput(cfg, blob.size, lambda: pull(conn, repo, blob))
            ctx.add(f"pull.{size_label(blob.size)}", server.name, stat, "MB/s", higher=True, baseline=base)
    base = ctx.copy_baseline(payload(cfg.range_size))
    for server in ctx.servers():
        if not fits(server, largest.size):
            continue
        with Connection(server.url) as conn:

            def reads() -> None:
                for _ in range(cfg.range_reads):
                    pull_range(conn, repo, largest, offset, cfg.range_size)

            seconds = runs(cfg.reps, lambda: timed(reads))
        ctx.add(
            f"pull.range.{size_label(cfg.range_size)}",
            server.name,
            rate(cfg.range_size * cfg.range_reads, seconds.samples),
            "MB/s",
            higher=True,
            baseline=base,
            note=f"of a {size_label(largest.size)} blob",
        )


# Chunked upload -----------------------------------------------------------------------------------------------------


def decile_ratio(latencies: list[float]) -> float:
    """The median latency of the last tenth of the PATCHes over that of the first tenth."""
    tenth = max(1, len(latencies) // 10)
    return statistics.median(latencies[-tenth:]) / statistics.median(latencies[:tenth])


def chunked(ctx: Context) -> None:
    """Uploads of ``chunked_total`` bytes in PATCHes of each size: every server, a do-nothing ``http.server`` and
    sha256 over the same bytes (the rows' baseline), in interleaved rounds; a fresh upload each time."""
    cfg = ctx.config
    full = payload(cfg.chunked_total, seed=1)
    base = (f"chunked.hash.{size_label(full.size)}", SHA256)
    latencies: dict[Key, list[list[float]]] = defaultdict(list)

    def upload(key: Key, url: str, blob: Content, chunk_size: int) -> Callable[[], float]:
        def measure() -> float:
            with Connection(url) as conn:
                began = time.perf_counter()
                latencies[key].append(push_chunked(conn, "bench/chunked", blob, chunk_size))
                return blob.size / (time.perf_counter() - began) / MB

        return measure

    notes: dict[Key, str] = {base: "sha256 over the same bytes, in the same rounds"}
    plan: list[tuple[Key, Callable[[], float]]] = []
    servers = ctx.servers()
    with baselines.http_server_floor() as floor_url:
        for chunk_size in cfg.chunk_sizes:
            bench = f"chunked.{size_label(chunk_size)}x{cfg.chunked_total // chunk_size}"
            plan.append((base, lambda: full.size / baselines.sha256_seconds(full.data) / MB))
            plan.append(((bench, HTTP_SERVER), upload((bench, HTTP_SERVER), floor_url, full, chunk_size)))
            notes[bench, HTTP_SERVER] = "do-nothing, own process: reads each PATCH and answers 202"
            for server in servers:
                patches = cfg.chunked_total // chunk_size
                if server.slow_patches:
                    patches = min(patches, cfg.slow_patches)
                blob = full if patches * chunk_size == full.size else payload(patches * chunk_size, seed=1)
                if fits(server, blob.size):
                    plan.append(((bench, server.name), upload((bench, server.name), server.url, blob, chunk_size)))
                    if blob is not full:
                        notes[bench, server.name] = f"only {patches} PATCHes ({size_label(blob.size)}): slow per PATCH"
        stats = interleaved("chunked", cfg.big_reps, plan)
    for key, stat in stats.items():
        bench, name = key
        ctx.add(bench, name, stat, "MB/s", higher=True, baseline=None if key == base else base, note=notes.get(key, ""))
        if name not in (SHA256, HTTP_SERVER):
            deciles = Stat(tuple(decile_ratio(one) for one in latencies[key]), stat.rounds)
            ctx.add(f"{bench}.decile", name, deciles, "x", higher=False, baseline=(f"{bench}.decile", DIST_FS),
                    note="last/first decile PATCH latency")


# Parallel push ------------------------------------------------------------------------------------------------------


def parallel(ctx: Context) -> None:
    cfg = ctx.config
    threads, count, size = cfg.parallel_threads, cfg.parallel_blobs, cfg.parallel_size
    base = payload(size, seed=2).data
    blobs = [Content.of(i.to_bytes(8, "big") + base[8:]) for i in range(threads * count)]
    jobs = [[(f"bench/parallel{t}", blobs[t * count + i]) for i in range(count)] for t in range(threads)]
    total = size * threads * count
    bench = f"parallel.{threads}x{count}x{size_label(size)}"
    hashing = runs(cfg.big_reps, lambda: timed(lambda: [hashlib.sha256(b.data).digest() for b in blobs]))
    ctx.add(bench, SHA256, rate(total, hashing.samples), "MB/s", higher=True, note="one thread hashing it all")

    def work(conn: Connection, job: tuple[str, Content]) -> None:
        push_post_put(conn, *job)

    for server in ctx.servers():
        if not fits(server, size):
            continue
        seconds = runs(cfg.big_reps, lambda: on_threads(server.url, jobs, work))
        ctx.add(bench, server.name, rate(total, seconds.samples), "MB/s", higher=True, baseline=(bench, SHA256))


# Listing ------------------------------------------------------------------------------------------------------------


def listing(ctx: Context) -> None:
    cfg = ctx.config
    image, repo = make_image(), "bench/list"
    tags = [f"t{i:05d}" for i in range(cfg.tags)]
    names = [f"bench/cat{i:05d}" for i in range(cfg.repositories)]
    tags_bench, walk_bench = f"list.tags.{cfg.tags}", f"list.tags.{cfg.tags}.walk{cfg.page}"
    catalog_bench = f"list.catalog.{cfg.repositories}"
    for server in ctx.servers():
        with Connection(server.url) as conn:
            push_image(conn, repo, image, ())
        on_threads(server.url, split(tags, SEED_THREADS), lambda conn, tag: put_manifest(conn, repo, tag, image))
        on_threads(server.url, split(names, SEED_THREADS), lambda conn, name: mount_image(conn, name, repo, image))

        with Connection(server.url) as conn:

            def listed(path: str, key: str, want: list[str]) -> tuple[float, int]:
                got: list[tuple[list[str], int]] = []
                seconds = timed(lambda: got.append(list_pages(conn, path, key)))
                items, pages = got[0]
                if not set(want) <= set(items) or len(items) != len(set(items)):
                    raise BenchmarkError(f"{server.name} {path}: {len(items)} items, not the {len(want)} pushed")
                return seconds, pages

            def measure(bench: str, path: str, key: str, want: list[str]) -> None:
                samples = [listed(path, key, want) for _ in range(cfg.reps)]
                pages = samples[0][1]
                ctx.add(
                    bench,
                    server.name,
                    millis(Stat(tuple(s for s, _ in samples))),
                    "ms",
                    higher=False,
                    baseline=None if server.name == DIST_MEM else (bench, DIST_MEM),
                    note=f"{pages} page{'s' if pages > 1 else ''}",
                )

            measure(tags_bench, f"/v2/{repo}/tags/list", "tags", tags)
            measure(walk_bench, f"/v2/{repo}/tags/list?n={cfg.page}", "tags", tags)
            measure(catalog_bench, f"/v2/_catalog?n={CATALOG_PAGE}", "repositories", names)
            if server.name in (OURS, OURS_PROC):  # distribution 2.8 does not page tags
                page_costs(ctx, conn, server.name, repo, tags)


def page_costs(ctx: Context, conn: Connection, server: str, repo: str, tags: list[str]) -> None:
    """The first and the last page of a long tag list: pages must cost the same wherever they start."""
    cfg = ctx.config
    first = f"list.tags.{cfg.tags}.page.first"
    for bench, after in ((first, None), (f"list.tags.{cfg.tags}.page.last", tags[-cfg.page - 1])):
        query = f"n={cfg.page}" + (f"&last={after}" if after else "")
        want = tags[: cfg.page] if after is None else tags[-cfg.page :]

        def one_page() -> None:
            items, _ = list_pages(conn, f"/v2/{repo}/tags/list?{query}", "tags", follow=False)
            if items != want:
                raise BenchmarkError(f"{server} page {query}: wrong tags")

        samples = [timed(one_page) for _ in range(cfg.reps * 20)]
        ctx.add(bench, server, millis(Stat(tuple(samples))), "ms", higher=False,
                baseline=None if bench == first else (first, server), note=f"one page of {cfg.page}")


# Memory -------------------------------------------------------------------------------------------------------------


def memory(ctx: Context) -> None:
    """Peak RSS growth of a registry process across one push and pull of a large blob, streamed both ways."""
    cfg = ctx.config
    size = cfg.memory_size
    blob = payload(size, seed=3)
    bench = f"memory.push_pull.{size_label(size)}"
    for name in [n for n in registry_names() if n != OURS]:
        growth = []
        for _ in range(cfg.big_reps):
            with starter(name)() as server, Connection(server.url) as conn:
                if not fits(server, size):
                    break
                assert server.pid is not None
                conn.request("GET", "/v2/")
                before = peak_rss(server.pid)
                push_post_put(conn, "bench/memory", blob, streamed=True)
                pull(conn, "bench/memory", blob)
                growth.append(peak_rss(server.pid) - before)
        if not growth:
            continue
        ctx.add(
            bench,
            name,
            Stat(tuple(g / size for g in growth)),
            "x blob",
            higher=False,
            baseline=None if name == DIST_FS else (bench, DIST_FS),
            note=f"peak RSS +{statistics.median(growth) / MiB:.0f} MiB",
        )


# Layouts and baselines ---------------------------------------------------------------------------------------------


def layout(ctx: Context) -> None:
    """Reset to a baseline of ``reset_objects`` objects, small and holding ``memory_size`` bytes (the time must not
    grow with the bytes), and ``load`` of a layout directory from disk against sha256 over the same bytes."""
    cfg = ctx.config
    size = cfg.memory_size
    for label, blob_size in (("small", 16), (size_label(size), size // (cfg.reset_objects // 2))):
        registry = OCIRegistry()
        seed_objects(registry, cfg.reset_objects, blob_size)
        registry.baseline = registry.snapshot()

        def reset_seconds(registry: OCIRegistry = registry) -> float:
            registry.push_blob("bench/reset0", b"test content")
            return timed(registry.reset)

        ctx.add(
            f"layout.reset.{cfg.reset_objects}.{label}",
            OURS,
            millis(runs(cfg.fixture_reps, reset_seconds)),
            "ms",
            higher=False,
            baseline=None if label == "small" else (f"layout.reset.{cfg.reset_objects}.small", OURS),
            note="reset() back to a baseline" + ("" if label == "small" else "; ratio: to the small baseline"),
        )
    blob = payload(size, seed=4)
    with tempfile.TemporaryDirectory(prefix="bench-layout-") as work:
        source = OCIRegistry()
        source.push("bench/layout", builders.image([blob.data], compress=False), "1")
        source.export("bench/layout:1", f"{work}/layout")
        del source
        ctx.add(
            f"layout.load.{size_label(size)}",
            OURS,
            throughput(cfg, size, lambda: OCIRegistry().load(f"{work}/layout")),
            "MB/s",
            higher=True,
            baseline=ctx.hash_baseline(blob),
            note="a layout directory, every blob verified; ratio: sha256 over the same bytes in memory",
        )


def spill(ctx: Context) -> None:
    """Push (POST + PUT) and pull of a ``spill_size`` blob with ``blob_spill_size`` (1 MiB: the bytes on disk)
    against the same in memory, both in-process, the two registries taking turns within each run (same-run ratios);
    then the memory a spilling ``python -m pytest_ociregistry`` grows by across a ``spill_total`` chunked push and
    its pull."""
    cfg = ctx.config
    size, label = cfg.spill_size, size_label(cfg.spill_size)
    blob = payload(size, seed=5)
    names = ("memory", "spilled")
    registries = {name: OCIRegistry(Options(blob_spill_size=MiB if name == "spilled" else None)) for name in names}
    seconds: dict[tuple[str, str], list[float]] = {(name, op): [] for name in names for op in ("push", "pull")}
    for registry in registries.values():
        registry.start()
    try:
        conns = {name: Connection(registry.url) for name, registry in registries.items()}
        for rep in range(cfg.big_reps):
            for name in names if rep % 2 == 0 else names[::-1]:
                seconds[name, "push"].append(timed(lambda: push_post_put(conns[name], "bench/spill", blob)))
                seconds[name, "pull"].append(timed(lambda: pull(conns[name], "bench/spill", blob)))
        for conn in conns.values():
            conn.close()
    finally:
        for registry in registries.values():
            registry.stop()
    for op in ("push", "pull"):
        for name in names:
            bench = f"spill.{op}.{label}.{name}"
            base = None if name == "memory" else (f"spill.{op}.{label}.memory", OURS)
            stat = rate(size, seconds[name, op])
            ctx.add(bench, OURS, stat, "MB/s", higher=True, baseline=base, note="ratio: to the blob in memory, same runs")
    spill_memory(ctx)


def spill_memory(ctx: Context) -> None:
    """Peak RSS growth of ``python -m pytest_ociregistry --option blob_spill_size=1048576`` across a push of
    ``spill_total`` bytes in ``spill_chunk`` PATCHes and a pull of it (hashed by the client as it comes)."""
    cfg = ctx.config
    total, chunk = cfg.spill_total, cfg.spill_chunk
    base = payload(chunk, seed=6).data

    def chunks() -> Iterator[bytes]:
        for i in range(total // chunk):
            yield base[i:] + base[:i]  # different bytes in each chunk

    port = free_port()
    argv = [sys.executable, "-m", "pytest_ociregistry", "--port", str(port), "--option", f"blob_spill_size={MiB}"]
    with spawned(argv, port) as (url, pid), Connection(url) as conn:
        conn.request("GET", "/v2/")
        before = peak_rss(pid)
        digest = push_stream(conn, "bench/spill-chunked", chunks())
        if pull_hashed(conn, "bench/spill-chunked", digest) != total:
            raise BenchmarkError("the chunked blob pulled back at another size")
        growth = peak_rss(pid) - before
    ctx.add(
        f"spill.memory.chunked.{size_label(total)}",
        OURS_PROC,
        Stat((growth / MiB,)),
        "MiB",
        higher=False,
        note=f"peak RSS growth across the push in {size_label(chunk)} PATCHes and the pull (one run)",
    )


GROUPS: dict[str, Callable[[Context], None]] = {
    "fixture": fixture,
    "pytest": pytest_run,
    "listing": listing,
    "small": small,
    "wrk": server_bound,
    "push": push,
    "pull": pull_group,
    "chunked": chunked,
    "parallel": parallel,
    "memory": memory,
    "layout": layout,
    "spill": spill,
}
