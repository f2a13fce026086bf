"""Load generator for the search API (run by hand: `python -m bench.search`; not a test).

Starts the API (one uvicorn worker, as in the image) on 127.0.0.1 against a
bench database on the host MariaDB, then drives it with wrk (installed with
apt-get when missing) at fixed concurrency, each request a different query
(random substrings of real city names, so no cache can stand in for the index):

  a  /cities?q=...        the indexed search
  b  /bench/seed?q=...    the seed's full-scan query, same app and pool
  c  /bench/nodb?q=...    same server, no database: the HTTP floor

Runs alternate a b c a b c ... (this machine is noisy), and the medians give
a/b and a/c. With --scale, it alternates /cities on the 170k world and on a
2M+ world (cities500 plus synthetic names) and prints p50(2M) / p50(170k).
"""

import argparse
import contextlib
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench import worlds
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


def lua_script(path: str, queries: list[str], directory: Path) -> Path:
    """A wrk script cycling through `path?q=...` for every query."""
    paths = ",".join(f'"{path}{urllib.parse.quote(q, safe="")}"' for q in queries)
    script = directory / f"paths-{abs(hash(path))}.lua"
    script.write_text(LUA % paths)
    return script


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


class Server:
    """The search API in a child process on 127.0.0.1:port (stopped by its pid)."""

    def __init__(self, database: str, port: int) -> None:
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
        cmd += [
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-access-log",
            "--log-level",
            "warning",
        ]
        self.url = f"http://127.0.0.1:{port}"
        self.proc = subprocess.Popen(cmd, env=env)
        self.pid = self.proc.pid
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or self.proc.poll() is not None:
                self.stop()
                raise RuntimeError("the search API did not become ready")
            time.sleep(0.2)

    def stop(self) -> None:
        """Stop the child process."""
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


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


def compare(args: argparse.Namespace, wrk: str, tmp: Path) -> None:
    """a/b/c alternated on the 170k world; medians and ratios."""
    worlds.ensure_world(WORLD_DB)
    queries = make_queries(args.queries)
    server = Server(WORLD_DB, args.port)
    targets = {
        "a /cities": ("/cities?q=", args.seconds),
        "b seed query": ("/bench/seed?q=", args.seed_seconds),
        "c no database": ("/bench/nodb?q=", args.seconds),
    }
    results: dict[str, list[Run]] = {name: [] for name in targets}
    try:
        for rnd in range(args.rounds):
            print(f"round {rnd + 1}/{args.rounds}", flush=True)
            for name, (path, seconds) in targets.items():
                script = lua_script(path, queries, tmp)
                run = run_wrk(
                    wrk, server.url + "/", script, seconds, args.threads, args.conns, server.pid
                )
                results[name].append(run)
                print(_fmt(name, run), flush=True)
    finally:
        server.stop()
    med = {name: _median(runs) for name, runs in results.items()}
    print(
        f"medians over {args.rounds} rounds ({len(queries)} distinct queries, "
        f"wrk -t{args.threads} -c{args.conns}):"
    )
    for name, r in med.items():
        print(_fmt(name, r))
    a, b, c = med["a /cities"], med["b seed query"], med["c no database"]
    print(f"a/b = {a.rps / b.rps:.1f}  (target >= 50)")
    print(f"a/c = {a.rps / c.rps:.2f}  (target >= 0.5)")


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
    big = Server(SCALE_DB, args.port + 1)
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


def main() -> None:
    """Parse arguments and run the comparison (default) or the scale run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", action="store_true", help="run the 2M-row scale comparison")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--seed-seconds", type=int, default=10)
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
        (scale if args.scale else compare)(args, wrk, Path(tmp))


if __name__ == "__main__":
    main()
