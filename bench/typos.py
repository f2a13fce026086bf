"""CPU per typo-tolerant search in-process, no HTTP (run by hand: `python -m bench.typos`).

Reads the 170k bench world's index as an API process does (its stored parts,
bench/worlds.py loads the world when missing), then answers the benchmark's
typos (bench.search.make_typos: the same set its HTTP run sends) with
`fuzzy=true`, each timed by the thread's CPU clock (not the wall clock: on a
busy machine that counts other processes too), the least of `--repeat` runs.
Prints p50, p99 and max: the service times behind the HTTP run's p99.
"""

import argparse
import asyncio
import statistics
import time

from bench import worlds
from bench.search import WORLD_DB, make_typos
from searchapi.matching import find
from searchapi.memindex import CityIndex
from searchapi.search import make_query
from searchapi.settings import Settings
from searchapi.snapshot import read_index


def load_index(database: str) -> CityIndex:
    """The index an API process on `database` would serve."""
    worlds.ensure_world(database)
    settings = Settings(
        db_host=worlds.HOST,
        db_port=worlds.PORT,
        db_user=worlds.USER,
        db_password=worlds.PASSWORD,
        db_name=database,
    )
    ix = asyncio.run(read_index(settings))
    if ix is None:
        raise RuntimeError(f"{database} holds no loaded world")
    return ix


def cpu_ms(ix: CityIndex, typo: str, repeat: int) -> float:
    """The least thread CPU time (ms) of `repeat` typo-tolerant searches for `typo`."""
    query = make_query(typo, fuzzy=True)
    least = float("inf")
    for _ in range(repeat):
        started = time.thread_time()
        find(ix, query)
        least = min(least, time.thread_time() - started)
    return least * 1e3


def main() -> None:
    """Time the typos and print the distribution."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--typos", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    ix = load_index(WORLD_DB)
    typos = make_typos(args.typos)
    cpu_ms(ix, typos[0], 1)  # (the first search also builds the word order)
    times = sorted(cpu_ms(ix, t, args.repeat) for t in typos)
    n = len(times)
    print(
        f"typo search CPU, {n} typos (least of {args.repeat}): mean {statistics.fmean(times):.2f}"
        f" p50 {times[n // 2]:.2f} p90 {times[n * 9 // 10]:.2f} p99 {times[n * 99 // 100]:.2f}"
        f" max {times[-1]:.2f} ms"
    )


if __name__ == "__main__":
    main()
