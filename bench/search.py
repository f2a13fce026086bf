"""Load generator for the search API (run by hand: `python -m bench.search`; not a test).

Starts the API (one uvicorn worker, as in the image) on 127.0.0.1 against a
bench database on the host MariaDB, then drives it with wrk (installed with
apt-get when missing) at fixed concurrency, each request a different query
(random substrings of real city names, so no cache can stand in for the index):

  a  /cities?q=...              the search API (answering from its in-process index)
  f  /cities?q=... on bench.floor  a minimal FastAPI app, one constant route, same uvicorn
  s  /bench/seed?q=...          the seed's full-scan query, same app and pool (--seed)

Runs alternate a f (s) a f (s) ... (this machine is noisy); medians give a/f
and a/s, with CPU per request of the API process and of mariadbd. Then:
typo-tolerant queries (real names with one or two edits) at full speed, then
open loop at half of it (bench/fixedrate.py) for their p99; the API's memory
(RSS) and start-up time; and a reload of the world under load (failed
requests, seconds until the new data answers). With --scale, it alternates
/cities on the 170k world and on a 2M+ world (cities500 plus synthetic names):
p50(2M) / p50(170k) and the memory.
"""

import argparse
import collections
import contextlib
import datetime
import math
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench import fixedrate, worlds
from searchapi.fold import fold

WORLD_DB = "weft_test_cache_bench_170k"
SCALE_DB = "weft_test_cache_bench_2m"

LUA = """
local paths = {%s}
local counter = 0
local threads = {}
function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end
function init(args)
  counter = tonumber(wrk.thread:get("id")) * 7919
end
function request()
  counter = counter + 1
  return wrk.format("GET", paths[(counter %% #paths) + 1])
end
function delay()
  return %d
end
function done(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.status + summary.errors.timeout
  io.write(string.format("RESULT %%d %%d %%d %%d %%d\\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(99), errors))
end
"""


@dataclass(frozen=True)
class Run:
    """One wrk run: throughput, latency percentiles (ms), CPU per request (µs)."""

    rps: float
    p50: float
    p99: float
    errors: int
    api_cpu_us: float = 0.0
    db_cpu_us: float = 0.0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def mariadb_pid() -> int | None:
    """The local MariaDB server's pid (only read, for CPU accounting)."""
    for path in ("/run/mysqld/mysqld.pid", "/var/run/mysqld/mysqld.pid"):
        with contextlib.suppress(OSError, ValueError):
            return int(Path(path).read_text().strip())
    return None


def ensure_wrk() -> str:
    """The wrk binary, installed from the distribution when missing."""
    path = shutil.which("wrk")
    if path:
        return path
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], check=True, env=env)
    return shutil.which("wrk") or "wrk"


def make_queries(n: int, seed: int = 3) -> list[str]:
    """`n` distinct random substrings (3-8 characters) of real city names."""
    names = worlds.city_names()
    rnd = random.Random(seed)
    out: dict[str, None] = {}
    while len(out) < n:
        name = rnd.choice(names)
        size = rnd.randint(3, 8)
        if len(name) < size:
            continue
        start = rnd.randrange(len(name) - size + 1)
        q = name[start : start + size].strip()
        if len(fold(q)) >= 3:
            out[q] = None
    return list(out)


def lua_script(
    path: str, queries: list[str], directory: Path, suffix: str = "", delay_ms: int = 0
) -> Path:
    """A wrk script cycling through `path<q>suffix` for every query (each after `delay_ms`)."""
    paths = ",".join(f'"{path}{urllib.parse.quote(q, safe="")}{suffix}"' for q in queries)
    script = directory / f"paths-{abs(hash((path, suffix, delay_ms)))}.lua"
    script.write_text(LUA % (paths, delay_ms))
    return script


def make_typos(n: int, seed: int = 5) -> list[str]:
    """`n` distinct typos (one or two edits, not on the first letter) of real city names."""
    names = [fold(x) for x in worlds.city_names() if x.isascii() and len(x) >= 5]
    rnd = random.Random(seed)
    out: dict[str, None] = {}
    while len(out) < n:
        word = rnd.choice(names)
        for _ in range(rnd.choice([1, 2])):
            i = rnd.randrange(1, len(word) - 1)
            c = rnd.choice("abcdefghijklmnopqrstuvwxyz")
            word = rnd.choice([word[:i] + c + word[i + 1 :], word[:i] + word[i + 1 :]])
        out[word] = None
    return list(out)


