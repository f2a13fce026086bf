"""The in-process index against plain Python: matching, ordering keys, typo distances."""

import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from searchapi import fuzzy, typotrie
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


def osa_to_a_prefix(q: str, t: str) -> int:
    """Reference: fewest OSA edits from q to a prefix of t."""
    d = [[0] * (len(t) + 1) for _ in range(len(q) + 1)]
    for i in range(len(q) + 1):
        d[i][0] = i
    for j in range(len(t) + 1):
        d[0][j] = j
    for i in range(1, len(q) + 1):
        for j in range(1, len(t) + 1):
            d[i][j] = min(
                d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (q[i - 1] != t[j - 1])
            )
            if i > 1 and j > 1 and q[i - 1] == t[j - 2] and q[i - 2] == t[j - 1]:
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
    return min(d[len(q)])


def osa_prefix(q: str, name: str) -> int:
    """Reference: fewest OSA edits from q to a prefix of a word-start suffix of name."""
    starts = [0] + [i + 1 for i, c in enumerate(name) if c in " -"]
    return min(osa_to_a_prefix(q, name[s:]) for s in starts)


# Names of a few letters and word separators, and queries of 3 to 9 letters
# (9: two edits allowed, and a head of 5).
TYPO_NAMES = st.lists(st.text("abcd -", min_size=1, max_size=12), min_size=1, max_size=20)
TYPO_QUERIES = st.text("abcd", min_size=3, max_size=9)


def typo_index(names: list[str]) -> tuple[list[str], CityIndex]:
    """The names that fold to something (or one stand-in) and their index."""
    names = [n for n in names if fold(n)] or ["abc"]
    return names, index_of(names)


@settings(max_examples=150, deadline=None)
@given(TYPO_NAMES, TYPO_QUERIES)
def test_typo_distances_equal_the_reference(names: list[str], q: str) -> None:
    names, ix = typo_index(names)
    k = fuzzy.max_edits(len(q))
    every_word = np.arange(len(ix.word_starts))
    ranks, edits = fuzzy.closest(ix, q.encode(), k, every_word)
    got = dict(zip(ranks.tolist(), edits.tolist(), strict=True))
    want = {r: d for r, n in enumerate(names) if (d := osa_prefix(q, fold(n))) <= k}
    assert got == want


@settings(max_examples=300, deadline=None)
@given(TYPO_NAMES, TYPO_QUERIES)
def test_typo_candidates_hold_the_words_they_promise(names: list[str], q: str) -> None:
    """One edit: every word within it. Two: those with at most one in the head, or none after."""
    _, ix = typo_index(names)
    k, t = fuzzy.max_edits(len(q)), fuzzy.head_length(q.encode())
    found = set(fuzzy.candidate_words(ix, q.encode()).tolist())
    text = ix.names.decode()
    for w, pos in enumerate(ix.word_starts.tolist()):
        word = text[pos + 1 :].split("\n", 1)[0]
        if osa_to_a_prefix(q, word) > k:
            continue
        one_in_head = osa_to_a_prefix(q[:t], word[: t + 1]) <= 1
        s = min(t, len(q) - 3)  # (the last three letters when the head leaves fewer)
        rest_unchanged = any(word[off:].startswith(q[s : s + 5]) for off in range(s - 2, s + 3))
        if k == 1 or word.startswith(q[:t]) or one_in_head or rest_unchanged:
            assert w in found, (q, word)


def test_typos_rank_by_edits_then_population() -> None:
    names = ["Darwin", "Darwen", "Mount Darwin", "Derwent", "Dar"]
    ix = index_of(names, [100, 5000, 10, 999, 7])
    hits = find(ix, make_query("darwn"))
    assert hits.fuzzy and hits.edits is not None
    got = list(zip(hits.ranks, hits.edits, strict=True))
    assert got[:3] == [(1, 1), (0, 1), (2, 1)]  # one edit each, by population
    assert (4, 1) not in got or got.index((4, 1)) > 2


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


@pytest.mark.parametrize("trie_from", [0, 10**9])
def test_typo_distances_over_many_words_equal_the_reference(
    monkeypatch: pytest.MonkeyPatch, trie_from: int
) -> None:
    """Many words sharing heads, as a trie or one by one: nodes stop early exactly."""
    monkeypatch.setattr(typotrie, "_TRIE_FROM", trie_from)
    monkeypatch.setattr(typotrie, "_CHECK_FROM", 1)
    rnd = random.Random(17)

    def word() -> str:
        return "".join(rnd.choices("abcd", k=rnd.randint(1, 9)))

    names = [" ".join(word() for _ in range(rnd.randint(1, 3))) for _ in range(400)]
    names, ix = typo_index(names)
    every_word = np.arange(len(ix.word_starts))
    for _ in range(15):
        q = "".join(rnd.choices("abcd", k=rnd.randint(3, 14)))
        k = fuzzy.max_edits(len(q))
        ranks, edits = fuzzy.closest(ix, q.encode(), k, every_word)
        got = dict(zip(ranks.tolist(), edits.tolist(), strict=True))
        want = {r: d for r, n in enumerate(names) if (d := osa_prefix(q, fold(n))) <= k}
        assert got == want, q
        places = np.sort(typotrie.text_order(ix))
        shuffled = rnd.sample(range(len(places)), len(places))
        in_order = typotrie.prefix_edits(ix, places, q.encode(), k)
        assert (
            typotrie.prefix_edits(ix, places[shuffled], q.encode(), k) == in_order[shuffled]
        ).all()
