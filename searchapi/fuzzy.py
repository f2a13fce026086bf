"""Typo tolerance: the cities whose name has a word starting within a few edits of the query.

The distance is the optimal-string-alignment edit distance (insert, delete,
substitute, swap two neighbours) between the folded query and the best prefix
of the folded name read from one of its word starts (the name's start, or after
a space or hyphen), so `lodon` finds London and `darwn` Mount Darwin, and a
query still being typed (`zurih` for Zürich, `new yrok` for New York) counts
only the letters typed. A name the query is a substring of is at distance 0.
Edits count bytes of the folded UTF-8 name, which for Latin script (folded to
ASCII) are characters.

Candidates are the word starts whose first two letters are the query's after
at most one edit there (kept, swapped, one dropped, one added, one replaced:
a few ranges of the sorted word keys, wordkeys.py), so a word mangled in both
of its first two letters is not found. The candidates are aligned together
as a trie of their text (typotrie.py): a prefix they share is aligned once,
and a branch stops as soon as it cannot come within the bound.
"""

import numpy as np

from searchapi import typotrie
from searchapi.memindex import CityIndex, firsts, isin_sorted, matches
from searchapi.wordkeys import Pattern

# Longer queries are only matched exactly (their typos are rare and costly).
MAX_FUZZY_BYTES = 32
MIN_FUZZY_CHARS = 3


def max_edits(query_bytes: int) -> int:
    """Edits allowed: 1 for queries up to 5 characters, 2 above that."""
    return 1 if query_bytes <= 5 else 2


def applies(folded: str) -> bool:
    """Whether a query is long enough (and short enough) for typo tolerance."""
    return len(folded) >= MIN_FUZZY_CHARS and len(folded.encode()) <= MAX_FUZZY_BYTES


def fuzzy_matches(
    ix: CityIndex, folded: str, exact: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(ranks, edits) of every city within the allowed edits of `folded`, exact ones at 0.

    `exact`: the query's exact matches (`matches(ix, folded)`) when the caller has them.
    """
    qb = folded.encode()
    if exact is None:
        exact = matches(ix, qb)
    ranks, edits = closest_at(ix, qb, max_edits(len(qb)), candidate_places(ix, qb))
    keep = ~isin_sorted(ranks, exact)
    return (
        np.concatenate((exact.astype(np.int64), ranks[keep])),
        np.concatenate((np.zeros(len(exact), np.int64), edits[keep].astype(np.int64))),
    )


def head_length(qb: bytes) -> int:
    """How many of the query's first letters hold at most one of its edits (see candidate_words)."""
    m = len(qb)
    return min(4, m) if max_edits(m) == 1 else max(3, min(5, m - 4))


def candidate_words(ix: CityIndex, qb: bytes) -> np.ndarray:
    """Word starts (indices into `ix.word_starts`) that may be within the edits of `qb`."""
    return ix.word_keys[0].at[candidate_places(ix, qb)]


def candidate_places(ix: CityIndex, qb: bytes) -> np.ndarray:
    """The candidates' places in text order (typotrie.text_order), sorted and distinct.

    With one edit allowed, it is among the first `t` letters or after them, so
    the word begins with `qb[:t]` after at most one edit there: a handful of
    patterns, each one binary search and one masked comparison (wordkeys.py).
    With two, either at most one is among the first `t` letters (the same
    patterns), or both are and the next letters appear unchanged within two
    places of where they belong.
    """
    t = head_length(qb)
    heads, from_second = ix.word_keys
    patterns = one_edit_heads(qb, t)
    # (a place in `heads` is a place in text order: text_order is the inverse of its `at`)
    parts = [heads.starting_with([p for p in patterns if p[0] is not None])]
    second = [p[1:] for p in patterns if p[0] is None]
    words = [from_second.at[from_second.starting_with(second)]] if second else []
    if max_edits(len(qb)) == 2:
        # (the second piece: a swap across the head's end changes the first)
        for start in dict.fromkeys((min(t, len(qb) - 3), min(t + 1, len(qb) - 3))):
            words.append(_unchanged_after(ix, qb[start : start + 5], start))
    if words:
        parts.append(typotrie.text_order(ix)[np.concatenate(words)])
    places = np.sort(np.concatenate(parts), kind="stable")  # (sorted runs: a timsort merges them)
    return places[firsts(places)]


def one_edit_heads(qb: bytes, t: int) -> set[Pattern]:
    """`qb[:t]` and its variants with one edit among the first `t` letters (None: any letter)."""
    q: Pattern = tuple(qb)
    out = {q[:t]}
    for p in range(t):
        out.add((*q[:p], None, *q[p + 1 :])[:t])  # replaced
        out.add((*q[:p], None, *q[p:])[:t])  # one added before q[p]
        out.add((*q[:p], *q[p + 1 : t]))  # dropped (what follows may hold the other edit)
        if p + 1 < len(q):
            out.add((*q[:p], q[p + 1], q[p], *q[p + 2 :])[:t])  # swapped with the next
    return out


def _unchanged_after(ix: CityIndex, piece: bytes, t: int) -> np.ndarray:
    """Word starts of names holding `piece` between t - 2 and t + 2 bytes into the word."""
    ranks = matches(ix, piece).astype(np.int64)
    lo, hi = ix.first_word[ranks].astype(np.int64), ix.first_word[ranks + 1].astype(np.int64)
    counts = hi - lo
    words = np.repeat(lo - (np.cumsum(counts) - counts), counts) + np.arange(int(counts.sum()))
    # Each word's bytes from t - 2 on, one row per word: the piece is at column o when
    # column o + b holds its byte b for every b (all offsets compared at once).
    first = max(0, t - 2)
    offsets = t + 3 - first
    buf = np.frombuffer(ix.names, np.uint8)
    span = np.arange(first + 1, first + 1 + offsets + len(piece) - 1, dtype=np.int64)
    window = buf[np.minimum(ix.word_starts[words][:, None] + span, len(buf) - 1)]
    found = window[:, :offsets] == piece[0]
    for b in range(1, len(piece)):
        found &= window[:, b : b + offsets] == piece[b]
    return words[found.any(axis=1)]


def closest(ix: CityIndex, qb: bytes, k: int, words: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(sorted ranks, edits) of the cities of `words` within `k` edits, each at its best word."""
    return closest_at(ix, qb, k, _text_places(ix, words))


def closest_at(
    ix: CityIndex, qb: bytes, k: int, places: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """`closest` for the words at `places` (text order, sorted)."""
    edits = typotrie.prefix_edits(ix, places, qb, k)
    near = edits <= k
    owner, edits = ix.word_owner[ix.word_keys[0].at[places[near]]].astype(np.int64), edits[near]
    order = np.lexsort((edits, owner))
    owner, edits = owner[order], edits[order]
    best = firsts(owner)
    return owner[best].astype(np.int64), edits[best]


def _text_places(ix: CityIndex, words: np.ndarray) -> np.ndarray:
    """The distinct places in text order (typotrie.text_order) of `words`, sorted."""
    places = np.sort(typotrie.text_order(ix)[words])
    return places[firsts(places)]