def rss_mb(pid: int) -> float:
    """Resident memory of a process (MB)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def run_wrk(
    wrk: str, url: str, script: Path, seconds: int, threads: int, conns: int, api_pid: int = 0
) -> Run:
    """One wrk run against `url` with `script` (and the CPU the API and MariaDB used)."""
    pids = [api_pid or None, mariadb_pid()]
    before = [cpu_seconds(p) if p else 0.0 for p in pids]
    cmd = [wrk, f"-t{threads}", f"-c{conns}", f"-d{seconds}s", "--timeout", "10s"]
    out = subprocess.run([*cmd, "-s", str(script), url], capture_output=True, text=True, check=True)
    used = [cpu_seconds(p) - b if p else 0.0 for p, b in zip(pids, before, strict=True)]
    line = next(ln for ln in out.stdout.splitlines() if ln.startswith("RESULT "))
    requests, duration_us, p50, p99, errors = (int(x) for x in line.split()[1:])
    per = 1e6 / max(requests, 1)
    return Run(
        requests / (duration_us / 1e6), p50 / 1000, p99 / 1000, errors, used[0] * per, used[1] * per
    )


UVICORN = ["--host", "127.0.0.1", "--no-access-log", "--log-level", "warning"]


class Floor:
    """bench.floor's app in a child process, run exactly as the search API is."""

    def __init__(self, port: int) -> None:
        cmd = [sys.executable, "-m", "uvicorn", "bench.floor:app", *UVICORN, "--port", str(port)]
        self.url = f"http://127.0.0.1:{port}"
        self.proc = subprocess.Popen(cmd)
        self.pid = self.proc.pid
        _wait_for(f"{self.url}/cities", self.proc, 30)

    def stop(self) -> None:
        """Stop the child process."""
        _stop(self.proc)


