"""Typo tolerance against plain Python: the band automaton, the word trie, the walk, the rule."""

import itertools
import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from searchapi import editband, fuzzy, typotrie
from searchapi.fold import fold
from searchapi.matching import find
from searchapi.memindex import CityIndex
from searchapi.search import make_query
from tests.unit.test_search_memindex import index_of


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


@settings(max_examples=300, deadline=None)
@given(st.text("abcd", min_size=3, max_size=14), st.lists(st.text("abcd", max_size=20), max_size=8))
def test_the_band_automaton_equals_the_edit_table(q: str, texts: list[str]) -> None:
    """Letter by letter, the band's value in the query's last row is the table's (cut at k + 1)."""
    k = fuzzy.max_edits(len(q))
    auto, chi = editband.band(k), editband.chi_table(q.encode(), k)
    for text in texts:
        state, best = 0, k + 1
        for j in range(1, len(q) + k + 1):
            letter = ord(text[j - 1]) if j <= len(text) else 0  # (past the end: zeros)
            state = int(auto.next[state | chi[j][letter]])
            if abs(len(q) - j) <= k:
                best = min(best, int(auto.value[len(q) - j + k][state]))
        assert best == min(osa_to_a_prefix(q, text), k + 1), (q, text)


def test_the_automata_are_small() -> None:
    """The states a band can be in (what makes the tables cheap to build and to hold)."""
    sizes = [len(editband.band(k).next) >> editband.band(k).chi_bits for k in (1, 2)]
    assert sizes == [12, 124]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.binary(max_size=10).map(lambda b: b.replace(b"\0", b"a"))))
def test_the_word_trie_holds_every_prefix_once(texts: list[bytes]) -> None:
    """Depth d's nodes are the runs of sorted texts sharing d bytes; kids are those that go on."""
    keys = np.array(
        sorted(int.from_bytes(t[:8].ljust(8, b"\0"), "big") for t in texts), dtype=np.uint64
    )
    trie = typotrie.build_trie(keys, np.arange(len(keys), dtype=np.uint32))
    padded = [int(x).to_bytes(8, "big") for x in keys]
    for d in range(1, 9):
        starts = [i for i in range(len(padded)) if i == 0 or padded[i][:d] != padded[i - 1][:d]]
        assert trie.begins[d].tolist() == [*starts, len(padded)]
        assert trie.letters[d].tolist() == [padded[i][d - 1] for i in starts]
        parents = trie.begins[d - 1].tolist()
        for i, (lo, hi) in enumerate(itertools.pairwise(parents)):
            going = [j for j, s in enumerate(starts) if lo <= s < hi and padded[s][d - 1] != 0]
            first, end = int(trie.kids[d - 1][0][i]), int(trie.kids[d - 1][1][i])
            assert list(range(first, end)) == going


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


Pattern = tuple[int | None, ...]


def one_edit_heads(qb: bytes, t: int) -> set[Pattern]:
    """Reference: `qb[:t]` and its variants with one edit among the first `t` letters
    (None: any byte, the end of the text too), as the rule was first written down."""
    q: Pattern = tuple(qb)
    out = {q[:t]}
    for p in range(t):
        out.add((*q[:p], None, *q[p + 1 :])[:t])  # replaced
        out.add((*q[:p], None, *q[p:])[:t])  # one added before q[p]
        out.add((*q[:p], *q[p + 1 : t]))  # dropped (what follows may hold the other edit)
        if p + 1 < len(q):
            out.add((*q[:p], q[p + 1], q[p], *q[p + 2 :])[:t])  # swapped with the next
    return out


