"""CPU per typo-tolerant search in-process, no HTTP (run by hand: `python -m bench.typos`).

Reads the 170k bench world's index as an API process does (its stored parts,
bench/worlds.py loads the world when missing), then answers the benchmark's
typos (bench.search.make_typos: the same set its HTTP run sends) with
`fuzzy=true`, each timed by the thread's CPU clock (not the wall clock: on a
busy machine that counts other processes too), the least of `--repeat` runs.
Prints p50, p99 and max: the service times behind the HTTP run's p99.

`--against REF` (a git revision, e.g. `main`) also loads REF's typo search
(its searchapi/fuzzy.py and the searchapi/typotrie.py it uses) beside this
one: first both answer `--check` more queries (typos anywhere, name pieces,
random letters) and every answer is compared, then the typos are timed
alternately, query by query, old and new in the same process, so that the
machine's load falls on both alike.
"""

import argparse
import asyncio
import random
import statistics
import subprocess
import time
import types
from pathlib import Path

import numpy as np

from bench import worlds
from bench.search import WORLD_DB, make_typos
from searchapi import fuzzy, matching
from searchapi.fold import fold
from searchapi.matching import find
from searchapi.memindex import CityIndex
from searchapi.search import make_query
from searchapi.settings import Settings
from searchapi.snapshot import read_index

_ROOT = Path(__file__).resolve().parent.parent


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


def fuzzy_at(ref: str) -> types.ModuleType:
    """REF's searchapi/fuzzy.py as a module of its own, using REF's typotrie.py.

    Other modules it imports (the index, the word keys) are this checkout's:
    only the typo search itself is REF's.
    """

    def module(name: str) -> types.ModuleType:
        source = subprocess.run(
            ["git", "show", f"{ref}:searchapi/{name}.py"],
            cwd=_ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        mod = types.ModuleType(f"{name}_at_{ref}")
        exec(compile(source, f"{ref}:searchapi/{name}.py", "exec"), mod.__dict__)
        return mod

    old = module("fuzzy")
    old.__dict__["typotrie"] = module("typotrie")  # (read at call time: REF's is used)
    return old


def check_queries(n: int, seed: int = 11) -> list[str]:
    """`n` distinct folded queries: typos anywhere (one or two edits of any kind, the
    first letter too), pieces of real names, and random letters."""
    names = [fold(x) for x in worlds.city_names() if len(fold(x)) >= 3]
    rnd = random.Random(seed)
    letters = "abcdefghijklmnopqrstuvwxyz"
    out: dict[str, None] = {}
    while len(out) < n:
        kind, word = rnd.randrange(3), rnd.choice(names)
        if kind == 0:
            for _ in range(rnd.choice([1, 2])):
                i = rnd.randrange(len(word))
                c = rnd.choice(letters)
                word = rnd.choice(
                    [
                        word[:i] + c + word[i + 1 :],
                        word[:i] + word[i + 1 :],
                        word[:i] + c + word[i:],
                        word[:i] + word[i + 1 : i + 2] + word[i : i + 1] + word[i + 2 :],
                    ]
                )
        elif kind == 1:
            start = rnd.randrange(len(word))
            word = word[start : start + rnd.randint(3, 14)]
        else:
            word = "".join(rnd.choices(letters + " ", k=rnd.randint(3, 12)))
        if fuzzy.applies(word):
            out[word] = None
    return list(out)


def compare(ix: CityIndex, old: types.ModuleType, queries: list[str]) -> list[str]:
    """The queries whose typo answers (ranks and edits) differ between `old` and this code."""
    differ = []
    for q in queries:
        a, b = old.fuzzy_matches(ix, q), fuzzy.fuzzy_matches(ix, q)
        if not all(np.array_equal(x, y) for x, y in zip(a, b, strict=True)):
            differ.append(q)
    return differ


def summary(times: list[float]) -> str:
    """mean, p50, p90, p99 and max of `times` (ms)."""
    t, n = sorted(times), len(times)
    return (
        f"mean {statistics.fmean(t):.3f} p50 {t[n // 2]:.3f} p90 {t[n * 9 // 10]:.3f}"
        f" p99 {t[n * 99 // 100]:.3f} max {t[-1]:.3f} ms"
    )


def side_by_side(
    ix: CityIndex, old: types.ModuleType, typos: list[str], repeat: int
) -> dict[str, list[float]]:
    """Each typo's least CPU time (ms) for `find` with REF's typo search and with this one,
    alternating query by query."""
    mine = fuzzy
    times: dict[str, list[float]] = {"ref": [], "this": []}
    runs: list[tuple[str, types.ModuleType]] = [("ref", old), ("this", mine)]
    try:
        for i, typo in enumerate(typos):
            for name, module in runs if i % 2 else runs[::-1]:
                matching.fuzzy = module  # (find reads its typo search from here)
                times[name].append(cpu_ms(ix, typo, repeat))
    finally:
        matching.fuzzy = mine
    return times


def main() -> None:
    """Time the typos and print the distribution (and compare with REF when asked)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--typos", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--against", metavar="REF", help="also REF's typo search, alternated")
    parser.add_argument("--check", type=int, default=3000, help="more queries compared (--against)")
    args = parser.parse_args()
    ix = load_index(WORLD_DB)
    typos = make_typos(args.typos)
    fuzzy.warm(ix)
    if args.against is None:
        alone = [cpu_ms(ix, t, args.repeat) for t in typos]
        print(f"typo search CPU, {len(alone)} typos (least of {args.repeat}): {summary(alone)}")
        return
    old = fuzzy_at(args.against)
    old.fuzzy_matches(ix, typos[0])  # (its own first search builds what it keeps)
    queries = [fold(t) for t in typos] + check_queries(args.check)
    differ = compare(ix, old, queries)
    print(
        f"answers (ranks, edits) of {len(queries)} queries against {args.against}: "
        + (f"{len(differ)} differ, e.g. {differ[:5]}" if differ else "all the same")
    )
    times = side_by_side(ix, old, typos, args.repeat)
    for name, label in (("ref", args.against), ("this", "this tree")):
        print(f"typo search CPU, {label:>9} (least of {args.repeat}): {summary(times[name])}")
    ratio = [b / a for a, b in zip(times["ref"], times["this"], strict=True)]
    print(f"this / {args.against}, per typo: median {statistics.median(ratio):.2f}")


if __name__ == "__main__":
    main()
