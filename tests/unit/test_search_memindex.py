"""The in-process index against plain Python: matching and ordering (typos: test_search_fuzzy)."""

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from searchapi.fold import fold
from searchapi.matching import find
from searchapi.memindex import Builder, CityIndex, matches
from searchapi.search import Order, make_query

ALPHABET = "ab -é北"


def index_of(names: list[str], populations: list[int] | None = None) -> CityIndex:
    """An index of cities named `names` (rank order = list order)."""
    builder = Builder()
    pops = populations or [0] * len(names)
    rows = [
        (f'{{"geonameid": {i}}}', "XX", pops[i], 0.0, 0.0, fold(n)) for i, n in enumerate(names)
    ]
    builder.add(rows)
    return builder.build("test")


def scan(names: list[str], q: str) -> list[int]:
    f = fold(q)
    return [
        i for i, n in enumerate(names) if (fold(n).startswith(f) if len(f) <= 2 else f in fold(n))
    ]


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.text(ALPHABET, min_size=1, max_size=12), min_size=1, max_size=30),
    st.text(ALPHABET, min_size=1, max_size=8),
)
def test_matches_equal_a_scan(names: list[str], q: str) -> None:
    names = [n for n in names if fold(n)] or ["a"]
    if not fold(q):
        return
    ix = index_of(names)
    hits = find(ix, make_query(q, limit=500, fuzzy=False))
    assert hits.ranks == scan(names, q) and hits.total == len(hits.ranks)


def test_orders_and_pages() -> None:
    names = ["Paris", "Aparis", "Le Paris", "Parisville", "Paris", "Sparis"]
    ix = index_of(names, [10, 50, 20, 30, 40, 60])
    page = find(ix, make_query("paris", order=Order.population, limit=3, offset=1))
    assert page.ranks == [1, 4, 3] and page.total == 6
    rel = find(ix, make_query("paris", order=Order.relevance))
    assert rel.ranks == [4, 0, 3, 2, 5, 1]  # exact, prefix, word prefix, infix; population
    assert find(ix, make_query("paris", limit=2, offset=5)).ranks == [5]


def test_many_candidates_are_confirmed_exactly() -> None:
    """Long patterns whose 5-gram lists are long (intersected, then confirmed) equal a scan."""
    rnd = random.Random(11)
    letters = "ab" * 9 + " -"
    names = ["".join(rnd.choices(letters, k=rnd.randint(1, 24))).strip() or "a" for _ in range(600)]
    ix = index_of(names)
    text = [b"\n" + fold(n).encode() for n in names]
    long_lists = 0
    for _ in range(300):
        head = rnd.choice(["", "\n", " "])
        pattern = (head + "".join(rnd.choices("ab", k=rnd.randint(6, 9)))).encode()
        want = [r for r, t in enumerate(text) if pattern in t]
        assert matches(ix, pattern).tolist() == want, pattern
        grams = [ix.grams[5].get(pattern[i : i + 5]) for i in range(len(pattern) - 4)]
        long_lists += min(len(g) for g in grams) >= 64
    assert long_lists > 100  # (the case a 2M world is full of)