def rule_words(ix: CityIndex, q: str) -> set[int]:
    """Reference: the word starts the typo rule looks at (fuzzy.py's module docstring)."""
    qb, names = q.encode(), ix.names
    t = fuzzy.head_length(qb)
    heads = one_edit_heads(qb, t)
    padded = names + names[-1:] * 16  # (reading on past the end repeats the last byte)
    out = set()
    for w, pos in enumerate(ix.word_starts.tolist()):
        text = names[pos + 1 :].split(b"\n", 1)[0] + b"\0" * 8
        if any(all(b is None or text[i] == b for i, b in enumerate(p)) for p in heads):
            out.add(w)
        if fuzzy.max_edits(len(qb)) == 1:
            continue
        name = ix.folded(int(ix.word_owner[w])).encode()
        for s in dict.fromkeys((min(t, len(qb) - 3), min(t + 1, len(qb) - 3))):
            piece, first = qb[s : s + 5], max(0, s - 2)
            # (the window reads on into the next names, as the index's arrays do)
            window = padded[pos + 1 + first : pos + 1 + first + s + 3 - first + len(piece) - 1]
            if piece in name and piece in window:
                out.add(w)
    return out


@settings(max_examples=300, deadline=None)
@given(TYPO_NAMES, TYPO_QUERIES, st.booleans())
def test_typos_are_the_rules_words_at_their_distance(names: list[str], q: str, pad: bool) -> None:
    """Exact matches at 0, then every city with a word the rule looks at within k, at its least.

    `pad`: a last name far from the others, so that no word's window reaches
    the end of the names (which is read another way).
    """
    names, ix = typo_index(names + ["z" * 20] * pad)
    k = fuzzy.max_edits(len(q))
    ranks, edits = fuzzy.fuzzy_matches(ix, q)
    got = dict(zip(ranks.tolist(), edits.tolist(), strict=True))
    want: dict[int, int] = {}
    text = ix.names.decode()
    for w in rule_words(ix, q):
        word = text[int(ix.word_starts[w]) + 1 :].split("\n", 1)[0]
        if (d := osa_to_a_prefix(q, word)) <= k:
            r = int(ix.word_owner[w])
            want[r] = min(d, want.get(r, d))
    want |= {r: 0 for r, n in enumerate(names) if q in fold(n)}
    assert got == want
    assert len(ranks) == len(set(ranks.tolist()))


def test_the_rule_finds_two_edits_in_the_head_only_with_the_tail_in_place() -> None:
    """`xycdef` (both edits in the head, the rest where it was) is found for `abcdef`;
    `corbas` (a swap moves the tail) is not for `cibras`, though within two edits."""
    ix = index_of(["xycdef", "corbas", "abcdxx"])
    assert dict(zip(*(a.tolist() for a in fuzzy.fuzzy_matches(ix, "abcdef")), strict=True)) == {
        0: 2,
        2: 2,
    }
    assert fuzzy.fuzzy_matches(ix, "cibras")[0].tolist() == []
    assert osa_to_a_prefix("cibras", "corbas") == 2


def test_typos_rank_by_edits_then_population() -> None:
    names = ["Darwin", "Darwen", "Mount Darwin", "Derwent", "Dar"]
    ix = index_of(names, [100, 5000, 10, 999, 7])
    hits = find(ix, make_query("darwn"))
    assert hits.fuzzy and hits.edits is not None
    got = list(zip(hits.ranks, hits.edits, strict=True))
    assert got[:3] == [(1, 1), (0, 1), (2, 1)]  # one edit each, by population
    assert (4, 1) not in got or got.index((4, 1)) > 2


@pytest.mark.parametrize(("check_all", "dense_from"), [(0, 0), (10**9, 10**9)])
def test_typo_distances_over_many_words_equal_the_reference(
    monkeypatch: pytest.MonkeyPatch, check_all: int, dense_from: int
) -> None:
    """Many words sharing heads, deep enough to leave the trie's 8 bytes: nodes stop exactly,
    checked at every depth or every other one; each city's least found by a sort or in an
    array of every city."""
    monkeypatch.setattr(typotrie, "_CHECK_ALL", check_all)
    monkeypatch.setattr(fuzzy, "_DENSE_FROM", dense_from)
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
