"""Typo tolerance against plain Python: the band automaton."""

from hypothesis import given, settings
from hypothesis import strategies as st

from searchapi import editband, fuzzy


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