def _wait_for(url: str, proc: subprocess.Popen[bytes], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline or proc.poll() is not None:
            _stop(proc)
            raise RuntimeError(f"{url} did not answer in {seconds:.0f} s")
        time.sleep(0.05)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


class Server:
    """The search API in a child process on 127.0.0.1:port (stopped by its pid)."""

    def __init__(self, database: str, port: int, ready_within: float = 120) -> None:
        env = {
            **os.environ,
            "SEARCHAPI_DB_HOST": worlds.HOST,
            "SEARCHAPI_DB_PORT": str(worlds.PORT),
            "SEARCHAPI_DB_USER": worlds.USER,
            "SEARCHAPI_DB_PASSWORD": worlds.PASSWORD,
            "SEARCHAPI_DB_NAME": database,
            "SEARCHAPI_BENCH_ENDPOINTS": "true",
            "SEARCHAPI_QUERY_TIMEOUT": "60",
            "SEARCHAPI_POOL_ACQUIRE_TIMEOUT": "60",
        }
        cmd = [sys.executable, "-m", "uvicorn", "--factory", "searchapi.app:create_app"]
        cmd += [*UVICORN, "--port", str(port)]
        self.url = f"http://127.0.0.1:{port}"
        started = time.monotonic()
        self.proc = subprocess.Popen(cmd, env=env)
        self.pid = self.proc.pid
        # /readyz: the data is loaded and so is the in-process index.
        _wait_for(f"{self.url}/readyz", self.proc, ready_within)
        self.startup_seconds = time.monotonic() - started

    def stop(self) -> None:
        """Stop the child process."""
        _stop(self.proc)


def _fmt(name: str, r: Run) -> str:
    rate = f"{r.rps:8.1f} req/s"
    cpu = f"cpu/req api {r.api_cpu_us:6.0f} µs db {r.db_cpu_us:7.0f} µs"
    return f"  {name:<20} {rate}  p50 {r.p50:8.2f} ms  p99 {r.p99:8.2f} ms  {cpu}  err {r.errors}"


def _median(runs: list[Run]) -> Run:
    return Run(
        statistics.median(r.rps for r in runs),
        statistics.median(r.p50 for r in runs),
        statistics.median(r.p99 for r in runs),
        sum(r.errors for r in runs),
        statistics.median(r.api_cpu_us for r in runs),
        statistics.median(r.db_cpu_us for r in runs),
    )


def alternate(
    targets: dict[str, tuple[str, Path, int]], args: argparse.Namespace, wrk: str
) -> dict[str, Run]:
    """Run every target once per round, in turn; the medians per target."""
    results: dict[str, list[Run]] = {name: [] for name in targets}
    for rnd in range(args.rounds):
        print(f"round {rnd + 1}/{args.rounds}", flush=True)
        for name, (url, script, pid) in targets.items():
            run = run_wrk(wrk, url + "/", script, args.seconds, args.threads, args.conns, pid)
            results[name].append(run)
            print(_fmt(name, run), flush=True)
    return {name: _median(runs) for name, runs in results.items()}


def fuzzy_latency(args: argparse.Namespace, wrk: str, tmp: Path, server: Server) -> None:
    """Typo-tolerant queries: the most they serve (wrk), then open-loop load at half that rate.

    The half-rate load is bench.fixedrate's: requests due at fixed times whatever
    the answers before them did, each timed from when it was due, failures
    counted as infinitely slow. Its p99 is over every request of every round.
    Each round also sends the same rate with Poisson (exponential) gaps, whose
    bursts a fixed rate does not have: a second, harsher figure.
    """
    typos = make_typos(args.queries)
    script = lua_script("/cities?fuzzy=true&q=", typos, tmp)
    full = alternate({"fuzzy max": (server.url, script, server.pid)}, args, wrk)["fuzzy max"]
    rate = full.rps / 2
    paths = [f"/cities?fuzzy=true&q={urllib.parse.quote(t, safe='')}" for t in typos]
    address = urllib.parse.urlsplit(server.url)
    host, port = address.hostname or "127.0.0.1", address.port or 80
    pooled: dict[str, list[float]] = {"fixed rate": [], "poisson": []}
    for rnd in range(args.rounds):
        print(f"round {rnd + 1}/{args.rounds} at {rate:.0f} req/s", flush=True)
        shift = rnd * len(paths) // args.rounds  # (each round its own typos)
        for name in pooled:
            before = cpu_seconds(server.pid)
            r = fixedrate.run(
                host,
                port,
                paths[shift:] + paths[:shift],
                rate,
                args.seconds,
                name == "poisson",
                seed=rnd,
            )
            per = (cpu_seconds(server.pid) - before) * 1e6 / len(r.latencies)
            pooled[name] += r.latencies
            print(
                f"  fuzzy {name:<10} {(len(r.latencies) - r.errors) / r.seconds:6.1f} req/s"
                f"  p50 {r.percentile(50) * 1e3:6.2f} ms  p99 {r.percentile(99) * 1e3:6.2f} ms"
                f"  max {r.latencies[-1] * 1e3:7.2f} ms  cpu/req api {per:5.0f} µs"
                f"  err {r.errors}  load: late p99 {r.late_p99 * 1e3:.2f} ms,"
                f" cpu/req {r.cpu_us:.0f} µs",
                flush=True,
            )
    fixed, poisson = (
        fixedrate.Result(sorted(v), v.count(math.inf), 0.0, 0.0) for v in pooled.values()
    )
    print(
        f"fuzzy: max {full.rps:.0f} req/s (wrk, median of {args.rounds});"
        f" open loop at {rate:.0f} req/s, {len(fixed.latencies)} requests per kind,"
        f" p50 {fixed.percentile(50) * 1e3:.2f} ms, errors {fixed.errors + poisson.errors}"
    )
    print(
        f"fuzzy p99 at half the maximum throughput = {fixed.percentile(99) * 1e3:.2f} ms"
        f"  (target <= 20; Poisson arrivals: {poisson.percentile(99) * 1e3:.2f} ms)"
    )


def reload_test(server: Server, database: str) -> None:
    """Reload the world under steady requests: failures (and why), and seconds until it shows.

    The loader runs in its own process: in this one, its Python-heavy index
    build would starve the asking thread of the GIL for seconds, long enough
    for uvicorn to close the idle keep-alive connection (5 s) just as the
    next request goes out -- a failure of the benchmark, not of the API.
    """
    failures: collections.Counter[str] = collections.Counter()
    done, slowest = [0], [0.0]
    stop = threading.Event()

    def ask() -> None:
        with httpx.Client(base_url=server.url, timeout=10) as client:
            while not stop.is_set():
                started = time.monotonic()
                try:
                    status = client.get("/cities", params={"q": "darwin"}).status_code
                    if status != 200:
                        failures[f"HTTP {status}"] += 1
                except httpx.HTTPError as exc:
                    failures[type(exc).__name__] += 1
                slowest[0] = max(slowest[0], time.monotonic() - started)
                done[0] += 1

    def version() -> str:
        return str(httpx.get(f"{server.url}/readyz", timeout=10).json().get("data_version"))

    before = version()
    asker = threading.Thread(target=ask)
    asker.start()
    try:
        print("reload: loading the world again under requests ...", flush=True)
        subprocess.run([sys.executable, "-m", "bench.worlds", "reload", database], check=True)
        exited = time.monotonic()
        while (now := version()) == before and time.monotonic() - exited < 60:
            time.sleep(0.05)
        # The loader stamps load_state.loaded_at (this machine's clock, MariaDB's
        # time zone SYSTEM) just before its RENAME: the swap, to within milliseconds.
        shown = time.time() - datetime.datetime.fromisoformat(now.split("/")[0]).timestamp()
    finally:
        stop.set()
        asker.join()
    print(
        f"reload: {done[0]} requests during it, {sum(failures.values())} failed"
        f" {dict(failures) or ''}, slowest {slowest[0] * 1000:.0f} ms;"
        f" new data answered {shown:.2f} s after the swap (loaded_at)  (targets: 0, <= 5 s)"
    )


def compare(args: argparse.Namespace, wrk: str, tmp: Path) -> None:
    """/cities against the floor (and the seed), alternated on the 170k world; then the rest."""
    worlds.ensure_world(WORLD_DB)
    queries = make_queries(args.queries)
    server = Server(WORLD_DB, args.port)
    floor = Floor(args.port + 2)
    print(f"start-up to ready (data and index, 170k): {server.startup_seconds:.1f} s")
    print(f"API memory (RSS) at 170k: {rss_mb(server.pid):.0f} MB")
    targets = {
        "a /cities": (server.url, lua_script("/cities?q=", queries, tmp), server.pid),
        "f floor": (floor.url, lua_script("/cities?q=", queries, tmp), floor.pid),
    }
    if args.seed:
        targets["s seed query"] = (server.url, lua_script("/bench/seed?q=", queries, tmp), 0)
    try:
        med = alternate(targets, args, wrk)
        print(
            f"medians over {args.rounds} rounds ({len(queries)} distinct queries, "
            f"wrk -t{args.threads} -c{args.conns}):"
        )
        for name, r in med.items():
            print(_fmt(name, r))
        a, f = med["a /cities"], med["f floor"]
        print(f"a/f = {a.rps / f.rps:.2f}  (target >= 0.5)")
        print(f"CPU per request: API {a.api_cpu_us:.0f} µs, MariaDB {a.db_cpu_us:.0f} µs")
        if args.seed:
            print(f"a/s = {a.rps / med['s seed query'].rps:.1f}")
        fuzzy_latency(args, wrk, tmp, server)
        print(f"API memory (RSS) at 170k after the runs: {rss_mb(server.pid):.0f} MB")
        if args.reload:
            reload_test(server, WORLD_DB)
    finally:
        server.stop()
        floor.stop()


def fuzzy_only(args: argparse.Namespace, wrk: str, tmp: Path) -> None:
    """Only the typo-tolerant part (--fuzzy-only): the API on the 170k world, max and half."""
    worlds.ensure_world(WORLD_DB)
    server = Server(WORLD_DB, args.port)
    try:
        fuzzy_latency(args, wrk, tmp, server)
        print(f"API memory (RSS) at 170k after the typo runs: {rss_mb(server.pid):.0f} MB")
    finally:
        server.stop()


def _root_sql(statement: str) -> str:
    out = subprocess.run(
        ["mariadb", "--protocol=socket", "--batch", "--skip-column-names"],
        input=statement,
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip()


def buffer_pool(database: str, set_mb: int | None) -> None:
    """Report (and with --buffer-pool-mb, raise) InnoDB's buffer pool against the data size.

    The 2M world's index is about 1.5 GB; MariaDB's default 128 MiB pool turns
    every search into page reads, which measures the pool, not the index.
    """
    if set_mb:
        _root_sql(f"SET GLOBAL innodb_buffer_pool_size = {int(set_mb) * 1024 * 1024}")
    pool = int(_root_sql("SELECT @@innodb_buffer_pool_size"))
    # Our own constant database name; the client has no bound parameters.
    sql = f"SELECT SUM(data_length + index_length) FROM information_schema.tables WHERE table_schema = '{database}'"  # noqa: S608,E501
    size = int(_root_sql(sql) or 0)
    print(f"innodb_buffer_pool_size {pool >> 20} MiB; {database} holds {size >> 20} MiB")
    if pool < size:
        print("warning: the data does not fit the buffer pool (see --buffer-pool-mb)")


def scale(args: argparse.Namespace, wrk: str, tmp: Path) -> None:
    """/cities p50 on the 2M+ world over p50 on the 170k world, alternated."""
    worlds.ensure_world(WORLD_DB)
    t = time.monotonic()
    worlds.ensure_scale_world(SCALE_DB, args.scale_rows)
    print(f"scale world ready ({time.monotonic() - t:.0f} s)", flush=True)
    buffer_pool(SCALE_DB, args.buffer_pool_mb)
    queries = make_queries(args.queries)
    script = lua_script("/cities?q=", queries, tmp)
    small = Server(WORLD_DB, args.port)
    big = Server(SCALE_DB, args.port + 1, ready_within=900)
    print(f"start-up to ready: 170k {small.startup_seconds:.1f} s, 2M {big.startup_seconds:.1f} s")
    print(f"API memory (RSS): 170k {rss_mb(small.pid):.0f} MB, 2M {rss_mb(big.pid):.0f} MB")
    runs: dict[str, list[Run]] = {"170k": [], "2M": []}
    try:
        for rnd in range(args.rounds):
            print(f"round {rnd + 1}/{args.rounds}", flush=True)
            for name, server in (("170k", small), ("2M", big)):
                run = run_wrk(
                    wrk,
                    server.url + "/",
                    script,
                    args.seconds,
                    args.threads,
                    args.conns,
                    server.pid,
                )
                runs[name].append(run)
                print(_fmt(f"/cities {name}", run), flush=True)
    finally:
        small.stop()
        big.stop()
    m_small, m_big = _median(runs["170k"]), _median(runs["2M"])
    print(_fmt("median /cities 170k", m_small))
    print(_fmt("median /cities 2M", m_big))
    print(f"p50(2M)/p50(170k) = {m_big.p50 / m_small.p50:.2f}  (target <= 1.5)")
    print(
        f"CPU per request: 170k API {m_small.api_cpu_us:.0f} µs DB {m_small.db_cpu_us:.0f} µs;"
        f" 2M API {m_big.api_cpu_us:.0f} µs DB {m_big.db_cpu_us:.0f} µs"
    )


def main() -> None:
    """Parse arguments and run the comparison (default) or the scale run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--scale", action="store_true", help="then also run the 2M-row scale comparison"
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--seed", action="store_true", help="also run the seed's full scan")
    parser.add_argument(
        "--no-reload", dest="reload", action="store_false", help="skip the reload test"
    )
    parser.add_argument(
        "--fuzzy-only", action="store_true", help="only the typo-tolerant max and p99 at half"
    )
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--conns", type=int, default=16)
    parser.add_argument("--queries", type=int, default=5000)
    parser.add_argument("--port", type=int, default=18580)
    parser.add_argument("--scale-rows", type=int, default=2_000_000)
    parser.add_argument(
        "--buffer-pool-mb",
        type=int,
        default=None,
        help="SET GLOBAL innodb_buffer_pool_size on the local MariaDB first (scale run)",
    )
    args = parser.parse_args()
    wrk = ensure_wrk()
    with tempfile.TemporaryDirectory(prefix="wefttest-bench-") as tmp:
        if args.fuzzy_only:
            fuzzy_only(args, wrk, Path(tmp))
            return
        compare(args, wrk, Path(tmp))
        if args.scale:
            scale(args, wrk, Path(tmp))


if __name__ == "__main__":
    main()
